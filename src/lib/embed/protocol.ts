/** Messages between a parent page and `/embed.html`. The first goes through window.postMessage with a
 * port; every later one travels on that MessagePort. */
export interface ConnectMessage {
  type: 'timbre:connect';
  key: string;
}

export type EmbedReply =
  | { type: 'timbre:ready'; version: string }
  | { type: 'timbre:refused'; error: { code: string; message: string } };

export interface RpcRequest {
  id: number;
  method: string;
  path: string;
  headers?: Record<string, string>;
  /** JSON value, or raw bytes for audio uploads. */
  body?: unknown;
}

export interface RpcResponse {
  id: number;
  status: number;
  headers: Record<string, string>;
  /** Parsed JSON for JSON responses; bytes otherwise. */
  body: unknown;
}
