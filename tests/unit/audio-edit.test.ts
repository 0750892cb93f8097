// The clip editor's operations, sample by sample: lengths, values at the span boundaries, crossfade
// continuity, and undo/redo with its memory bound.
import { describe, expect, it } from 'vitest';
import {
  applyEdit,
  cut,
  EditRangeError,
  fadeGain,
  fadeIn,
  fadeOut,
  insertSilence,
  normalize,
  normalizeToLoudness,
  peakOf,
  toSample,
  trim,
  type EditAudio,
} from '../../src/lib/audio/edit';
import { audioBytes, EditHistory } from '../../src/lib/audio/edit-history';
import { integratedLoudness } from '../../src/lib/dsp/loudness';

/** Channel 0 holds 0, 1, 2, … and channel 1 their negatives: every sample says where it came from. */
function ramp(n: number, rate = 1000): EditAudio {
  const a = Float32Array.from({ length: n }, (_, i) => i);
  return { channels: [a, a.map((x) => -x)], sampleRate: rate };
}
const ones = (n: number, rate = 1000): EditAudio => ({
  channels: [new Float32Array(n).fill(1)],
  sampleRate: rate,
});
const arr = (c: Float32Array | undefined) => Array.from(c ?? []);

describe('trim', () => {
  it('keeps exactly [start, end) of every channel', () => {
    const out = trim(ramp(10), 3, 7);
    expect(arr(out.channels[0])).toEqual([3, 4, 5, 6]);
    expect(arr(out.channels[1])).toEqual([-3, -4, -5, -6]);
    expect(out.sampleRate).toBe(1000);
  });
  it('refuses spans outside, empty or reversed, and leaves the input alone', () => {
    const a = ramp(10);
    expect(() => trim(a, 5, 5)).toThrow(EditRangeError);
    expect(() => trim(a, 6, 2)).toThrow(EditRangeError);
    expect(() => trim(a, -1, 4)).toThrow(EditRangeError);
    expect(() => trim(a, 0, 11)).toThrow(EditRangeError);
    trim(a, 2, 4);
    expect(a.channels[0]!.length).toBe(10);
  });
});

describe('cut', () => {
  it('without a crossfade removes exactly [start, end)', () => {
    const out = cut(ramp(10), 3, 6, 0);
    expect(arr(out.channels[0])).toEqual([0, 1, 2, 6, 7, 8, 9]);
    expect(arr(out.channels[1])).toEqual([-0, -1, -2, -6, -7, -8, -9]);
  });

  it('with a crossfade is still exactly (end − start) shorter, mixing both sides around the join', () => {
    // 4-sample crossfade (h = 2) around a cut of [10, 20) in 30 samples.
    const out = cut(ramp(30), 10, 20, 4);
    const c = out.channels[0]!;
    expect(c.length).toBe(20);
    expect(arr(c.subarray(0, 8))).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    // out[8 + i] = before[8 + i]·(1 − t) + after[18 + i]·t, t = (i + ½)/4
    const expected = [0, 1, 2, 3].map((i) => {
      const t = (i + 0.5) / 4;
      return (8 + i) * (1 - t) + (18 + i) * t;
    });
    expect(arr(c.subarray(8, 12))).toEqual(expected.map((x) => Math.fround(x)));
    expect(arr(c.subarray(12))).toEqual([22, 23, 24, 25, 26, 27, 28, 29]);
  });

  it('joins a constant signal without a dip or a step (the gains sum to one)', () => {
    const out = cut(ones(1000), 300, 700);
    expect(out.channels[0]!.length).toBe(600);
    for (const x of out.channels[0]!) expect(x).toBeCloseTo(1, 6);
  });

  it('joins a sine with no step larger than the sine itself takes (no click)', () => {
    const rate = 8000;
    const f = 220;
    const s = Float32Array.from({ length: rate }, (_, i) => Math.sin((2 * Math.PI * f * i) / rate));
    // Cut 0.1234 s: the two sides meet out of phase, a hard cut would step.
    const a = { channels: [s], sampleRate: rate };
    const start = 2000;
    const end = 2000 + 987;
    const maxStep = (2 * Math.PI * f) / rate; // the sine's largest sample-to-sample change
    const hard = cut(a, start, end, 0).channels[0]!;
    expect(Math.abs(hard[start]! - hard[start - 1]!)).toBeGreaterThan(3 * maxStep);
    const soft = cut(a, start, end).channels[0]!;
    expect(soft.length).toBe(rate - 987);
    let worst = 0;
    for (let i = 1; i < soft.length; i++) worst = Math.max(worst, Math.abs(soft[i]! - soft[i - 1]!));
    expect(worst).toBeLessThan(2 * maxStep);
  });

  it('shortens the crossfade at the clip ends (a cut from the start needs none)', () => {
    const out = cut(ramp(10), 0, 4);
    expect(arr(out.channels[0])).toEqual([4, 5, 6, 7, 8, 9]);
    const tail = cut(ramp(10), 7, 10);
    expect(arr(tail.channels[0])).toEqual([0, 1, 2, 3, 4, 5, 6]);
  });
});

