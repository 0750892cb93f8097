// Page-side bridge to the audio formats worker (src/workers/ffmpeg.worker.ts): starts it on first use, runs
// one job at a time, passes progress callbacks through comlink, rebuilds named errors, and cancels by
// terminating the worker (ffmpeg runs each command synchronously, so it cannot hear a message mid-command).
// The next job starts a fresh worker.
import { proxy, wrap, type Remote } from 'comlink';
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

interface Live {
  worker: Worker;
  remote: Remote<FFmpegWorkerApi>;
  /** Rejects when the worker ends: crashed, or stopped by a cancel, useCore() or dispose(). */
  ended: Promise<never>;
  end(e: Error): void;
}

export class FormatsBridge {
  private live: Live | null = null;
  private queue = new SerialQueues();
  /** Workers started so far (each cancel or crash costs one). */
  starts = 0;

  constructor(private core: CorePreference = 'auto') {}

  private ensure(): Live {
    if (this.live) return this.live;
    const worker = new Worker(new URL('../workers/ffmpeg.worker.ts', import.meta.url), {
      type: 'module',
      name: 'timbre-ffmpeg',
    });
    let end!: (e: Error) => void;
    const ended = new Promise<never>((_, reject) => (end = reject));
    ended.catch(() => undefined);
    const die = (why: string) => {
      if (this.live?.worker !== worker) return;
      this.stop(new FFmpegCrashedError(`The audio worker stopped unexpectedly (${why}); run the job again.`));
    };
    worker.addEventListener('error', (e) => {
      e.preventDefault();
      die(e.message || 'worker error');
    });
    worker.addEventListener('messageerror', () => die('a message could not be read'));
    const remote = wrap<FFmpegWorkerApi>(worker);
    if (this.core !== 'auto') void remote.useCore(this.core);
    this.live = { worker, remote, ended, end };
    this.starts++;
    return this.live;
  }

  /** Terminates the worker; a job running in it fails with `why`. */
  private stop(why: Error = new CancelledError('The audio worker was stopped.')) {
    const live = this.live;
    this.live = null;
    live?.worker.terminate();
    live?.end(why);
  }

  private run<T>(fn: (remote: Remote<FFmpegWorkerApi>) => Promise<T>, opts: RunOptions = {}): Promise<T> {
    return this.queue.run(
      'ffmpeg',
      async () => {
        const live = this.ensure();
        let onAbort = () => {};
        const aborted = new Promise<never>((_, reject) => {
          onAbort = () => {
            if (this.live === live) this.stop();
            reject(new CancelledError());
          };
        });
        aborted.catch(() => undefined);
        opts.signal?.addEventListener('abort', onAbort, { once: true });
        const work = fn(live.remote);
        work.catch(() => undefined);
        try {
          return await Promise.race([work, aborted, live.ended]);
        } catch (e) {
          if (e instanceof CancelledError || e instanceof FFmpegCrashedError) throw e;
          throw reviveFormatError(e as Error);
        } finally {
          opts.signal?.removeEventListener('abort', onAbort);
        }
      },
      opts.signal,
    );
  }

  private static progress(fn?: (p: Progress) => void) {
    // The callback's return value would be sent back over comlink: never return one.
    return fn ? proxy((p: Progress) => void fn(p)) : undefined;
  }

  /** Which core the worker loads: 'auto' (multi-threaded when cross-origin isolated), 'mt' or 'st'. */
  useCore(core: CorePreference): void {
    this.core = core;
    this.stop();
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
    this.stop();
  }
}
