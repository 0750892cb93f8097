// Estimated signal-to-noise ratio of speech, without a clean reference.
//
// Method: speech regions come from a voice-activity detector (Silero VAD when installed, else the energy
// detector, both in src/lib/vad/vad.ts) on 16 kHz audio. The noise power N is the median power of the
// 32 ms frames outside speech (the median, not the mean: speech the detector missed, or the tail of a word
// in a pause, would otherwise be taken for noise and sink the estimate of clean speech below 0 dB); the
// speech power S the mean power of the frames inside it, which hold speech plus noise, so
// SNR = 10·log10((S − N) / N). Before/after figures of one enhancement use the same
// regions (found on the input), so they compare like with like. Without any non-speech frame the
// quietest tenth of the frames stands in for the noise.
import type { SpeechRegion } from '../vad/vad';

const FRAME = 0.032;

export interface SnrEstimate {
  /** dB; null when there is no speech, or no noise to measure (digital silence outside the speech). */
  snr_db: number | null;
  /** Mean power in dBFS of the frames with speech, and of those without. */
  speech_db: number | null;
  noise_db: number | null;
}

const db = (p: number) => 10 * Math.log10(p + 1e-20);

export function estimateSnr(x: Float32Array, rate: number, regions: readonly SpeechRegion[]): SnrEstimate {
  const len = Math.max(1, Math.round(FRAME * rate));
  const frames = Math.floor(x.length / len);
  const speech: number[] = [];
  const noise: number[] = [];
  let r = 0;
  for (let f = 0; f < frames; f++) {
    let p = 0;
    for (let i = f * len; i < (f + 1) * len; i++) p += x[i]! * x[i]!;
    p /= len;
    const mid = (f + 0.5) * FRAME;
    while (r < regions.length && regions[r]!.end < mid) r++;
    const inSpeech = r < regions.length && regions[r]!.start <= mid;
    (inSpeech ? speech : noise).push(p);
  }
  if (!speech.length)
    return { snr_db: null, speech_db: null, noise_db: noise.length ? db(mean(noise)) : null };
  let n: number;
  if (noise.length) n = median(noise);
  else {
    const sorted = [...speech].sort((a, b) => a - b);
    n = mean(sorted.slice(0, Math.max(1, Math.floor(sorted.length / 10))));
  }
  const s = mean(speech);
  const round = (v: number) => Math.round(v * 100) / 100;
  return {
    snr_db: n > 1e-14 ? round(db(Math.max(s - n, 1e-20) / n)) : null,
    speech_db: round(db(s)),
    noise_db: n > 0 ? round(db(n)) : null,
  };
}

function median(a: number[]): number {
  const s = [...a].sort((x, y) => x - y);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

function mean(a: number[]): number {
  let s = 0;
  for (const v of a) s += v;
  return s / a.length;
}