describe('fades', () => {
  it('fade-in starts at exactly 0 and leaves samples after the span alone', () => {
    const out = fadeIn(ones(10), 0, 4).channels[0]!;
    expect(arr(out)).toEqual([0, 0.25, 0.5, 0.75, 1, 1, 1, 1, 1, 1]);
  });
  it('fade-out ends at exactly 0 on the span’s last sample and leaves samples before it alone', () => {
    const out = fadeOut(ones(10), 6, 10).channels[0]!;
    expect(arr(out)).toEqual([1, 1, 1, 1, 1, 1, 0.75, 0.5, 0.25, 0]);
  });
  it('applies the curve: equal-power and exponential', () => {
    const ep = fadeIn(ones(4), 0, 4, 'equal-power').channels[0]!;
    expect(arr(ep)).toEqual([0, 0.25, 0.5, 0.75].map((t) => Math.fround(Math.sin((t * Math.PI) / 2))));
    const ex = fadeOut(ones(4), 0, 4, 'exponential').channels[0]!;
    expect(arr(ex)).toEqual([0.5625, 0.25, 0.0625, 0]);
    expect(fadeGain(2)).toBe(1);
    expect(fadeGain(-1, 'exponential')).toBe(0);
  });
  it('fades every channel alike', () => {
    const out = fadeIn(ramp(4), 0, 4);
    expect(arr(out.channels[0])).toEqual([0, 0.25, 1, 2.25]);
    expect(arr(out.channels[1])).toEqual([-0, -0.25, -1, -2.25]);
  });
});

describe('normalise', () => {
  it('brings the highest peak over all channels to −1 dBFS with one gain', () => {
    const a: EditAudio = {
      channels: [Float32Array.of(0.1, -0.2), Float32Array.of(0.4, 0.05)],
      sampleRate: 8,
    };
    const out = normalize(a);
    const target = 10 ** (-1 / 20);
    expect(peakOf(out)).toBeCloseTo(target, 6);
    const g = target / 0.4;
    expect(out.channels[0]![1]).toBeCloseTo(-0.2 * g, 6);
    expect(out.channels[1]![1]).toBeCloseTo(0.05 * g, 6);
    expect(peakOf(normalize(a, -6))).toBeCloseTo(10 ** (-6 / 20), 6);
  });
  it('leaves silence silent (no division by zero)', () => {
    const out = normalize({ channels: [new Float32Array(5)], sampleRate: 8 });
    expect(arr(out.channels[0])).toEqual([0, 0, 0, 0, 0]);
  });
});

describe('silence insert', () => {
  it('puts exactly `length` zeros before `at`', () => {
    const out = insertSilence(ramp(5), 2, 3);
    expect(arr(out.channels[0])).toEqual([0, 1, 0, 0, 0, 2, 3, 4]);
    expect(arr(insertSilence(ramp(2), 2, 1).channels[0])).toEqual([0, 1, 0]);
    expect(() => insertSilence(ramp(2), 3, 1)).toThrow(EditRangeError);
  });
});

describe('toSample', () => {
  it('rounds seconds to a sample and clamps to the clip', () => {
    const a = ramp(1000, 1000);
    expect(toSample(a, 0.2504)).toBe(250);
    expect(toSample(a, -1)).toBe(0);
    expect(toSample(a, 5)).toBe(1000);
  });
});

