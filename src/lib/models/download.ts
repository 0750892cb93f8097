// Downloading one model file: fetch with a Range to resume a partial, retries with backoff, stall detection,
// hashing as the bytes arrive, then size and SHA-256 checks before the file is committed to the store.
import { CancelledError } from '../core/run';
import { resumeHash, StreamingSha256 } from '../core/hash';
import { isQuotaError } from '../storage/errors';
import { type InstalledFile } from '../storage/records';
import type { Meter } from './progress';
import { checkQuota, type QuotaFn } from './quota';
import type { ModelFileStore } from './store';
import {
  formatBytes,
  ModelDownloadError,
  ModelIntegrityError,
  ModelQuotaError,
  type CatalogEntry,
  type CatalogFile,
} from './types';

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(new CancelledError(CANCELLED));
    const onAbort = () => {
      clearTimeout(t);
      reject(new CancelledError(CANCELLED));
    };
    const t = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

const CANCELLED =
  'The download was cancelled; what was fetched is kept and the next install resumes from it.';

/** A failure worth another attempt (network error, early end, stall, 5xx). */
class RetryableError extends Error {
  constructor(
    message: string,
    readonly status: number | null = null,
    readonly retryAfterMs = 0,
  ) {
    super(message);
  }
}

function isFatal(e: unknown): boolean {
  return (
    e instanceof ModelIntegrityError ||
    e instanceof ModelQuotaError ||
    e instanceof ModelDownloadError ||
    e instanceof CancelledError
  );
}

function describe(e: unknown): string {
  if (e instanceof Error) {
    const cause = (e as { cause?: unknown }).cause;
    const why = cause instanceof Error && cause.message ? ` (${cause.message})` : '';
    return e.message + why;
  }
  return String(e);
}

function retryableStatus(status: number): boolean {
  return status === 408 || status === 425 || status === 429 || status >= 500;
}

/** `bytes a-b/total` or `bytes *\/total`. */
function parseContentRange(h: string | null): { start: number | null; total: number | null } | null {
  const m = h ? /^bytes\s+(?:(\d+)-(\d+)|\*)\/(\d+|\*)$/i.exec(h.trim()) : null;
  if (!m) return null;
  return { start: m[1] !== undefined ? Number(m[1]) : null, total: m[3] === '*' ? null : Number(m[3]) };
}

/** Content-Length of a response whose body is not re-encoded (fetch decodes gzip, lengths then lie). */
function bodyLength(res: Response): number | null {
  const enc = res.headers.get('Content-Encoding');
  if (enc && enc !== 'identity') return null;
  const n = Number(res.headers.get('Content-Length') ?? NaN);
  return Number.isFinite(n) && n >= 0 ? n : null;
}

/** One install's settings and running byte counts, shared by the downloads of its files. */
export interface DownloadRun {
  entry: CatalogEntry;
  store: ModelFileStore;
  fetch: typeof fetch;
  signal: AbortSignal | undefined;
  now: () => number;
  quota: QuotaFn;
  retries: number;
  backoffMs: number;
  maxBackoffMs: number;
  stallMs: number;
  meter: Meter;
  /** Bytes of the model's files already finished (for `done`). */
  finished: number;
  /** Bytes of the whole model as far as known (for `total`). */
  total: number;
}

/**
 * Downloads, verifies and commits one file of `run.entry`, resuming a partial left by an earlier attempt.
 * Adds the file's bytes to `run.total` when the catalogue does not pin its size.
 */
