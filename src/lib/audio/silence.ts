// Silence trimming and splitting on pauses, from speech regions found by VAD (seconds, already padded by
// the detector so word edges are kept).
import type { SpeechRegion } from '../vad/vad';

export interface Trimmed {
  samples: Float32Array;
  /** Seconds of the input kept: from the first speech to the end of the last. */
  start: number;
  end: number;
  /** Inner pauses longer than max_pause that were shortened, and seconds removed in all. */
  pauses_shortened: number;
  removed_seconds: number;
}

export interface Piece {
  start: number;
  end: number;
  samples: Float32Array;
}

/** Crossfade at each inner cut, so shortening a pause never clicks. */
const FADE = 0.01;

/**
 * Cuts leading and trailing silence; with `maxPause` (seconds) every pause between speech regions longer
 * than that is shortened to it (half of it kept after the speech before, half before the speech after).
 * No speech at all: the result is empty.
 */
export function trimSilence(
  x: Float32Array,
  rate: number,
  regions: readonly SpeechRegion[],
  maxPause?: number,
): Trimmed {
  const total = x.length / rate;
  if (!regions.length)
    return { samples: new Float32Array(0), start: 0, end: 0, pauses_shortened: 0, removed_seconds: total };
  const start = regions[0]!.start;
  const end = regions[regions.length - 1]!.end;
  // Spans (seconds) to keep, in order.
  const keep: [number, number][] = [];
  let from = start;
  let shortened = 0;
  if (maxPause !== undefined)
    for (let i = 1; i < regions.length; i++) {
      const gap0 = regions[i - 1]!.end;
      const gap1 = regions[i]!.start;
      if (gap1 - gap0 > maxPause) {
        keep.push([from, gap0 + maxPause / 2]);
        from = gap1 - maxPause / 2;
        shortened++;
      }
    }
  keep.push([from, end]);
  const fade = Math.round(FADE * rate);
  const parts = keep.map(([a, b]) => x.subarray(Math.round(a * rate), Math.round(b * rate)));
  const length = parts.reduce((n, p, i) => n + p.length - (i > 0 ? Math.min(fade, p.length) : 0), 0);
  const out = new Float32Array(Math.max(0, length));
  let at = 0;
  parts.forEach((p, i) => {
    const f = i > 0 ? Math.min(fade, p.length, at) : 0;
    // Overlap-add the first `f` samples of this part over the last `f` written (linear crossfade).
    for (let k = 0; k < f; k++) {
      const w = (k + 1) / (f + 1);
      out[at - f + k] = out[at - f + k]! * (1 - w) + p[k]! * w;
    }
    out.set(p.subarray(f), at);
    at += p.length - f;
  });
  const samples = out.subarray(0, at);
  return {
    samples,
    start: round(start),
    end: round(end),
    pauses_shortened: shortened,
    removed_seconds: round(total - samples.length / rate),
  };
}

/**
 * Pieces of speech separated by pauses of at least `minPause` seconds (shorter pauses stay inside a
 * piece); each runs from its first region's start to its last region's end.
 */
export function splitOnPauses(
  x: Float32Array,
  rate: number,
  regions: readonly SpeechRegion[],
  minPause: number,
): Piece[] {
  const groups: SpeechRegion[] = [];
  for (const r of regions) {
    const last = groups[groups.length - 1];
    if (last && r.start - last.end < minPause) last.end = r.end;
    else groups.push({ ...r });
  }
  return groups.map((g) => ({
    start: round(g.start),
    end: round(g.end),
    samples: x.slice(Math.round(g.start * rate), Math.round(g.end * rate)),
  }));
}

const round = (v: number) => Math.round(v * 1000) / 1000;