describe('EditHistory', () => {
  it('undoes and redoes edits back to the same samples; a new edit clears redo', () => {
    const h = new EditHistory(ramp(10));
    expect(h.canUndo).toBe(false);
    h.apply({ kind: 'trim', start: 2, end: 8 });
    h.apply({ kind: 'cut', start: 0, end: 2, crossfade: 0 });
    expect(arr(h.current.channels[0])).toEqual([4, 5, 6, 7]);
    expect(h.undoLabel).toBe('Cut');
    expect(arr(h.undo()!.channels[0])).toEqual([2, 3, 4, 5, 6, 7]);
    expect(h.undoLabel).toBe('Trim');
    expect(h.redoLabel).toBe('Cut');
    expect(arr(h.undo()!.channels[0])).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(h.undo()).toBeNull();
    expect(arr(h.redo()!.channels[0])).toEqual([2, 3, 4, 5, 6, 7]);
    h.apply({ kind: 'fade-in', start: 0, end: 2 });
    expect(h.canRedo).toBe(false);
    expect(h.redo()).toBeNull();
    expect(arr(h.current.channels[0])).toEqual([0, 1.5, 4, 5, 6, 7]);
  });

  it('a failing edit changes nothing', () => {
    const h = new EditHistory(ramp(4));
    expect(() => h.apply({ kind: 'trim', start: 3, end: 9 })).toThrow(EditRangeError);
    expect(h.canUndo).toBe(false);
    expect(h.current.channels[0]!.length).toBe(4);
  });

  it('stays under its memory bound by forgetting the oldest undo steps', () => {
    const start = ones(1000); // one channel of 1000 floats
    const one = audioBytes(start);
    expect(one).toBe(4000);
    const h = new EditHistory(start, 3 * one);
    for (let i = 0; i < 5; i++) h.apply({ kind: 'normalize', peakDb: -i });
    expect(h.bytes).toBeLessThanOrEqual(3 * one);
    expect(h.depth).toBe(2);
    expect(h.dropped).toBe(3);
    // The two kept undo steps lead back to the states after edits 2 and 3 (peaks −2 and −3 dB).
    expect(peakOf(h.undo()!)).toBeCloseTo(10 ** (-3 / 20), 6);
    expect(peakOf(h.undo()!)).toBeCloseTo(10 ** (-2 / 20), 6);
    expect(h.undo()).toBeNull();
  });

  it('applyEdit dispatches every kind', () => {
    const a = ramp(6);
    expect(applyEdit(a, { kind: 'silence', at: 0, length: 2 }).channels[0]!.length).toBe(8);
    expect(applyEdit(a, { kind: 'fade-out', start: 0, end: 6 }).channels[0]![5]).toBe(0);
  });
});

describe('loudness normalise', () => {
  it('brings a mono tone to −16 LUFS (BS.1770) with the peak under −1 dBFS', () => {
    const rate = 48000;
    const s = Float32Array.from(
      { length: 3 * rate },
      (_, i) => 0.05 * Math.sin((2 * Math.PI * 997 * i) / rate),
    );
    const out = normalizeToLoudness({ channels: [s], sampleRate: rate }, -16);
    expect(integratedLoudness(out.channels[0]!, rate)).toBeCloseTo(-16, 1);
    expect(out.channels[0]!.length).toBe(s.length);
    expect(peakOf(out)).toBeLessThanOrEqual(10 ** (-1 / 20) + 1e-6);
  });
  it('gives both channels one gain, and leaves silence alone', () => {
    const rate = 48000;
    const l = Float32Array.from(
      { length: rate * 2 },
      (_, i) => 0.05 * Math.sin((2 * Math.PI * 500 * i) / rate),
    );
    const r = l.map((x) => x / 2);
    const out = normalizeToLoudness({ channels: [l, r], sampleRate: rate }, -20);
    expect(integratedLoudness(out.channels, rate)).toBeCloseTo(-20, 1);
    expect(out.channels[1]![1000]! / out.channels[0]![1000]!).toBeCloseTo(0.5, 5);
    const quiet = normalizeToLoudness({ channels: [new Float32Array(rate)], sampleRate: rate }, -16);
    expect(peakOf(quiet)).toBe(0);
  });
});
