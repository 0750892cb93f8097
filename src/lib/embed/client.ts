// A tiny typed client for pages that embed Timbre in an iframe (`/embed.html`). It has no imports at
// run time, so a page can load it on its own.
import type { ConnectMessage, EmbedReply, RpcRequest, RpcResponse } from './protocol';

export class EmbedRefusedError extends Error {
  override name = 'EmbedRefusedError';
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export class EmbedTimeoutError extends Error {
  override name = 'EmbedTimeoutError';
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
  ) {
    port.onmessage = (ev: MessageEvent<RpcResponse>) => {
      const done = this.pending.get(ev.data.id);
      this.pending.delete(ev.data.id);
      done?.(ev.data);
    };
  }

  /**
   * Connects to a loaded Timbre iframe. `origin` is the iframe's origin (e.g. http://127.0.0.1:4173);
   * the key must list this page's origin among its allowed origins, or the embed refuses.
   */
  static connect(frame: FrameLike, origin: string, key: string, timeoutMs = 10_000): Promise<TimbreEmbed> {
    const channel = new MessageChannel();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new EmbedTimeoutError(`Timbre at ${origin} did not answer within ${timeoutMs} ms.`)),
        timeoutMs,
      );
      channel.port1.onmessage = (ev: MessageEvent<EmbedReply>) => {
        clearTimeout(timer);
        if (ev.data.type === 'timbre:ready') resolve(new TimbreEmbed(channel.port1, ev.data.version));
        else {
          channel.port1.close();
          reject(new EmbedRefusedError(ev.data.error.code, ev.data.error.message));
        }
      };
      frame.postMessage({ type: 'timbre:connect', key } satisfies ConnectMessage, origin, [channel.port2]);
    });
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
