// The clip editor's operations on planar Float32 channels, DOM-free. Every operation is pure: it returns
// new channels and leaves its input alone, so the undo history can keep the old state as it is.
// Positions are sample indices, spans half-open [start, end).
import { integratedLoudness, normalizeLoudness } from '../dsp/loudness';

export interface EditAudio {
  channels: Float32Array[];
  sampleRate: number;
}

export type FadeCurve = 'linear' | 'equal-power' | 'exponential';

export type EditOp =
  | { kind: 'trim'; start: number; end: number }
  | { kind: 'cut'; start: number; end: number; crossfade?: number }
  | { kind: 'fade-in'; start: number; end: number; curve?: FadeCurve }
  | { kind: 'fade-out'; start: number; end: number; curve?: FadeCurve }
  | { kind: 'normalize'; peakDb?: number }
  | { kind: 'loudness'; lufs: number }
  | { kind: 'silence'; at: number; length: number };

/** A span outside the audio, empty, or reversed. */
export class EditRangeError extends Error {
  override name = 'EditRangeError';
}

/** Cuts are joined over this long (10 ms): short enough to be unheard, long enough to avoid a click. */
export const CROSSFADE_SECONDS = 0.01;
export const NORMALIZE_PEAK_DB = -1;

export function frames(a: EditAudio): number {
  return a.channels[0]?.length ?? 0;
}

function checkSpan(a: EditAudio, start: number, end: number): void {
  const n = frames(a);
  if (!Number.isInteger(start) || !Number.isInteger(end) || start < 0 || end > n || end <= start)
    throw new EditRangeError(`The span ${start}–${end} is not inside the ${n} samples of the clip.`);
}

const map = (a: EditAudio, fn: (c: Float32Array) => Float32Array): EditAudio => ({
  channels: a.channels.map(fn),
  sampleRate: a.sampleRate,
});

/** Keeps only [start, end). */
export function trim(a: EditAudio, start: number, end: number): EditAudio {
  checkSpan(a, start, end);
  return map(a, (c) => c.slice(start, end));
}

/**
 * Removes [start, end). The join is a linear crossfade of `crossfade` samples centred on the cut: the audio
 * before it fades out while the audio after it fades in, so the result is exactly (end − start) shorter and
 * a continuous signal stays continuous (linear gains sum to one). Near the clip's ends the fade shortens.
 */
export function cut(a: EditAudio, start: number, end: number, crossfade?: number): EditAudio {
  checkSpan(a, start, end);
  const n = frames(a);
  const x = crossfade ?? Math.round(CROSSFADE_SECONDS * a.sampleRate);
  const h = Math.max(0, Math.min(Math.floor(x / 2), start, n - end));
  return map(a, (c) => {
    const out = new Float32Array(n - (end - start));
    out.set(c.subarray(0, start - h), 0);
    for (let i = 0; i < 2 * h; i++) {
      const t = (i + 0.5) / (2 * h);
      out[start - h + i] = c[start - h + i]! * (1 - t) + c[end - h + i]! * t;
    }
    out.set(c.subarray(end + h), start + h);
    return out;
  });
}

/** Gain of a fade at t in [0, 1] (0 silent, 1 full). */
export function fadeGain(t: number, curve: FadeCurve = 'linear'): number {
  const u = Math.min(1, Math.max(0, t));
  if (curve === 'equal-power') return Math.sin((u * Math.PI) / 2);
  if (curve === 'exponential') return u * u;
  return u;
}

/** Rises from silence at `start` (gain exactly 0) to full level at `end`; the rest is unchanged. */
export function fadeIn(a: EditAudio, start: number, end: number, curve: FadeCurve = 'linear'): EditAudio {
  checkSpan(a, start, end);
  const len = end - start;
  return map(a, (c) => {
    const out = c.slice();
    for (let i = 0; i < len; i++) out[start + i] = c[start + i]! * fadeGain(i / len, curve);
    return out;
  });
}

