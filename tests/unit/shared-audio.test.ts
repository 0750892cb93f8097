// Audio probing on the real recordings in ../shared/audio (not committed here); skipped, saying so,
// where that folder is absent.
import { describe, expect, it } from 'vitest';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { audioInfo } from '../../src/lib/codec/duration';

const dir = new URL('../../../shared/audio/', import.meta.url);
const present = existsSync(dir);
if (!present)
  console.warn('tests/unit/shared-audio.test.ts: ../shared/audio is absent; skipping real-recording checks.');

describe.skipIf(!present)('audio duration of real recordings', () => {
  it('reads mp3 durations (demo_speaker0 is about 19 s, example_reference about 59 s)', async () => {
    const a = await audioInfo(new Uint8Array(readFileSync(new URL('demo_speaker0.mp3', dir))), 'audio/mpeg');
    expect(a.duration).toBeGreaterThan(17);
    expect(a.duration).toBeLessThan(21);
    expect(a.format).toBe('MPEG');
    const b = await audioInfo(new Uint8Array(readFileSync(new URL('example_reference.mp3', dir))));
    expect(b.duration).toBeGreaterThan(55);
    expect(b.duration).toBeLessThan(63);
  });

  it('reads FLAC durations exactly from STREAMINFO (16 kHz LibriSpeech)', async () => {
    const files = readdirSync(new URL('librispeech/', dir)).filter((f) => f.endsWith('.flac'));
    expect(files.length).toBeGreaterThan(0);
    for (const f of files) {
      const bytes = readFileSync(new URL(`librispeech/${f}`, dir));
      const info = await audioInfo(new Uint8Array(bytes));
      expect(info.sample_rate).toBe(16000);
      expect(info.channels).toBe(1);
      // STREAMINFO: total samples are the low 36 bits of bytes 21..25 (after "fLaC" + block header).
      const total = (bytes[21]! & 0x0f) * 2 ** 32 + bytes.readUInt32BE(22);
      expect(info.duration).toBeCloseTo(total / 16000, 3);
    }
  });

  it('refuses a truncated or corrupted file with a clear message', async () => {
    const bytes = new Uint8Array(readFileSync(new URL('demo_speaker0.mp3', dir)));
    const garbage = bytes.slice(0, 64).map((b, i) => (i < 4 ? 0 : b));
    await expect(audioInfo(garbage)).rejects.toThrow(/could not be decoded/);
  });
});
