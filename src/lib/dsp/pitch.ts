// How a voice sounds, measured: pitch (F0) by YIN (de Cheveigné & Kawahara 2002), how much of the audio is
// speech, a syllable rate from the loudness envelope, loudness and spectral centroid (brightness).
// DOM-free maths on mono Float32Array samples; used by the voice-trait script and the voice tests.
import { fft } from './fft';

export interface PitchOptions {
  /** Lowest and highest F0 searched, Hz (default 60–500: the range of speaking voices). */
  fmin?: number;
  fmax?: number;
  /** Frame hop in ms (default 10). */
  hopMs?: number;
  /** YIN's absolute threshold on the normalised difference (default 0.15); below it a frame is voiced. */
  threshold?: number;
  /** Frames quieter than the loudest by more than this many dB are not analysed (default 35). */
  rangeDb?: number;
}

export interface PitchTrack {
  /** Seconds between frames. */
  hop: number;
  /** F0 per frame in Hz; 0 where the frame is unvoiced or silent. */
  f0: Float32Array;
  /** 1 − YIN's normalised difference at the chosen period (1 = perfectly periodic); 0 when unvoiced. */
  periodicity: Float32Array;
  /** Frames loud enough to analyse (the rest are silence). */
  analysed: number;
}

export interface PitchStats {
  /** Median F0 of the voiced frames, Hz; null when no frame is voiced. */
  median_hz: number | null;
  /** Spread of F0: the interquartile range in semitones (intonation); null when unvoiced. */
  spread_st: number | null;
  /** Share of the analysed (non-silent) frames that are voiced. */
  voiced_fraction: number;
  voiced_frames: number;
}

/** Below this RMS (about −70 dBFS) a frame is silence whatever the loudest frame is. */
const ABS_SILENCE = 3e-4;

const dbOf = (rms: number) => 20 * Math.log10(Math.max(rms, 1e-12));

/** Lowpass by a moving average and keep every `factor`-th sample (YIN needs no more than ~4× fmax). */
function decimate(x: Float32Array, factor: number): Float32Array {
  if (factor <= 1) return x;
  const out = new Float32Array(Math.floor(x.length / factor));
  for (let i = 0; i < out.length; i++) {
    let s = 0;
    for (let k = 0; k < factor; k++) s += x[i * factor + k]!;
    out[i] = s / factor;
  }
  return out;
}

function frameRms(x: Float32Array, start: number, len: number): number {
  let s = 0;
  const end = Math.min(x.length, start + len);
  for (let i = start; i < end; i++) s += x[i]! * x[i]!;
  return Math.sqrt(s / Math.max(1, end - start));
}

