// A reference recording → what the tone extractor sees, and the quality checks: speech kept by VAD (Silero
// at 16 kHz, or the energy detector), cut into ~10 s pieces (one embedding each, averaged), and measures of
// clipping, noise (estimated SNR), how much of the input is not speech, music (a steady beat or held notes)
// and a second speaker (acoustic diarization of the speech).
import { acousticEmbedder, diarize } from '../asr/diarize';
import { speechWithin, type SpeechRegion } from '../vad/vad';
import { estimateTempo, onsetEnvelope, stft } from '../dsp/analyze';
import { concatAudio } from '../dsp/join';
import { frameLevels } from '../dsp/levels';
import {
  MIN_SPEECH_SECONDS,
  type CloneChecks,
  type CloneWarning,
  type MusicMeasure,
  type SpeakerMeasure,
} from './contract';

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
  return concatAudio(parts);
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

/** Frame levels (dB) over 20 ms frames. */
const frameDb = (x: Float32Array, rate: number) => frameLevels(x, Math.max(1, Math.round(0.02 * rate)));

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

/**
 * Music limits. Measured on Kokoro speech (beat 0.05–0.12, held tones 0–2 % of frames) against the same
 * speech over a synthesised chord progression and drum pattern at 30–100 % of its level (beat 0.37–0.61)
 * and over the chords alone (beat 0.09, held tones 18 %): a drum beat shows as periodicity, sustained
 * chords as held tones. Steady noise shows as neither (beat 0.05, no held tones).
 */
export const MUSIC_LIMITS = { beatStrength: 0.25, sustainedTones: 0.1, holdSeconds: 0.3 } as const;
/** A second speaker counts when they have at least this share of the speech and these seconds. */
export const SPEAKER_LIMITS = { share: 0.15, seconds: 2 } as const;

/**
 * Share of STFT frames (64 ms window, 16 ms hop) holding a prominent tonal peak (80 Hz–2 kHz, ≥ 20 dB
 * over the band's median) on the same or a neighbouring bin for `holdSeconds`. A sung or played note holds
 * its pitch; speech's harmonics glide with the intonation, so they rarely stay on one bin that long.
 */
export function sustainedToneFraction(x: Float32Array, rate: number): number {
  const n = rate > 24000 ? 2048 : 1024;
  const hop = n / 4;
  const lo = Math.max(1, Math.ceil((80 / rate) * n));
  const hi = Math.min(n / 2 - 1, Math.floor((2000 / rate) * n));
  const need = Math.round((MUSIC_LIMITS.holdSeconds * rate) / hop);
  // Peaks 40 dB under the loud frames' are left out: a vocoder's faint hum in a pause is no note.
  const tops: number[] = [];
  stft(x, n, hop, (mag) => {
    let m = 0;
    for (let k = lo; k <= hi; k++) m = Math.max(m, mag[k]!);
    tops.push(m);
  });
  const loud = [...tops].sort((a, b) => a - b)[Math.floor(0.95 * (tops.length - 1))] ?? 0;
  // Per bin: how many frames a peak has been there, and the bin it started on (a glide may not wander
  // more than a bin from it, or an intonation contour would count as a held note).
  let run = new Int32Array(n / 2 + 1);
  let next = new Int32Array(n / 2 + 1);
  let from = new Int32Array(n / 2 + 1);
  let nextFrom = new Int32Array(n / 2 + 1);
  let held = 0;
  const band = new Float64Array(hi - lo + 1);
  stft(x, n, hop, (mag) => {
    band.set(mag.subarray(lo, hi + 1));
    band.sort();
    const floor = Math.max(10 * band[band.length >> 1]!, 0.01 * loud, 1e-6);
    let any = false;
    next.fill(0);
    for (let k = lo; k <= hi; k++) {
      if (!(mag[k]! > mag[k - 1]! && mag[k]! >= mag[k + 1]! && mag[k]! > floor)) continue;
      let best = 0;
      let start = k;
      for (const j of [k, k - 1, k + 1])
        if (run[j]! > best && Math.abs(from[j]! - k) <= 1) {
          best = run[j]!;
          start = from[j]!;
        }
      next[k] = best + 1;
      nextFrom[k] = start;
      if (next[k]! >= need) any = true;
    }
    [run, next] = [next, run];
    [from, nextFrom] = [nextFrom, from];
    if (any) held++;
  });
  return tops.length ? held / tops.length : 0;
}

