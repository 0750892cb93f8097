import { expect } from 'vitest';
import { SCOPES, type Scope } from '../../src/lib/auth/scopes';
import type { ApiContext } from '../../src/lib/api/context';
import type { Router } from '../../src/lib/api/router';
import { CancelledError, type RunOptions } from '../../src/lib/core/run';

/** The documented error body: `{"error": {"code", "message", …details}}`. */
export interface ErrorBody {
  code: string;
  message: string;
  field?: string;
  scope?: string;
  retry_after?: number;
  limit_bytes?: number;
  [k: string]: unknown;
}

/** Error code → HTTP status, as documented (src/lib/api/errors.ts). Written out here on purpose. */
export const ERROR_STATUS: Record<string, number> = {
  bad_request: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  method_not_allowed: 405,
  file_too_large: 413,
  unsupported_media_type: 415,
  rate_limited: 429,
  internal_error: 500,
  not_implemented: 501,
  engine_unavailable: 503,
  engine_crashed: 500,
  model_not_installed: 503,
  model_loading: 503,
  storage_full: 507,
  cancelled: 499,
};

/** Reads an error response, checks the documented shape and that code and status agree. */
export async function errorOf(res: Response, status?: number, code?: string): Promise<ErrorBody> {
  const text = await res.text();
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new Error(`Error body is not JSON (status ${res.status}): ${text.slice(0, 200)}`);
  }
  expect(res.headers.get('Content-Type')).toMatch(/^application\/json/);
  expect(body).toMatchObject({ error: { code: expect.any(String), message: expect.any(String) } });
  const err = (body as { error: ErrorBody }).error;
  expect(ERROR_STATUS[err.code], `unknown error code ${err.code}`).toBeDefined();
  expect(res.status, `status ${res.status} does not match code ${err.code}: ${err.message}`).toBe(
    ERROR_STATUS[err.code],
  );
  if (status !== undefined) expect(res.status, `${err.code}: ${err.message}`).toBe(status);
  if (code !== undefined) expect(err.code, err.message).toBe(code);
  return err;
}

/** Reads a JSON success body, failing with the error message when the status is not the expected one. */
export async function okJson<T = Record<string, unknown>>(res: Response, status = 200): Promise<T> {
  const text = await res.text();
  expect(res.status, text.slice(0, 300)).toBe(status);
  return JSON.parse(text) as T;
}

/** A key with every scope and very high limits. */
export const HIGH_LIMITS: Record<Scope, number> = Object.fromEntries(
  SCOPES.map((s) => [s, 100_000]),
) as Record<Scope, number>;

/** Replaces every `{param}` of a route path. */
export function fillPath(path: string, id: string): string {
  return path.replace(/\{\w+\}/g, encodeURIComponent(id));
}

export { mulberry32 } from '../../src/lib/core/random';

/**
 * A real RIFF/WAVE file: 16-bit PCM, a sine of `freq` Hz. Written by hand so the duration is known exactly:
 * `seconds * sampleRate` frames.
 */
export function makeWav(opts: {
  seconds: number;
  sampleRate: number;
  channels?: number;
  freq?: number;
}): Uint8Array<ArrayBuffer> {
  const channels = opts.channels ?? 1;
  const freq = opts.freq ?? 440;
  const frames = Math.round(opts.seconds * opts.sampleRate);
  const dataLen = frames * channels * 2;
  const buf = new ArrayBuffer(44 + dataLen);
  const v = new DataView(buf);
  const ascii = (at: number, s: string) => {
    for (let i = 0; i < s.length; i++) v.setUint8(at + i, s.charCodeAt(i));
  };
  ascii(0, 'RIFF');
  v.setUint32(4, 36 + dataLen, true);
  ascii(8, 'WAVE');
  ascii(12, 'fmt ');
  v.setUint32(16, 16, true); // fmt chunk size
  v.setUint16(20, 1, true); // PCM
  v.setUint16(22, channels, true);
  v.setUint32(24, opts.sampleRate, true);
  v.setUint32(28, opts.sampleRate * channels * 2, true); // byte rate
  v.setUint16(32, channels * 2, true); // block align
  v.setUint16(34, 16, true); // bits per sample
  ascii(36, 'data');
  v.setUint32(40, dataLen, true);
  for (let i = 0; i < frames; i++) {
    const s = Math.round(Math.sin((2 * Math.PI * freq * i) / opts.sampleRate) * 0.5 * 32767);
    for (let c = 0; c < channels; c++) v.setInt16(44 + (i * channels + c) * 2, s, true);
  }
  return new Uint8Array(buf);
}

export function toBase64(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('base64');
}

/** Polls until `fn` returns a truthy value or the time runs out. */
export async function until<T>(
  fn: () => Promise<T | null | undefined | false>,
  ms = 10_000,
  every = 20,
): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`condition not met within ${ms} ms`);
    await new Promise((r) => setTimeout(r, every));
  }
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/**
 * An engine whose jobs wait (without using the CPU) until cancelled or until `ms` pass. In-process compute
 * jobs hold the event loop for a slice at a time, so two of them at once starve everything else in Node;
 * the real engine runs them in a worker, one per model. This one lets tests run many long jobs at once.
 */
export function waitingEngine(ms = 30_000, calls: string[] = []): ApiContext['engine'] {
  return {
    hostCount: async () => 1,
    run: ((op: string, args: unknown, opts?: RunOptions) =>
      new Promise<unknown>((resolve, reject) => {
        calls.push(op);
        if (opts?.signal?.aborted) return reject(new CancelledError());
        const t = setTimeout(
          () =>
            resolve({
              gflops: 1,
              size: (args as { size?: number }).size ?? 0,
              repeats: 1,
              seconds: ms / 1000,
            }),
          ms,
        );
        opts?.onProgress?.({ stage: 'waiting', done: 0, total: ms });
        opts?.signal?.addEventListener(
          'abort',
          () => {
            clearTimeout(t);
            reject(new CancelledError());
          },
          { once: true },
        );
      })) as unknown as ApiContext['engine']['run'],
  };
}

/** The same request helper as setup().call, against any context (e.g. one with another engine). */
export function caller(router: Router, ctx: ApiContext) {
  return (
    method: string,
    path: string,
    init: {
      key?: string;
      body?: unknown;
      raw?: BodyInit;
      headers?: Record<string, string>;
      bearer?: boolean;
    } = {},
  ) => {
    const headers: Record<string, string> = { ...(init.headers ?? {}) };
    if (init.key)
      headers[init.bearer ? 'Authorization' : 'X-API-Key'] = init.bearer ? `Bearer ${init.key}` : init.key;
    let body: BodyInit | undefined = init.raw;
    if (init.body !== undefined) {
      body = JSON.stringify(init.body);
      headers['Content-Type'] ??= 'application/json';
    }
    return router.handle(new Request(`http://127.0.0.1:4173${path}`, { method, headers, body }), ctx);
  };
}
