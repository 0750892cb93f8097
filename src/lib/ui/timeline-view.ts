// Layout maths of the Projects view's timeline: seconds ↔ pixels at a zoom, snapping, ruler ticks, and
// clamped edits of a clip (move, trim either edge, fades). DOM-free so it is unit-tested in Node.
import { spanOrEstimate, type TimelineClip } from '../documents/project';

/** Zoom range in pixels per second of timeline. */
export const ZOOM = { min: 10, max: 400, initial: 80 } as const;
/** Seconds between script lines laid out one after another. */
export const LINE_GAP = 0.4;
/** Shortest clip a trim may leave (s). */
export const MIN_CLIP = 0.05;
/** Span drawn for a clip whose length is not known and cannot be estimated. */
export const UNKNOWN_SPAN = 1;

export const toPx = (t: number, pxPerSec: number): number => t * pxPerSec;

/**
 * The zoom (on the slider's 10 px/s steps) at which `duration` seconds, plus a second of room, fit in
 * `widthPx`: never above the initial zoom, never below the slider's minimum.
 */
export function fitZoom(duration: number, widthPx: number): number {
  if (!(widthPx > 0)) return ZOOM.initial;
  const fit = Math.floor(widthPx / (Math.max(duration, 0) + 1) / 10) * 10;
  return Math.min(ZOOM.initial, Math.max(ZOOM.min, fit));
}
export const toTime = (px: number, pxPerSec: number): number => px / pxPerSec;

/** Rounds `t` to the nearest multiple of `grid` seconds (grid ≤ 0: unchanged). Never below 0. */
export function snap(t: number, grid: number): number {
  const v = grid > 0 ? Math.round(t / grid) * grid : t;
  return Math.max(0, Number(v.toFixed(6)));
}

/** The snapping grid for a zoom: about 12 px between grid lines, on a 1-2-5 series of seconds. */
export function gridFor(pxPerSec: number): number {
  return niceStep(12 / pxPerSec);
}

/** The smallest of 0.01, 0.02, 0.05, 0.1 … 60, 120, 300 s that is ≥ `min`. */
export function niceStep(min: number): number {
  const series = [0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 15, 30, 60, 120, 300, 600];
  return series.find((s) => s >= min - 1e-9) ?? series[series.length - 1]!;
}

export interface Tick {
  t: number;
  /** Labelled ticks; the others are minor marks between them. */
  major: boolean;
}

/** Ticks from 0 to `duration`: labels at least ~70 px apart, five minor marks between. */
export function rulerTicks(duration: number, pxPerSec: number): Tick[] {
  const major = niceStep(70 / pxPerSec);
  const minor = major / 5;
  const out: Tick[] = [];
  const n = Math.floor(duration / minor + 1e-9);
  for (let i = 0; i <= n; i++) out.push({ t: Number((i * minor).toFixed(6)), major: i % 5 === 0 });
  return out;
}

/** "0:05", "1:30", or with tenths for steps under a second: "0:01.5". */
export function tickLabel(t: number, step: number): string {
  const m = Math.floor(t / 60);
  const s = t - m * 60;
  const digits = step < 1 ? 1 : 0;
  const sec = s.toFixed(digits).padStart(digits ? 4 : 2, '0');
  return `${m}:${sec}`;
}

/** Seconds a clip is drawn over: its span, else speech's estimate, else a placeholder. */
export function drawnSpan(c: TimelineClip): number {
  return spanOrEstimate(c) || UNKNOWN_SPAN;
}

/**
 * Trims the clip's left edge to timeline time `edge`: the clip's end stays put, the source offset moves
 * with the edge. Limited to the source's start and to MIN_CLIP before the end.
 */
export function trimStartTo(
  c: TimelineClip,
  edge: number,
  grid = 0,
): Pick<TimelineClip, 'start' | 'offset' | 'length'> {
  const span = drawnSpan(c);
  const end = c.start + span;
  let start = snap(edge, grid);
  start = Math.max(start, c.start - c.offset, 0); // not before the source's first sample
  start = Math.min(start, end - MIN_CLIP);
  const offset = Math.max(0, c.offset + (start - c.start));
  return { start: round(start), offset: round(offset), length: round(end - start) };
}

/** Trims the clip's right edge to timeline time `edge`: limited to MIN_CLIP and the source's end. */
export function trimEndTo(c: TimelineClip, edge: number, grid = 0): Pick<TimelineClip, 'length'> {
  let length = snap(edge, grid) - c.start;
  if (c.source_duration !== null) length = Math.min(length, c.source_duration - c.offset);
  return { length: round(Math.max(MIN_CLIP, length)) };
}

/** Fades limited so that fade in + fade out never exceed the clip's span. */
export function clampFades(
  c: TimelineClip,
  fadeIn: number,
  fadeOut: number,
): { fade_in: number; fade_out: number } {
  const span = drawnSpan(c);
  const fi = Math.min(Math.max(0, fadeIn), span);
  const fo = Math.min(Math.max(0, fadeOut), span - fi);
  return { fade_in: round(fi), fade_out: round(fo) };
}

const round = (v: number) => Number(v.toFixed(6));
