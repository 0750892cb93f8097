// Page-side bridge to the audio formats worker (src/workers/ffmpeg.worker.ts): runs one job at a time on it
// (its WorkerHost starts it on first use and ends it on a crash), passes progress callbacks through comlink,
// rebuilds named errors, and cancels by terminating the worker (ffmpeg runs each command synchronously, so it
// cannot hear a message mid-command). The next job starts a fresh worker.
import { proxy, type Remote } from 'comlink';
import type { CorePreference, FFmpegWorkerApi } from '../workers/ffmpeg.worker';
import type { ConvertOptions, DecodedAudio, EncodedAudio } from '../lib/codec/transcoder';
import type { DecodedInput } from '../lib/codec/decode';
import {
  FFmpegCrashedError,
  reviveFormatError,
  type DecodeOptions,
  type EncodeOptions,
  type ProbeResult,
} from '../lib/codec/formats';
import { SerialQueues } from '../lib/engine/queue';
import { CancelledError, type Progress, type RunOptions } from '../lib/core/run';
import { WorkerHost } from './worker-host';

const stopped = () => new CancelledError('The audio worker was stopped.');

export class FormatsBridge {
  private host = new WorkerHost<FFmpegWorkerApi>({
    start: () =>
      new Worker(new URL('../workers/ffmpeg.worker.ts', import.meta.url), {
        type: 'module',
        name: 'timbre-ffmpeg',
      }),
    crashed: (why) =>
      new FFmpegCrashedError(`The audio worker stopped unexpectedly (${why}); run the job again.`),
    revive: (e) => reviveFormatError(e as Error),
    abort: { kind: 'terminate', stopped },
    onStart: (remote) => {
      if (this.core !== 'auto') void remote.useCore(this.core);
    },
  });
  private queue = new SerialQueues();

  constructor(private core: CorePreference = 'auto') {}

  /** Workers started so far (each cancel or crash costs one). */
  get starts(): number {
    return this.host.starts;
  }

  private run<T>(fn: (remote: Remote<FFmpegWorkerApi>) => Promise<T>, opts: RunOptions = {}): Promise<T> {
    return this.queue.run('ffmpeg', () => this.host.call(fn, { signal: opts.signal }), opts.signal);
  }

  private static progress(fn?: (p: Progress) => void) {
    // The callback's return value would be sent back over comlink: never return one.
    return fn ? proxy((p: Progress) => void fn(p)) : undefined;
  }

  /** Which core the worker loads: 'auto' (multi-threaded when cross-origin isolated), 'mt' or 'st'. */
  useCore(core: CorePreference): void {
    this.core = core;
    this.host.stop(stopped());
  }

  /** The core in use (null before the first job), and why a better one was passed over. */
  info() {
    return this.run((a) => a.info());
  }

  /** Encodes float samples (one Float32Array, or one a channel) at `sampleRate` Hz. */
  encode(
    samples: Float32Array | Float32Array[],
    sampleRate: number,
    options: EncodeOptions,
    opts: RunOptions = {},
  ): Promise<EncodedAudio> {
    return this.run(
      (a) => a.encode(samples, sampleRate, options, FormatsBridge.progress(opts.onProgress)),
      opts,
    );
  }

  /** Converts an audio file (any format ffmpeg reads, or raw PCM described by `options.input`). */
  convert(bytes: Uint8Array, options: ConvertOptions, opts: RunOptions = {}): Promise<EncodedAudio> {
    return this.run((a) => a.convert(bytes, options, FormatsBridge.progress(opts.onProgress)), opts);
  }

  /** Decodes to float samples, mixed to mono unless `mono: false`, at `sampleRate` (default: the file's). */
  decode(bytes: Uint8Array, options: DecodeOptions = {}, opts: RunOptions = {}): Promise<DecodedAudio> {
    return this.run((a) => a.decode(bytes, options, FormatsBridge.progress(opts.onProgress)), opts);
  }

  /**
   * The page's one decoder: the studio's input path (src/lib/codec/decode.ts) in the worker, so every view
   * reads a file exactly as the engine does. Mono at `rate` (default the file's own, at most `maxRate`).
   */
  decodeInput(
    bytes: Uint8Array,
    o: { rate?: number; maxRate?: number } = {},
    opts: RunOptions = {},
  ): Promise<DecodedInput> {
    return this.run((a) => a.decodeInput(bytes, o, FormatsBridge.progress(opts.onProgress)), opts);
  }

  probe(bytes: Uint8Array, opts: RunOptions = {}): Promise<ProbeResult> {
    return this.run((a) => a.probe(bytes), opts);
  }

  /** Stops the worker (and any job in it). */
  dispose(): void {
    this.host.stop(stopped());
  }
}
