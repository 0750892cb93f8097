import { describe, expect, it } from 'vitest';
import { frameLevelDb, frameLevels } from '../../src/lib/dsp/levels';

describe('frame levels', () => {
  it('a full-scale square wave is 0 dB, half amplitude about −6 dB, silence far below', () => {
    const x = Float32Array.from({ length: 1000 }, (_, i) => (i % 2 ? 1 : -1));
    expect(frameLevelDb(x, 0, 100)).toBeCloseTo(0, 6);
    expect(
      frameLevelDb(
        x.map((v) => v / 2),
        0,
        100,
      ),
    ).toBeCloseTo(-6.0206, 3);
    expect(frameLevelDb(new Float32Array(100), 0, 100)).toBeLessThan(-100);
  });

  it('samples past the end count as zeros (a half frame is 3 dB down)', () => {
    const x = new Float32Array(150).fill(1);
    expect(frameLevelDb(x, 100, 100)).toBeCloseTo(-3.0103, 3);
  });

  it('frameLevels measures whole frames only', () => {
    const x = new Float32Array(250).fill(0.5);
    const l = frameLevels(x, 100);
    expect(l.length).toBe(2);
    expect(l[1]).toBeCloseTo(-6.0206, 3);
  });
});
