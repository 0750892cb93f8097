import { errorKind } from '../core/errors';
import type { JobRecord } from '../storage/records';
import type { InstallStatus } from '../models/installing';

/** Error codes of the documented shape `{"error": {"code", "message", …details}}` (see docs/api.md). */
export type ErrorCode =
  | 'bad_request'
  | 'unauthorized'
  | 'forbidden'
  | 'not_found'
  | 'method_not_allowed'
  | 'file_too_large'
  | 'unsupported_media_type'
  | 'rate_limited'
  | 'internal_error'
  | 'not_implemented'
  | 'engine_unavailable'
  | 'engine_crashed'
  | 'model_not_installed'
  | 'model_loading'
  | 'storage_full'
  | 'cancelled';

const STATUS: Record<ErrorCode, number> = {
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

/** An error that maps one-to-one onto an HTTP error response. Thrown anywhere below a handler. */
export class ApiError extends Error {
  override name = 'ApiError';
  readonly status: number;
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details: Record<string, unknown> = {},
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.status = STATUS[code];
  }
}

export const badRequest = (message: string, details: Record<string, unknown> = {}) =>
  new ApiError('bad_request', message, details);
export const notFound = (message: string) => new ApiError('not_found', message);

export function errorBody(code: ErrorCode | string, message: string, details: Record<string, unknown> = {}) {
  return { error: { ...details, code, message } };
}

export function errorResponse(err: ApiError): Response {
  return new Response(JSON.stringify(errorBody(err.code, err.message, err.details)), {
    status: err.status,
    headers: { 'Content-Type': 'application/json', ...err.headers },
  });
}

/** Turns anything thrown into an ApiError, never leaking a stack or exception text beyond the message. */
export function toApiError(e: unknown): ApiError {
  if (e instanceof ApiError) return e;
  const kind = errorKind(e);
  if (!kind) return new ApiError('internal_error', 'Internal error while handling the request.');
  const message = String((e as { message?: unknown }).message ?? '');
  if (kind === 'cancelled') return new ApiError('cancelled', 'The job was cancelled.');
  // Ours already says what was not saved and what to free; only the browser's own is worded here.
  if (kind === 'storage_full' && (e as { name: unknown }).name === 'StorageFullError')
    return new ApiError('storage_full', message);
  if (kind === 'storage_full')
    return new ApiError(
      'storage_full',
      `Browser storage is full: ${message || 'quota exceeded'}. Nothing was stored.`,
    );
  return new ApiError(kind, message);
}

const isErrorCode = (code: string): code is ErrorCode => Object.hasOwn(STATUS, code);

/**
 * A failed or cancelled job as the API error it stands for: the same on every route. The code recorded
 * came from toApiError, so any known one is kept; anything else (an old record) is an internal error.
 */
export function jobError(done: JobRecord, fallbackMessage: string): ApiError {
  const code = done.error?.code;
  return new ApiError(
    code !== undefined && isErrorCode(code) ? code : 'internal_error',
    done.error?.message ?? fallbackMessage,
    { job_id: done.id },
  );
}

/**
 * A model still being installed (`model_loading`) with what a client needs to come back: `Retry-After`
 * (the install's ETA, within 2–20 s, as the model asked for may come before the rest of its set; 5
 * when unknown) and the install's progress, when one is heard of.
 */
export function modelLoading(err: ApiError, install: InstallStatus | null): ApiError {
  const eta = install?.eta_seconds;
  const retry = eta != null && eta > 0 ? Math.min(20, Math.max(2, Math.ceil(eta))) : 5;
  return new ApiError(
    'model_loading',
    err.message,
    { ...err.details, retry_after: retry, ...(install ? { install } : {}) },
    { ...err.headers, 'Retry-After': String(retry) },
  );
}
