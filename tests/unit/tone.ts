// Test signals: a sine tone, and where its energy is (a plain DFT, enough for a second of audio).

export function tone(sampleRate: number, seconds: number, freq = 440, amplitude = 0.5): Float32Array {
  const n = Math.round(sampleRate * seconds);
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = amplitude * Math.sin((2 * Math.PI * freq * i) / sampleRate);
  return a;
}

/** Interleaved stereo floats (−1…1) as a 16-bit stereo WAV. */
export function stereoWav16(interleaved: Float32Array, rate: number): Uint8Array {
  const frames = Math.floor(interleaved.length / 2);
  const out = new Uint8Array(44 + frames * 4);
  const v = new DataView(out.buffer);
  const text = (at: number, t: string) => [...t].forEach((c, i) => (out[at + i] = c.charCodeAt(0)));
  text(0, 'RIFF');
  v.setUint32(4, 36 + frames * 4, true);
  text(8, 'WAVEfmt ');
  v.setUint32(16, 16, true);
  v.setUint16(20, 1, true);
  v.setUint16(22, 2, true);
  v.setUint32(24, rate, true);
  v.setUint32(28, rate * 4, true);
  v.setUint16(32, 4, true);
  v.setUint16(34, 16, true);
  text(36, 'data');
  v.setUint32(40, frames * 4, true);
  for (let i = 0; i < frames * 2; i++)
    v.setInt16(44 + i * 2, Math.max(-32768, Math.min(32767, Math.round(interleaved[i]! * 32767))), true);
  return out;
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
