/** Messages between a parent page and `/embed.html`. The first goes through window.postMessage with a
 * port; every later one travels on that MessagePort. */
export interface ConnectMessage {
  type: 'timbre:connect';
  key: string;
}

/**
 * Why a connect was refused. `storage_access_required`: the embed is on another site and needs the
 * user's click on "Use Timbre on this site" inside the frame; `storage_access_denied`: the browser
 * refused or does not offer that access (the frame then offers the site's own storage);
 * `storage_unavailable`: the storage the embed would use cannot be opened (blocked or failing);
 * `engine_unavailable`: the engine worker did not start; `timeout`: a step of start-up did not finish.
 */
export type EmbedRefusalCode =
  | 'unauthorized'
  | 'forbidden'
  | 'storage_access_required'
  | 'storage_access_denied'
  | 'storage_unavailable'
  | 'engine_unavailable'
  | 'timeout'
  | 'internal_error';

/** Where the embed keeps keys, voices and models: the studio's own, or the embedding site's partition. */
export type EmbedStorageMode = 'studio' | 'partition';

export type EmbedReply =
  | { type: 'timbre:ready'; version: string; storage: EmbedStorageMode }
  | { type: 'timbre:refused'; error: { code: EmbedRefusalCode; message: string } };

/**
 * Posted by the frame to its parent window, on its own (not on a port). `timbre:loaded`: the frame
 * listens for `timbre:connect`. `timbre:storage`: the user answered the frame's storage step; connect
 * again (with `key` when the frame created one for the site's own storage, sent only to the parent's
 * origin). `timbre:models`: progress of a model install into the site's own storage.
 */
export type EmbedNotice =
  | { type: 'timbre:loaded' }
  | {
      type: 'timbre:storage';
      granted: boolean;
      storage: EmbedStorageMode;
      key?: string;
      error?: { code: EmbedRefusalCode; message: string };
    }
  | { type: 'timbre:models'; model: string; done: boolean; fraction: number; error?: string };

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
