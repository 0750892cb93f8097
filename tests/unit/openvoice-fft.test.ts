// The converter's STFT: the radix-2 real FFT against a naive DFT, and the spectrogram against the values
// the upstream reference computed for the parity fixtures.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { RealFFT } from '../../src/lib/dsp/fft';
import { frameCount, hannPeriodic, spectrogram, transposeSpec } from '../../src/lib/openvoice/spectrogram';
import { decodeWav } from '../../src/lib/dsp/wav';
import { seededFloats } from '../../src/lib/core/random';
import { maxAbsDiff } from './runtime-reference';

const FIXTURE = join(import.meta.dirname, '..', 'fixtures', 'openvoice-v2-tiny');
const f32 = (name: string) => {
  const b = readFileSync(join(FIXTURE, name));
  return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
};

function naiveDft(x: ArrayLike<number>): { re: number[]; im: number[] } {
  const n = x.length;
  const re: number[] = [];
  const im: number[] = [];
  for (let k = 0; k <= n / 2; k++) {
    let r = 0;
    let i = 0;
    for (let t = 0; t < n; t++) {
      const a = (-2 * Math.PI * k * t) / n;
      r += x[t]! * Math.cos(a);
      i += x[t]! * Math.sin(a);
    }
    re.push(r);
    im.push(i);
  }
  return { re, im };
}

describe('RealFFT', () => {
  for (const n of [2, 4, 8, 64, 1024])
    it(`matches a naive DFT at size ${n}`, () => {
      const x = seededFloats(n, n + 11);
      const fft = new RealFFT(n);
      const re = new Float64Array(fft.bins);
      const im = new Float64Array(fft.bins);
      fft.forward(x, re, im);
      const ref = naiveDft(x);
      expect(fft.bins).toBe(n / 2 + 1);
      expect(maxAbsDiff(re, ref.re)).toBeLessThan(1e-9 * n);
      expect(maxAbsDiff(im, ref.im)).toBeLessThan(1e-9 * n);
      // Not a trivially small spectrum.
      expect(Math.max(...ref.re.map(Math.abs))).toBeGreaterThan(0.1);
    });

  it('finds a pure tone in its bin', () => {
    const n = 256;
    const x = Float64Array.from({ length: n }, (_, t) => Math.cos((2 * Math.PI * 5 * t) / n));
    const fft = new RealFFT(n);
    const re = new Float64Array(fft.bins);
    const im = new Float64Array(fft.bins);
    fft.forward(x, re, im);
    expect(re[5]).toBeCloseTo(n / 2, 9);
    expect(Math.hypot(re[4]!, im[4]!)).toBeLessThan(1e-9);
  });

  it('refuses sizes that are not powers of two', () => {
    expect(() => new RealFFT(1000)).toThrow(RangeError);
  });
});

describe('spectrogram', () => {
  it('uses the periodic Hann window', () => {
    const w = hannPeriodic(1024);
    expect(w[0]).toBe(0);
    expect(w[512]).toBeCloseTo(1, 12);
    expect(w[256]).toBeCloseTo(0.5, 12); // symmetric Hann would not give exactly 0.5 here
  });

  it('has floor(N / hop) frames', () => {
    for (const n of [385, 1000, 79949, 256 * 100, 256 * 100 + 255])
      expect(frameCount(n, { nFft: 1024, hop: 256 })).toBe(Math.floor(n / 256));
  });

  for (const [wav, ref] of [
    ['reference.wav', 'ref_spec.f32'],
    ['source.wav', 'src_spec.f32'],
  ] as const)
    it(`reproduces the reference ${ref} from ${wav} within 1e-4`, () => {
      const { samples, sampleRate } = decodeWav(readFileSync(join(FIXTURE, wav)));
      expect(sampleRate).toBe(22050);
      const spec = spectrogram(samples, { nFft: 1024, hop: 256 });
      const expected = f32(ref);
      expect(spec.bins).toBe(513);
      expect(spec.bins * spec.frames).toBe(expected.length);
      expect(maxAbsDiff(spec.data, expected)).toBeLessThan(1e-4);
      // The extractor's layout is the transpose.
      const t = transposeSpec(spec);
      expect(t[1 * 513 + 7]).toBe(spec.data[7 * spec.frames + 1]);
    });

  it('fails the tolerance with a one-sample shift (not centring matters)', () => {
    const { samples } = decodeWav(readFileSync(join(FIXTURE, 'source.wav')));
    const shifted = samples.subarray(1);
    const spec = spectrogram(shifted, { nFft: 1024, hop: 256 });
    const expected = f32('src_spec.f32');
    expect(maxAbsDiff(spec.data, expected.subarray(0, spec.data.length))).toBeGreaterThan(1e-2);
  });
});
