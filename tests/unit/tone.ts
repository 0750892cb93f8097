// Test signals: a sine tone, and where its energy is (a plain DFT, enough for a second of audio).

export function tone(sampleRate: number, seconds: number, freq = 440, amplitude = 0.5): Float32Array {
  const n = Math.round(sampleRate * seconds);
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = amplitude * Math.sin((2 * Math.PI * freq * i) / sampleRate);
  return a;
}

/** First channel of interleaved samples. */
export function channel(samples: Float32Array, channels: number, c = 0): Float32Array {
  if (channels === 1) return samples;
  const out = new Float32Array(Math.floor(samples.length / channels));
  for (let i = 0; i < out.length; i++) out[i] = samples[i * channels + c]!;
  return out;
}

/** Goertzel: the power of one frequency. */
function power(x: Float32Array, sampleRate: number, f: number): number {
  const k = 2 * Math.cos((2 * Math.PI * f) / sampleRate);
  let s1 = 0;
  let s2 = 0;
  for (let i = 0; i < x.length; i++) {
    const s = x[i]! + k * s1 - s2;
    s2 = s1;
    s1 = s;
  }
  return (s1 * s1 + s2 * s2 - k * s1 * s2) / (x.length * x.length);
}

/** The strongest frequency between `lo` and `hi` Hz, in `step` Hz steps. */
export function dominantFrequency(
  x: Float32Array,
  sampleRate: number,
  lo = 100,
  hi = 2000,
  step = 2,
): number {
  let best = lo;
  let bestP = -1;
  for (let f = lo; f <= hi; f += step) {
    const p = power(x, sampleRate, f);
    if (p > bestP) [best, bestP] = [f, p];
  }
  return best;
}

export function rms(x: Float32Array, skip = 0): number {
  let s = 0;
  for (let i = skip; i < x.length - skip; i++) s += x[i]! * x[i]!;
  return Math.sqrt(s / Math.max(1, x.length - 2 * skip));
}
