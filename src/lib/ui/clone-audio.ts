// DOM-free audio helpers of the Clone view: the recorder's level meter, the part of a sample chosen with
// its region, and the mono mix-down of decoded files.

export interface Level {
  /** Root-mean-square level, dBFS (-Infinity for digital silence). */
  rmsDb: number;
  /** Highest absolute sample, dBFS. */
  peakDb: number;
}

/** Level of one block of samples (the analyser's time-domain frame). */
export function levelOf(block: Float32Array): Level {
  let sum = 0;
  let peak = 0;
  for (let i = 0; i < block.length; i++) {
    const x = block[i]!;
    sum += x * x;
    const a = Math.abs(x);
    if (a > peak) peak = a;
  }
  const rms = block.length ? Math.sqrt(sum / block.length) : 0;
  const db = (v: number) => (v > 0 ? 20 * Math.log10(v) : -Infinity);
  return { rmsDb: db(rms), peakDb: db(peak) };
}

/** Where the meter's bar ends (0–1) for a level in dBFS: linear in dB from `floorDb` to 0 dBFS. */
export function meterFraction(db: number, floorDb = -60): number {
  if (!(db > floorDb)) return 0;
  return Math.min(1, (db - floorDb) / -floorDb);
}

export type LevelHint = 'silent' | 'quiet' | 'good' | 'loud';

/** A word for the speaker: speech should sit around -30…-6 dBFS RMS with peaks below clipping. */
export function levelHint(l: Level): LevelHint {
  if (l.peakDb >= -0.5) return 'loud';
  if (l.rmsDb < -60) return 'silent';
  if (l.rmsDb < -40) return 'quiet';
  return 'good';
}

export interface Region {
  /** Seconds. */
  start: number;
  end: number;
}

/** The shortest part of a sample that may be chosen, seconds. */
export const MIN_REGION_SECONDS = 0.5;

/** A region kept inside [0, duration], start before end and at least MIN_REGION_SECONDS long when possible. */
export function clampRegion(r: Region, duration: number, minLength = MIN_REGION_SECONDS): Region {
  const min = Math.min(minLength, duration);
  let start = Math.min(Math.max(Number.isFinite(r.start) ? r.start : 0, 0), duration);
  let end = Math.min(Math.max(Number.isFinite(r.end) ? r.end : duration, 0), duration);
  if (end < start) [start, end] = [end, start];
  if (end - start < min) {
    end = Math.min(duration, start + min);
    start = Math.max(0, end - min);
  }
  return { start, end };
}

/** The samples of a region. */
export function sliceRegion(samples: Float32Array, sampleRate: number, r: Region): Float32Array {
  const a = Math.max(0, Math.round(r.start * sampleRate));
  const b = Math.min(samples.length, Math.round(r.end * sampleRate));
  return samples.slice(a, Math.max(a, b));
}

/** Seconds chosen over all samples. */
export function selectedSeconds(regions: readonly Region[]): number {
  return regions.reduce((s, r) => s + Math.max(0, r.end - r.start), 0);
}

/** Averages planar channels into one. */
export function mixDown(channels: readonly Float32Array[]): Float32Array {
  if (channels.length === 1) return channels[0]!;
  const n = Math.min(...channels.map((c) => c.length));
  const out = new Float32Array(n);
  for (const c of channels) for (let i = 0; i < n; i++) out[i]! += c[i]! / channels.length;
  return out;
}
