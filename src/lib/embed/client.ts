// A tiny typed client for pages that embed Timbre in an iframe (`/embed.html`). It has no imports at
// run time, so a page can load it on its own.
import type {
  ConnectMessage,
  EmbedNotice,
  EmbedRefusalCode,
  EmbedReply,
  EmbedStorageMode,
  RpcRequest,
  RpcResponse,
} from './protocol';

export type { EmbedNotice, EmbedRefusalCode, EmbedStorageMode } from './protocol';

export class EmbedRefusedError extends Error {
  override name = 'EmbedRefusedError';
  constructor(
    readonly code: EmbedRefusalCode,
    message: string,
  ) {
    super(message);
  }
}

export class EmbedTimeoutError extends Error {
  override name = 'EmbedTimeoutError';
  readonly code = 'timeout';
}

/** Each step of a connect, for the embedding page to show. */
export type EmbedState =
  | { state: 'connecting' }
  | { state: 'ready'; version: string; storage: EmbedStorageMode }
  | { state: 'refused'; code: EmbedRefusalCode; message: string }
  | { state: 'timeout'; message: string };

export interface ConnectOptions {
  /** How long to wait for the frame's answer (default 10 s; the frame itself answers within about 9 s). */
  timeoutMs?: number;
  onState?: (s: EmbedState) => void;
}

/** Where the frame's notices arrive: the embedding page's window. */
interface NoticeTarget {
  addEventListener(type: 'message', fn: (ev: MessageEvent) => void): void;
  removeEventListener(type: 'message', fn: (ev: MessageEvent) => void): void;
}

/** An answer from the embedded API: the same status and body a fetch to the API would give. */
export interface EmbedResponse<T = unknown> {
  status: number;
  ok: boolean;
  headers: Record<string, string>;
  body: T;
}

interface FrameLike {
  postMessage(message: unknown, targetOrigin: string, transfer: Transferable[]): void;
}

export class TimbreEmbed {
  private seq = 0;
  private pending = new Map<number, (r: RpcResponse) => void>();

  private constructor(
    private readonly port: MessagePort,
    readonly version: string,
    /** Whose keys, voices and models these calls use: the studio's own, or this site's partition. */
    readonly storage: EmbedStorageMode,
  ) {
    port.onmessage = (ev: MessageEvent<RpcResponse>) => {
      const done = this.pending.get(ev.data.id);
      this.pending.delete(ev.data.id);
      done?.(ev.data);
    };
  }

  /**
   * Connects to a loaded Timbre iframe. `origin` is the iframe's origin (e.g. http://127.0.0.1:4173);
   * the key must list this page's origin among its allowed origins, or the embed refuses. Rejects with
   * EmbedRefusedError (its `code` says why: `storage_access_required` means the user has to click "Use
   * Timbre on this site" in the frame; listen with `TimbreEmbed.notices` and connect again) or
   * EmbedTimeoutError.
   */
  static connect(
    frame: FrameLike,
    origin: string,
    key: string,
    options: number | ConnectOptions = {},
  ): Promise<TimbreEmbed> {
    const o = typeof options === 'number' ? { timeoutMs: options } : options;
    const timeoutMs = o.timeoutMs ?? 10_000;
    const channel = new MessageChannel();
    o.onState?.({ state: 'connecting' });
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        const message = `Timbre at ${origin} did not answer within ${timeoutMs} ms.`;
        channel.port1.close();
        o.onState?.({ state: 'timeout', message });
        reject(new EmbedTimeoutError(message));
      }, timeoutMs);
      channel.port1.onmessage = (ev: MessageEvent<EmbedReply>) => {
        clearTimeout(timer);
        if (ev.data.type === 'timbre:ready') {
          const { version, storage } = ev.data;
          o.onState?.({ state: 'ready', version, storage });
          resolve(new TimbreEmbed(channel.port1, version, storage));
        } else {
          channel.port1.close();
          const { code, message } = ev.data.error;
          o.onState?.({ state: 'refused', code, message });
          reject(new EmbedRefusedError(code, message));
        }
      };
      frame.postMessage({ type: 'timbre:connect', key } satisfies ConnectMessage, origin, [channel.port2]);
    });
  }

  /**
   * The frame's own notices (`timbre:loaded`; `timbre:storage` once the user answered the storage step,
   * with a key when the frame created one for this site's own storage; `timbre:models` install progress),
   * from `origin` only. Returns the unsubscribe.
   */
  static notices(target: NoticeTarget, origin: string, fn: (n: EmbedNotice) => void): () => void {
    const on = (ev: MessageEvent) => {
      const t = (ev.data as { type?: unknown } | null)?.type;
      if (ev.origin === origin && typeof t === 'string' && t.startsWith('timbre:'))
        fn(ev.data as EmbedNotice);
    };
    target.addEventListener('message', on);
    return () => target.removeEventListener('message', on);
  }

  /** Calls any API route, e.g. `request('GET', '/api/voices?q=emma')`. */
  request<T = unknown>(
    method: string,
    path: string,
    body?: unknown,
    headers?: Record<string, string>,
  ): Promise<EmbedResponse<T>> {
    const id = ++this.seq;
    return new Promise((resolve) => {
      this.pending.set(id, (r) =>
        resolve({
          status: r.status,
          ok: r.status >= 200 && r.status < 300,
          headers: r.headers,
          body: r.body as T,
        }),
      );
      this.port.postMessage({ id, method, path, body, headers } satisfies RpcRequest);
    });
  }

  listVoices(query = '') {
    return this.request<{
      voices: { id: string; name: string; language: string; gender: string; kind: string }[];
      total: number;
    }>('GET', `/api/voices${query ? `?${query}` : ''}`);
  }

  close(): void {
    this.port.close();
  }
}
