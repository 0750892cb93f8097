// Streamed mp3 (codec/mp3.ts): sentences encoded one at a time by the real ffmpeg core (in Node) join into
// one stream once each piece loses its file-level header and tags; the joined stream decodes to all of them.
import { describe, expect, it } from 'vitest';
import { Transcoder } from '../../src/lib/codec/transcoder';
import { Mp3Joiner, mp3FrameLength, mp3Frames, mp3Seconds } from '../../src/lib/codec/mp3';
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

  it('Mp3Joiner: five sentences with pauses keep their length and timing (joined as they are, they run ahead)', async () => {
    // Sentences as the engine streams them: the first from its start, each later one after 0.3 s of digital
    // silence (the pause between sentences).
    const pause = Math.round(0.3 * SR);
    const pieces = [0, 1, 2, 3, 4].map((i) => {
      const t = tone(SR, 0.8, 440 + 110 * i);
      if (!i) return t;
      const p = new Float32Array(pause + t.length);
      p.set(t, pause);
      return p;
    });
    const speech = pieces.reduce((n, p) => n + p.length, 0) / SR; // 5.2 s
    const join = async (piece: (p: Float32Array) => Promise<Uint8Array>) => {
      const parts: Uint8Array[] = [];
      for (const p of pieces) parts.push(await piece(p));
      return new Uint8Array(parts.flatMap((p) => [...p]));
    };
    const encode = async (x: Float32Array) => (await tc.encode(x, SR, { format: 'mp3' })).bytes.slice();
    const joiner = new Mp3Joiner();
    const kept = await join(async (p) => {
      const x = joiner.next(p, SR);
      return joiner.frames(await encode(x), x.length / SR);
    });
    const plain = await join(async (p) => mp3Frames(await encode(p)));

    const d = await tc.decode(kept, { sampleRate: SR });
    const dPlain = await tc.decode(plain, { sampleRate: SR });
    // What the frames decode to, counted from their headers, is what ffmpeg's decoder gives.
    expect(Math.abs(mp3Seconds(kept) - d.samples.length / SR)).toBeLessThan(0.01);
    expect(Math.abs(mp3Seconds(plain) - dPlain.samples.length / SR)).toBeLessThan(0.01);
    // Only the last piece's overrun is left; joined as they are, every piece adds its own.
    expect(d.samples.length / SR - speech).toBeGreaterThanOrEqual(0);
    expect(d.samples.length / SR - speech).toBeLessThan(0.1);
    expect(dPlain.samples.length / SR - speech).toBeGreaterThan(0.2);
    // The last sentence starts where it starts in the speech (within the encoder's delay).
    const lastStart = speech - 0.8;
    let onset = Math.round((lastStart - 0.25) * SR);
    while (Math.abs(d.samples[onset]!) < 0.05) onset++;
    expect(Math.abs(onset / SR - lastStart)).toBeLessThan(0.08);
    expect(
      Math.abs(dominantFrequency(d.samples.subarray(onset + SR / 10, onset + SR / 2), SR) - 880),
    ).toBeLessThanOrEqual(3);
  });

  it('Mp3Joiner: cuts only exact zeros, never more than it is ahead', () => {
    const j = new Mp3Joiner();
    const x = new Float32Array([0, 0, 0, 0.5, 0, 0]);
    expect(j.next(x, 10)).toBe(x);
    j.ahead = 0.25;
    expect([...j.next(x, 10)]).toEqual([0, 0.5, 0, 0]);
    expect(j.ahead).toBeCloseTo(0.05, 10);
    j.ahead = 1;
    expect([...j.next(x, 10)]).toEqual([0.5, 0, 0]);
    expect(j.ahead).toBeCloseTo(0.7, 10);
    // Bytes that are not mp3 add nothing.
    expect(j.frames(new TextEncoder().encode('not an mp3 file'), 1)).toHaveLength(15);
    expect(j.ahead).toBeCloseTo(0.7, 10);
  });

  it('leaves bytes that are not mp3 as they are', () => {
    const x = new TextEncoder().encode('not an mp3 file');
    expect(mp3Frames(x)).toEqual(x);
  });
});
