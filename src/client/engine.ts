// Page-side engine bridge: starts the engine worker on first use, runs one job at a time per model,
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
} from '../lib/engine/types';
import type { EngineGateway } from '../lib/engine/remote';

/** How long a cancelled job may take to stop before its worker is terminated. */
const CANCEL_GRACE_MS = 400;

interface Live {
  worker: Worker;
  remote: Remote<EngineWorkerApi>;
  crashed: Promise<never>;
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
    let reject!: (e: Error) => void;
    const crashed = new Promise<never>((_, rej) => (reject = rej));
    crashed.catch(() => undefined);
    const die = (why: string) => {
      if (this.live?.worker !== worker) return;
      this.stop();
      this.restarts++;
      reject(
        new EngineCrashedError(
          `The engine stopped unexpectedly (${why}); it has restarted, so run the job again.`,
        ),
      );
      this.changed();
    };
    worker.addEventListener('error', (e) => {
      e.preventDefault();
      die(e.message || 'worker error');
    });
    worker.addEventListener('messageerror', () => die('a message could not be read'));
    this.live = { worker, remote: wrap<EngineWorkerApi>(worker), crashed };
    this.changed();
    return this.live;
  }

  private stop() {
    if (!this.live) return;
    this.live.worker.terminate();
    this.live = null;
  }

  /** Test and recovery hook: makes the worker crash as a real fault would. */
  async simulateCrash(): Promise<void> {
    await this.ensure().remote.crash();
  }

  run<K extends EngineOpName>(op: K, args: OpArgs<K>, opts: RunOptions = {}): Promise<OpResult<K>> {
    const model = ENGINE_OPS[op].model;
    const job = this.queues.run(
      model,
      async () => {
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
                this.stop();
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
          progress ? proxy((p: Progress) => void progress(p)) : undefined,
        );
        work.catch(() => undefined);
        try {
          return (await Promise.race([work, live.crashed, aborted])) as OpResult<K>;
        } catch (e) {
          throw e instanceof Error && e.name !== 'Error' ? e : reviveError(e as Error);
        } finally {
          opts.signal?.removeEventListener('abort', onAbort);
          this.changed();
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
}
