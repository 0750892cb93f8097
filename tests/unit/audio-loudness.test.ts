// BS.1770-4 loudness against the spec's stated reference and exact levels, gating, and normalisation.
import { describe, expect, it } from 'vitest';
import { integratedLoudness, normalizeLoudness, truePeakDb } from '../../src/lib/dsp/loudness';
import { mulberry32 } from '../../src/lib/core/random';

const sine = (f: number, peak: number, seconds: number, rate = 48000) =>
  Float32Array.from(
    { length: Math.round(seconds * rate) },
    (_, i) => peak * Math.sin((2 * Math.PI * f * i) / rate),
  );

describe('integrated loudness (ITU-R BS.1770-4)', () => {
  it('a 0 dBFS 997 Hz sine in one channel reads −3.01 LUFS (the spec’s reference), at 48 and 44.1 kHz', () => {
    expect(integratedLoudness(sine(997, 1, 5), 48000)).toBeCloseTo(-3.01, 1);
    expect(integratedLoudness(sine(997, 1, 5, 44100), 44100)).toBeCloseTo(-3.01, 1);
  });

  it('follows the level: −20 dBFS reads −23.01 LUFS, −40 dBFS −43.01', () => {
    expect(integratedLoudness(sine(997, 0.1, 5), 48000)).toBeCloseTo(-23.01, 1);
    expect(integratedLoudness(sine(997, 0.01, 5), 48000)).toBeCloseTo(-43.01, 1);
  });

  it('two identical channels read 3 dB louder than one', () => {
    const s = sine(997, 0.1, 5);
    expect(integratedLoudness([s, s], 48000)).toBeCloseTo(-23.01 + 3.01, 1);
  });

  it('K-weighting: a 100 Hz tone reads lower than 1 kHz, a 4 kHz tone higher (shelf ≈ +4 dB)', () => {
    const low = integratedLoudness(sine(100, 0.1, 5), 48000);
    const high = integratedLoudness(sine(4000, 0.1, 5), 48000);
    expect(low).toBeLessThan(-23.3);
    expect(high - -23.01).toBeGreaterThan(2.5);
    expect(high - -23.01).toBeLessThan(4.5);
  });

  it('silence is gated out (absolute gate) and does not lower the reading of a tone with pauses', () => {
    expect(integratedLoudness(new Float32Array(48000 * 3), 48000)).toBe(-Infinity);
    const tone = sine(997, 0.1, 5);
    const withSilence = new Float32Array(tone.length * 3);
    withSilence.set(tone, tone.length); // 5 s silence, 5 s tone, 5 s silence
    expect(integratedLoudness(withSilence, 48000)).toBeCloseTo(-23.01, 0);
  });

  it('relative gate: a quiet part 30 LU below the main part is dropped, one 5 LU below is kept', () => {
    const loud = sine(997, 0.1, 10);
    const quiet30 = sine(997, 0.1 * 10 ** (-30 / 20), 10);
    const quiet5 = sine(997, 0.1 * 10 ** (-5 / 20), 10);
    const join = (a: Float32Array, b: Float32Array) => {
      const o = new Float32Array(a.length + b.length);
      o.set(a);
      o.set(b, a.length);
      return o;
    };
    // −53 LUFS is above the absolute gate, so only the relative gate can drop it (ungated: ≈ −26.0; the
    // few blocks straddling the join are kept and pull it down by under 0.1 LU).
    expect(Math.abs(integratedLoudness(join(loud, quiet30), 48000) + 23.01)).toBeLessThan(0.1);
    // Kept: the power mean of −23 and −28 LUFS halves: 10·log10((1 + 10^−0.5)/2) − 23.01 ≈ −24.88.
    expect(Math.abs(integratedLoudness(join(loud, quiet5), 48000) + 24.88)).toBeLessThan(0.1);
  });
});

describe('loudness normalisation', () => {
  it('brings noise-like speech level to the target and holds the true peak under the ceiling', () => {
    const rnd = mulberry32(7);
    const rate = 48000;
    // Bursts of noise with 20 dB crest swings, a stand-in for speech.
    const x = Float32Array.from({ length: rate * 8 }, (_, i) => {
      const env = 0.02 + 0.2 * Math.max(0, Math.sin((2 * Math.PI * 1.5 * i) / rate));
      return env * (rnd() * 2 - 1);
    });
    const n = normalizeLoudness(x, rate, -16, -1);
    expect(integratedLoudness(n.samples, rate)).toBeGreaterThan(-17);
    expect(integratedLoudness(n.samples, rate)).toBeLessThan(-15.5);
    expect(truePeakDb(n.samples, rate)).toBeLessThanOrEqual(-0.99);
    expect(n.samples.length).toBe(x.length);
  });

  it('a loud sine is turned down to −23 LUFS without limiting', () => {
    const n = normalizeLoudness(sine(997, 0.9, 4), 48000, -23);
    expect(integratedLoudness(n.samples, 48000)).toBeCloseTo(-23, 1);
    expect(n.gainDb).toBeCloseTo(-23 - (-3.01 + 20 * Math.log10(0.9)), 1);
  });
});
