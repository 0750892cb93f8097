import { describe, expect, it } from 'vitest';
import { PlaybackPlan, spanAt } from '../../src/lib/audio/playback-plan';

describe('PlaybackPlan: gapless scheduling of streamed pieces', () => {
  it('puts each piece right after the one before while the queue is ahead of the clock', () => {
    const plan = new PlaybackPlan(0.05);
    const a = plan.add(1, 2); // first piece: starts `lead` after it arrives
    const b = plan.add(1.5, 1); // arrives while a still plays
    const c = plan.add(2.9, 0.5); // still before a+b end (4.05)
    expect(a.at).toBeCloseTo(1.05);
    expect(b.at).toBeCloseTo(a.at + a.duration);
    expect(c.at).toBeCloseTo(b.at + b.duration);
    expect([a.offset, b.offset, c.offset]).toEqual([0, 2, 3]);
    expect(plan.underruns).toBe(0);
    expect(plan.endsAt).toBeCloseTo(c.at + 0.5);
    expect(plan.duration).toBeCloseTo(3.5);
  });

  it('starts a late piece shortly after it arrives and counts the underrun', () => {
    const plan = new PlaybackPlan(0.1);
    plan.add(0, 1); // plays 0.1–1.1
    const late = plan.add(3, 1); // the queue ran dry at 1.1
    expect(late.at).toBeCloseTo(3.1);
    expect(plan.underruns).toBe(1);
  });

  it('maps clock time back to the result position, holding through a hole', () => {
    const plan = new PlaybackPlan(0);
    plan.add(0, 1); // clock 0–1 → result 0–1
    plan.add(2, 1); // clock 2–3 → result 1–2 (hole at clock 1–2)
    expect(plan.positionAt(-1)).toBe(0);
    expect(plan.positionAt(0.5)).toBeCloseTo(0.5);
    expect(plan.positionAt(1.5)).toBeCloseTo(1); // in the hole: the end of the first piece
    expect(plan.positionAt(2.25)).toBeCloseTo(1.25);
    expect(plan.positionAt(10)).toBeCloseTo(2);
    expect(plan.pieceAt(-1)).toBe(-1);
    expect(plan.pieceAt(1.5)).toBe(0);
    expect(plan.pieceAt(2)).toBe(1);
    expect(plan.finishedAt(2.9)).toBe(false);
    expect(plan.finishedAt(3)).toBe(true);
  });

  it('finds the piece by binary search over many pieces', () => {
    const plan = new PlaybackPlan(0);
    for (let i = 0; i < 100; i++) plan.add(0, 0.5);
    expect(plan.pieceAt(37.3)).toBe(74);
    expect(plan.positionAt(37.3)).toBeCloseTo(37.3);
  });
});

describe('spanAt', () => {
  const spans = [
    { start: 0, end: 1 },
    { start: 1.3, end: 2 },
    { start: 2.3, end: 3 },
  ];
  it('gives the sentence being spoken, and the one before during a pause', () => {
    expect(spanAt(spans, 0.2)).toBe(0);
    expect(spanAt(spans, 1.1)).toBe(0); // pause before sentence 2
    expect(spanAt(spans, 1.3)).toBe(1);
    expect(spanAt(spans, 2.9)).toBe(2);
    expect(spanAt(spans, 99)).toBe(2);
    expect(spanAt([{ start: 0.5 }], 0.1)).toBe(-1);
    expect(spanAt([], 1)).toBe(-1);
  });
});