export async function downloadFile(run: DownloadRun, f: CatalogFile): Promise<InstalledFile> {
  const { entry, store, signal, meter } = run;
  const id = entry.id;
  const url = f.url;
  let failures = 0;
  let highWater = 0;
  let hasher: StreamingSha256 | null = null;
  let offset = 0;
  let fileTotal = f.bytes ?? 0;
  const report = (stage: string, force = false) =>
    meter.emit(
      {
        stage,
        file: f.path,
        done: run.finished + offset,
        total: run.total,
        fileDone: offset,
        fileTotal,
      },
      force,
    );
  const discard = async (why: string): Promise<never> => {
    await store.removePartial(id, f.path).catch(() => undefined);
    throw new ModelIntegrityError(`${entry.name}: ${f.path} ${why}; the download was discarded.`);
  };

  attempts: for (;;) {
    if (signal?.aborted) {
      await store.flush(id, f.path).catch(() => undefined);
      throw new CancelledError(CANCELLED);
    }
    offset = await store.partialSize(id, f.path);
    if (f.bytes !== null && offset > f.bytes) {
      await store.removePartial(id, f.path);
      offset = 0;
    }
    if (!hasher || hasher.bytes !== offset) {
      if (offset > 0) report('verify', true);
      hasher = offset > 0 ? await resumeHash(store.readPartial(id, f.path)) : new StreamingSha256();
      if (hasher.bytes !== offset) {
        await store.removePartial(id, f.path);
        offset = 0;
        hasher = new StreamingSha256();
      }
    }
    if (f.bytes !== null && offset === f.bytes) break; // finished in an earlier session: verify below
    report('download', true);

    const attempt = new AbortController();
    const onAbort = () => attempt.abort(signal?.reason);
    signal?.addEventListener('abort', onAbort, { once: true });
    let stalled = false;
    let stallTimer: ReturnType<typeof setTimeout> | undefined;
    const armStall = () => {
      clearTimeout(stallTimer);
      stallTimer = setTimeout(() => {
        stalled = true;
        attempt.abort();
      }, run.stallMs);
    };
    try {
      armStall();
      const headers: Record<string, string> = {};
      if (offset > 0) headers['Range'] = `bytes=${offset}-`;
      const res = await run.fetch(url, { headers, signal: attempt.signal, cache: 'no-store' });

      if (res.status === 416) {
        const cr = parseContentRange(res.headers.get('Content-Range'));
        await res.body?.cancel().catch(() => undefined);
        if (cr?.total === offset && (f.bytes === null || f.bytes === offset)) {
          fileTotal = offset;
          break attempts; // the partial was already whole
        }
        await store.removePartial(id, f.path);
        hasher = null;
        throw new RetryableError(`the server refused to resume at byte ${offset} (HTTP 416)`, 416);
      }
      if (!res.ok) {
        await res.body?.cancel().catch(() => undefined);
        const what = `HTTP ${res.status}${res.statusText ? ` ${res.statusText}` : ''}`;
        if (!retryableStatus(res.status))
          throw new ModelDownloadError(
            `Could not download ${f.path} of ${entry.name}: ${what} from ${url}.`,
            url,
            res.status,
          );
        const ra = Number(res.headers.get('Retry-After'));
        throw new RetryableError(what, res.status, Number.isFinite(ra) ? ra * 1000 : 0);
      }
      if (!res.body) throw new RetryableError('the response had no body', res.status);

      let start = 0;
      let serverTotal: number | null = null;
      const length = bodyLength(res);
      if (res.status === 206) {
        const cr = parseContentRange(res.headers.get('Content-Range'));
        if (!cr || cr.start === null || (cr.start !== offset && cr.start !== 0)) {
          await res.body.cancel().catch(() => undefined);
          await store.removePartial(id, f.path);
          hasher = null;
          throw new RetryableError(`the server answered an unexpected range (${cr?.start ?? '?'})`, 206);
        }
        start = cr.start;
        serverTotal = cr.total;
      } else if (length !== null) {
        serverTotal = length;
      }
      if (start === 0 && offset > 0) {
        // The server ignored the Range (200) or restarted: begin again; the first append truncates.
        offset = 0;
        hasher = new StreamingSha256();
      }
      if (serverTotal !== null) {
        if (f.bytes !== null && serverTotal !== f.bytes) {
          await res.body.cancel().catch(() => undefined);
          await discard(`is ${serverTotal} bytes on the server, but ${f.bytes} are pinned`);
        }
        if (f.bytes === null && fileTotal === 0) {
          fileTotal = serverTotal;
          run.total += serverTotal;
          await checkQuota(entry.name, serverTotal - offset, run.quota);
        }
      }
      const end = f.bytes ?? serverTotal ?? (length !== null ? start + length : null);

      const reader = res.body.getReader();
      try {
        for (;;) {
          const { done, value } = await reader.read();
          if (done) break;
          if (!value || value.byteLength === 0) continue;
          armStall();
          if (f.bytes !== null && offset + value.byteLength > f.bytes)
            await discard(`is longer than the ${f.bytes} bytes pinned`);
          try {
            await store.append(id, f.path, value, offset);
          } catch (e) {
            if (isQuotaError(e)) {
              const left = (end ?? offset) - offset;
              throw new ModelQuotaError(
                `Storage ran out while saving ${entry.name}: ${f.path} needs ${formatBytes(left)} more. ` +
                  'Free space, then install again to resume.',
                left,
                0,
              );
            }
            throw e;
          }
          hasher.update(value);
          offset += value.byteLength;
          meter.add(value.byteLength);
          if (offset > highWater) {
            highWater = offset;
            failures = 0; // progress: the next failure is a first one again
          }
          report('download');
        }
      } finally {
        reader.releaseLock();
      }
      if (end !== null && offset < end)
        throw new RetryableError(`the connection ended early (${offset} of ${end} bytes)`, res.status);
      if (fileTotal === 0) fileTotal = offset;
      break;
    } catch (e) {
      if (signal?.aborted) {
        await store.flush(id, f.path).catch(() => undefined);
        throw new CancelledError(CANCELLED);
      }
      if (isFatal(e)) {
        await store.flush(id, f.path).catch(() => undefined);
        throw e;
      }
      const lastError = stalled ? new Error(`no data for ${Math.round(run.stallMs / 1000)} s`) : e;
      const lastStatus =
        e instanceof RetryableError && e.status !== null && e.status >= 400 ? e.status : null;
      await store.flush(id, f.path).catch(() => undefined);
      failures++;
      if (failures > run.retries)
        throw new ModelDownloadError(
          `Could not download ${f.path} of ${entry.name} from ${url} after ${failures} attempt${failures === 1 ? '' : 's'} ` +
            `(last: ${describe(lastError)}).`,
          url,
          lastStatus,
        );
      const wait = Math.min(run.maxBackoffMs, run.backoffMs * 2 ** (failures - 1));
      const retryAfter = e instanceof RetryableError ? Math.min(run.maxBackoffMs, e.retryAfterMs) : 0;
      meter.emit(
        {
          stage: 'download',
          file: f.path,
          done: run.finished + offset,
          total: run.total,
          fileDone: offset,
          fileTotal,
          message: `Retrying ${f.path} (${describe(lastError)})`,
        },
        true,
      );
      await sleep(Math.max(wait, retryAfter), signal);
    } finally {
      clearTimeout(stallTimer);
      signal?.removeEventListener('abort', onAbort);
      attempt.abort(); // tears down a body left unread (no effect after a complete one)
    }
  }

  report('verify', true);
  if (f.bytes !== null && offset !== f.bytes) await discard(`is ${offset} bytes, but ${f.bytes} are pinned`);
  const digest = hasher!.hex();
  if (f.sha256 !== null && digest !== f.sha256.toLowerCase())
    await discard(`does not match its pinned SHA-256 (got ${digest}, expected ${f.sha256.toLowerCase()})`);
  await store.commit(id, f.path);
  report('verify', true);
  return { path: f.path, bytes: offset, sha256: digest, verified_at: run.now(), pinned: f.sha256 !== null };
}
