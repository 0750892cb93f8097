// Importing a model from files the user picks (a dropped folder or files): matched to the catalogue entry,
// checked, written, and committed all or nothing.
import { CancelledError, throwIfAborted } from '../core/run';
import { StreamingSha256, streamChunks } from '../core/hash';
import { isQuotaError } from '../storage/errors';
import { type InstalledFile, type InstalledModel } from '../storage/records';
import type { InstallOptions } from './install';
import { Meter } from './progress';
import { browserQuota, checkQuota } from './quota';
import {
  formatBytes,
  ModelImportError,
  ModelIntegrityError,
  ModelQuotaError,
  type CatalogEntry,
} from './types';

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
  meter.done(total, `${entry.name} was imported (${formatBytes(total)}).`);
  return record;
}
