// The engine operation 'audio.analyze': any audio file → mono 16 kHz (the one decoder, decode.ts) → tempo,
// metre and key (analyze.ts). Long files are analysed over their first ten minutes, which says so.
import type { RunOptions } from '../core/run';
import { decodeInput } from '../codec/decode';
import type { Transcoder } from '../codec/transcoder';
import { analyzeMusic } from '../dsp/analyze';
import { ANALYSE_SECONDS, type AudioAnalyzeArgs, type AudioAnalyzeResult } from './contract';

const RATE = 16000;

export async function runAudioAnalyze(
  args: AudioAnalyzeArgs,
  opts: RunOptions = {},
  transcoder: () => Transcoder,
): Promise<AudioAnalyzeResult> {
  const audio = await decodeInput(args.audio, transcoder, {
    rate: RATE,
    signal: opts.signal,
    onProgress: opts.onProgress,
  });
  const samples = audio.samples.subarray(0, ANALYSE_SECONDS * RATE);
  opts.onProgress?.({ stage: 'analyse', done: 0, total: 1, message: 'Finding tempo and key' });
  const a = analyzeMusic(samples, RATE);
  return {
    ...a,
    duration: Math.round(audio.duration * 1000) / 1000,
    analysed_seconds: Math.round((samples.length / RATE) * 1000) / 1000,
  };
}
