// Volume in dB with a look-ahead limiter: no sample passes the ceiling, and the gain never jumps.

export const MIN_VOLUME_DB = -20;
export const MAX_VOLUME_DB = 20;
/** Peak ceiling after the limiter (about -0.2 dBFS). */
export const LIMIT_CEILING = 0.977;

/**
 * Multiplies by 10^(db/20) in place. Where that would pass `ceiling`, the gain is lowered smoothly: the
 * needed reduction r(t) = min(1, ceiling/|y(t)|) is spread by a sliding minimum over ±`windowMs` and then
 * averaged over the same window, so the applied gain is below r(t) at every peak (the average of values
 * that are all ≤ r(t)) and changes over 2·`windowMs` rather than at once.
 */
export function applyVolume(
  samples: Float32Array,
  db: number,
  sampleRate: number,
  ceiling = LIMIT_CEILING,
  windowMs = 10,
): Float32Array {
  const gain = 10 ** (db / 20);
  let peak = 0;
  for (let i = 0; i < samples.length; i++) {
    samples[i]! *= gain;
    peak = Math.max(peak, Math.abs(samples[i]!));
  }
  if (peak <= ceiling) return samples;
  const n = samples.length;
  const half = Math.max(1, Math.round((windowMs * sampleRate) / 1000));
  const need = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const a = Math.abs(samples[i]!);
    need[i] = a > ceiling ? ceiling / a : 1;
  }
  const spread = slidingMin(need, half);
  // Box average over [i - half, i + half] via prefix sums.
  const prefix = new Float64Array(n + 1);
  for (let i = 0; i < n; i++) prefix[i + 1] = prefix[i]! + spread[i]!;
  for (let i = 0; i < n; i++) {
    const lo = Math.max(0, i - half);
    const hi = Math.min(n, i + half + 1);
    const g = (prefix[hi]! - prefix[lo]!) / (hi - lo);
    // g ≤ need[i] holds (every averaged value is a minimum over a window holding i); the clamp only
    // guards against rounding.
    samples[i] = Math.max(-ceiling, Math.min(ceiling, samples[i]! * g));
  }
  return samples;
}

/** min over [i - half, i + half] for every i (monotonic deque, O(n)). */
function slidingMin(x: Float32Array, half: number): Float32Array {
  const n = x.length;
  const out = new Float32Array(n);
  const dq = new Int32Array(n);
  let head = 0;
  let tail = 0;
  let next = 0;
  for (let i = 0; i < n; i++) {
    const hi = Math.min(n - 1, i + half);
    while (next <= hi) {
      while (tail > head && x[dq[tail - 1]!]! >= x[next]!) tail--;
      dq[tail++] = next++;
    }
    while (dq[head]! < i - half) head++;
    out[i] = x[dq[head]!]!;
  }
  return out;
}