/** F0 per frame by YIN: difference function, cumulative-mean normalisation, absolute threshold, parabola. */
export function trackPitch(samples: Float32Array, sampleRate: number, opts: PitchOptions = {}): PitchTrack {
  const fmin = opts.fmin ?? 60;
  const fmax = opts.fmax ?? 500;
  const threshold = opts.threshold ?? 0.15;
  const rangeDb = opts.rangeDb ?? 35;
  const factor = Math.max(1, Math.floor(sampleRate / (8 * fmax)));
  const x = decimate(samples, factor);
  const sr = sampleRate / factor;
  const hop = Math.max(1, Math.round(((opts.hopMs ?? 10) * sr) / 1000));
  const tauMin = Math.max(2, Math.floor(sr / fmax));
  const tauMax = Math.ceil(sr / fmin);
  const win = tauMax; // integrate over one longest period
  const frames = x.length >= win + tauMax + 1 ? Math.floor((x.length - win - tauMax - 1) / hop) + 1 : 0;
  const f0 = new Float32Array(frames);
  const periodicity = new Float32Array(frames);
  const rms = new Float64Array(frames);
  for (let f = 0; f < frames; f++) rms[f] = frameRms(x, f * hop, win + tauMax);
  const loudest = rms.reduce((m, v) => Math.max(m, v), 0);
  const floor = Math.max(ABS_SILENCE, loudest * 10 ** (-rangeDb / 20));
  const d = new Float64Array(tauMax + 2);
  let analysed = 0;
  for (let f = 0; f < frames; f++) {
    if (rms[f]! < floor) continue;
    analysed++;
    const s = f * hop;
    for (let tau = 1; tau <= tauMax + 1; tau++) {
      let acc = 0;
      for (let j = 0; j < win; j++) {
        const diff = x[s + j]! - x[s + j + tau]!;
        acc += diff * diff;
      }
      d[tau] = acc;
    }
    // cumulative mean normalised difference, in place
    let running = 0;
    for (let tau = 1; tau <= tauMax + 1; tau++) {
      running += d[tau]!;
      d[tau] = running > 0 ? (d[tau]! * tau) / running : 1;
    }
    let best = -1;
    for (let tau = tauMin; tau <= tauMax; tau++) {
      if (d[tau]! < threshold) {
        while (tau + 1 <= tauMax && d[tau + 1]! < d[tau]!) tau++;
        best = tau;
        break;
      }
    }
    if (best < 0) continue;
    // parabolic interpolation of the minimum between its neighbours
    const a = d[best - 1]!;
    const b = d[best]!;
    const c = d[best + 1]!;
    const den = a - 2 * b + c;
    const shift = den > 0 ? Math.max(-0.5, Math.min(0.5, (0.5 * (a - c)) / den)) : 0;
    f0[f] = sr / (best + shift);
    periodicity[f] = 1 - b;
  }
  return { hop: hop / sr, f0, periodicity, analysed };
}

function quantile(sorted: readonly number[], q: number): number {
  if (!sorted.length) return NaN;
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (pos - lo);
}

export function pitchStats(track: PitchTrack): PitchStats {
  const voiced = [...track.f0].filter((v) => v > 0).sort((a, b) => a - b);
  const total = track.analysed;
  if (!voiced.length) return { median_hz: null, spread_st: null, voiced_fraction: 0, voiced_frames: 0 };
  return {
    median_hz: quantile(voiced, 0.5),
    spread_st: 12 * Math.log2(quantile(voiced, 0.75) / quantile(voiced, 0.25)),
    voiced_fraction: total ? voiced.length / total : 0,
    voiced_frames: voiced.length,
  };
}

/** Median F0 and its spread for a whole recording. */
export const estimatePitch = (samples: Float32Array, sampleRate: number, opts: PitchOptions = {}) =>
  pitchStats(trackPitch(samples, sampleRate, opts));

export interface Envelope {
  /** Seconds between values. */
  hop: number;
  /** RMS level per frame, dBFS. */
  db: Float32Array;
  /** Frames that are speech rather than silence or pause. */
  active: Uint8Array;
}

/** Loudness per 10 ms frame (25 ms windows); active = within `rangeDb` of the loudest and above −70 dBFS. */
export function loudnessEnvelope(
  samples: Float32Array,
  sampleRate: number,
  opts: { hopMs?: number; windowMs?: number; rangeDb?: number } = {},
): Envelope {
  const hop = Math.max(1, Math.round(((opts.hopMs ?? 10) * sampleRate) / 1000));
  const win = Math.max(hop, Math.round(((opts.windowMs ?? 25) * sampleRate) / 1000));
  const n = samples.length >= win ? Math.floor((samples.length - win) / hop) + 1 : 0;
  const db = new Float32Array(n);
  for (let f = 0; f < n; f++) db[f] = dbOf(frameRms(samples, f * hop, win));
  const top = db.reduce((m, v) => Math.max(m, v), -Infinity);
  const gate = Math.max(dbOf(ABS_SILENCE), top - (opts.rangeDb ?? 35));
  const active = new Uint8Array(n);
  for (let f = 0; f < n; f++) active[f] = db[f]! >= gate ? 1 : 0;
  return { hop: hop / sampleRate, db, active };
}

/**
 * Syllable nuclei per second of active speech: peaks of the smoothed loudness envelope that rise at least
 * `dipDb` above the dips on both sides (after de Jong & Wempe 2009, without the voicing check).
 */
