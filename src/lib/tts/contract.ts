// What the tts engine says to the rest of the studio: the operations' arguments and results, the 'chunk'
// progress events and their guard, and the limits callers check against. No runtime imports of Kokoro or
// espeak-ng, so the page and the Service Worker read it without bundling them.
import type { Progress } from '../core/run';
import type { LexiconEntry } from '../text/lexicon';

export const MIN_SPEED = 0.5;
export const MAX_SPEED = 2;
export const MAX_PAUSE_MS = 5000;
export const MAX_TEXT_CHARS = 100_000;

export interface SynthesizeParams {
  text: string;
  /** A preset id ("af_heart"), a mix formula ("af_heart*0.6 + bf_emma*0.4") or a style table [510·256]. */
  voice: string | Float32Array;
  /** Default: the voice's language (the heaviest voice of a mix); en-us for a bare style table. */
  language?: string;
  /** 0.5–2.0, default 1. */
  speed?: number;
  /** −20…+20 dB, default 0; peaks are limited, never clipped. */
  volume_db?: number;
  /** Pause after a sentence, 0–5000 ms (default 250); paragraphs get 2.5×. */
  pause_ms?: number;
  /** Accepted for compatibility and ignored: Kokoro has no sampling temperature. */
  temperature?: number;
  lexicon?: readonly LexiconEntry[];
  /** Whose voice-scoped lexicon entries apply (default: the preset id, when `voice` is one). */
  voice_id?: string;
}

export interface SynthChunk {
  /** Run number, from 0. */
  index: number;
  total: number;
  /** This run's audio, with the pause before it; the runs joined are the final samples. */
  samples: Float32Array;
  sampleRate: number;
  /** The sentence (or part of one) this run speaks. */
  text: string;
  /** The model's output was made ahead (tts.ahead), not by this generation. */
  ahead?: boolean;
}

export interface SynthesizeResult {
  samples: Float32Array;
  sampleRate: number;
  /** Each sentence's span in the audio, in seconds. */
  chunks: { text: string; start: number; end: number }[];
  /** Phoneme characters with no Kokoro token (and kanji espeak-ng cannot read), left out. */
  dropped_chars: number;
}

export type TtsGenerateArgs = SynthesizeParams;

export type TtsGenerateResult = SynthesizeResult;

/** `Progress.data` of the 'chunk' events of tts.generate. */
export interface TtsChunkData {
  index: number;
  total: number;
  samples: Float32Array;
  sampleRate: number;
  text: string;
  /** The model's output was made ahead (tts.ahead), not by this generation. */
  ahead?: boolean;
}

export interface TtsChunkProgress extends Progress {
  stage: 'chunk';
  data: TtsChunkData;
}

export const isTtsChunk = (p: Progress): p is TtsChunkProgress =>
  p.stage === 'chunk' && typeof p.data === 'object' && p.data !== null && 'samples' in p.data;

export interface TtsPrepareArgs {
  /** The voice whose style table warms the session (default af_heart). */
  voice?: string;
}

export interface TtsPrepareResult {
  elapsed_ms: number;
}

/**
 * tts.ahead: the arguments tts.generate will get, and which run of the text's first sentence to speak now
 * (from 0), kept in the engine for that generation.
 */
export interface TtsAheadArgs extends SynthesizeParams {
  run?: number;
}

export interface TtsAheadResult {
  /** Runs the first sentence is spoken in: the caller asks for the next one while it is worth it. */
  runs: number;
  /** The model ran (false: that run was made ahead already, or there is no such run). */
  made: boolean;
}
