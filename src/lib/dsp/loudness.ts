// ITU-R BS.1770-4 integrated loudness and loudness normalisation.
//
// Measurement: each channel is K-weighted (the spec's high shelf, +4 dB above ~1.7 kHz, then its ~38 Hz
// high pass), mean squares are taken over 400 ms blocks overlapping by 75 %, a block's loudness
// is −0.691 + 10·log10(Σ channel weight · mean square), blocks below −70 LUFS are dropped (absolute
// gate), then blocks more than 10 LU below the loudness of those left (relative gate); what remains is
// averaged in the power domain. Mono and stereo channels weigh 1 (the spec's 1.41 is for surrounds only).
//
// Normalisation: one gain to the target, then a look-ahead peak limiter holds the result under a ceiling
// (dBFS), judged on a 4× oversampled copy, i.e. an estimate of the true peak.
import { filter, type Biquad } from './biquad';
import { resample } from './resample';

const BLOCK = 0.4;
const STEP = 0.1;
const ABSOLUTE_GATE = -70;
const RELATIVE_GATE = -10;

/**
 * The spec's two K-weighting stages re-derived for any rate by the bilinear transform of their analogue
 * prototypes (as libebur128 does); at 48 kHz this gives the spec's published coefficients.
 */
export function kWeighting(rate: number): Biquad[] {
  let K = Math.tan((Math.PI * 1681.974450955533) / rate);
  const Vh = 10 ** (3.999843853973347 / 20);
  const Vb = Vh ** 0.4996667741545416;
  let Q = 0.7071752369554196;
  let a0 = 1 + K / Q + K * K;
  const shelf: Biquad = {
    b0: (Vh + (Vb * K) / Q + K * K) / a0,
    b1: (2 * (K * K - Vh)) / a0,
    b2: (Vh - (Vb * K) / Q + K * K) / a0,
    a1: (2 * (K * K - 1)) / a0,
    a2: (1 - K / Q + K * K) / a0,
  };
  K = Math.tan((Math.PI * 38.13547087602444) / rate);
  Q = 0.5003270373238773;
  a0 = 1 + K / Q + K * K;
  const hp: Biquad = { b0: 1, b1: -2, b2: 1, a1: (2 * (K * K - 1)) / a0, a2: (1 - K / Q + K * K) / a0 };
  return [shelf, hp];
}

const lufs = (power: number) => -0.691 + 10 * Math.log10(power);

/**
 * Integrated loudness in LUFS of one or more channels (same length), or -Infinity when every block is
 * gated out (silence). A clip shorter than one block is measured as a single block.
 */
export function integratedLoudness(channels: Float32Array | readonly Float32Array[], rate: number): number {
  const chans = channels instanceof Float32Array ? [channels] : channels;
  const weighted = chans.map((c) => filter(c, kWeighting(rate)));
  const n = weighted[0]?.length ?? 0;
  if (n === 0) return -Infinity;
  const block = Math.min(n, Math.round(BLOCK * rate));
  const step = Math.round(STEP * rate);
  // Prefix sums of squares per channel, so each block's mean square is one subtraction.
  const powers: number[] = [];
  const prefix = weighted.map((w) => {
    const p = new Float64Array(n + 1);
    for (let i = 0; i < n; i++) p[i + 1] = p[i]! + w[i]! * w[i]!;
    return p;
  });
  for (let s = 0; s + block <= n; s += step) {
    let z = 0;
    for (const p of prefix) z += (p[s + block]! - p[s]!) / block;
    powers.push(z);
  }
  const aboveAbsolute = powers.filter((z) => lufs(z) > ABSOLUTE_GATE);
  if (!aboveAbsolute.length) return -Infinity;
  const mean = (a: number[]) => a.reduce((x, y) => x + y, 0) / a.length;
  const relative = lufs(mean(aboveAbsolute)) + RELATIVE_GATE;
  const kept = aboveAbsolute.filter((z) => lufs(z) > relative);
  return lufs(mean(kept));
}

/** Peak (dBFS) of a 4× oversampled copy: an estimate of the true (inter-sample) peak. */
export function truePeakDb(x: Float32Array, rate: number): number {
  const up = resample(x, rate, rate * 4);
  let peak = 0;
  for (const v of up) peak = Math.max(peak, Math.abs(v));
  for (const v of x) peak = Math.max(peak, Math.abs(v));
  return 20 * Math.log10(peak || 1e-12);
}

/**
 * Gains every sample so no peak exceeds `ceiling` (linear): each sample's needed gain is spread over a
 * look-ahead window before it (sliding minimum, then a moving average of the same length, which never
 * rises above any needed gain it covers) and recovers with an exponential release.
 */
export function limit(x: Float32Array, rate: number, ceiling: number): Float32Array {
  const n = x.length;
  const L = Math.max(1, Math.round(0.005 * rate));
  const need = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const a = Math.abs(x[i]!);
    need[i] = a > ceiling ? ceiling / a : 1;
  }
  // h[i] = min(need[i .. i+L]) by a monotonic deque.
  const h = new Float32Array(n);
  const dq = new Int32Array(n + L + 1);
  let head = 0,
    tail = 0,
    next = 0;
  for (let i = 0; i < n; i++) {
    while (next < n && next <= i + L) {
      while (tail > head && need[dq[tail - 1]!]! >= need[next]!) tail--;
      dq[tail++] = next++;
    }
    while (dq[head]! < i) head++;
    h[i] = need[dq[head]!]!;
  }
  // s[i] = mean(h[i-L .. i]) (h before the start counts as 1).
  const out = new Float32Array(n);
  const release = 1 - Math.exp(-1 / (0.08 * rate));
  let sum = L + 1;
  let g = 1;
  for (let i = 0; i < n; i++) {
    sum += h[i]! - (i - L - 1 >= 0 ? h[i - L - 1]! : 1);
    const s = sum / (L + 1);
    g = Math.min(s, g + (1 - g) * release);
    out[i] = x[i]! * g;
  }
  return out;
}

export interface Normalised {
  samples: Float32Array;
  /** dB applied before limiting. */
  gainDb: number;
  truePeakDb: number;
}

/** Brings mono `x` to `targetLufs` with its true peak held at or under `ceilingDb` (default −1 dBFS). */
export function normalizeLoudness(
  x: Float32Array,
  rate: number,
  targetLufs: number,
  ceilingDb = -1,
): Normalised {
  const before = integratedLoudness(x, rate);
  if (!Number.isFinite(before)) return { samples: x, gainDb: 0, truePeakDb: truePeakDb(x, rate) };
  const gainDb = targetLufs - before;
  const k = 10 ** (gainDb / 20);
  let y: Float32Array = Float32Array.from(x, (v) => v * k);
  // Sample peaks are limited a little under the ceiling; inter-sample overs left after that are removed
  // by one overall trim.
  y = limit(y, rate, 10 ** ((ceilingDb - 0.3) / 20));
  let tp = truePeakDb(y, rate);
  if (tp > ceilingDb) {
    const t = 10 ** ((ceilingDb - tp) / 20);
    for (let i = 0; i < y.length; i++) y[i] = y[i]! * t;
    tp = ceilingDb;
  }
  return { samples: y, gainDb, truePeakDb: tp };
}
