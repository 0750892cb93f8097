// Page-side engine bridge: runs one job at a time per queue on the engine worker (its WorkerHost starts it
// on first use and restarts it after a crash) and cancels quickly (terminating a worker that does not stop
// in time, then running again any job that the stop took with it before it said anything).
import { proxy, type Remote } from 'comlink';
import type { EngineWorkerApi } from '../workers/engine.worker';
import type { EncoderWorkerApi } from '../workers/encoder.worker';
import { ENGINE_OPS, workerOf, type EngineOpName, type OpArgs, type OpResult } from '../lib/engine/ops';
import { SerialQueues } from '../lib/engine/queue';
import {
  CancelledError,
  EngineCrashedError,
  reviveError,
  type Progress,
  type RunOptions,
} from '../lib/core/run';
import type { EngineGateway } from '../lib/engine/remote';
import type { ModelFilesSource } from '../lib/models/source';
import { WorkerHost, type CallOptions } from './worker-host';

/** How long a cancelled job may take to stop before its worker is terminated. */
const CANCEL_GRACE_MS = 400;

/** comlink keeps an error's name: one already named passes as it is. */
const reviveNamed = (e: unknown): Error =>
  e instanceof Error && e.name !== 'Error' ? e : reviveError(e as Error);

/** A cancel asks the job to stop, and ends the worker (`what`) when it has not stopped within the grace. */
const askThenEnd = (what: string) => ({
  kind: 'ask' as const,
  graceMs: CANCEL_GRACE_MS,
  stopped: () =>
    new EngineStoppedError(
      `The ${what} was restarted to stop a cancelled job that did not stop in time; run the job again.`,
    ),
});

/**
 * The engine worker's heartbeat is answered by its sentinel, a nested worker that answers while the engine
 * is busy in a long synchronous step (a model run can take 15 s here) and ends with it: about seven
 * seconds of silence mean the worker is gone. The sentinel cannot start while the engine is busy, so
 * until its first answer the limit is a minute.
 */
const HEARTBEAT = { everyMs: 1000, misses: 6, firstMisses: 60 };

/**
 * The encoder worker answers pings itself, between ffmpeg commands: a long encode (minutes of speech on a
 * loaded machine) must not be taken for a vanished worker, so it has three minutes.
 */
const ENCODER_HEARTBEAT = { everyMs: 1000, misses: 180 };

/** What the engine's workers have in common: jobs run and are cancelled by id. */
type OpsApi = Pick<EngineWorkerApi, 'run' | 'cancel'>;

/**
 * The worker vanished without an error event (the browser closed or killed it). A job that had reported
 * nothing yet is started once more on a fresh worker; the name stays EngineCrashedError's.
 */
class EngineVanishedError extends EngineCrashedError {}

/**
 * The worker was terminated to free it from a cancelled job that did not stop in time, taking this job
 * with it. A job that had reported nothing yet is started again on a fresh worker instead.
 */
class EngineStoppedError extends Error {
  override name = 'EngineStoppedError';
}

export class EngineBridge implements EngineGateway {
  private host: WorkerHost<EngineWorkerApi>;
  /** The encoder worker (src/workers/encoder.worker.ts): encodes beside a model run on the engine worker. */
  private encoder: WorkerHost<EncoderWorkerApi>;
  private queues = new SerialQueues();
  private seq = 0;
  private listeners = new Set<() => void>();
  /** Operations of the jobs running or waiting, in the order they were asked for (views say what they wait for). */
  private jobs: EngineOpName[] = [];
  /** How to stop each idle-time job (runWhileIdle) under way: any other job asked for stops them. */
  private idleJobs = new Set<AbortController>();

  /**
   * `heartbeat`: the worker liveness check's timing (tests make it quick). `files`: where the worker reads
   * installed models instead of its own storage (an embed holding a Storage Access handle).
   */
  constructor(
    heartbeat: { everyMs: number; misses: number; firstMisses?: number } = HEARTBEAT,
    opts: { files?: ModelFilesSource } = {},
  ) {
    const files = opts.files;
    this.host = new WorkerHost<EngineWorkerApi>({
      // Each fresh worker (a restart too) hears of the files before its first job.
      onStart: files ? (remote) => void remote.useFiles(proxy(files)).catch(() => undefined) : undefined,
      start: () =>
        new Worker(new URL('../workers/engine.worker.ts', import.meta.url), {
          type: 'module',
          name: 'timbre-engine',
        }),
      crashed: (why, silent) => {
        const message = `The engine stopped unexpectedly (${why}); it has restarted, so run the job again.`;
        return silent ? new EngineVanishedError(message) : new EngineCrashedError(message);
      },
      heartbeat: {
        ...heartbeat,
        connect: (remote, answered) => {
          const port = remote.lifeline().then((p) => {
            p.onmessage = answered;
            return p;
          });
          port.catch(() => undefined);
          return () => void port.then((p) => p.postMessage(0)).catch(() => undefined);
        },
      },
      revive: reviveNamed,
      abort: askThenEnd('engine'),
    });
    this.host.onChange(() => this.changed());
    this.encoder = new WorkerHost<EncoderWorkerApi>({
      start: () =>
        new Worker(new URL('../workers/encoder.worker.ts', import.meta.url), {
          type: 'module',
          name: 'timbre-encoder',
        }),
      crashed: (why, silent) => {
        const message = `The audio encoder stopped unexpectedly (${why}); it has restarted, so run the job again.`;
        return silent ? new EngineVanishedError(message) : new EngineCrashedError(message);
      },
      heartbeat: {
        ...ENCODER_HEARTBEAT,
        connect: (remote, answered) => () => void remote.ping().then(answered, () => undefined),
      },
      revive: reviveNamed,
      // An ffmpeg command cannot hear a cancel: one still running after the grace is ended with its worker.
      abort: askThenEnd('audio encoder'),
    });
    this.encoder.onChange(() => this.changed());
  }

