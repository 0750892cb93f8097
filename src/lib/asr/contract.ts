// What the asr engine says to the rest of the studio: the operations' arguments and results, the progress
// events that carry text and their guards, and the model ids. No runtime imports of Whisper or the VAD, so
// the page and the Service Worker read it without bundling them.
import type { Progress } from '../core/run';
import type { Segment } from '../documents/transcript';
import type { VadMethod } from '../vad/vad';
import type { DiarizationResult } from './diarize';
import type { TranscribeResult } from './transcribe';

/** `Progress.data` of the 'segment' events. */
export interface AsrSegmentData {
  segments: Segment[];
  language: string;
}

export const isAsrSegment = (p: Progress): p is Progress & { data: AsrSegmentData } =>
  p.stage === 'segment' && typeof p.data === 'object' && p.data !== null && 'segments' in p.data;

/** `Progress.data` of the 'partial' events: the text of the window decoding now, provisional. */
export interface AsrPartialData {
  start: number;
  text: string;
}

export const isAsrPartial = (p: Progress): p is Progress & { data: AsrPartialData } =>
  p.stage === 'partial' && typeof p.data === 'object' && p.data !== null && 'text' in p.data;

export const WHISPER_TINY = 'whisper-tiny-q8';

export const WHISPER_BASE = 'whisper-base-q8';

/** What "default" (and whisper-1, gpt-4o-transcribe …) means: the first of these that is installed. */
export const DEFAULT_ORDER = [WHISPER_TINY, WHISPER_BASE];

export interface AsrTranscribeArgs {
  /** The file's bytes (any format ffmpeg reads; WAV read directly). */
  audio: Uint8Array;
  mime?: string;
  /** 'default', 'tiny', 'base', or an installed model id. */
  model?: string;
  /** ISO 639-1; omit to detect. */
  language?: string;
  task?: 'transcribe' | 'translate';
  prompt?: string;
  temperature?: number;
  /** Word timestamps (needs a model whose decoder gives cross-attention). */
  words?: boolean;
  /**
   * Segment timing (default true). False when only the text is wanted: Whisper then decodes without
   * timestamp tokens where it can, as transformers.js and openai/whisper do when no timing is asked for
   * (on a weak model the two modes can word a sentence differently); segments are one a window.
   */
  timestamps?: boolean;
  /** Label each segment (and word) with its speaker; the result says how in `diarization`. */
  diarize?: boolean;
  /** Diarization hints: exactly this many speakers, or at most this many. */
  speakers?: number;
  max_speakers?: number;
}

export interface AsrTranscribeResult extends TranscribeResult {
  model: string;
  /** How speech was found: Silero, the energy detector (Silero not installed), or both joined (vad.ts). */
  vad: VadMethod;
  task: 'transcribe' | 'translate';
  elapsed_ms: number;
  /** Processing seconds per second of audio. */
  rtf: number;
  /** With `diarize`: the speaker turns and how the labels were obtained. */
  diarization?: DiarizationResult;
  /**
   * What the answer may get wrong or leave out, each a sentence naming it and why (an uncertain language,
   * audio or speech without text); empty when there is nothing to say.
   */
  warnings: string[];
}

export interface AsrPrepareArgs {
  /** 'default', 'tiny', 'base', or an installed model id. */
  model?: string;
}

export interface AsrPrepareResult {
  model: string;
  elapsed_ms: number;
}
