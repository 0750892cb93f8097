// Installs models: download (resumable, retried, cancellable, with progress) → verify size and SHA-256 →
// commit to the file store → record in IndexedDB once every file is verified. Also import from disk,
// delete, and the merged list. DOM-free: runs in the models worker and in Node tests.
import { CancelledError, throwIfAborted } from '../core/run';
import { isQuotaError } from '../storage/errors';
import type { ModelRecords } from '../storage/models';
import { hashChunks, resumeHash, StreamingSha256, streamChunks } from '../core/hash';
import type { ModelFileStore } from './store';
import {
  formatBytes,
  ModelDownloadError,
  ModelImportError,
  ModelIntegrityError,
  ModelQuotaError,
  type CatalogEntry,
  type CatalogFile,
  type InstallProgress,
  type InstallProgressFn,
  type ModelStatus,
  type StorageSummary,
} from './types';
import { type InstalledFile, type InstalledModel } from '../storage/records';

export interface QuotaInfo {
  usage: number;
  quota: number;
}
/** Usage and quota of the origin, or null when the browser does not tell. */
export type QuotaFn = () => Promise<QuotaInfo | null>;

export interface ModelDeps {
  store: ModelFileStore;
  registry: ModelRecords;
  /** Wall-clock time for records (epoch ms). */
  now?: () => number;
}

export interface InstallOptions extends ModelDeps {
  fetch?: typeof fetch;
  signal?: AbortSignal;
  onProgress?: InstallProgressFn;
  /** Consecutive failed attempts allowed per file after the first (reset whenever bytes advance). */
  retries?: number;
  /** First retry delay; doubles each consecutive failure, up to `maxBackoffMs`. */
  backoffMs?: number;
  maxBackoffMs?: number;
  /** An attempt that receives nothing for this long is dropped and retried. */
  stallMs?: number;
  /** At most one progress report per this many ms (besides file starts and ends). */
  progressIntervalMs?: number;
  /** Monotonic ms for speed (performance.now by default). */
  clock?: () => number;
  /** Defaults to navigator.storage.estimate() where there is one. */
  quota?: QuotaFn;
}

/** A dropped file: a DOM File satisfies this (give `path` from webkitRelativePath when there is one). */
export interface ImportFile {
  path?: string;
  name: string;
  size: number;
  stream?(): ReadableStream<Uint8Array>;
  arrayBuffer?(): Promise<ArrayBuffer>;
}

export type ImportOptions = Omit<
  InstallOptions,
  'fetch' | 'retries' | 'backoffMs' | 'maxBackoffMs' | 'stallMs'
>;

/** navigator.storage.estimate() of this global scope, or null. */
export async function browserQuota(g: object = globalThis): Promise<QuotaInfo | null> {
  try {
    const nav = (g as { navigator?: { storage?: { estimate?: () => Promise<StorageEstimate> } } }).navigator;
    const est = await nav?.storage?.estimate?.();
    if (!est || typeof est.quota !== 'number') return null;
    return { usage: est.usage ?? 0, quota: est.quota };
  } catch {
    return null;
  }
}

async function checkQuota(name: string, needed: number, quota: QuotaFn): Promise<void> {
  if (needed <= 0) return;
  const q = await quota();
  if (!q) return;
  const free = q.quota - q.usage;
  if (needed > free) throw ModelQuotaError.forModel(name, needed, free);
}

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

function matchesCatalog(rec: InstalledFile, f: CatalogFile): boolean {
  return (
    (f.sha256 === null || rec.sha256 === f.sha256.toLowerCase()) &&
    (f.bytes === null || rec.bytes === f.bytes)
  );
}

// ---------------------------------------------------------------------------------------------------------
// Progress

class Meter {
  private samples: { t: number; n: number }[] = [];
  private received = 0;
  private lastEmit = -Infinity;
  private speed = 0;

  constructor(
    private readonly onProgress: InstallProgressFn | undefined,
    private readonly clock: () => number,
    private readonly interval: number,
  ) {}

  /** Counts bytes that arrived from the network (for speed). */
  add(n: number): void {
    this.received += n;
    const t = this.clock();
    this.samples.push({ t, n: this.received });
    while (this.samples.length > 2 && t - this.samples[1]!.t > 5000) this.samples.shift();
    const first = this.samples[0]!;
    const dt = (t - first.t) / 1000;
    if (dt > 0) this.speed = (this.received - first.n) / dt;
  }

