// The engine operation 'audio.analyze': any audio file → mono 16 kHz (the transcription decoder) → tempo,
// metre and key (analyze.ts). Long files are analysed over their first ten minutes, which says so.
import type { RunOptions } from '../engine/types';
import { decodeForAsr } from '../asr/audio-in';
import type { Transcoder } from './transcoder';
import { analyzeMusic, type Analysis } from './analyze';
import { engineTranscoder } from './encode-op';

export interface AudioAnalyzeArgs {
  audio: Uint8Array;
  mime?: string;
  duration_hint?: number;
  rate_hint?: number;
}

export interface AudioAnalyzeResult extends Analysis {
  /** Seconds of the file that were analysed (at most ANALYSE_SECONDS). */
  analysed_seconds: number;
}

export const ANALYSE_SECONDS = 600;
const RATE = 16000;

export async function runAudioAnalyze(
  args: AudioAnalyzeArgs,
  opts: RunOptions = {},
  transcoder: () => Transcoder = engineTranscoder,
): Promise<AudioAnalyzeResult> {
  const audio = await decodeForAsr(args.audio, transcoder, {
    signal: opts.signal,
    onProgress: opts.onProgress,
    durationHint: args.duration_hint,
    rateHint: args.rate_hint,
  });
  const samples = audio.samples.subarray(0, ANALYSE_SECONDS * RATE);
  opts.onProgress?.({ stage: 'analyse', done: 0, total: 1, message: 'Finding tempo and key' });
  const a = analyzeMusic(samples, RATE);
  return {
    ...a,
    duration: Math.round((audio.samples.length / RATE) * 1000) / 1000,
    analysed_seconds: Math.round((samples.length / RATE) * 1000) / 1000,
  };
}
