import { describe, expect, it } from 'vitest';
import {
  clampFades,
  gridFor,
  MIN_CLIP,
  niceStep,
  rulerTicks,
  snap,
  tickLabel,
  toPx,
  toTime,
  trimEndTo,
  trimStartTo,
  UNKNOWN_SPAN,
  drawnSpan,
  fitZoom,
  ZOOM,
} from '../../src/lib/ui/timeline-view';
import type { TimelineClip } from '../../src/lib/documents/project';

const clip = (o: Partial<TimelineClip> = {}): TimelineClip => ({
  id: 'c',
  content: { kind: 'speech', text: 'Hi.', voice: 'af_heart', speed: 1 },
  start: 2,
  offset: 0,
  length: null,
  gain_db: 0,
  fade_in: 0,
  fade_out: 0,
  source_duration: 3,
  ...o,
});

describe('timeline layout', () => {
  it('converts seconds and pixels both ways', () => {
    expect(toPx(2.5, 80)).toBe(200);
    expect(toTime(200, 80)).toBe(2.5);
  });

  it('snaps to the grid, never below zero', () => {
    expect(snap(1.26, 0.1)).toBe(1.3);
    expect(snap(1.24, 0.5)).toBe(1);
    expect(snap(-0.3, 0.1)).toBe(0);
    expect(snap(1.234, 0)).toBe(1.234);
  });

  it('picks nice steps on a 1-2-5 series', () => {
    expect(niceStep(0.13)).toBe(0.2);
    expect(niceStep(0.5)).toBe(0.5);
    expect(niceStep(3)).toBe(5);
    expect(gridFor(80)).toBe(0.2); // 12 px at 80 px/s = 0.15 s
    expect(gridFor(10)).toBe(2); // 1.2 s
  });

  it('labels the ruler at least 70 px apart with minor marks between', () => {
    const ticks = rulerTicks(10, 80); // 70 px = 0.875 s → 1 s labels, 0.2 s marks
    const major = ticks.filter((t) => t.major).map((t) => t.t);
    expect(major).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(ticks.length).toBe(51);
    const gaps = major.slice(1).map((t, i) => toPx(t - major[i]!, 80));
    expect(Math.min(...gaps)).toBeGreaterThanOrEqual(70);
    expect(tickLabel(75, 5)).toBe('1:15');
    expect(tickLabel(1.5, 0.5)).toBe('0:01.5');
  });

  it('draws speech not generated yet at its estimate, other unknown clips with a placeholder', () => {
    const text = 'Twenty-eight characters long'; // 28 characters at ~14 a second
    const speech = clip({
      source_duration: null,
      content: { kind: 'speech', text, voice: 'af_heart', speed: 1 },
    });
    expect(drawnSpan(speech)).toBeCloseTo(2, 6);
    expect(drawnSpan(clip({ source_duration: null, content: { kind: 'library', clip_id: 'x' } }))).toBe(
      UNKNOWN_SPAN,
    );
    expect(drawnSpan(clip({ offset: 1 }))).toBe(2);
  });

  it('trims the left edge keeping the end, limited by the source start and the end', () => {
    const c = clip({ offset: 0.5, length: 2 }); // plays source 0.5–2.5 at 2–4
    const t = trimStartTo(c, 2.8);
    expect(t).toEqual({ start: 2.8, offset: 1.3, length: 1.2 });
    // Dragging left past the source's first sample stops there (offset 0 at start 1.5).
    expect(trimStartTo(c, 0.2)).toEqual({ start: 1.5, offset: 0, length: 2.5 });
    // Dragging past the end leaves MIN_CLIP.
    expect(trimStartTo(c, 9).length).toBeCloseTo(MIN_CLIP, 6);
  });

  it('trims the right edge within the source', () => {
    const c = clip({ offset: 1 }); // 2 s of source left
    expect(trimEndTo(c, 3.5)).toEqual({ length: 1.5 });
    expect(trimEndTo(c, 10)).toEqual({ length: 2 });
    expect(trimEndTo(c, 1)).toEqual({ length: MIN_CLIP });
    expect(trimEndTo(c, 3.26, 0.1)).toEqual({ length: 1.3 });
  });

  it('keeps fades inside the clip', () => {
    const c = clip(); // 3 s
    expect(clampFades(c, 1, 1)).toEqual({ fade_in: 1, fade_out: 1 });
    expect(clampFades(c, 2, 2)).toEqual({ fade_in: 2, fade_out: 1 });
    expect(clampFades(c, -1, 5)).toEqual({ fade_in: 0, fade_out: 3 });
  });
});

describe('fitZoom', () => {
  it('zooms out so the last clip (and a second after it) is in view, on the slider steps', () => {
    // 20 s in 700 px at the initial 80 px/s would end at 1600 px, out of view.
    const z = fitZoom(20, 700);
    expect(z).toBe(30);
    expect(toPx(20 + 1, z)).toBeLessThanOrEqual(700);
    expect(z % 10).toBe(0);
  });
  it('keeps the initial zoom for short projects and never goes below the minimum', () => {
    expect(fitZoom(3, 1000)).toBe(ZOOM.initial);
    expect(fitZoom(3600, 800)).toBe(ZOOM.min);
    expect(fitZoom(10, 0)).toBe(ZOOM.initial);
  });
});
