// What is on this device: the catalogue merged with the installed records and the file store, the storage
// summary, and deleting a model.
import type { ModelRecords } from '../storage/models';
import { type InstalledFile } from '../storage/records';
import { browserQuota, type QuotaFn } from './quota';
import type { ModelFileStore } from './store';
import type { CatalogEntry, CatalogFile, ModelStatus, StorageSummary } from './types';

export interface ModelDeps {
  store: ModelFileStore;
  registry: ModelRecords;
  /** Wall-clock time for records (epoch ms). */
  now?: () => number;
}

/** A recorded file is still the catalogue's: same SHA-256 and size wherever the catalogue pins them. */
export function matchesCatalog(rec: InstalledFile, f: CatalogFile): boolean {
  return (
    (f.sha256 === null || rec.sha256 === f.sha256.toLowerCase()) &&
    (f.bytes === null || rec.bytes === f.bytes)
  );
}

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
