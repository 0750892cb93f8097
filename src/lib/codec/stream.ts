// Audio for transcription that arrives while it is decoded. An hour-long file takes ffmpeg.wasm ~9 s to
// decode and our resampler ~25 s to bring to 16 kHz; transcription need not wait for either: the VAD and the
// windows read a GrowingAudio and wait (until) only for the seconds they need, so the first text comes as
// soon as the first minute is in. StreamResampler gives exactly the samples resampleBlocks would.
import { CancelledError, throwIfAborted, type RunOptions } from '../core/run';
import { DecodeError } from './formats';
import type { StreamStart, Transcoder } from './transcoder';
import { readWav } from './decode';
import { isWav } from '../dsp/wav';
import { SPEECH_RATE as SAMPLE_RATE } from '../dsp/resample';
import { StreamResampler } from '../dsp/resample';

/** While the end is unknown, the total is taken to lie at least this far past what has arrived (s). */
const AHEAD = 60;

interface Waiter {
  need: number;
  resolve: () => void;
  reject: (e: unknown) => void;
}

/**
 * 16 kHz mono samples that grow as a file decodes. `samples` is what has arrived; `until(t)` waits for
 * t seconds (or the end). While the end is unknown, `total` is the container's duration or more, never
 * less than a minute past what has arrived, so no one takes the audio for finished before it is.
 */
export class GrowingAudio {
  private buf: Float32Array;
  private n = 0;
  private waiters: Waiter[] = [];
  private error: unknown = null;
  complete = false;

  /** `estimate`: the container's duration in seconds, when it says; `known`: audio known in full. */
  constructor(
    private readonly estimate: number | null = null,
    known?: Float32Array,
  ) {
    this.buf = known ?? new Float32Array(Math.ceil(((estimate ?? 60) + 1) * SAMPLE_RATE));
    if (known) {
      this.n = known.length;
      this.complete = true;
    }
  }

  /** Audio known in full. */
  static whole(samples: Float32Array): GrowingAudio {
    return new GrowingAudio(null, samples);
  }

  get length(): number {
    return this.n;
  }

  get samples(): Float32Array {
    return this.buf.subarray(0, this.n);
  }

  /** Seconds: exact once complete. */
  get total(): number {
    const have = this.n / SAMPLE_RATE;
    return this.complete ? have : Math.max(this.estimate ?? 0, have + AHEAD);
  }

  push(x: Float32Array): void {
    if (this.complete || !x.length) return;
    if (this.n + x.length > this.buf.length) {
      const grown = new Float32Array(Math.max(Math.ceil(this.buf.length * 1.5), this.n + x.length));
      grown.set(this.samples);
      this.buf = grown;
    }
    this.buf.set(x, this.n);
    this.n += x.length;
    this.settle();
  }

  end(): void {
    if (this.complete) return;
    if (!this.n) return this.fail(new DecodeError('The file holds no audio samples.'));
    this.complete = true;
    this.settle();
  }

  fail(e: unknown): void {
    if (this.complete || this.error) return;
    this.error = e;
    this.settle();
  }

  /** Resolves once `seconds` of audio have arrived or the whole file has; rejects if decoding failed. */
  until(seconds: number, signal?: AbortSignal): Promise<void> {
    const need = Math.ceil(seconds * SAMPLE_RATE);
    if (this.error) return Promise.reject(this.error);
    if (this.complete || this.n >= need) return Promise.resolve();
    if (signal?.aborted) return Promise.reject(new CancelledError());
    return new Promise<void>((resolve, reject) => {
      const onAbort = () => {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        reject(new CancelledError());
      };
      const waiter: Waiter = {
        need,
        resolve: () => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        },
        reject: (e) => {
          signal?.removeEventListener('abort', onAbort);
          reject(e);
        },
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.waiters.push(waiter);
    });
  }

  /** The whole file (rejects if decoding failed). */
  async whole(signal?: AbortSignal): Promise<Float32Array> {
    await this.until(Infinity, signal);
    return this.samples;
  }

  private settle() {
    const keep: Waiter[] = [];
    for (const w of this.waiters) {
      if (this.error) w.reject(this.error);
      else if (this.complete || this.n >= w.need) w.resolve();
      else keep.push(w);
    }
    this.waiters = keep;
  }
}

/** What a streamed decode reports first: the file's rate and channels and, when it says, its duration. */
export type AsrStreamStart = StreamStart;