export function syllableRate(env: Envelope, dipDb = 3): { syllables: number; per_second: number } {
  // smooth over ±2 frames (50 ms) so that one vowel gives one peak
  const n = env.db.length;
  const s = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    let acc = 0;
    let k = 0;
    for (let j = Math.max(0, i - 2); j <= Math.min(n - 1, i + 2); j++, k++) acc += env.db[j]!;
    s[i] = acc / k;
  }
  let count = 0;
  let dipBefore = Infinity;
  let candidate = -Infinity;
  for (let i = 0; i < n; i++) {
    const v = env.active[i] ? s[i]! : -Infinity;
    if (v > candidate) candidate = v;
    // a drop of dipDb below the running peak closes it, if it also rose dipDb above the dip before it
    if (candidate - v >= dipDb) {
      if (candidate - dipBefore >= dipDb && Number.isFinite(candidate)) count++;
      dipBefore = v;
      candidate = v;
    } else if (v < dipBefore) dipBefore = v;
  }
  if (candidate - dipBefore >= dipDb && Number.isFinite(candidate)) count++;
  const active = activeSeconds(env);
  return { syllables: count, per_second: active > 0 ? count / active : 0 };
}

export const activeSeconds = (env: Envelope) => env.active.reduce((n, a) => n + a, 0) * env.hop;

/**
 * Spectral centroid in Hz (brightness): each 1024-sample Hann frame's magnitude-weighted mean frequency,
 * averaged over the frames weighted by their energy, so silence and pauses do not count.
 */
export function spectralCentroid(samples: Float32Array, sampleRate: number, size = 1024): number {
  const hann = Float64Array.from({ length: size }, (_, i) => 0.5 - 0.5 * Math.cos((2 * Math.PI * i) / size));
  const re = new Float64Array(size);
  const im = new Float64Array(size);
  let num = 0;
  let den = 0;
  for (let start = 0; start + size <= samples.length; start += size / 2) {
    let energy = 0;
    for (let i = 0; i < size; i++) {
      const v = samples[start + i]!;
      energy += v * v;
      re[i] = v * hann[i]!;
      im[i] = 0;
    }
    if (energy / size < ABS_SILENCE * ABS_SILENCE) continue;
    fft(re, im);
    let m = 0;
    let fm = 0;
    for (let k = 1; k < size / 2; k++) {
      const mag = Math.hypot(re[k]!, im[k]!);
      m += mag;
      fm += mag * ((k * sampleRate) / size);
    }
    if (m <= 0) continue;
    num += energy * (fm / m);
    den += energy;
  }
  return den > 0 ? num / den : 0;
}

export interface SpeechMeasures {
  duration_s: number;
  /** Seconds within 35 dB of the loudest frame (speech, without pauses and trimmed silence). */
  active_s: number;
  f0_median_hz: number | null;
  f0_spread_st: number | null;
  voiced_fraction: number;
  syllables_per_s: number;
  /** `units` (e.g. phoneme tokens) per active second, when `units` is given. */
  units_per_s: number | null;
  /** Mean level of the active frames, dBFS. */
  loudness_db: number;
  centroid_hz: number;
}

/** Everything above for one recording. */
export function measureSpeech(
  samples: Float32Array,
  sampleRate: number,
  opts: { units?: number; pitch?: PitchOptions } = {},
): SpeechMeasures {
  const env = loudnessEnvelope(samples, sampleRate);
  const active = activeSeconds(env);
  const pitch = pitchStats(trackPitch(samples, sampleRate, opts.pitch));
  let sum = 0;
  let n = 0;
  env.db.forEach((v, i) => {
    if (env.active[i]) {
      sum += v;
      n++;
    }
  });
  return {
    duration_s: samples.length / sampleRate,
    active_s: active,
    f0_median_hz: pitch.median_hz,
    f0_spread_st: pitch.spread_st,
    voiced_fraction: pitch.voiced_fraction,
    syllables_per_s: syllableRate(env).per_second,
    units_per_s: opts.units !== undefined && active > 0 ? opts.units / active : null,
    loudness_db: n ? sum / n : -Infinity,
    centroid_hz: spectralCentroid(samples, sampleRate),
  };
}
