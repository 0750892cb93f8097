// The engine operations 'audio.encode' and 'audio.convert': compressed formats for API responses (speech
// as mp3, opus, …), on the single-thread ffmpeg core of the context they run in (engine/context.ts):
// 'audio.encode' in the encoder worker, beside model runs; 'audio.convert' in the engine worker. The
// multi-threaded core would reserve 1 GiB and many threads for work that takes a fraction of a second.
import type { RunOptions } from '../core/run';
import type { EncodedAudio, Transcoder } from '../codec/transcoder';
import type { AudioConvertArgs, AudioEncodeArgs } from './contract';

export async function runAudioEncode(
  args: AudioEncodeArgs,
  opts: RunOptions,
  transcoder: Transcoder,
): Promise<EncodedAudio> {
  return transcoder.encode(args.samples, args.sampleRate, args.options, opts);
}

/** The engine operation 'audio.convert': one file to another format, rate or channel count. */
export async function runAudioConvert(
  args: AudioConvertArgs,
  opts: RunOptions,
  transcoder: Transcoder,
): Promise<EncodedAudio> {
  return transcoder.convert(args.audio, args.options, opts);
}
