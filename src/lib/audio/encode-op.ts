// The engine operation 'audio.encode': compressed formats for API responses (speech as mp3, opus, …),
// on the single-thread ffmpeg core loaded once in the engine worker. The multi-threaded core would
// reserve 1 GiB and many threads for work that takes a fraction of a second.
import type { RunOptions } from '../core/run';
import type { EncodeOptions } from '../codec/formats';
import type { EncodedAudio, Transcoder } from '../codec/transcoder';
import { createTranscoder } from '../codec/core-loader';

export interface AudioEncodeArgs {
  samples: Float32Array;
  sampleRate: number;
  options: EncodeOptions;
}

let engine: ReturnType<typeof createTranscoder> | null = null;

/** The engine worker's single-thread ffmpeg core, loaded on first use and shared by the audio ops. */
export function engineTranscoder(): Transcoder {
  engine ??= createTranscoder(new URL('/', globalThis.location.href).href, 'st', false);
  return engine.transcoder;
}

export async function runAudioEncode(args: AudioEncodeArgs, opts: RunOptions = {}): Promise<EncodedAudio> {
  return engineTranscoder().encode(args.samples, args.sampleRate, args.options, opts);
}

export interface AudioConvertArgs {
  /** A file in any format ffmpeg reads. */
  audio: Uint8Array;
  options: EncodeOptions;
}

/** The engine operation 'audio.convert': one file to another format, rate or channel count. */
export async function runAudioConvert(args: AudioConvertArgs, opts: RunOptions = {}): Promise<EncodedAudio> {
  return engineTranscoder().convert(args.audio, args.options, opts);
}
