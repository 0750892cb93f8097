// The transcoder on the real ffmpeg core (@ffmpeg/core 0.12, loaded in Node): every format round-trips a
// tone, the resampler does not alias, failures are named and leave a working core behind.
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { stackExports } from '../../src/lib/codec/ffmpeg-core';
import { Transcoder } from '../../src/lib/codec/transcoder';
import {
  DecodeError,
  FORMATS,
  FormatOptionError,
  UnsupportedFormatError,
  type EncodeOptions,
} from '../../src/lib/codec/formats';
import { CancelledError, type Progress } from '../../src/lib/core/run';
import { NodeCoreProvider } from './ffmpeg-node';
import { channel, dominantFrequency, rms, tone } from './tone';

const provider = new NodeCoreProvider();
const tc = new Transcoder(provider);
const src = tone(24000, 1);

/** How much longer than the input a decode may be: encoder delay and frame padding the container hides or not. */
const SLACK: Record<string, number> = { aac: 0.07, m4a: 0.03 };

const cases: [string, EncodeOptions, string][] = [
  ['wav16', { format: 'wav' }, 'pcm_s16le'],
  ['wav float', { format: 'wav', sampleFormat: 'f32' }, 'pcm_f32le'],
  ['mp3 128k 44.1k stereo', { format: 'mp3', bitrate: 128, sampleRate: 44100, channels: 2 }, 'mp3'],
  ['opus', { format: 'opus' }, 'opus'],
  ['ogg', { format: 'ogg' }, 'vorbis'],
  ['flac', { format: 'flac' }, 'flac'],
  ['aac', { format: 'aac' }, 'aac'],
  ['m4a', { format: 'm4a', bitrate: 96 }, 'aac'],
  ['webm', { format: 'webm' }, 'opus'],
];