/** Falls from full level to silence at the last sample of the span (gain exactly 0 there). */
export function fadeOut(a: EditAudio, start: number, end: number, curve: FadeCurve = 'linear'): EditAudio {
  checkSpan(a, start, end);
  const len = end - start;
  return map(a, (c) => {
    const out = c.slice();
    for (let i = 0; i < len; i++) out[start + i] = c[start + i]! * fadeGain(1 - (i + 1) / len, curve);
    return out;
  });
}

export function peakOf(a: EditAudio): number {
  let p = 0;
  for (const c of a.channels) for (let i = 0; i < c.length; i++) p = Math.max(p, Math.abs(c[i]!));
  return p;
}

/** Scales every channel by one gain so the highest peak is at `peakDb` dBFS; silence stays as it is. */
export function normalize(a: EditAudio, peakDb = NORMALIZE_PEAK_DB): EditAudio {
  const peak = peakOf(a);
  if (peak === 0) return map(a, (c) => c.slice());
  const gain = 10 ** (peakDb / 20) / peak;
  return map(a, (c) => c.map((x) => x * gain));
}

/**
 * Brings the clip to an integrated loudness (BS.1770, helper in ./loudness) with the true peak held under
 * −1 dBFS; channels share one gain so a stereo image stays. Silence (no measurable loudness) is unchanged.
 */
export function normalizeToLoudness(a: EditAudio, lufs: number): EditAudio {
  if (a.channels.length === 1) {
    const r = normalizeLoudness(a.channels[0]!, a.sampleRate, lufs, NORMALIZE_PEAK_DB);
    return { channels: [r.samples], sampleRate: a.sampleRate };
  }
  const before = integratedLoudness(a.channels, a.sampleRate);
  if (!Number.isFinite(before)) return map(a, (c) => c.slice());
  const gained = map(a, (c) => c.map((x) => x * 10 ** ((lufs - before) / 20)));
  return peakOf(gained) > 10 ** (NORMALIZE_PEAK_DB / 20) ? normalize(gained) : gained;
}

/** Inserts `length` samples of silence before sample `at` (0…frames). */
export function insertSilence(a: EditAudio, at: number, length: number): EditAudio {
  const n = frames(a);
  if (!Number.isInteger(at) || at < 0 || at > n || !Number.isInteger(length) || length <= 0)
    throw new EditRangeError(`Cannot insert ${length} samples of silence at ${at} in ${n} samples.`);
  return map(a, (c) => {
    const out = new Float32Array(n + length);
    out.set(c.subarray(0, at), 0);
    out.set(c.subarray(at), at + length);
    return out;
  });
}

export function applyEdit(a: EditAudio, op: EditOp): EditAudio {
  switch (op.kind) {
    case 'trim':
      return trim(a, op.start, op.end);
    case 'cut':
      return cut(a, op.start, op.end, op.crossfade);
    case 'fade-in':
      return fadeIn(a, op.start, op.end, op.curve);
    case 'fade-out':
      return fadeOut(a, op.start, op.end, op.curve);
    case 'normalize':
      return normalize(a, op.peakDb);
    case 'loudness':
      return normalizeToLoudness(a, op.lufs);
    case 'silence':
      return insertSilence(a, op.at, op.length);
  }
}

const LABELS: Record<EditOp['kind'], string> = {
  trim: 'Trim',
  cut: 'Cut',
  'fade-in': 'Fade in',
  'fade-out': 'Fade out',
  normalize: 'Normalise',
  loudness: 'Normalise loudness',
  silence: 'Insert silence',
};

export function editLabel(op: EditOp): string {
  return LABELS[op.kind];
}

/** Seconds to the nearest sample index, clamped to the audio. */
export function toSample(a: EditAudio, seconds: number): number {
  return Math.min(frames(a), Math.max(0, Math.round(seconds * a.sampleRate)));
}