  /** Crashes so far (each one restarts its worker, the engine's or the encoder's, for the next job). */
  get restarts(): number {
    return this.host.crashes + this.encoder.crashes;
  }

  async hostCount(): Promise<number> {
    return 1;
  }

  /** Subscribe to state changes (worker started, crashed, job started/ended). */
  onChange(fn: () => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  get state() {
    return { alive: this.host.alive, restarts: this.restarts, ...this.queues.stats() };
  }

  /**
   * A job is running or waiting besides idle-time work (runWhileIdle): head starts wait while this holds,
   * and idle-time work gives way to them when they start.
   */
  get busy(): boolean {
    return this.jobs.length > this.idleJobs.size;
  }

  /** The operations of the jobs running or waiting now. */
  get ops(): readonly EngineOpName[] {
    return this.jobs;
  }

  private changed() {
    for (const fn of this.listeners) fn();
  }

  /** Starts the worker if needed and waits for its answer: rejects when it cannot start. */
  async ping(): Promise<void> {
    await this.host.call((remote) => remote.ping());
  }

  /** Test and recovery hook: makes the worker crash as a real fault would. */
  async simulateCrash(): Promise<void> {
    await this.host.remote().crash();
  }

  run<K extends EngineOpName>(op: K, args: OpArgs<K>, opts: RunOptions = {}): Promise<OpResult<K>> {
    // A person's job (or an API call) comes first: idle-time work stops for it.
    for (const ac of this.idleJobs) ac.abort();
    return this.start(op, args, opts, false);
  }

  /**
   * Runs idle-time work (clone.tune): it gives way to every other job asked for after it, which stops it
   * (CancelledError). The stop is asked of the job in the worker, never forced by ending the worker: the
   * job stops at its next check (one model run at most), and the job that stopped it finds the worker, its
   * loaded sessions and the stored files as they were.
   */
  runWhileIdle<K extends EngineOpName>(op: K, args: OpArgs<K>, opts: RunOptions = {}): Promise<OpResult<K>> {
    const ac = new AbortController();
    const stop = () => ac.abort();
    if (opts.signal?.aborted) ac.abort();
    opts.signal?.addEventListener('abort', stop, { once: true });
    this.idleJobs.add(ac);
    const job = this.start(op, args, { ...opts, signal: ac.signal }, true);
    const done = () => {
      this.idleJobs.delete(ac);
      opts.signal?.removeEventListener('abort', stop);
    };
    void job.then(done, done);
    return job;
  }

  private start<K extends EngineOpName>(
    op: K,
    args: OpArgs<K>,
    opts: RunOptions,
    gentle: boolean,
  ): Promise<OpResult<K>> {
    const queue = ENGINE_OPS[op].queue;
    const job = this.queues.run(
      queue,
      async () => {
        let rerun = false;
        for (;;) {
          let heard = false;
          try {
            return await this.attempt(op, args, opts, () => (heard = true), gentle);
          } catch (e) {
            if (heard || opts.signal?.aborted) throw e;
            // Another job's cancel stopped the worker under this one before it said anything: run it again.
            if (e instanceof EngineStoppedError) continue;
            // The worker vanished under it before it said anything: once more on a fresh worker.
            if (e instanceof EngineVanishedError && !rerun) {
              rerun = true;
              continue;
            }
            throw e;
          }
        }
      },
      opts.signal,
    );
    this.jobs = [...this.jobs, op];
    const ended = () => {
      const i = this.jobs.indexOf(op);
      if (i >= 0) this.jobs = this.jobs.filter((_, k) => k !== i);
      this.changed();
    };
    // Listeners hear of the end only once the queue has let go of the job, so counts are current.
    void job.then(ended, ended);
    return job;
  }

  /**
   * One try of a job on the live worker (started if needed). `gentle`: an abort only asks the job to stop
   * and the call settles when it has (no grace period ending the worker).
   */
  private async attempt<K extends EngineOpName>(
    op: K,
    args: OpArgs<K>,
    opts: RunOptions,
    onHeard: () => void,
    gentle = false,
  ): Promise<OpResult<K>> {
    if (gentle && opts.signal?.aborted) throw new CancelledError();
    const jobId = `j${++this.seq}`;
    this.changed();
    const progress = opts.onProgress;
    const call = (fn: (r: Remote<OpsApi>) => Promise<unknown>, o: CallOptions<OpsApi>) =>
      workerOf(op) === 'encoder' ? this.encoder.call(fn, o) : this.host.call(fn, o);
    const ask = () => {
      if (this.host.alive) void Promise.resolve(this.host.remote().cancel(jobId)).catch(() => undefined);
    };
    if (gentle) opts.signal?.addEventListener('abort', ask, { once: true });
    try {
      return (await call(
        (remote) =>
          remote.run(
            jobId,
            op,
            args,
            // The callback's return value would be sent back over comlink: never return one.
            progress
              ? proxy((p: Progress) => {
                  onHeard();
                  progress(p);
                })
              : undefined,
          ),
        gentle ? {} : { signal: opts.signal, askToStop: (remote) => remote.cancel(jobId) },
      )) as OpResult<K>;
    } finally {
      if (gentle) opts.signal?.removeEventListener('abort', ask);
      this.changed();
    }
  }
}
