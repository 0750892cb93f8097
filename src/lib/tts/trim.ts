// Leading and trailing silence: 10 ms frames whose RMS stays 40 dB under the loudest frame (and under
// -60 dBFS at least) are silence; a short margin is kept so no onset or release is cut.

export interface TrimOptions {
  frameMs?: number;
  /** Below the loudest frame, in dB (default 40). */
  relativeDb?: number;
  /** Absolute floor, dBFS (default -60). */
  floorDb?: number;
  /** Kept around the speech, ms (default 40). */
  marginMs?: number;
}

/** [start, end) of the part worth keeping; start === end when it is all silence. */
export function speechBounds(
  samples: Float32Array,
  sampleRate: number,
  o: TrimOptions = {},
): { start: number; end: number } {
  const frame = Math.max(1, Math.round(((o.frameMs ?? 10) * sampleRate) / 1000));
  const frames = Math.ceil(samples.length / frame);
  const rms = new Float64Array(frames);
  let loudest = 0;
  for (let f = 0; f < frames; f++) {
    let s = 0;
    const end = Math.min(samples.length, (f + 1) * frame);
    for (let i = f * frame; i < end; i++) s += samples[i]! * samples[i]!;
    rms[f] = Math.sqrt(s / Math.max(1, end - f * frame));
    loudest = Math.max(loudest, rms[f]!);
  }
  const threshold = Math.max(loudest * 10 ** (-(o.relativeDb ?? 40) / 20), 10 ** ((o.floorDb ?? -60) / 20));
  let first = 0;
  while (first < frames && rms[first]! < threshold) first++;
  if (first === frames) return { start: 0, end: 0 };
  let last = frames - 1;
  while (last > first && rms[last]! < threshold) last--;
  const margin = Math.round(((o.marginMs ?? 40) * sampleRate) / 1000);
  return {
    start: Math.max(0, first * frame - margin),
    end: Math.min(samples.length, (last + 1) * frame + margin),
  };
}

/** The samples without their leading and/or trailing silence (a view, not a copy). */
export function trimSilence(
  samples: Float32Array,
  sampleRate: number,
  which: { leading: boolean; trailing: boolean },
  o: TrimOptions = {},
): Float32Array {
  if (!which.leading && !which.trailing) return samples;
  const { start, end } = speechBounds(samples, sampleRate, o);
  if (start === end) return samples.subarray(0, 0);
  return samples.subarray(which.leading ? start : 0, which.trailing ? end : samples.length);
}
