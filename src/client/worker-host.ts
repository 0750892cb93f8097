// The page's one supervisor for a comlink worker (the engine, formats and models bridges each own one):
// starts the worker on first use, ends it on a crash so that no call in flight waits forever, starts a
// fresh one for the next call, and runs each call against the live worker raced with its end and an abort.
import { wrap, type Remote } from 'comlink';
import { CancelledError } from '../lib/core/run';
import { Heartbeat } from '../lib/engine/liveness';

/** What aborting a call does to the worker running it. */
export type AbortPolicy =
  /** Terminate the worker at once (it cannot hear a message mid-task); the next call starts a fresh one. */
  | { kind: 'terminate'; stopped: () => Error }
  /**
   * Ask the call to stop (its `askToStop`) and terminate the worker only if that call is still running after
   * `graceMs`: a task stuck in one long synchronous step cannot hear the request.
   */
  | { kind: 'ask'; graceMs: number; stopped: () => Error };

const TERMINATE: AbortPolicy = {
  kind: 'terminate',
  stopped: () => new CancelledError('The worker was stopped.'),
};

export interface WorkerHostOptions<Api> {
  /**
   * Starts the worker. The bridge writes `new Worker(new URL('../workers/x.worker.ts', import.meta.url), …)`
   * itself, as Vite bundles a worker only from that literal expression.
   */
  start: () => Worker;
  /**
   * The named error every call in flight fails with when the worker dies, saying why and what to do.
   * `silent`: it stopped answering without an error event (the browser closed or killed it).
   */
  crashed: (why: string, silent: boolean) => Error;
  /** Rebuilds a named error that crossed the boundary (only its name and message survive). */
  revive: (e: unknown) => unknown;
  /** Default: terminate at once. */
  abort?: AbortPolicy;
  /** Runs on each fresh worker before any call reaches it (formats: the core to load). */
  onStart?: (remote: Remote<Api>) => void;
  /**
   * A worker that vanishes without an error event is found by a heartbeat, beating only while a call is in
   * flight: `connect` runs once per worker and returns its ping, whose answers the worker's side reports
   * through `answered`; dead after `misses` pings every `everyMs` unanswered in a row (`firstMisses` until
   * the first answer, while the answering side may still be starting).
   */
  heartbeat?: {
    connect: (remote: Remote<Api>, answered: () => void) => () => void;
    everyMs: number;
    misses: number;
    firstMisses?: number;
  };
}

export interface CallOptions<Api> {
  signal?: AbortSignal;
  /** The 'ask' policy's request to stop this call (engine: cancel its job id). */
  askToStop?: (remote: Remote<Api>) => unknown;
}

interface Live<Api> {
  worker: Worker;
  remote: Remote<Api>;
  /** Rejects when this worker ends: a crash, or a stop (an abort, a dispose, a setting that needs a fresh one). */
  ended: Promise<never>;
  end: (e: Error) => void;
  /** Calls in flight on this worker (the heartbeat beats only while there are some). */
  calls: number;
  heartbeat: Heartbeat | null;
}

export class WorkerHost<Api> {
  private live: Live<Api> | null = null;
  private listeners = new Set<() => void>();
  /** Workers started so far. */
  starts = 0;
  /** Workers that died on their own (each one's successor is a restart). */
  crashes = 0;

  constructor(private readonly o: WorkerHostOptions<Api>) {}

  get alive(): boolean {
    return this.live !== null;
  }

  /** Hears each worker start and end. */
  onChange(fn: () => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  private changed() {
    for (const fn of this.listeners) fn();
  }

  /** The live worker's remote, starting a worker if none runs. */
  remote(): Remote<Api> {
    return this.ensure().remote;
  }

  private ensure(): Live<Api> {
    if (this.live) return this.live;
    const worker = this.o.start();
    let end!: (e: Error) => void;
    const ended = new Promise<never>((_, reject) => (end = reject));
    ended.catch(() => undefined);
    const remote = wrap<Api>(worker);
    const live: Live<Api> = { worker, remote, ended, end, calls: 0, heartbeat: null };
    this.live = live;
    this.starts++;
    this.supervise(live);
    this.o.onStart?.(live.remote);
    this.changed();
    return live;
  }

  /**
   * How a worker is found dead. A worker's own faults arrive as `error` / `messageerror` events, not through
   * comlink; one closed or killed by the browser sends nothing at all, so the heartbeat finds it.
   */
  private supervise(live: Live<Api>) {
    live.worker.addEventListener('error', (e) => {
      e.preventDefault();
      this.died(live, (e as Partial<ErrorEvent>).message || 'worker error');
    });
    live.worker.addEventListener('messageerror', () => this.died(live, 'a message could not be read'));
    const hb = this.o.heartbeat;
    if (!hb) return;
    const ping = hb.connect(live.remote, () => live.heartbeat?.answered());
    live.heartbeat = new Heartbeat({
      everyMs: hb.everyMs,
      misses: hb.misses,
      firstMisses: hb.firstMisses,
      ping,
      onDead: () => this.died(live, 'it stopped answering', true),
    });
  }

  /** Ends a worker that died on its own; every call on it fails with the bridge's named error. */
  private died(live: Live<Api>, why: string, silent = false) {
    if (this.live !== live) return;
    this.crashes++;
    this.stop(this.o.crashed(why, silent));
  }

  /** Terminates the worker; every call still on it fails with `why` (none is left waiting forever). */
  stop(why: Error): void {
    const live = this.live;
    if (!live) return;
    this.live = null;
    live.heartbeat?.stop();
    live.worker.terminate();
    live.end(why);
    this.changed();
  }

  /**
   * Runs `fn` against the live worker (started if needed), raced with the worker's end and `signal`: on abort
   * the call rejects with CancelledError at once and the worker is treated by the abort policy. Errors
   * from `fn` are revived; the host's own (cancel, crash, stop) are already named.
   */
  async call<T>(fn: (remote: Remote<Api>) => Promise<T>, opts: CallOptions<Api> = {}): Promise<T> {
    const { signal } = opts;
    if (signal?.aborted) throw new CancelledError();
    const live = this.ensure();
    if (live.calls++ === 0) live.heartbeat?.start();
    const work = fn(live.remote).catch((e: unknown) => {
      throw this.o.revive(e);
    });
    work.catch(() => undefined);
    void work
      .finally(() => {
        if (--live.calls === 0) live.heartbeat?.stop();
      })
      .catch(() => undefined);
    let onAbort = () => {};
    const aborted = new Promise<never>((_, reject) => {
      onAbort = () => {
        this.onAbort(live, work, opts);
        reject(new CancelledError());
      };
    });
    aborted.catch(() => undefined);
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      return await Promise.race([work, live.ended, aborted]);
    } finally {
      signal?.removeEventListener('abort', onAbort);
    }
  }

  private onAbort(live: Live<Api>, work: Promise<unknown>, opts: CallOptions<Api>) {
    const policy = this.o.abort ?? TERMINATE;
    if (policy.kind === 'terminate') {
      if (this.live === live) this.stop(policy.stopped());
      return;
    }
    try {
      void Promise.resolve(opts.askToStop?.(live.remote)).catch(() => undefined);
    } catch {
      // The worker may already be gone; the grace timer below still frees the call.
    }
    const t = setTimeout(() => {
      if (this.live === live) this.stop(policy.stopped());
    }, policy.graceMs);
    void work.finally(() => clearTimeout(t)).catch(() => undefined);
  }
}