/** Signs of music in a recording: beat periodicity (the tempo analysis's onset autocorrelation) and held tones. */
export function measureMusic(x: Float32Array, rate: number): MusicMeasure {
  const { env, fps } = onsetEnvelope(x, rate);
  const t = estimateTempo(env, fps);
  return {
    beat_strength: t.confidence,
    bpm: t.bpm,
    sustained_tone_fraction: sustainedToneFraction(x, rate),
  };
}

export const isMusic = (m: MusicMeasure) =>
  m.beat_strength >= MUSIC_LIMITS.beatStrength || m.sustained_tone_fraction >= MUSIC_LIMITS.sustainedTones;

/**
 * The speakers of a recording's speech: diarization with the acoustic embedder (its threshold is
 * calibrated on real voices; the tone-colour one is not yet), speech seconds per speaker from the VAD
 * regions inside each turn. `x` at 16 kHz, `regions` in seconds.
 */
export async function measureSpeakers(
  x: Float32Array,
  regions: readonly SpeechRegion[],
  signal?: AbortSignal,
): Promise<SpeakerMeasure & { seconds: number[] }> {
  if (!regions.length) return { speakers: 0, shares: [], seconds: [] };
  const d = await diarize(x, regions, acousticEmbedder(), { signal });
  const by = new Map<string, number>();
  for (const t of d.turns)
    by.set(t.speaker, (by.get(t.speaker) ?? 0) + speechWithin(regions, t.start, t.end));
  const seconds = [...by.values()].sort((a, b) => b - a);
  const total = seconds.reduce((s, v) => s + v, 0);
  return { speakers: d.speakers, shares: seconds.map((s) => (total > 0 ? s / total : 0)), seconds };
}

/** Speakers with a real share of the speech (the main one included). */
export const realSpeakers = (m: SpeakerMeasure & { seconds?: number[] }) =>
  m.shares.filter(
    (s, i) => s >= SPEAKER_LIMITS.share && (m.seconds?.[i] ?? Infinity) >= SPEAKER_LIMITS.seconds,
  ).length;

const pc = (x: number) => `${Math.round(x * 100)} %`;
const which = (i: number, n: number) => (n > 1 ? `Recording ${i + 1}: ` : '');

function contentWarnings(
  music: readonly MusicMeasure[],
  speakers: readonly SpeakerMeasure[],
): CloneWarning[] {
  const out: CloneWarning[] = [];
  music.forEach((m, i) => {
    if (!isMusic(m)) return;
    const signs = [
      m.beat_strength >= MUSIC_LIMITS.beatStrength ? `a steady beat near ${Math.round(m.bpm)} BPM` : '',
      m.sustained_tone_fraction >= MUSIC_LIMITS.sustainedTones
        ? `held musical notes in ${pc(m.sustained_tone_fraction)} of it`
        : '',
    ].filter(Boolean);
    out.push({
      code: 'music',
      message: `${which(i, music.length)}The recording seems to have music in it (${signs.join(' and ')}): music under the voice colours the clone. Use a recording of the voice alone.`,
    });
  });
  speakers.forEach((s, i) => {
    const n = realSpeakers(s);
    if (n < 2) return;
    out.push({
      code: 'multiple_speakers',
      message: `${which(i, speakers.length)}More than one person seems to speak (${n} voices, with ${s.shares
        .slice(0, n)
        .map(pc)
        .join(', ')} of the speech): the clone would blend them. Choose a part where only one person speaks.`,
    });
  });
  return out;
}

/** The checks of one or more recordings (`inputs`: whole recording, its speech, both at `rate`). */
export function qualityChecks(
  inputs: readonly { samples: Float32Array; speech: Float32Array }[],
  rate: number,
  nPieces: number,
  content?: { music: MusicMeasure[]; speakers: SpeakerMeasure[] },
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
  if (content) warnings.push(...contentWarnings(content.music, content.speakers));
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
    ...(content
      ? {
          music: content.music,
          speakers: content.speakers.map((s) => ({ speakers: s.speakers, shares: s.shares })),
        }
      : {}),
    warnings,
  };
}

export function requireSpeech(speechSeconds: number): void {
  if (speechSeconds < MIN_SPEECH_SECONDS)
    throw new TooLittleSpeechError(
      `The recording has ${speechSeconds.toFixed(1)} s of speech; at least ${MIN_SPEECH_SECONDS} s are needed to clone a voice (10–60 s is best).`,
    );
}
