import type { EngineOpName, OpArgs, OpResult } from './ops';
import {
  CancelledError,
  EngineUnavailableError,
  reviveError,
  type Progress,
  type RunOptions,
} from '../core/run';
import { Heartbeat } from './liveness';

/**
 * The protocol between the Service Worker and an engine host (studio page or embed iframe). The SW
 * posts `{type: 'timbre:engine-run'}` with a MessagePort; everything after travels on that port.
 */
export interface RunRequest {
  type: 'timbre:engine-run';
  op: string;
  args: unknown;
}

export type HostToCaller =
  | { type: 'accepted' }
  | { type: 'progress'; progress: Progress }
  | { type: 'result'; value: unknown }
  | { type: 'error'; error: { name: string; message: string } }
  | { type: 'alive' };

export type CallerToHost = { type: 'cancel' } | { type: 'ping' };

/**
 * Once a host accepted a run, the caller pings it this often and takes it for gone after this many
 * unanswered pings in a row (a closed, crashed or frozen tab). The host's page answers from its message
 * handler, which a busy engine worker does not hold up.
 */
export const HOST_HEARTBEAT = { everyMs: 1000, misses: 4 };

/**
 * The host went away after accepting the run (its tab closed, crashed or froze). Named as
 * EngineUnavailableError (`engine_unavailable`) for the API; the gateway tells it apart to run the job
 * on another host when nothing was heard yet.
 */
export class HostLostError extends EngineUnavailableError {}

/** What API handlers call to run compute; implemented over a port (SW) or directly (embed page). */
export interface EngineGateway {
  run<K extends EngineOpName>(op: K, args: OpArgs<K>, opts?: RunOptions): Promise<OpResult<K>>;
}

export interface PortLike {
  postMessage(msg: unknown): void;
  onmessage: ((ev: { data: unknown }) => void) | null;
  close(): void;
  /** A MessagePort's `close` event (Chromium): the other end went away. */
  addEventListener?(type: 'close', fn: () => void): void;
}

export interface CallOverPortOptions extends RunOptions {
  /** How long the host has to accept the run (default 5 s). */
  acceptMs?: number;
  /** Default HOST_HEARTBEAT. */
  heartbeat?: { everyMs: number; misses: number };
  /** Aborting it says the host is gone (e.g. its tab said goodbye): the call fails as HostLostError. */
  hostGone?: AbortSignal;
}

const LOST =
  'The studio tab running this job was closed or stopped answering, so the job ended; run it again.';

/**
 * Caller side: sends one run over `port` and resolves with its result. If the host does not accept the
 * call within `acceptMs` (a host tab closed or frozen), rejects with EngineUnavailableError-named error;
 * if it goes away after accepting (heartbeat, the port's `close` event, `hostGone`), with HostLostError.
 */
export function callOverPort(
  port: PortLike,
  send: () => void,
  opts: CallOverPortOptions = {},
): Promise<unknown> {
  return new Promise((resolve, reject) => {
    let settled = false;
    const finish = (fn: () => void) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      heartbeat.stop();
      opts.signal?.removeEventListener('abort', onAbort);
      opts.hostGone?.removeEventListener('abort', onLost);
      port.close();
      fn();
    };
    const onLost = () => {
      // A frozen tab that wakes later should not go on computing a run nobody waits for.
      if (!settled) port.postMessage({ type: 'cancel' } satisfies CallerToHost);
      finish(() => reject(new HostLostError(LOST)));
    };
    const heartbeat = new Heartbeat({
      ...(opts.heartbeat ?? HOST_HEARTBEAT),
      ping: () => port.postMessage({ type: 'ping' } satisfies CallerToHost),
      onDead: onLost,
    });
    const timer = setTimeout(
      () =>
        finish(() =>
          reject(reviveError({ name: 'EngineUnavailableError', message: 'The engine host did not answer.' })),
        ),
      opts.acceptMs ?? 5000,
    );
    const onAbort = () => {
      port.postMessage({ type: 'cancel' } satisfies CallerToHost);
      finish(() => reject(new CancelledError()));
    };
    if (opts.signal?.aborted) return finish(() => reject(new CancelledError()));
    if (opts.hostGone?.aborted) return onLost();
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    opts.hostGone?.addEventListener('abort', onLost, { once: true });
    // Messages the host sent before it went away are still delivered first; give them a moment.
    port.addEventListener?.('close', () => setTimeout(onLost, 200));
    port.onmessage = (ev) => {
      const m = ev.data as HostToCaller;
      heartbeat.answered();
      if (m.type === 'accepted') {
        clearTimeout(timer);
        heartbeat.start();
      } else if (m.type === 'progress') opts.onProgress?.(m.progress);
      else if (m.type === 'result') finish(() => resolve(m.value));
      else if (m.type === 'error') finish(() => reject(reviveError(m.error)));
    };
    send();
  });
}

/** Host side: serves one run request arriving with `port`, using `runner` (the local engine). */
export function serveOverPort(
  port: PortLike,
  req: RunRequest,
  runner: (op: string, args: unknown, opts: RunOptions) => Promise<unknown>,
): void {
  const ac = new AbortController();
  const post = (m: HostToCaller) => port.postMessage(m);
  port.onmessage = (ev) => {
    const m = ev.data as CallerToHost;
    if (m.type === 'cancel') ac.abort();
    else if (m.type === 'ping') post({ type: 'alive' });
  };
  post({ type: 'accepted' });
  runner(req.op, req.args, {
    signal: ac.signal,
    onProgress: (progress) => post({ type: 'progress', progress }),
  })
    .then((value) => post({ type: 'result', value }))
    .catch((e: unknown) => {
      const err = e as { name?: string; message?: string };
      post({ type: 'error', error: { name: err?.name ?? 'Error', message: err?.message ?? String(e) } });
    })
    .finally(() => setTimeout(() => port.close(), 0));
}
