import { describe, expect, it } from 'vitest';
import {
  clampRegion,
  levelHint,
  levelOf,
  meterFraction,
  mixDown,
  selectedSeconds,
  sliceRegion,
} from '../../src/lib/ui/clone-audio';

const sine = (amp: number, n = 4800, rate = 48000) =>
  Float32Array.from({ length: n }, (_, i) => amp * Math.sin((2 * Math.PI * 440 * i) / rate));

describe('level meter', () => {
  it('measures a sine: RMS 3 dB under its peak', () => {
    const l = levelOf(sine(0.5));
    expect(l.peakDb).toBeCloseTo(20 * Math.log10(0.5), 2);
    expect(l.rmsDb).toBeCloseTo(20 * Math.log10(0.5 / Math.SQRT2), 1);
  });
  it('calls silence -Infinity and an empty meter', () => {
    const l = levelOf(new Float32Array(128));
    expect(l.rmsDb).toBe(-Infinity);
    expect(meterFraction(l.rmsDb)).toBe(0);
    expect(levelHint(l)).toBe('silent');
  });
  it('moves the bar linearly in dB and clamps at full scale', () => {
    expect(meterFraction(-30)).toBeCloseTo(0.5);
    expect(meterFraction(-60)).toBe(0);
    expect(meterFraction(3)).toBe(1);
    expect(meterFraction(-20, -40)).toBeCloseTo(0.5);
  });
  it('tells loud, quiet and good apart', () => {
    expect(levelHint(levelOf(sine(1)))).toBe('loud');
    expect(levelHint(levelOf(sine(0.003)))).toBe('quiet');
    expect(levelHint(levelOf(sine(0.2)))).toBe('good');
  });
});

describe('regions', () => {
  it('keeps a region inside the sample and in order', () => {
    expect(clampRegion({ start: -1, end: 20 }, 10)).toEqual({ start: 0, end: 10 });
    expect(clampRegion({ start: 6, end: 2 }, 10)).toEqual({ start: 2, end: 6 });
  });
  it('widens a region shorter than the minimum, staying inside', () => {
    expect(clampRegion({ start: 9.9, end: 9.95 }, 10)).toEqual({ start: 9.5, end: 10 });
    expect(clampRegion({ start: 1, end: 1 }, 10)).toEqual({ start: 1, end: 1.5 });
    expect(clampRegion({ start: 0, end: 0.1 }, 0.3)).toEqual({ start: 0, end: 0.3 });
  });
  it('slices the chosen samples', () => {
    const s = Float32Array.from({ length: 100 }, (_, i) => i);
    const part = sliceRegion(s, 10, { start: 2, end: 3.5 });
    expect(Array.from(part)).toEqual([20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32, 33, 34]);
    expect(sliceRegion(s, 10, { start: 9, end: 20 }).length).toBe(10);
  });
  it('adds up the chosen seconds', () => {
    expect(
      selectedSeconds([
        { start: 1, end: 4 },
        { start: 0, end: 2.5 },
      ]),
    ).toBeCloseTo(5.5);
  });
});

describe('mixDown', () => {
  it('averages channels and passes mono through', () => {
    const a = Float32Array.from([1, 0, -1]);
    expect(mixDown([a])).toBe(a);
    expect(Array.from(mixDown([a, Float32Array.from([0, 1, 1, 5])]))).toEqual([0.5, 0.5, 0]);
  });
});
