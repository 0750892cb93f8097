// Pitch, rate and brightness measures on signals whose answers are known by construction.
import { describe, expect, it } from 'vitest';
import {
  estimatePitch,
  loudnessEnvelope,
  measureSpeech,
  spectralCentroid,
  syllableRate,
  trackPitch,
} from '../../src/lib/dsp/pitch';
import { fft } from '../../src/lib/dsp/fft';
import { tone } from './tone';

/** A voice-like tone: fundamental plus decaying harmonics (the fundamental is not the strongest partial). */
function harmonic(sr: number, seconds: number, f0: number, amps = [0.3, 0.5, 0.25, 0.12]): Float32Array {
  const x = new Float32Array(Math.round(sr * seconds));
  for (let i = 0; i < x.length; i++)
    x[i] = amps.reduce((s, a, h) => s + a * Math.sin((2 * Math.PI * f0 * (h + 1) * i) / sr), 0);
  return x;
}

/** Deterministic white noise in [-a, a]. */
function noise(n: number, a = 0.3, seed = 1): Float32Array {
  let s = seed;
  return Float32Array.from({ length: n }, () => {
    s = (s * 1103515245 + 12345) >>> 0;
    return ((s / 2 ** 32) * 2 - 1) * a;
  });
}

const within = (v: number | null, want: number, tol: number) => {
  expect(v).not.toBeNull();
  expect(Math.abs(v! - want) / want).toBeLessThanOrEqual(tol);
};

describe('YIN pitch', () => {
  for (const sr of [16000, 24000, 44100])
    for (const f of [80, 110, 196, 262, 440])
      it(`finds ${f} Hz in a pure tone at ${sr} Hz within 2 %`, () => {
        const p = estimatePitch(tone(sr, 0.6, f, 0.4), sr);
        within(p.median_hz, f, 0.02);
        expect(p.voiced_fraction).toBeGreaterThan(0.9);
        expect(p.spread_st!).toBeLessThan(0.2);
      });

  it('finds the fundamental of a harmonic tone whose second partial is louder (no octave error)', () => {
    for (const f of [95, 150, 230]) within(estimatePitch(harmonic(24000, 0.5, f), 24000).median_hz, f, 0.02);
  });

  it('reports no pitch for silence and for white noise', () => {
    const silent = estimatePitch(new Float32Array(24000), 24000);
    expect(silent).toEqual({ median_hz: null, spread_st: null, voiced_fraction: 0, voiced_frames: 0 });
    const hiss = estimatePitch(noise(24000), 24000);
    expect(hiss.voiced_fraction).toBeLessThan(0.1);
  });

  it('tracks a pitch change over time and measures the spread in semitones', () => {
    const sr = 24000;
    const low = tone(sr, 0.5, 150, 0.4);
    const high = tone(sr, 0.5, 300, 0.4); // one octave up
    const both = new Float32Array(low.length + high.length);
    both.set(low);
    both.set(high, low.length);
    const t = trackPitch(both, sr);
    const at = (sec: number) => t.f0[Math.round(sec / t.hop)]!;
    expect(Math.abs(at(0.2) - 150) / 150).toBeLessThan(0.02);
    expect(Math.abs(at(0.8) - 300) / 300).toBeLessThan(0.02);
    const one = estimatePitch(low, sr).spread_st!;
    const two = estimatePitch(both, sr).spread_st!;
    expect(two).toBeGreaterThan(4); // half the frames are 12 semitones away from the other half
    expect(two).toBeGreaterThan(one * 10);
  });

  it('ignores quiet frames: a tone between silences keeps its pitch and voiced share', () => {
    const sr = 24000;
    const x = new Float32Array(sr * 2);
    x.set(tone(sr, 1, 200, 0.3), sr / 2);
    const p = estimatePitch(x, sr);
    within(p.median_hz, 200, 0.02);
    expect(p.voiced_fraction).toBeGreaterThan(0.9);
  });
});

describe('speech rate and energy', () => {
  it('counts syllable-like bursts: a tone amplitude-modulated at 4 Hz gives about 4 per second', () => {
    const sr = 16000;
    for (const rate of [3, 4, 6]) {
      const x = tone(sr, 3, 220, 0.5).map(
        (v, i) => v * (0.5 - 0.5 * Math.cos((2 * Math.PI * rate * i) / sr)),
      );
      const env = loudnessEnvelope(x, sr);
      const r = syllableRate(env);
      expect(Math.abs(r.syllables - rate * 3)).toBeLessThanOrEqual(1);
      // rate per active second: the quiet troughs are not speech, so the measured rate is at least the true one
      expect(r.per_second).toBeGreaterThanOrEqual(rate * 0.95);
    }
  });

  it('measures active speech time, leaving out silence', () => {
    const sr = 16000;
    const x = new Float32Array(sr * 3);
    x.set(tone(sr, 1, 300, 0.3), sr);
    const m = measureSpeech(x, sr, { units: 12 });
    expect(m.duration_s).toBeCloseTo(3, 5);
    expect(Math.abs(m.active_s - 1)).toBeLessThan(0.05);
    expect(Math.abs(m.units_per_s! - 12)).toBeLessThan(0.7);
    expect(Math.abs(m.loudness_db - 20 * Math.log10(0.3 / Math.SQRT2))).toBeLessThan(0.5);
  });

  it('spectral centroid: a sine sits at its frequency, noise near a quarter of the sample rate', () => {
    const sr = 16000;
    within(spectralCentroid(tone(sr, 1, 1000, 0.5), sr), 1000, 0.05);
    within(spectralCentroid(noise(sr), sr), sr / 4, 0.08);
    expect(spectralCentroid(new Float32Array(sr), sr)).toBe(0);
    expect(spectralCentroid(harmonic(sr, 1, 120), sr)).toBeLessThan(
      spectralCentroid(harmonic(sr, 1, 240), sr),
    );
  });

  it('fft of an impulse is flat, and of a cosine is two bins', () => {
    const re = new Float64Array(16);
    const im = new Float64Array(16);
    re[0] = 1;
    fft(re, im);
    for (let k = 0; k < 16; k++) expect(Math.hypot(re[k]!, im[k]!)).toBeCloseTo(1, 10);
    re.set(Float64Array.from({ length: 16 }, (_, i) => Math.cos((2 * Math.PI * 3 * i) / 16)));
    im.fill(0);
    fft(re, im);
    const mags = [...re].map((r, k) => Math.hypot(r, im[k]!));
    expect(mags[3]).toBeCloseTo(8, 8);
    expect(mags[13]).toBeCloseTo(8, 8);
    expect(mags.filter((m) => m > 1e-8)).toHaveLength(2);
  });
});
