// Installs models: download (resumable, retried, cancellable, with progress) → verify size and SHA-256 →
// commit to the file store → record in IndexedDB once every file is verified. DOM-free: runs in the models
// worker and in Node tests.
import { throwIfAborted } from '../core/run';
import { hashChunks, streamChunks } from '../core/hash';
import { type InstalledFile, type InstalledModel } from '../storage/records';
import { downloadFile, type DownloadRun } from './download';
import { matchesCatalog, type ModelDeps } from './inventory';
import { Meter } from './progress';
import { browserQuota, checkQuota, type QuotaFn } from './quota';
import { formatBytes, type CatalogEntry, type InstallProgressFn } from './types';

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
    meter.done(bytes, `${entry.name} is already installed.`);
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

  const run: DownloadRun = {
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
  meter.done(bytes, `${entry.name} is installed (${formatBytes(bytes)}).`);
  return record;
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
