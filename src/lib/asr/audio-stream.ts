// Audio for transcription that arrives while it is decoded. An hour-long file takes ffmpeg.wasm ~9 s to
// decode and our resampler ~25 s to bring to 16 kHz; transcription need not wait for either: the VAD and the
// windows read a GrowingAudio and wait (until) only for the seconds they need, so the first text comes as
// soon as the first minute is in. StreamResampler gives exactly the samples resampleTo16k would.
import { CancelledError, throwIfAborted, type RunOptions } from '../engine/types';
import { DecodeError } from '../audio/formats';
import type { StreamStart, Transcoder } from '../audio/transcoder';
import { concatAudio } from '../tts/join';
import { isWav, readWav } from './audio-in';
import { SAMPLE_RATE } from './mel';
import { designResampler, resampleSpan, type ResamplerDesign } from './resample';

/** Outputs per resampled block (4 s at 16 kHz): the granularity at which audio reaches transcription. */
const BLOCK = 4 * SAMPLE_RATE;
/** While the end is unknown, the total is taken to lie at least this far past what has arrived (s). */
const AHEAD = 60;

/**
 * A streaming version of resampleTo16k: push the input as it comes, get the 16 kHz output that is ready;
 * end() gives the rest. The concatenated output equals resampleTo16k(whole input) sample for sample.
 */
export class StreamResampler {
  private readonly d: ResamplerDesign | null;
  /** Input kept for the filter's reach, from absolute index `base`. */
  private buf = new Float32Array(0);
  private base = 0;
  /** Input samples pushed in all. */
  private n = 0;
  /** Outputs made so far. */
  private o = 0;

  constructor(private readonly rate: number) {
    this.d = rate === SAMPLE_RATE ? null : designResampler(rate, SAMPLE_RATE);
  }

  push(x: Float32Array): Float32Array {
    if (!this.d) return x.slice();
    const held = this.n - this.base;
    if (held + x.length > this.buf.length) {
      const grown = new Float32Array(Math.max(2 * this.buf.length, held + x.length, 1 << 16));
      grown.set(this.buf.subarray(0, held));
      this.buf = grown;
    }
    this.buf.set(x, held);
    this.n += x.length;
    return this.drain(false);
  }

  end(): Float32Array {
    return this.d ? this.drain(true) : new Float32Array(0);
  }

  private drain(final: boolean): Float32Array {
    const d = this.d!;
    const outLen = Math.round((this.n * d.up) / d.down);
    const parts: Float32Array[] = [];
    for (;;) {
      const o1 = final ? Math.min(outLen, this.o + BLOCK) : this.o + BLOCK;
      if (this.o >= o1) break;
      // The same spans as resampleTo16k: the outputs' input reach, with the filter's half-width each side.
      const need = Math.ceil((o1 * d.down) / d.up) + d.halfWidth + 2;
      if (!final && need > this.n) break;
      const i0 = Math.max(0, Math.floor((this.o * d.down) / d.up) - d.halfWidth - 2);
      const i1 = Math.min(this.n, need);
      parts.push(
        resampleSpan(this.buf.subarray(i0 - this.base, i1 - this.base), this.rate, i0, this.o, o1, d).slice(),
      );
      this.o = o1;
      this.forget(Math.max(0, Math.floor((this.o * d.down) / d.up) - d.halfWidth - 2));
    }
    return parts.length === 1 ? parts[0]! : concatAudio(parts);
  }

  /** Drops the input before absolute index `i`. */
  private forget(i: number) {
    if (i <= this.base) return;
    this.buf.copyWithin(0, i - this.base, this.n - this.base);
    this.base = i;
  }
}

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
  return { audio: a, sourceRate: f.sampleRate, channels: f.channels, decoder: 'ffmpeg' };
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
  decode(
    bytes: Uint8Array,
    onStart: (f: AsrStreamStart) => void,
    onBlock: (samples: Float32Array) => void,
  ): Promise<void>;
  terminate(): void;
}

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
    try {
      await Promise.race([h.decode(bytes, hooks.onStart, hooks.onBlock), aborted]);
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
