// Streamed mp3 (codec/mp3.ts): sentences encoded one at a time by the real ffmpeg core (in Node) join into
// one stream once each piece loses its file-level header and tags; the joined stream decodes to all of them.
import { describe, expect, it } from 'vitest';
import { Transcoder } from '../../src/lib/codec/transcoder';
import { mp3FrameLength, mp3Frames } from '../../src/lib/codec/mp3';
import { NodeCoreProvider } from './ffmpeg-node';
import { dominantFrequency, tone } from './tone';

const tc = new Transcoder(new NodeCoreProvider());
const SR = 24000;
const hasTag = (b: Uint8Array, tag: string) => new TextDecoder('latin1').decode(b).includes(tag);

describe('mp3 pieces that join', () => {
  it('strips the Xing/Info frame and tags; the pieces play as one stream of every piece', async () => {
    const a = (await tc.encode(tone(SR, 1, 440), SR, { format: 'mp3' })).bytes.slice();
    const b = (await tc.encode(tone(SR, 1, 880), SR, { format: 'mp3' })).bytes.slice();
    // ffmpeg writes a header frame that describes the one file (its frame count).
    expect(hasTag(a.subarray(0, 200), 'Info') || hasTag(a.subarray(0, 200), 'Xing')).toBe(true);
    const fa = mp3Frames(a);
    const fb = mp3Frames(b);
    expect(fa.length).toBeLessThan(a.length);
    expect(hasTag(fa.subarray(0, 200), 'Info') || hasTag(fa.subarray(0, 200), 'Xing')).toBe(false);
    // What is left starts on a frame and is made of whole frames.
    let at = 0;
    while (at < fa.length) {
      const n = mp3FrameLength(fa, at);
      expect(n, `frame at ${at}`).toBeGreaterThan(0);
      at += n;
    }
    expect(at).toBe(fa.length);
    const joined = new Uint8Array([...fa, ...fb]);
    const d = await tc.decode(joined, { sampleRate: SR });
    // Both seconds, plus at most the encoder's delay and padding per piece.
    expect(d.samples.length / SR).toBeGreaterThan(1.95);
    expect(d.samples.length / SR).toBeLessThan(2.3);
    expect(Math.abs(dominantFrequency(d.samples.subarray(0, SR / 2), SR) - 440)).toBeLessThanOrEqual(3);
    expect(
      Math.abs(dominantFrequency(d.samples.subarray(Math.round(1.4 * SR), Math.round(1.9 * SR)), SR) - 880),
    ).toBeLessThanOrEqual(3);
  });

  it('leaves bytes that are not mp3 as they are', () => {
    const x = new TextEncoder().encode('not an mp3 file');
    expect(mp3Frames(x)).toEqual(x);
  });
});
