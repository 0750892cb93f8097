// Page-side engine bridge: starts the engine worker on first use, runs one job at a time per queue,
// cancels quickly (terminating a worker that does not stop in time) and restarts after a crash.
import { proxy, wrap, type Remote } from 'comlink';
import type { EngineWorkerApi } from '../workers/engine.worker';
import { ENGINE_OPS, type EngineOpName, type OpArgs, type OpResult } from '../lib/engine/ops';
import { SerialQueues } from '../lib/engine/queue';
import {
  CancelledError,
  EngineCrashedError,
  reviveError,
  type Progress,
  type RunOptions,
} from '../lib/core/run';
import type { EngineGateway } from '../lib/engine/remote';

/** How long a cancelled job may take to stop before its worker is terminated. */
const CANCEL_GRACE_MS = 400;

interface Live {
  worker: Worker;
  remote: Remote<EngineWorkerApi>;
  /** Rejects when this worker ends: a crash (EngineCrashedError) or a forced stop (EngineStoppedError). */
  ended: Promise<never>;
  end: (e: Error) => void;
}

/**
 * The worker was terminated to free it from a cancelled job that did not stop in time, taking this job
 * with it. A job that had reported nothing yet is started again on a fresh worker instead.
 */
class EngineStoppedError extends Error {
  override name = 'EngineStoppedError';
}

export class EngineBridge implements EngineGateway {
  private live: Live | null = null;
  private queues = new SerialQueues();
  private seq = 0;
  restarts = 0;
  private listeners = new Set<() => void>();

  async hostCount(): Promise<number> {
    return 1;
  }

  /** Subscribe to state changes (worker started, crashed, job started/ended). */
  onChange(fn: () => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  get state() {
    return { alive: this.live !== null, restarts: this.restarts, ...this.queues.stats() };
  }

  private changed() {
    for (const fn of this.listeners) fn();
  }

  private ensure(): Live {
    if (this.live) return this.live;
    const worker = new Worker(new URL('../workers/engine.worker.ts', import.meta.url), {
      type: 'module',
      name: 'timbre-engine',
    });
    let end!: (e: Error) => void;
    const ended = new Promise<never>((_, rej) => (end = rej));
    ended.catch(() => undefined);
    const die = (why: string) => {
      if (this.live?.worker !== worker) return;
      this.stop(
        new EngineCrashedError(
          `The engine stopped unexpectedly (${why}); it has restarted, so run the job again.`,
        ),
      );
      this.restarts++;
      this.changed();
    };
    worker.addEventListener('error', (e) => {
      e.preventDefault();
      die(e.message || 'worker error');
    });
    worker.addEventListener('messageerror', () => die('a message could not be read'));
    this.live = { worker, remote: wrap<EngineWorkerApi>(worker), ended, end };
    this.changed();
    return this.live;
  }

  /** Terminates the worker; every job still on it fails with `why` (none is left waiting forever). */
  private stop(why: Error) {
    if (!this.live) return;
    this.live.worker.terminate();
    this.live.end(why);
    this.live = null;
  }

  /** Test and recovery hook: makes the worker crash as a real fault would. */
  async simulateCrash(): Promise<void> {
    await this.ensure().remote.crash();
  }

  run<K extends EngineOpName>(op: K, args: OpArgs<K>, opts: RunOptions = {}): Promise<OpResult<K>> {
    const queue = ENGINE_OPS[op].queue;
    const job = this.queues.run(
      queue,
      async () => {
        for (;;) {
          let heard = false;
          try {
            return await this.attempt(op, args, opts, () => (heard = true));
          } catch (e) {
            // Another job's cancel stopped the worker under this one before it said anything: run it again.
            if (e instanceof EngineStoppedError && !heard && !opts.signal?.aborted) continue;
            throw e;
          }
        }
      },
      opts.signal,
    );
    // Listeners hear of the end only once the queue has let go of the job, so counts are current.
    void job.then(
      () => this.changed(),
      () => this.changed(),
    );
    return job;
  }

  /** One try of a job on the live worker (started if needed). */
  private async attempt<K extends EngineOpName>(
    op: K,
    args: OpArgs<K>,
    opts: RunOptions,
    onHeard: () => void,
  ): Promise<OpResult<K>> {
    const live = this.ensure();
    const jobId = `j${++this.seq}`;
    this.changed();
    let onAbort = () => {};
    const aborted = new Promise<never>((_, reject) => {
      onAbort = () => {
        void live.remote.cancel(jobId).catch(() => undefined);
        // A job stuck in one long synchronous step cannot see the cancel: free the engine by force.
        const t = setTimeout(() => {
          if (this.live === live) {
            this.stop(
              new EngineStoppedError(
                'The engine was restarted to stop a cancelled job that did not stop in time; run the job again.',
              ),
            );
            this.changed();
          }
        }, CANCEL_GRACE_MS);
        void work.finally(() => clearTimeout(t)).catch(() => undefined);
        reject(new CancelledError());
      };
    });
    aborted.catch(() => undefined);
    if (opts.signal?.aborted) throw new CancelledError();
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    const progress = opts.onProgress;
    // The callback's return value would be sent back over comlink: never return one.
    const work = live.remote.run(
      jobId,
      op,
      args,
      progress
        ? proxy((p: Progress) => {
            onHeard();
            progress(p);
          })
        : undefined,
    );
    work.catch(() => undefined);
    try {
      return (await Promise.race([work, live.ended, aborted])) as OpResult<K>;
    } catch (e) {
      throw e instanceof Error && e.name !== 'Error' ? e : reviveError(e as Error);
    } finally {
      opts.signal?.removeEventListener('abort', onAbort);
      this.changed();
    }
  }
}