describe('transcoder on the real core', () => {
  it.each(cases)('encodes and decodes back %s', async (_name, opts, codec) => {
    const enc = await tc.encode(src, 24000, opts);
    expect(enc.mime).toBe(FORMATS[opts.format].mime);
    expect(enc.extension).toBe(FORMATS[opts.format].extension);
    expect(enc.bytes.byteLength).toBeGreaterThan(1000);
    expect(enc.duration).toBe(1);
    const info = await tc.probe(enc.bytes);
    expect(info.codec).toBe(codec);
    expect(info.channels).toBe(opts.channels ?? 1);
    const dec = await tc.decode(enc.bytes, { sampleRate: 16000 });
    expect(dec.sampleRate).toBe(16000);
    expect(dec.channels).toBe(1);
    expect(dec.duration).toBeGreaterThanOrEqual(0.999);
    expect(dec.duration).toBeLessThanOrEqual(1 + (SLACK[opts.format] ?? 0.005));
    expect(Math.abs(dominantFrequency(dec.samples, 16000) - 440)).toBeLessThanOrEqual(2);
    expect(rms(dec.samples, 800)).toBeGreaterThan(0.3); // 0.5 / √2 = 0.354 for the tone
  });

  it('changes the speed at the same pitch (tempo, ffmpeg atempo): half as long at 2, twice at 0.5', async () => {
    const two = tone(24000, 2, 440);
    for (const tempo of [2, 0.5]) {
      const enc = await tc.encode(two, 24000, { format: 'wav', tempo });
      expect(enc.duration).toBeCloseTo(2 / tempo, 5);
      const dec = await tc.decode(enc.bytes);
      expect(Math.abs(dec.duration - 2 / tempo), `tempo ${tempo}: ${dec.duration} s`).toBeLessThan(0.05);
      expect(Math.abs(dominantFrequency(dec.samples, 24000) - 440), `tempo ${tempo}`).toBeLessThanOrEqual(2);
    }
    await expect(tc.encode(two, 24000, { format: 'wav', tempo: 3 })).rejects.toMatchObject({
      name: 'FormatOptionError',
      field: 'tempo',
    });
  });

  it('writes a plain 44-byte wav header', async () => {
    const enc = await tc.encode(src, 24000, { format: 'wav' });
    expect(enc.bytes.byteLength).toBe(44 + 48000);
    expect(new TextDecoder().decode(enc.bytes.subarray(36, 40))).toBe('data');
  });

  it('writes headerless pcm that decodes with a description of it', async () => {
    const enc = await tc.encode(src, 24000, { format: 'pcm' });
    expect(enc.bytes.byteLength).toBe(48000);
    expect(enc.mime).toBe('application/octet-stream');
    const dec = await tc.decode(enc.bytes, { input: { sampleRate: 24000, channels: 1 } });
    expect([dec.sampleRate, dec.samples.length]).toEqual([24000, 24000]);
    expect(Math.abs(dec.samples[1000]! - src[1000]!)).toBeLessThan(1e-4);
  });

  it('keeps stereo when asked, and mixes to mono as the average of the channels', async () => {
    const left = tone(24000, 1, 440);
    const right = tone(24000, 1, 440);
    const enc = await tc.encode([left, right], 24000, { format: 'flac' });
    expect(enc.channels).toBe(2);
    const both = await tc.decode(enc.bytes, { mono: false });
    expect([both.channels, both.sampleRate, both.samples.length]).toEqual([2, 24000, 48000]);
    const mono = await tc.decode(enc.bytes);
    expect(Math.max(...mono.samples)).toBeCloseTo(0.5, 2); // (L + R) / 2, not the −3 dB sum of 0.707
  });

  it('resamples without aliasing: a 9 kHz tone is gone at 16 kHz, 7 kHz passes', async () => {
    const wav = async (f: number) =>
      (await tc.encode(tone(24000, 1, f), 24000, { format: 'wav', sampleFormat: 'f32' })).bytes;
    const above = await tc.decode(await wav(9000), { sampleRate: 16000 });
    expect(20 * Math.log10(rms(above.samples, 400) / 0.354)).toBeLessThan(-90);
    const near = await tc.decode(await wav(8200), { sampleRate: 16000 });
    expect(20 * Math.log10(rms(near.samples, 400) / 0.354)).toBeLessThan(-90);
    const pass = await tc.decode(await wav(7000), { sampleRate: 16000 });
    expect(Math.abs(20 * Math.log10(rms(pass.samples, 400) / 0.354))).toBeLessThan(0.1);
  });

  it('converts between formats, settling rate and channels', async () => {
    const mp3 = await tc.encode(src, 24000, { format: 'mp3' });
    const out = await tc.convert(mp3.bytes, { format: 'opus', channels: 2 });
    expect([out.format, out.mime, out.sampleRate, out.channels, out.bitrate]).toEqual([
      'opus',
      'audio/ogg; codecs=opus',
      24000,
      2,
      64,
    ]);
    const back = await tc.decode(out.bytes, { mono: false, sampleRate: 24000 });
    expect(back.channels).toBe(2);
    expect(Math.abs(dominantFrequency(channel(back.samples, 2, 1), 24000) - 440)).toBeLessThanOrEqual(2);
    const raw = await tc.encode(src, 24000, { format: 'pcm' });
    const wav = await tc.convert(raw.bytes, { format: 'wav', input: { sampleRate: 24000, channels: 1 } });
    expect(wav.bytes.byteLength).toBe(44 + 48000);
  });

  it('reports progress in seconds of audio', async () => {
    const seen: Progress[] = [];
    await tc.encode(tone(24000, 3), 24000, { format: 'mp3' }, { onProgress: (p) => seen.push(p) });
    expect(seen.length).toBeGreaterThanOrEqual(2);
    expect(seen.every((p) => p.stage === 'encode' && p.total === 3)).toBe(true);
    expect(seen.at(-1)!.done).toBe(3);
    expect(seen.map((p) => p.done)).toEqual([...seen.map((p) => p.done)].sort((a, b) => a - b));
  });

  it('names undecodable input and keeps working after it', async () => {
    const garbage = new Uint8Array(4096).map((_, i) => (i * 7919 + 13) & 255);
    const loads = provider.loads;
    await expect(tc.decode(garbage)).rejects.toThrow(DecodeError);
    await expect(tc.decode(garbage)).rejects.toThrow(
      /could not be read: Invalid data found when processing input/,
    );
    await expect(tc.probe(new Uint8Array(0))).rejects.toThrow(/empty/);
    await expect(tc.convert(garbage, { format: 'mp3' })).rejects.toThrow(DecodeError);
    // A failed command discards the core; the next job loads a fresh one and works.
    const ok = await tc.encode(src, 24000, { format: 'ogg' });
    expect(ok.bytes.byteLength).toBeGreaterThan(1000);
    expect(provider.loads).toBeGreaterThan(loads);
  });

  it('says when a file has no audio stream, or a codec it cannot decode', async () => {
    // A 1×1 BMP: an image, which ffprobe reads as one video stream.
    const bmp = new Uint8Array(58);
    const v = new DataView(bmp.buffer);
    bmp.set([0x42, 0x4d]);
    for (const [at, val] of [
      [2, 58],
      [10, 54],
      [14, 40],
      [18, 1],
      [22, 1],
      [34, 4],
    ])
      v.setUint32(at!, val!, true);
    v.setUint16(26, 1, true);
    v.setUint16(28, 24, true);
    await expect(tc.decode(bmp)).rejects.toThrow(new DecodeError('The file has no audio stream.'));
    // A WAV whose format tag (0x2222) is no codec ffmpeg knows.
    const wav = (await tc.encode(src, 24000, { format: 'wav' })).bytes.slice();
    new DataView(wav.buffer).setUint16(20, 0x2222, true);
    expect((await tc.probe(wav)).codec).toBe('unknown');
    await expect(tc.decode(wav)).rejects.toThrow(UnsupportedFormatError);
    await expect(tc.decode(wav)).rejects.toThrow(/codec this ffmpeg does not know/);
  });

  it('runs hundreds of commands on one instance (the stack pointer is restored after each)', async () => {
    const p = new NodeCoreProvider(1000);
    const t = new Transcoder(p);
    const mp3 = (await t.encode(src, 24000, { format: 'mp3' })).bytes;
    // Without the restore, each ffmpeg command leaves ~224 B of the 64 KB stack behind; this traps at ~300.
    for (let i = 0; i < 200; i++) await t.decode(mp3, { sampleRate: 16000 });
    expect(p.loads).toBe(1);
    expect(p.commands.length).toBe(401);
  });

  it('finds the stack exports in both cores', () => {
    for (const pkg of ['core', 'core-mt']) {
      const glue = readFileSync(
        new URL(`../../node_modules/@ffmpeg/${pkg}/dist/esm/ffmpeg-core.js`, import.meta.url),
        'utf8',
      );
      expect(stackExports(glue)).toEqual({ save: expect.any(String), restore: expect.any(String) });
    }
    expect(stackExports('no glue here')).toBeNull();
  });

  it('refuses bad options before loading anything', async () => {
    const before = provider.commands.length;
    await expect(tc.encode(src, 24000, { format: 'mp3', bitrate: 500 })).rejects.toThrow(FormatOptionError);
    await expect(tc.encode(src, 24000, { format: 'opus', sampleRate: 44100 })).rejects.toThrow(/opus takes/);
    await expect(tc.encode(src, 0, { format: 'wav' })).rejects.toThrow(/inputSampleRate/);
    await expect(tc.encode([src, tone(24000, 0.5)], 24000, { format: 'wav' })).rejects.toThrow(/same length/);
    await expect(tc.decode(src as unknown as Uint8Array)).rejects.toThrow(FormatOptionError);
    await expect(tc.convert(new Uint8Array(9), { format: 'mp3', channels: 3 as 1 })).rejects.toThrow(
      /channels/,
    );
    expect(provider.commands.length).toBe(before);
  });

  it('cancels a job that is waiting, and one that is running', async () => {
    const ac = new AbortController();
    const first = tc.encode(tone(24000, 2), 24000, { format: 'flac' });
    const second = tc.encode(src, 24000, { format: 'flac' }, { signal: ac.signal });
    ac.abort();
    await expect(second).rejects.toThrow(CancelledError);
    await expect(first).resolves.toMatchObject({ format: 'flac' });
    const done = new AbortController();
    done.abort();
    await expect(tc.probe(new Uint8Array(10), { signal: done.signal })).rejects.toThrow(CancelledError);
  });
});
