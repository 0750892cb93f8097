// Transcription's audio path without a model: the anti-aliasing resampler, Whisper's log-mel features and
// the tokenizer.
import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { logMel, melFilters, N_FRAMES, N_MELS } from '../../src/lib/asr/mel';
import { MixedFFT } from '../../src/lib/dsp/fft';
import { designResampler, mixToMono, resample, resampleBlocks } from '../../src/lib/dsp/resample';
import { WhisperTokenizer } from '../../src/lib/asr/tokenizer';

const tone = (f: number, rate: number, seconds: number, amp = 0.5) =>
  Float32Array.from(
    { length: Math.round(rate * seconds) },
    (_, i) => amp * Math.sin((2 * Math.PI * f * i) / rate),
  );

/** Amplitude of frequency f in x (least squares fit of sin and cos over the middle, away from the edges). */
function amplitudeAt(x: Float32Array, f: number, rate: number): number {
  const a = Math.floor(x.length / 4);
  const b = Math.floor((3 * x.length) / 4);
  let s = 0;
  let c = 0;
  for (let i = a; i < b; i++) {
    s += x[i]! * Math.sin((2 * Math.PI * f * i) / rate);
    c += x[i]! * Math.cos((2 * Math.PI * f * i) / rate);
  }
  return (2 * Math.hypot(s, c)) / (b - a);
}

const rms = (x: Float32Array, a = 0, b = x.length) => {
  let s = 0;
  for (let i = a; i < b; i++) s += x[i]! * x[i]!;
  return Math.sqrt(s / (b - a));
};
const db = (r: number) => 20 * Math.log10(r);

describe('resampler', () => {
  for (const [from, f] of [
    [44100, 1000],
    [48000, 440],
    [22050, 3000],
    [8000, 1000],
    [24000, 6500],
  ] as const)
    it(`keeps a ${f} Hz tone within 0.1 dB from ${from} Hz to 16 kHz`, () => {
      const out = resample(tone(f, from, 1), from, 16000);
      expect(out.length).toBe(16000);
      const gain = amplitudeAt(out, f, 16000) / 0.5;
      expect(Math.abs(db(gain))).toBeLessThan(0.1);
    });

  for (const [from, f] of [
    [48000, 10000],
    [44100, 12000],
    [48000, 8500],
    [24000, 11000],
  ] as const)
    it(`attenuates a ${f} Hz tone (above the new Nyquist) by more than 60 dB from ${from} Hz`, () => {
      const x = tone(f, from, 1);
      const out = resample(x, from, 16000);
      const n = out.length;
      // Whatever comes out is aliasing; measured away from the edges.
      expect(db(rms(out, n / 4, (3 * n) / 4) / rms(x))).toBeLessThan(-60);
    });

  it('designs a cutoff under the lower Nyquist rate', () => {
    const d = designResampler(44100, 16000);
    expect(d.up / d.down).toBeCloseTo(16000 / 44100, 12);
    expect(d.cutoff * 44100).toBeLessThan(8000);
    expect(d.cutoff * 44100).toBeGreaterThan(7000);
  });

  it('gives the same samples resampled in blocks (with a chance to cancel) as in one go', async () => {
    const x = Float32Array.from(
      { length: 44100 * 23 + 17 },
      (_, i) => Math.sin(i * 0.01) * Math.cos(i * 0.0007),
    );
    const whole = resample(x, 44100, 16000);
    const blocks = await resampleBlocks(x, 44100, 16000);
    expect(blocks.length).toBe(whole.length);
    let maxDiff = 0;
    for (let i = 0; i < whole.length; i++) maxDiff = Math.max(maxDiff, Math.abs(whole[i]! - blocks[i]!));
    expect(maxDiff).toBeLessThan(1e-5);
    const ac = new AbortController();
    ac.abort();
    await expect(resampleBlocks(x, 44100, 16000, ac.signal)).rejects.toThrow(/cancelled/);
  });

  it('mixes interleaved channels to their average', () => {
    expect([...mixToMono(Float32Array.from([1, 0, 0.5, 0.5, -1, 1]), 2)]).toEqual([0.5, 0.5, 0]);
  });
});