  emit(
    p: Omit<InstallProgress, 'bytesPerSecond' | 'etaSeconds' | 'message'> & { message?: string },
    force = false,
  ): void {
    if (!this.onProgress) return;
    const t = this.clock();
    if (!force && t - this.lastEmit < this.interval) return;
    this.lastEmit = t;
    const remaining = p.total > 0 ? Math.max(0, p.total - p.done) : null;
    const eta =
      remaining === 0 ? 0 : remaining !== null && this.speed > 0 ? Math.round(remaining / this.speed) : null;
    const message =
      p.message ??
      `${p.stage === 'download' ? 'Downloading' : p.stage === 'verify' ? 'Checking' : 'Storing'} ${p.file}: ` +
        `${formatBytes(p.done)}${p.total ? ` of ${formatBytes(p.total)}` : ''}`;
    this.onProgress({ ...p, message, bytesPerSecond: Math.round(this.speed), etaSeconds: eta });
  }
}

// ---------------------------------------------------------------------------------------------------------
// Install

interface Run {
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
 * Installs a catalogue entry. Files already verified are skipped; partial files resume with a Range request.
 * Throws ModelQuotaError before any download when the space is short, ModelIntegrityError on bytes that do
 * not match (the file is discarded), ModelDownloadError when the retries run out or the server refuses for
 * good, CancelledError when `signal` aborts (partials are kept for the next install).
 */
export async function installModel(entry: CatalogEntry, opts: InstallOptions): Promise<InstalledModel> {
  const { store, registry, signal } = opts;
  const now = opts.now ?? Date.now;
  throwIfAborted(signal);
  const clock = opts.clock ?? (() => performance.now());
  const meter = new Meter(opts.onProgress, clock, opts.progressIntervalMs ?? 100);
  const existing = await registry.get(entry.id);

  // Which files are already verified: recorded and on disk, or committed by an interrupted install.
  const verified = new Map<string, InstalledFile>();
  let fresh = false;
  for (const f of entry.files) {
    const rec = existing?.files.find((r) => r.path === f.path);
    const onDisk = await store.size(entry.id, f.path);
    if (rec && onDisk === rec.bytes && matchesCatalog(rec, f)) {
      verified.set(f.path, rec);
      continue;
    }
    if (onDisk !== null && (f.bytes === null || onDisk === f.bytes)) {
      meter.emit({ stage: 'verify', file: f.path, done: 0, total: 0, fileDone: 0, fileTotal: onDisk }, true);
      const blob = await store.read(entry.id, f.path);
      const h = await hashChunks(streamChunks(blob.stream() as ReadableStream<Uint8Array>));
      const digest = h.hex();
      if (f.sha256 === null || digest === f.sha256.toLowerCase()) {
        verified.set(f.path, {
          path: f.path,
          bytes: onDisk,
          sha256: digest,
          verified_at: now(),
          pinned: f.sha256 !== null,
        });
        fresh = true;
      }
    }
  }
  throwIfAborted(signal);
  const todo = entry.files.filter((f) => !verified.has(f.path));
  if (existing && todo.length === 0 && !fresh && existing.files.length === entry.files.length) {
    const bytes = existing.files.reduce((a, f) => a + f.bytes, 0);
    meter.emit(
      {
        stage: 'done',
        file: '',
        done: bytes,
        total: bytes,
        fileDone: 0,
        fileTotal: 0,
        message: `${entry.name} is already installed.`,
      },
      true,
    );
    return existing;
  }

  const quota = opts.quota ?? (() => browserQuota());
  let needed = 0;
  let partials = 0;
  for (const f of todo) {
    const part = await store.partialSize(entry.id, f.path);
    partials += part;
    if (f.bytes !== null) needed += Math.max(0, f.bytes - part);
  }
  const verifiedBytes = [...verified.values()].reduce((a, r) => a + r.bytes, 0);
  if (todo.some((f) => f.bytes === null) && entry.approx_bytes)
    needed = Math.max(needed, entry.approx_bytes - verifiedBytes - partials);
  meter.emit(
    { stage: 'check', file: '', done: 0, total: 0, fileDone: 0, fileTotal: 0, message: 'Checking space' },
    true,
  );
  await checkQuota(entry.name, needed, quota);

  const run: Run = {
    entry,
    store,
    fetch: opts.fetch ?? ((input, init) => globalThis.fetch(input, init)),
    signal,
    now,
    quota,
    retries: opts.retries ?? 4,
    backoffMs: opts.backoffMs ?? 500,
    maxBackoffMs: opts.maxBackoffMs ?? 30_000,
    stallMs: opts.stallMs ?? 30_000,
    meter,
    finished: verifiedBytes,
    total: entry.files.reduce((a, f) => a + (f.bytes ?? verified.get(f.path)?.bytes ?? 0), 0),
  };
  if (todo.some((f) => f.bytes === null) && entry.approx_bytes)
    run.total = Math.max(run.total, entry.approx_bytes);

  for (const f of todo) {
    const rec = await downloadFile(run, f);
    verified.set(f.path, rec);
    run.finished += rec.bytes;
  }

  const record: InstalledModel = {
    id: entry.id,
    files: entry.files.map((f) => verified.get(f.path)!),
    installed_at: now(),
    origin: entry.bundled ? 'bundled' : 'download',
  };
  await registry.put(record);
  const bytes = record.files.reduce((a, f) => a + f.bytes, 0);
  meter.emit(
    {
      stage: 'done',
      file: '',
      done: bytes,
      total: bytes,
      fileDone: 0,
      fileTotal: 0,
      message: `${entry.name} is installed (${formatBytes(bytes)}).`,
    },
    true,
  );
  return record;
}

async function downloadFile(run: Run, f: CatalogFile): Promise<InstalledFile> {
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

/**
 * Installs several models one after another ("everything needed for offline use"): one quota check for
 * all of them first, then each install; progress counts bytes across all of them.
 */
export async function installMany(entries: CatalogEntry[], opts: InstallOptions): Promise<InstalledModel[]> {
  const { store } = opts;
  let needed = 0;
  const sizes: number[] = [];
  for (const e of entries) {
    const rec = await opts.registry.get(e.id);
    let size = 0;
    for (const f of e.files) {
      const bytes = f.bytes ?? 0;
      size += bytes;
      const done = rec?.files.some((r) => r.path === f.path && matchesCatalog(r, f));
      if (!done) needed += Math.max(0, bytes - (await store.partialSize(e.id, f.path)));
    }
    sizes.push(Math.max(size, e.approx_bytes ?? 0));
  }
  await checkQuota(
    entries.length === 1 ? entries[0]!.name : `${entries.length} models`,
    needed,
    opts.quota ?? (() => browserQuota()),
  );
  const total = sizes.reduce((a, b) => a + b, 0);
  const out: InstalledModel[] = [];
  let before = 0;
  for (const [i, e] of entries.entries()) {
    const onProgress = opts.onProgress;
    out.push(
      await installModel(e, {
        ...opts,
        onProgress: onProgress
          ? (p) =>
              onProgress({
                ...p,
                file: p.file ? `${e.id}/${p.file}` : e.id,
                done: before + p.done,
                total: Math.max(total, before + p.total),
                message: `${e.name} (${i + 1} of ${entries.length}): ${p.message ?? ''}`,
              })
          : undefined,
      }),
    );
    before += sizes[i]!;
  }
  return out;
}

/** Installs every catalogue entry marked `required`. */
export function installRequired(catalog: CatalogEntry[], opts: InstallOptions): Promise<InstalledModel[]> {
  return installMany(
    catalog.filter((e) => e.required),
    opts,
  );
}

// ---------------------------------------------------------------------------------------------------------
// Import from disk

function normPath(p: string): string {
  return p.replace(/\\/g, '/').replace(/^\/+/, '');
}

function basename(p: string): string {
  return p.slice(p.lastIndexOf('/') + 1);
}

/**
 * Pairs each catalogue file with a dropped file: by relative path (the dropped path equals the catalogue
 * path, or ends with "/" + it, fewest leading folders winning), else by file name (size breaking ties).
 * Throws ModelImportError naming every missing file, or a file with several candidates.
 */
export function matchImportFiles(entry: CatalogEntry, files: ImportFile[]): Map<string, ImportFile> {
  const out = new Map<string, ImportFile>();
  const used = new Set<ImportFile>();
  const missing: string[] = [];
  const ambiguous: string[] = [];
  for (const cf of entry.files) {
    const free = files.filter((f) => !used.has(f));
    const byPath = free
      .map((f) => ({ f, p: normPath(f.path || f.name) }))
      .filter(({ p }) => p === cf.path || p.endsWith('/' + cf.path))
      .map(({ f, p }) => ({ f, extra: p.length - cf.path.length }));
    const fewest = Math.min(...byPath.map((c) => c.extra));
    const candidates = byPath.length
      ? byPath.filter((c) => c.extra === fewest).map((c) => c.f)
      : free.filter((f) => basename(normPath(f.name)) === basename(cf.path));
    const bySize =
      candidates.length > 1 && cf.bytes !== null ? candidates.filter((f) => f.size === cf.bytes) : candidates;
    const pick = bySize.length === 1 ? bySize[0] : undefined;
    if (!pick && candidates.length > 1) {
      ambiguous.push(`${cf.path} (${candidates.map((f) => f.path || f.name).join(', ')})`);
      continue;
    }
    if (!pick) missing.push(cf.path);
    else {
      used.add(pick);
      out.set(cf.path, pick);
    }
  }
  if (missing.length || ambiguous.length)
    throw new ModelImportError(
      [
        missing.length ? `Missing from the dropped files of ${entry.name}: ${missing.join(', ')}.` : '',
        ambiguous.length
          ? `More than one dropped file could be ${ambiguous.join('; ')}: drop the model's folder so the paths tell them apart.`
          : '',
      ]
        .filter(Boolean)
        .join(' ') + ' Nothing was imported.',
    );
  return out;
}

async function* importChunks(f: ImportFile): AsyncGenerator<Uint8Array> {
  if (typeof f.stream === 'function') yield* streamChunks(f.stream());
  else if (typeof f.arrayBuffer === 'function') yield new Uint8Array(await f.arrayBuffer());
  else throw new ModelImportError(`${f.name} cannot be read.`);
}

/**
 * Imports a model from files on disk (a dropped folder or files). Every file is checked (size, and SHA-256
 * where pinned) and written as a partial; only when all are good are they committed and the model
 * recorded. Any failure removes what this import wrote: all or nothing.
 */
export async function importModelFiles(
  entry: CatalogEntry,
  files: ImportFile[],
  opts: ImportOptions,
): Promise<InstalledModel> {
  const { store, registry, signal } = opts;
  const now = opts.now ?? Date.now;
  throwIfAborted(signal);
  const matched = matchImportFiles(entry, files);
  for (const cf of entry.files) {
    const f = matched.get(cf.path)!;
    if (cf.bytes !== null && f.size !== cf.bytes)
      throw new ModelIntegrityError(
        `${f.path || f.name} is ${f.size} bytes, but ${cf.path} of ${entry.name} is ${cf.bytes} bytes. Nothing was imported.`,
      );
  }
  const total = entry.files.reduce((a, cf) => a + matched.get(cf.path)!.size, 0);
  await checkQuota(entry.name, total, opts.quota ?? (() => browserQuota()));
  const meter = new Meter(
    opts.onProgress,
    opts.clock ?? (() => performance.now()),
    opts.progressIntervalMs ?? 100,
  );
  const written: string[] = [];
  const records: InstalledFile[] = [];
  let done = 0;
  try {
    for (const cf of entry.files) {
      const f = matched.get(cf.path)!;
      written.push(cf.path);
      const h = new StreamingSha256();
      let offset = 0;
      for await (const chunk of importChunks(f)) {
        throwIfAborted(signal);
        if (offset + chunk.byteLength > (cf.bytes ?? f.size))
          throw new ModelIntegrityError(`${f.path || f.name} is longer than expected. Nothing was imported.`);
        try {
          await store.append(entry.id, cf.path, chunk, offset);
        } catch (e) {
          if (isQuotaError(e))
            throw new ModelQuotaError(
              `Storage ran out while importing ${entry.name}. Nothing was imported.`,
              total - done,
              0,
            );
          throw e;
        }
        h.update(chunk);
        offset += chunk.byteLength;
        done += chunk.byteLength;
        meter.add(chunk.byteLength);
        meter.emit({ stage: 'import', file: cf.path, done, total, fileDone: offset, fileTotal: f.size });
      }
      await store.flush(entry.id, cf.path);
      if (offset !== (cf.bytes ?? f.size))
        throw new ModelIntegrityError(
          `${f.path || f.name} gave ${offset} bytes, ${cf.bytes ?? f.size} expected. Nothing was imported.`,
        );
      const digest = h.hex();
      if (cf.sha256 !== null && digest !== cf.sha256.toLowerCase())
        throw new ModelIntegrityError(
          `${f.path || f.name} is not ${cf.path} of ${entry.name}: its SHA-256 is ${digest}, ` +
            `${cf.sha256.toLowerCase()} expected. Nothing was imported.`,
        );
      records.push({
        path: cf.path,
        bytes: offset,
        sha256: digest,
        verified_at: now(),
        pinned: cf.sha256 !== null,
      });
      meter.emit({ stage: 'import', file: cf.path, done, total, fileDone: offset, fileTotal: f.size }, true);
    }
  } catch (e) {
    for (const p of written) await store.removePartial(entry.id, p).catch(() => undefined);
    throw e;
  }
  const record: InstalledModel = { id: entry.id, files: records, installed_at: now(), origin: 'import' };
  if (signal?.aborted) {
    for (const p of written) await store.removePartial(entry.id, p).catch(() => undefined);
    throw new CancelledError('The import was cancelled; nothing was imported.');
  }
  try {
    for (const r of records) await store.commit(entry.id, r.path);
    await registry.put(record);
  } catch (e) {
    // Half-committed: leave nothing that looks installed.
    await store.remove(entry.id).catch(() => undefined);
    await registry.delete(entry.id).catch(() => undefined);
    throw e;
  }
  meter.emit(
    {
      stage: 'done',
      file: '',
      done: total,
      total,
      fileDone: 0,
      fileTotal: 0,
      message: `${entry.name} was imported (${formatBytes(total)}).`,
    },
    true,
  );
  return record;
}

// ---------------------------------------------------------------------------------------------------------
// Delete, list, summary

/** Removes a model's files (complete and partial) and its record. True when it was installed. */
export async function deleteModel(id: string, deps: ModelDeps): Promise<boolean> {
  await deps.store.remove(id);
  return deps.registry.delete(id);
}

/** The catalogue merged with what is on this device. */
export async function listModels(catalog: CatalogEntry[], deps: ModelDeps): Promise<ModelStatus[]> {
  const records = new Map((await deps.registry.list()).map((r) => [r.id, r]));
  const out: ModelStatus[] = [];
  for (const entry of catalog) {
    const rec = records.get(entry.id);
    let onDisk = 0;
    let partial = 0;
    let present = true;
    for (const f of entry.files) {
      const size = await deps.store.size(entry.id, f.path);
      partial += await deps.store.partialSize(entry.id, f.path);
      onDisk += size ?? 0;
      const r = rec?.files.find((x) => x.path === f.path);
      if (!r || size !== r.bytes) present = false;
    }
    const installed = Boolean(rec) && present;
    const files = rec?.files ?? [];
    // Files the installed record holds beyond the catalogue's (the converter's graphs, built on this device).
    for (const f of files)
      if (!entry.files.some((c) => c.path === f.path))
        onDisk += (await deps.store.size(entry.id, f.path)) ?? 0;
    out.push({
      ...entry,
      installed,
      verified:
        installed &&
        entry.files.every((f) => {
          const r = files.find((x) => x.path === f.path);
          return !!r && r.pinned && f.sha256 !== null && r.sha256 === f.sha256.toLowerCase();
        }),
      bytes_on_disk: onDisk + partial,
      partial_bytes: partial,
      installed_at: rec?.installed_at ?? null,
      origin: rec?.origin ?? null,
      update_available:
        installed &&
        entry.files.some((f) => {
          const r = files.find((x) => x.path === f.path);
          return !r || !matchesCatalog(r, f);
        }),
    });
  }
  return out;
}

/** Bytes used by models, how many are installed, and the origin's usage and quota where known. */
export async function storageSummary(deps: ModelDeps & { quota?: QuotaFn }): Promise<StorageSummary> {
  const q = await (deps.quota ?? (() => browserQuota()))();
  return {
    models_bytes: await deps.store.usage(),
    installed_count: (await deps.registry.list()).length,
    usage: q?.usage ?? null,
    quota: q?.quota ?? null,
    available: q ? Math.max(0, q.quota - q.usage) : null,
    backend: deps.store.kind,
  };
}
