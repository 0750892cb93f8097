import { describe, expect, it } from 'vitest';
import { mulberry32, seededFloats, seededInt8, seededNormals } from '../../src/lib/core/random';

describe('core/random', () => {
  it('seededFloats gives the values the test models and parity fixtures were built with', () => {
    // Pinned from the generator as it was in runtime/test-models.ts before it moved here.
    expect(Array.from(seededFloats(3, 7))).toEqual([
      -0.9765905141830444, -0.876083493232727, 0.9538152813911438,
    ]);
    expect(Array.from(seededFloats(2, 1, 0.5))).toEqual([0.12707394361495972, -0.4972642660140991]);
  });

  it('mulberry32 is uniform in [0, 1) and reproducible', () => {
    const a = mulberry32(42);
    const b = mulberry32(42);
    const xs = Array.from({ length: 1000 }, () => a());
    expect(xs).toEqual(Array.from({ length: 1000 }, () => b()));
    expect(Math.min(...xs)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...xs)).toBeLessThan(1);
    expect(xs.reduce((s, x) => s + x, 0) / xs.length).toBeCloseTo(0.5, 1);
  });

  it('seededInt8 stays within ±127', () => {
    const v = seededInt8(1000, 3);
    expect(Math.min(...v)).toBeGreaterThanOrEqual(-127);
    expect(Math.max(...v)).toBeLessThanOrEqual(127);
  });

  it('seededNormals: an even count is a prefix of a longer draw, seed 0 is 0x9e3779b9, moments near N(0, 1)', () => {
    const long = seededNormals(4001, 5);
    expect(Array.from(seededNormals(100, 5))).toEqual(Array.from(long.subarray(0, 100)));
    expect(Array.from(seededNormals(10, 0))).toEqual(Array.from(seededNormals(10, 0x9e3779b9)));
    const mean = long.reduce((s, x) => s + x, 0) / long.length;
    const variance = long.reduce((s, x) => s + (x - mean) ** 2, 0) / long.length;
    expect(Math.abs(mean)).toBeLessThan(0.05);
    expect(variance).toBeGreaterThan(0.9);
    expect(variance).toBeLessThan(1.1);
  });
});