describe('log-mel features', () => {
  it('the mixed-radix FFT of 400 points equals the direct DFT', () => {
    const n = 400;
    const re = Float64Array.from({ length: n }, (_, i) => Math.sin(i * 0.37) + (i % 7) / 7);
    const im = new Float64Array(n);
    const oRe = new Float64Array(n);
    const oIm = new Float64Array(n);
    new MixedFFT(n).transform(re, im, oRe, oIm);
    for (const k of [0, 1, 13, 100, 199, 200, 357]) {
      let sr = 0;
      let si = 0;
      for (let t = 0; t < n; t++) {
        sr += re[t]! * Math.cos((-2 * Math.PI * k * t) / n);
        si += re[t]! * Math.sin((-2 * Math.PI * k * t) / n);
      }
      expect(oRe[k]).toBeCloseTo(sr, 8);
      expect(oIm[k]).toBeCloseTo(si, 8);
    }
  });

  it('has 80 Slaney filters over 201 bins, centred in increasing order up to 8 kHz', () => {
    const f = melFilters();
    expect(f.length).toBe(80);
    expect(f[0]!.length).toBe(201);
    const peaks = f.map((row) => row.indexOf(Math.max(...row)));
    for (let i = 1; i < peaks.length; i++) expect(peaks[i]!).toBeGreaterThanOrEqual(peaks[i - 1]!);
    // Slaney normalisation: wide high filters are lower than narrow low ones.
    expect(Math.max(...f[79]!)).toBeLessThan(Math.max(...f[5]!));
  });

  it('puts a 1 kHz tone in the mel band around 1 kHz, in [80, 3000], and floors 8 log units below the max', () => {
    const x = tone(1000, 16000, 5);
    const m = logMel(x);
    expect(m.length).toBe(N_MELS * N_FRAMES);
    const frame = 100;
    let best = 0;
    for (let k = 0; k < N_MELS; k++) if (m[k * N_FRAMES + frame]! > m[best * N_FRAMES + frame]!) best = k;
    // 1 kHz is mel 15 on the Slaney scale: filter centres 0…80 spread over mel 0…~45.2.
    const filters = melFilters();
    const centreHz = (filters[best]!.indexOf(Math.max(...filters[best]!)) * 16000) / 400;
    expect(Math.abs(centreHz - 1000)).toBeLessThan(120);
    const max = m.reduce((a, v) => Math.max(a, v), -Infinity);
    const min = m.reduce((a, v) => Math.min(a, v), Infinity);
    expect(max - min).toBeCloseTo(2, 5); // (8 log units) / 4
    // After the tone (5 s), the padding is silent: at the floor.
    expect(m[best * N_FRAMES + 2000]).toBeCloseTo(min, 5);
  });
});

const TOK = '.cache/models/whisper-tiny-q8';
describe.skipIf(!existsSync(`${TOK}/vocab.json`))('Whisper tokenizer (bundled files)', () => {
  const read = (p: string) => readFileSync(`${TOK}/${p}`, 'utf8');
  const tok = () =>
    new WhisperTokenizer({
      vocab: JSON.parse(read('vocab.json')) as Record<string, number>,
      merges: read('merges.txt'),
      added: JSON.parse(read('added_tokens.json')) as Record<string, number>,
      generation: JSON.parse(read('generation_config.json')) as Record<string, unknown>,
    });

  it('knows the special tokens of the multilingual models', () => {
    const s = tok().special;
    expect([s.eot, s.sot, s.translate, s.transcribe, s.sotPrev, s.noTimestamps, s.timestampBegin]).toEqual([
      50257, 50258, 50358, 50359, 50361, 50363, 50364,
    ]);
    expect(s.languages.get('en')).toBe(50259);
    expect(s.languages.get('es')).toBe(50262);
    expect(s.languages.size).toBe(99);
  });

  it('encodes and decodes text (accents, digits, punctuation) back to itself', () => {
    const t = tok();
    for (const text of [
      ' Hello world, this is a test.',
      ' ¿Qué tal? Él comió 23 manzanas.',
      ' naïve café — 東京',
    ]) {
      const ids = t.encode(text);
      expect(ids.every((i) => i < 50257)).toBe(true);
      expect(t.decode(ids)).toBe(text);
    }
    expect(t.encode(' Hello world')).toEqual([2425, 1002]);
    expect(t.timeOf(50364 + 150)).toBeCloseTo(3, 10);
  });
});
