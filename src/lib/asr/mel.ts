// Whisper's log-mel features (the recipe of docs/models.md and openai/whisper audio.py): 16 kHz mono, padded
// or cut to 30 s; periodic Hann of 400, hop 160, centred with reflect padding; power spectrum; 80 Slaney
// mel filters 0–8 kHz (Slaney area normalisation); log10(max(x, 1e-10)); clamped to max − 8; (x + 4) / 4.
// The STFT's last frame is dropped, as upstream does, giving exactly 3000 frames for 30 s.
import { MixedFFT } from '../dsp/fft';
import { SPEECH_RATE } from '../dsp/resample';

/** Whisper's input rate. */
export const SAMPLE_RATE = SPEECH_RATE;
export const N_FFT = 400;
export const HOP = 160;
export const N_MELS = 80;
export const WINDOW_SAMPLES = 30 * SAMPLE_RATE;
export const N_FRAMES = WINDOW_SAMPLES / HOP; // 3000

const hzToMel = (f: number) => {
  // Slaney: linear below 1 kHz, logarithmic above.
  const fSp = 200 / 3;
  const minLogHz = 1000;
  const minLogMel = minLogHz / fSp;
  const logStep = Math.log(6.4) / 27;
  return f < minLogHz ? f / fSp : minLogMel + Math.log(f / minLogHz) / logStep;
};
const melToHz = (m: number) => {
  const fSp = 200 / 3;
  const minLogHz = 1000;
  const minLogMel = minLogHz / fSp;
  const logStep = Math.log(6.4) / 27;
  return m < minLogMel ? fSp * m : minLogHz * Math.exp(logStep * (m - minLogMel));
};

/** librosa.filters.mel(sr=16000, n_fft=400, n_mels, fmin=0, fmax=8000, htk=False, norm='slaney'): [mels][bins]. */
export function melFilters(nMels = N_MELS, nFft = N_FFT, sr = SAMPLE_RATE): Float32Array[] {
  const bins = nFft / 2 + 1;
  const fftFreqs = Array.from({ length: bins }, (_, i) => (i * sr) / nFft);
  const lo = hzToMel(0);
  const hi = hzToMel(sr / 2);
  const melPts = Array.from({ length: nMels + 2 }, (_, i) => melToHz(lo + ((hi - lo) * i) / (nMels + 1)));
  const out: Float32Array[] = [];
  for (let m = 0; m < nMels; m++) {
    const f = new Float32Array(bins);
    const [l, c, r] = [melPts[m]!, melPts[m + 1]!, melPts[m + 2]!];
    const enorm = 2 / (r - l);
    for (let b = 0; b < bins; b++) {
      const x = fftFreqs[b]!;
      const up = (x - l) / (c - l);
      const down = (r - x) / (r - c);
      f[b] = Math.max(0, Math.min(up, down)) * enorm;
    }
    out.push(f);
  }
  return out;
}

let cached: {
  fft: MixedFFT;
  window: Float64Array;
  filters: Float32Array[];
  ranges: [number, number][];
} | null = null;

function tables() {
  if (cached) return cached;
  const window = new Float64Array(N_FFT);
  for (let i = 0; i < N_FFT; i++) window[i] = 0.5 - 0.5 * Math.cos((2 * Math.PI * i) / N_FFT);
  const filters = melFilters();
  // Non-zero bin range of each filter, to skip the zeros.
  const ranges = filters.map((f): [number, number] => {
    let a = 0;
    while (a < f.length && f[a] === 0) a++;
    let b = f.length;
    while (b > a && f[b - 1] === 0) b--;
    return [a, b];
  });
  cached = { fft: new MixedFFT(N_FFT), window, filters, ranges };
  return cached;
}

/**
 * Features `[80, 3000]` (row-major, mel-major) of up to 30 s of 16 kHz audio, zero-padded to 30 s.
 */
export function logMel(audio: Float32Array): Float32Array {
  const { fft, window, filters, ranges } = tables();
  const x = new Float32Array(WINDOW_SAMPLES);
  x.set(audio.subarray(0, WINDOW_SAMPLES));
  const pad = N_FFT / 2;
  const len = WINDOW_SAMPLES;
  // Reflect padding: x[-i] = x[i], x[len-1+i] = x[len-1-i].
  const at = (i: number) => (i < 0 ? x[-i]! : i >= len ? x[2 * (len - 1) - i]! : x[i]!);
  const bins = N_FFT / 2 + 1;
  const re = new Float64Array(N_FFT);
  const im = new Float64Array(N_FFT);
  const oRe = new Float64Array(N_FFT);
  const oIm = new Float64Array(N_FFT);
  const power = new Float64Array(bins);
  const out = new Float32Array(N_MELS * N_FRAMES);
  let max = -Infinity;
  for (let t = 0; t < N_FRAMES; t++) {
    const start = t * HOP - pad;
    for (let i = 0; i < N_FFT; i++) {
      re[i] = at(start + i) * window[i]!;
      im[i] = 0;
    }
    fft.transform(re, im, oRe, oIm);
    for (let b = 0; b < bins; b++) power[b] = oRe[b]! * oRe[b]! + oIm[b]! * oIm[b]!;
    for (let m = 0; m < N_MELS; m++) {
      const f = filters[m]!;
      const [a, z] = ranges[m]!;
      let s = 0;
      for (let b = a; b < z; b++) s += f[b]! * power[b]!;
      const v = Math.log10(Math.max(s, 1e-10));
      out[m * N_FRAMES + t] = v;
      if (v > max) max = v;
    }
  }
  const floor = max - 8;
  for (let i = 0; i < out.length; i++) out[i] = (Math.max(out[i]!, floor) + 4) / 4;
  return out;
}
