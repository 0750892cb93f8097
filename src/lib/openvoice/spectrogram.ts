// The converter's spectrogram, exactly as OpenVoice's `spectrogram_torch(…, center=False)` computes it:
// reflect-pad (n_fft − hop) / 2 samples on each side, frames every hop samples with no centring, periodic
// Hann window of n_fft, one-sided FFT, magnitude sqrt(re² + im² + 1e-6). No log, no mel.
import { RealFFT } from '../dsp/fft';

export interface SpectrogramOptions {
  nFft: number;
  hop: number;
}

export interface Spectrogram {
  /** n_fft / 2 + 1. */
  bins: number;
  frames: number;
  /** Row-major [bins, frames]: the converter's `[1, 513, T]` input. */
  data: Float32Array;
}

const windows = new Map<number, Float64Array>();
const ffts = new Map<number, RealFFT>();

/** torch.hann_window(n) (periodic): 0.5 − 0.5 cos(2πi / n). */
export function hannPeriodic(n: number): Float64Array {
  let w = windows.get(n);
  if (!w) {
    w = new Float64Array(n);
    for (let i = 0; i < n; i++) w[i] = 0.5 - 0.5 * Math.cos((2 * Math.PI * i) / n);
    windows.set(n, w);
  }
  return w;
}

/** Index into x of position i of x reflect-padded by `pad` (torch "reflect": the edge is not repeated). */
function reflect(i: number, n: number): number {
  if (n === 1) return 0;
  const period = 2 * (n - 1);
  let j = i % period;
  if (j < 0) j += period;
  return j < n ? j : period - j;
}

/** frames = floor(N / hop) for the converter's settings (1 + (N + 2·pad − n_fft) / hop in general). */
export function frameCount(samples: number, { nFft, hop }: SpectrogramOptions): number {
  const pad = (nFft - hop) / 2;
  const padded = samples + 2 * pad;
  return padded < nFft ? 0 : Math.floor((padded - nFft) / hop) + 1;
}

export function spectrogram(samples: Float32Array, opts: SpectrogramOptions): Spectrogram {
  const { nFft, hop } = opts;
  const pad = (nFft - hop) / 2;
  const n = samples.length;
  // torch refuses reflect padding wider than the signal; so do we, rather than invent other numbers.
  if (n <= pad)
    throw new RangeError(`Audio of ${n} samples is too short for the spectrogram (needs > ${pad}).`);
  let fft = ffts.get(nFft);
  if (!fft) ffts.set(nFft, (fft = new RealFFT(nFft)));
  const win = hannPeriodic(nFft);
  const bins = fft.bins;
  const frames = frameCount(n, opts);
  const out = new Float32Array(bins * frames);
  const frame = new Float64Array(nFft);
  const re = new Float64Array(bins);
  const im = new Float64Array(bins);
  for (let f = 0; f < frames; f++) {
    const start = f * hop - pad;
    for (let i = 0; i < nFft; i++) {
      const p = start + i;
      frame[i] = samples[p >= 0 && p < n ? p : reflect(p, n)]! * win[i]!;
    }
    fft.forward(frame, re, im);
    for (let k = 0; k < bins; k++) out[k * frames + f] = Math.sqrt(re[k]! * re[k]! + im[k]! * im[k]! + 1e-6);
  }
  return { bins, frames, data: out };
}

/** [bins, frames] → [frames, bins]: the tone extractor's `[1, T, 513]` input. */
export function transposeSpec(spec: Spectrogram): Float32Array {
  const { bins, frames, data } = spec;
  const out = new Float32Array(data.length);
  for (let k = 0; k < bins; k++) for (let f = 0; f < frames; f++) out[f * bins + k] = data[k * frames + f]!;
  return out;
}
