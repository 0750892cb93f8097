import type { EngineOpName, OpArgs, OpResult } from './ops';
import { CancelledError, reviveError, type Progress, type RunOptions } from '../core/run';

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
  | { type: 'error'; error: { name: string; message: string } };

export type CallerToHost = { type: 'cancel' };

/** What API handlers call to run compute; implemented over a port (SW) or directly (embed page). */
export interface EngineGateway {
  run<K extends EngineOpName>(op: K, args: OpArgs<K>, opts?: RunOptions): Promise<OpResult<K>>;
}

export interface PortLike {
  postMessage(msg: unknown): void;
  onmessage: ((ev: { data: unknown }) => void) | null;
  close(): void;
}

/**
 * Caller side: sends one run over `port` and resolves with its result. If the host does not accept the
 * call within `acceptMs` (a host tab closed or frozen), rejects with EngineUnavailableError-named error.
 */
export function callOverPort(
  port: PortLike,
  send: () => void,
  opts: RunOptions & { acceptMs?: number } = {},
): Promise<unknown> {
  return new Promise((resolve, reject) => {
    let settled = false;
    const finish = (fn: () => void) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      opts.signal?.removeEventListener('abort', onAbort);
      port.close();
      fn();
    };
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
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    port.onmessage = (ev) => {
      const m = ev.data as HostToCaller;
      if (m.type === 'accepted') clearTimeout(timer);
      else if (m.type === 'progress') opts.onProgress?.(m.progress);
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
  port.onmessage = (ev) => {
    if ((ev.data as CallerToHost).type === 'cancel') ac.abort();
  };
  const post = (m: HostToCaller) => port.postMessage(m);
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
