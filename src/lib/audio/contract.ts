// What the audio tools say to the rest of the studio: their operations' arguments and results. No runtime
// imports of the tools (RNNoise, ffmpeg), so the page and the Service Worker read it without bundling them.
import type { EncodeOptions } from '../codec/formats';
import type { EncodedAudio } from '../codec/transcoder';
import type { Analysis } from '../dsp/analyze';
import type { VadMethod } from '../vad/vad';
import type { SnrEstimate } from './snr';

export interface AudioEnhanceArgs {
  audio: Uint8Array;
  /** Default true. */
  denoise?: boolean;
  /** Default false. */
  clarity?: boolean;
  /** 1–3, default 2 (see denoise.ts). */
  strength?: 1 | 2 | 3;
  /** LUFS; omitted: the level is left as it is. */
  target_lufs?: number;
  /** The output's format (default wav), bitrate, rate, channels. */
  options?: EncodeOptions;
}

export interface AudioEnhanceResult {
  audio: EncodedAudio;
  /** Integrated loudness (LUFS; null for silence). */
  loudness_before: number | null;
  loudness_after: number | null;
  true_peak_after: number | null;
  snr_before: SnrEstimate;
  snr_after: SnrEstimate;
  vad: VadMethod;
  duration: number;
  steps: string[];
}

export interface AudioSilenceArgs {
  audio: Uint8Array;
  mode: 'trim' | 'split';
  /** trim: pauses longer than this (s) are shortened to it. */
  max_pause?: number;
  /** split: pauses of at least this (s) end a piece (default 0.5). */
  min_pause?: number;
}

export interface AudioSilenceResult {
  vad: VadMethod;
  duration: number;
  sample_rate: number;
  /** trim: the trimmed WAV and what was cut. */
  trimmed?: {
    wav: Uint8Array;
    start: number;
    end: number;
    duration: number;
    pauses_shortened: number;
    removed_seconds: number;
  };
  /** split: one WAV a piece. */
  pieces?: { start: number; end: number; wav: Uint8Array }[];
}

export interface AudioAnalyzeArgs {
  audio: Uint8Array;
  mime?: string;
}

export interface AudioAnalyzeResult extends Analysis {
  /** Seconds of the file that were analysed (at most ANALYSE_SECONDS). */
  analysed_seconds: number;
}

export const ANALYSE_SECONDS = 600;

export interface AudioEncodeArgs {
  samples: Float32Array;
  sampleRate: number;
  options: EncodeOptions;
}

export interface AudioConvertArgs {
  /** A file in any format ffmpeg reads. */
  audio: Uint8Array;
  options: EncodeOptions;
}