/**
 * Decodes a file to 16 kHz mono blocks, handed on as they are made: the engine runs one in a worker of its
 * own (so transcription goes on meanwhile), tests and other hosts in the calling thread.
 */
export type AsrStreamDecoder = (
  bytes: Uint8Array,
  hooks: { onStart(f: AsrStreamStart): void; onBlock(samples: Float32Array): void },
  opts: RunOptions,
) => Promise<void>;

/** ffmpeg (mono at the file's own rate) and then StreamResampler, both in the calling thread. */
export function transcoderStreamDecoder(transcoder: () => Transcoder): AsrStreamDecoder {
  return async (bytes, hooks, opts) => {
    let rs: StreamResampler | null = null;
    await transcoder().decodeStream(
      bytes,
      { mono: true },
      {
        onStart: (f) => {
          rs = new StreamResampler(f.sampleRate);
          hooks.onStart(f);
        },
        onSamples: (x) => {
          const y = rs!.push(x);
          if (y.length) hooks.onBlock(y);
        },
      },
      { signal: opts.signal },
    );
    const rest = rs!.end();
    if (rest.length) hooks.onBlock(rest);
  };
}

export interface OpenedAsrAudio {
  audio: GrowingAudio;
  sourceRate: number;
  channels: number;
  decoder: 'wav' | 'ffmpeg';
}

/** WAV input resampled this many seconds at a time, yielding between (so transcription can start). */
const WAV_STEP = 10;

/**
 * Opens a file for transcription: resolves as soon as its format is known (a bad file rejects here, with
 * DecodeError or UnsupportedFormatError), while its samples keep arriving in the returned GrowingAudio.
 * WAV is read here and resampled a few seconds at a time; anything else goes through `decode`.
 */
export async function openAsrAudio(
  bytes: Uint8Array,
  decode: AsrStreamDecoder,
  opts: RunOptions = {},
): Promise<OpenedAsrAudio> {
  throwIfAborted(opts.signal);
  if (isWav(bytes)) {
    const w = readWav(bytes);
    const base = { sourceRate: w.sampleRate, channels: w.channels, decoder: 'wav' as const };
    if (w.sampleRate === SAMPLE_RATE) return { ...base, audio: GrowingAudio.whole(w.samples) };
    const audio = new GrowingAudio(w.samples.length / w.sampleRate);
    void resampleInSteps(w.samples, w.sampleRate, audio, opts.signal);
    return { ...base, audio };
  }
  let audio: GrowingAudio | null = null;
  let started!: (f: AsrStreamStart) => void;
  const start = new Promise<AsrStreamStart>((resolve) => (started = resolve));
  const done = decode(
    bytes,
    {
      onStart: (f) => {
        audio = new GrowingAudio(f.duration);
        started(f);
      },
      onBlock: (b) => audio?.push(b),
    },
    opts,
  );
  // Failures before the start reject here; later ones reach whoever waits on the audio.
  const f = await Promise.race([
    start,
    done.then(() => {
      if (!audio) throw new DecodeError('The file holds no audio samples.');
      return start;
    }),
  ]);
  const a = audio!;
  done.then(
    () => a.end(),
    (e: unknown) => a.fail(e),
  );
  return { audio: a, sourceRate: f.sampleRate, channels: f.sourceChannels, decoder: 'ffmpeg' };
}

async function resampleInSteps(x: Float32Array, rate: number, audio: GrowingAudio, signal?: AbortSignal) {
  try {
    const rs = new StreamResampler(rate);
    const step = WAV_STEP * rate;
    for (let i = 0; i < x.length; i += step) {
      throwIfAborted(signal);
      audio.push(rs.push(x.subarray(i, Math.min(x.length, i + step))));
      await new Promise((r) => setTimeout(r, 0));
    }
    audio.push(rs.end());
    audio.end();
  } catch (e) {
    audio.fail(e);
  }
}

/** A decode worker as the engine sees it (src/workers/decode.worker.ts behind comlink). */
export interface DecodeWorkerHandle {
  /**
   * Resolves, once the file has decoded, with the number of blocks posted to `onBlock`. The callbacks come
   * over a channel of their own, so the last blocks may arrive after this resolves: count them in.
   */
  decode(
    bytes: Uint8Array,
    onStart: (f: AsrStreamStart) => void,
    onBlock: (samples: Float32Array) => void,
  ): Promise<number>;
  terminate(): void;
}

