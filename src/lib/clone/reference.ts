// A reference recording → what the tone extractor sees, and the quality checks: speech kept by VAD (Silero
// at 16 kHz, or the energy detector), cut into ~10 s pieces (one embedding each, averaged), and measures of
// clipping, noise (estimated SNR) and how much of the input is not speech (music, silence, noise).
import type { SpeechRegion } from '../asr/vad';
import { MIN_SPEECH_SECONDS, type CloneChecks, type CloneWarning } from './types';

/** Too little speech to make a voice from: the API answers 400. */
export class TooLittleSpeechError extends Error {
  override name = 'TooLittleSpeechError';
}

export const PIECE_SECONDS = 10;
/** Thresholds of the warnings (documented in docs and the API reference). */
export const CHECK_LIMITS = { clippedFraction: 0.001, snrDb: 15, nonSpeechFraction: 0.5 } as const;

/** The speech regions' samples, concatenated (regions in seconds). */
export function speechOnly(
  samples: Float32Array,
  rate: number,
  regions: readonly SpeechRegion[],
): Float32Array {
  const parts = regions.map((r) =>
    samples.subarray(
      Math.max(0, Math.floor(r.start * rate)),
      Math.min(samples.length, Math.ceil(r.end * rate)),
    ),
  );
  const out = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** ~10 s pieces; a short tail joins the piece before it (an embedding of a second is unreliable). */
export function pieces(speech: Float32Array, rate: number, seconds = PIECE_SECONDS): Float32Array[] {
  const len = Math.round(seconds * rate);
  const out: Float32Array[] = [];
  for (let a = 0; a < speech.length; a += len) {
    const rest = speech.length - (a + len);
    if (rest > 0 && rest < len / 3) {
      out.push(speech.subarray(a));
      break;
    }
    out.push(speech.subarray(a, Math.min(speech.length, a + len)));
  }
  return out.filter((p) => p.length >= rate / 2);
}

/** Mean of equal-length vectors, weighted (by seconds of speech). */
export function averageEmbeddings(list: readonly Float32Array[], weights?: readonly number[]): Float32Array {
  if (!list.length) throw new TooLittleSpeechError('No speech to take a voice from.');
  const out = new Float32Array(list[0]!.length);
  let wsum = 0;
  list.forEach((e, i) => {
    const w = weights?.[i] ?? 1;
    wsum += w;
    for (let j = 0; j < out.length; j++) out[j]! += w * e[j]!;
  });
  for (let j = 0; j < out.length; j++) out[j]! /= wsum;
  return out;
}

/** Frame RMS (dB) over 20 ms frames. */
function frameDb(x: Float32Array, rate: number): Float32Array {
  const n = Math.max(1, Math.round(0.02 * rate));
  const frames = Math.floor(x.length / n);
  const out = new Float32Array(frames);
  for (let f = 0; f < frames; f++) {
    let s = 0;
    for (let i = f * n; i < (f + 1) * n; i++) s += x[i]! * x[i]!;
    out[f] = 10 * Math.log10(s / n + 1e-12);
  }
  return out;
}

const pct = (sorted: Float32Array, q: number) => sorted[Math.floor(q * (sorted.length - 1))] ?? -120;

/**
 * SNR estimate: loud speech frames (90th percentile of frame energy) over the noise floor (10th percentile
 * of the whole input, pauses included). Noise that never lets up lifts the floor and lowers the figure.
 */
export function estimateSnrDb(samples: Float32Array, rate: number): number {
  const db = frameDb(samples, rate).sort();
  if (!db.length) return 0;
  return Math.max(0, pct(db, 0.9) - pct(db, 0.1));
}

export function clippedFraction(samples: Float32Array): number {
  if (!samples.length) return 0;
  let peak = 0;
  for (const v of samples) peak = Math.max(peak, Math.abs(v));
  // At full scale, or flat-topped just below it (clipped before a gain change).
  const at = peak >= 0.99 ? 0.99 : peak * 0.999;
  let runs = 0;
  for (let i = 1; i < samples.length; i++)
    if (Math.abs(samples[i]!) >= at && Math.abs(samples[i - 1]!) >= at) runs++;
  return peak < 0.5 ? 0 : runs / samples.length;
}

/** The checks of one or more recordings (`inputs`: whole recording, its speech, both at `rate`). */
export function qualityChecks(
  inputs: readonly { samples: Float32Array; speech: Float32Array }[],
  rate: number,
  nPieces: number,
): CloneChecks {
  const total = inputs.reduce((s, i) => s + i.samples.length, 0) / rate;
  const speechSeconds = inputs.reduce((s, i) => s + i.speech.length, 0) / rate;
  const clipped = Math.max(0, ...inputs.map((i) => clippedFraction(i.samples)));
  const snr = Math.min(...inputs.map((i) => estimateSnrDb(i.samples, rate)));
  const nonSpeech = total > 0 ? Math.max(0, 1 - speechSeconds / total) : 1;
  const warnings: CloneWarning[] = [];
  if (clipped > CHECK_LIMITS.clippedFraction)
    warnings.push({
      code: 'clipping',
      message: `The recording clips (${(clipped * 100).toFixed(2)} % of samples at full scale): record with less gain for a cleaner voice.`,
    });
  if (snr < CHECK_LIMITS.snrDb)
    warnings.push({
      code: 'noisy',
      message: `The recording is noisy (estimated SNR ${snr.toFixed(1)} dB): the noise may colour the cloned voice. A quieter room helps.`,
    });
  if (nonSpeech > CHECK_LIMITS.nonSpeechFraction && total > 2 * MIN_SPEECH_SECONDS)
    warnings.push({
      code: 'non_speech',
      message: `${Math.round(nonSpeech * 100)} % of the recording is not speech (silence, music or noise); only the speech was used.`,
    });
  if (speechSeconds < 10)
    warnings.push({
      code: 'short',
      message: `Only ${speechSeconds.toFixed(1)} s of speech: 10–60 s gives a more faithful voice.`,
    });
  return {
    speech_seconds: speechSeconds,
    total_seconds: total,
    clipped_fraction: clipped,
    snr_db: snr,
    non_speech_fraction: nonSpeech,
    pieces: nPieces,
    samples: inputs.length,
    warnings,
  };
}

export function requireSpeech(speechSeconds: number): void {
  if (speechSeconds < MIN_SPEECH_SECONDS)
    throw new TooLittleSpeechError(
      `The recording has ${speechSeconds.toFixed(1)} s of speech; at least ${MIN_SPEECH_SECONDS} s are needed to clone a voice (10–60 s is best).`,
    );
}
