// Long speech of known text for the ASR benchmark, eval and browser tests: the cached Kokoro corpus
// sentences (tests/unit/asr-corpus.ts, cached by kokoroSpeech) put together in several seeded orders with
// pauses of varying length, so a file of minutes needs no new synthesis and its transcript is known.
import { ENGLISH } from '../../tests/unit/asr-corpus';
import { concat, kokoroSpeech, silence } from '../../tests/unit/asr-helpers';
import { mulberry32 } from '../../src/lib/core/random';

export interface LongSpeech {
  /** 24 kHz mono. */
  samples: Float32Array;
  sampleRate: number;
  /** The sentences in the order spoken, joined by spaces (the reference transcript). */
  text: string;
  /** Where each sentence sits in the file (seconds). */
  sentences: { start: number; end: number; text: string; voice: string }[];
  seconds: number;
}

/**
 * `orders` passes over the corpus, each in its own shuffled order, with pauses drawn from
 * [minPause, maxPause] s between sentences (0.5 s of silence at both ends).
 */
export async function longSpeech(
  orders: number,
  opts: { seed?: number; minPause?: number; maxPause?: number } = {},
): Promise<LongSpeech> {
  // Seeded: the same file on every run and on both sides of a benchmark.
  const rnd = mulberry32(opts.seed ?? 5);
  const [lo, hi] = [opts.minPause ?? 0.5, opts.maxPause ?? 1.6];
  const rate = 24000;
  const parts: Float32Array[] = [silence(0.5, rate)];
  let at = 0.5;
  const sentences: LongSpeech['sentences'] = [];
  for (let o = 0; o < orders; o++) {
    const order = ENGLISH.map((s, i) => ({ s, k: o === 0 ? i : rnd() })).sort((a, b) => a.k - b.k);
    for (const { s } of order) {
      const a = await kokoroSpeech(s.text, s.voice);
      if (a.sampleRate !== rate) throw new Error(`Kokoro speech at ${a.sampleRate} Hz, expected ${rate}`);
      sentences.push({ start: at, end: at + a.samples.length / rate, text: s.text, voice: s.voice });
      at += a.samples.length / rate;
      const pause = lo + (hi - lo) * rnd();
      parts.push(a.samples, silence(pause, rate));
      at += Math.round(pause * rate) / rate;
    }
  }
  parts.push(silence(0.5, rate));
  const samples = concat(parts);
  return {
    samples,
    sampleRate: rate,
    text: sentences.map((s) => s.text).join(' '),
    sentences,
    seconds: samples.length / rate,
  };
}

/**
 * Word error rates the transcription must reach on clean read speech (eval:asr and the browser test): the
 * Whisper paper's LibriSpeech test-clean figures for each size (../shared/docs/models.md), which the int8
 * exports on clean synthetic speech should not do worse than.
 */
export const WER_GOAL: Record<string, number> = { 'whisper-tiny-q8': 0.076, 'whisper-base-q8': 0.05 };