/** How long the last blocks may take to arrive after the worker says it has posted them all (ms). */
const LAST_BLOCKS_MS = 30_000;

export interface WorkerStreamDecoder extends AsrStreamDecoder {
  /** Starts a worker now (it loads its ffmpeg core), so the next file does not wait for that. */
  warm(): void;
}

/**
 * An AsrStreamDecoder on workers from `spawn`: an idle one is kept for the next file (its core loaded);
 * a cancel terminates the worker at once (ffmpeg cannot be stopped otherwise), as does any failure.
 */
export function workerStreamDecoder(spawn: () => DecodeWorkerHandle): WorkerStreamDecoder {
  let idle: DecodeWorkerHandle | null = null;
  const start = (): DecodeWorkerHandle => {
    try {
      return spawn();
    } catch (e) {
      throw new DecodeWorkerError(`The decode worker could not be started (${(e as Error).message}).`);
    }
  };
  const decode = async (
    bytes: Uint8Array,
    hooks: Parameters<AsrStreamDecoder>[1],
    opts: RunOptions,
  ): Promise<void> => {
    throwIfAborted(opts.signal);
    const h = idle ?? start();
    idle = null;
    let onAbort = () => undefined as void;
    const aborted = new Promise<never>((_, reject) => {
      onAbort = () => {
        h.terminate();
        reject(new CancelledError());
      };
    });
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    // The end of the file is known only once its last block is here: count the blocks in.
    let arrived = 0;
    let posted = Infinity;
    let allIn = () => undefined as void;
    const everyBlock = new Promise<void>((resolve) => (allIn = resolve));
    // onStart comes on a channel of its own too: blocks that overtake it wait for it.
    let started = false;
    const early: Float32Array[] = [];
    const onStart = (f: AsrStreamStart) => {
      started = true;
      hooks.onStart(f);
      for (const b of early.splice(0)) hooks.onBlock(b);
      if (arrived >= posted) allIn();
    };
    const onBlock = (b: Float32Array) => {
      arrived++;
      if (started) hooks.onBlock(b);
      else early.push(b);
      if (started && arrived >= posted) allIn();
    };
    try {
      posted = await Promise.race([h.decode(bytes, onStart, onBlock), aborted]);
      if (started && arrived >= posted) allIn();
      let late: ReturnType<typeof setTimeout> | undefined;
      const lost = new Promise<never>((_, reject) => {
        late = setTimeout(
          () =>
            reject(
              new DecodeWorkerError(
                `The decode worker posted ${posted} blocks but only ${arrived} arrived within ${LAST_BLOCKS_MS / 1000} s.`,
              ),
            ),
          LAST_BLOCKS_MS,
        );
      });
      await Promise.race([everyBlock, aborted, lost]).finally(() => clearTimeout(late));
      if (idle) h.terminate();
      else idle = h;
    } catch (e) {
      if (!opts.signal?.aborted) h.terminate(); // (a cancel has terminated it already)
      throw e;
    } finally {
      opts.signal?.removeEventListener('abort', onAbort);
    }
  };
  return Object.assign(decode, {
    warm: () => {
      try {
        idle ??= start();
      } catch {
        // the first file will say why (and fall back)
      }
    },
  });
}

/** The decode worker itself failed (it did not load, or it crashed), as opposed to the file. */
export class DecodeWorkerError extends Error {
  override name = 'DecodeWorkerError';
}

/**
 * `primary`, but when it fails with DecodeWorkerError before the file's first facts, `fallback` decodes
 * the file instead, and every later file too (a worker that cannot start once will not start later).
 */
export function withFallback(primary: AsrStreamDecoder, fallback: AsrStreamDecoder): AsrStreamDecoder {
  let broken = false;
  return async (bytes, hooks, opts) => {
    if (broken) return fallback(bytes, hooks, opts);
    let started = false;
    try {
      await primary(
        bytes,
        {
          onStart: (f) => {
            started = true;
            hooks.onStart(f);
          },
          onBlock: hooks.onBlock,
        },
        opts,
      );
    } catch (e) {
      if (!(e instanceof DecodeWorkerError) || started) throw e;
      broken = true;
      console.warn(`Decoding in this thread instead: ${e.message}`);
      await fallback(bytes, hooks, opts);
    }
  };
}
