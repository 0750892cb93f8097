/// <reference lib="webworker" />
// The models worker: wires the model manager of src/lib/models/ to comlink. Nothing else lives here.
// The page passes progress callbacks wrapped in comlink.proxy; errors arrive with their name and message
// (reviveModelError rebuilds them).
import { expose, transfer } from 'comlink';
import { openTimbreDB } from '../lib/storage/db';
import { ModelRegistry } from '../lib/storage/models';
import {
  CatalogError,
  customCatalogStore,
  fullCatalog,
  parseCustomCatalog,
  type CustomCatalog,
} from '../lib/models/catalog';
import { importModelFiles, type ImportFile } from '../lib/models/import-files';
import { installMany, installModel } from '../lib/models/install';
import { deleteModel, listModels, storageSummary } from '../lib/models/inventory';
import { pickModelStore } from '../lib/models/store';
import {
  ModelNotFoundError,
  type CatalogEntry,
  type InstallProgress,
  type ModelStatus,
  type StorageSummary,
} from '../lib/models/types';
import { type InstalledModel } from '../lib/storage/records';
import { announceInstall, modelLockName } from '../lib/models/installing';

const deps = (async () => {
  const db = await openTimbreDB();
  return { db, store: await pickModelStore(), registry: new ModelRegistry(db) };
})();

/** One AbortController per model being installed or imported. */
const running = new Map<string, AbortController>();

async function customCatalogs(): Promise<CustomCatalog[]> {
  return customCatalogStore((await deps).db).list();
}

async function catalog(): Promise<CatalogEntry[]> {
  return fullCatalog((await deps).db, self.location.href);
}

async function entry(id: string): Promise<CatalogEntry> {
  const e = (await catalog()).find((m) => m.id === id);
  if (!e) throw new ModelNotFoundError(`There is no model "${id}" in the catalogue.`);
  return e;
}

type LockManagerLike = {
  request<T>(name: string, opts: { signal?: AbortSignal }, fn: () => Promise<T>): Promise<T>;
};

/** Runs `fn` holding a per-model Web Lock where there is one, so two tabs never write one model at once. */
function exclusive<T>(ids: string[], signal: AbortSignal, fn: () => Promise<T>): Promise<T> {
  const locks = (navigator as { locks?: LockManagerLike }).locks;
  if (!locks) return fn();
  return ids.reduceRight<() => Promise<T>>(
    (inner, id) => () => locks.request(modelLockName(id), { signal }, inner),
    fn,
  )();
}

/** Registers one controller under every id, so cancel(id) stops it; refuses ids already busy. */
function claim(ids: string[]): { signal: AbortSignal; release: () => void } {
  const busy = ids.find((id) => running.has(id));
  if (busy) throw new Error(`Model ${busy} is already being installed.`);
  const ac = new AbortController();
  for (const id of ids) running.set(id, ac);
  return {
    signal: ac.signal,
    release: () => {
      for (const id of ids) if (running.get(id) === ac) running.delete(id);
    },
  };
}

/** Runs `fn` for these model ids: cancellable by cancel(id), and under their Web Locks. */
async function guarded<T>(
  ids: string[],
  fn: (signal: AbortSignal, d: Awaited<typeof deps>) => Promise<T>,
): Promise<T> {
  const { signal, release } = claim(ids);
  try {
    const d = await deps;
    return await exclusive(ids, signal, () => fn(signal, d));
  } finally {
    release();
  }
}

/**
 * Runs an install of `entries` with its progress announced to the origin (the engine worker and the
 * Service Worker tell "being installed" from "not installed" by it).
 */
async function announced<T>(
  entries: CatalogEntry[],
  onProgress: ((p: InstallProgress) => void) | undefined,
  run: (signal: AbortSignal, d: Awaited<typeof deps>, onProgress: (p: InstallProgress) => void) => Promise<T>,
): Promise<T> {
  const page = progressFn(onProgress);
  const news = announceInstall(
    entries.map((m) => m.id),
    entries.flatMap((m) => m.files.map((f) => `${m.id}/${f.path}`)),
  );
  try {
    return await guarded(
      entries.map((m) => m.id),
      (signal, d) =>
        run(signal, d, (p) => {
          news.progress(p);
          page?.(p);
        }),
    );
  } finally {
    news.end();
  }
}

/** Installs a set of models with one quota check and one combined progress. */
function installSet(
  entries: CatalogEntry[],
  onProgress?: (p: InstallProgress) => void,
): Promise<InstalledModel[]> {
  return announced(entries, onProgress, (signal, d, progress) =>
    installMany(entries, { ...d, signal, onProgress: progress }),
  );
}

function progressFn(onProgress?: (p: InstallProgress) => void) {
  // The callback's return value would be sent back over comlink: never return one.
  return onProgress ? (p: InstallProgress) => void onProgress(p) : undefined;
}

const api = {
  async list(): Promise<ModelStatus[]> {
    return listModels(await catalog(), await deps);
  },

  async install(id: string, onProgress?: (p: InstallProgress) => void): Promise<InstalledModel> {
    const e = await entry(id);
    return announced([e], onProgress, (signal, d, progress) =>
      installModel(e, { ...d, signal, onProgress: progress }),
    );
  },

  /** "Install everything needed for offline use": every required model, one quota check first. */
  async installRequired(onProgress?: (p: InstallProgress) => void): Promise<InstalledModel[]> {
    return installSet(
      (await catalog()).filter((m) => m.required),
      onProgress,
    );
  },

  /** Every bundled model, from the app's own origin (what the studio installs on first start). */
  async installBundled(onProgress?: (p: InstallProgress) => void): Promise<InstalledModel[]> {
    return installSet(
      (await catalog()).filter((m) => m.bundled),
      onProgress,
    );
  },

  /** Adds a catalogue by URL (a mirror or extra models); its entries are validated like the built-in ones. */
  async addCatalog(url: string): Promise<CustomCatalog> {
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      throw new CatalogError(`"${url}" is not a URL.`);
    }
    if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:')
      throw new CatalogError('A catalogue URL must start with https:// or http://.');
    let json: unknown;
    try {
      const res = await fetch(parsed.href, { cache: 'no-cache' });
      if (!res.ok) throw new CatalogError(`${parsed.href} answered HTTP ${res.status}.`);
      json = await res.json();
    } catch (e) {
      if (e instanceof CatalogError) throw e;
      throw new CatalogError(`Could not read a catalogue from ${parsed.href}: ${(e as Error).message}`);
    }
    const added: CustomCatalog = {
      url: parsed.href,
      models: parseCustomCatalog(json, parsed.href).models,
      added_at: Date.now(),
    };
    const store = customCatalogStore((await deps).db);
    await store.save([...(await store.list()).filter((c) => c.url !== added.url), added]);
    return added;
  },

  async removeCatalog(url: string): Promise<void> {
    const store = customCatalogStore((await deps).db);
    await store.save((await store.list()).filter((c) => c.url !== url));
  },

  customCatalogs,

  /** Stops an install or import of `id` (what was downloaded is kept for a resume). */
  cancel(id: string): boolean {
    const ac = running.get(id);
    ac?.abort();
    return Boolean(ac);
  },

  /** Files dropped by the user: `path` is the relative path inside a dropped folder, when there is one. */
  async importFiles(
    id: string,
    files: { path?: string; name: string; file: Blob }[],
    onProgress?: (p: InstallProgress) => void,
  ): Promise<InstalledModel> {
    const e = await entry(id);
    const list: ImportFile[] = files.map((f) => ({
      path: f.path,
      name: f.name,
      size: f.file.size,
      stream: () => f.file.stream() as ReadableStream<Uint8Array>,
    }));
    return guarded([id], (signal, d) =>
      importModelFiles(e, list, { ...d, signal, onProgress: progressFn(onProgress) }),
    );
  },

  async remove(id: string): Promise<boolean> {
    running.get(id)?.abort();
    const d = await deps;
    return exclusive([id], new AbortController().signal, () => deleteModel(id, d));
  },

  async summary(): Promise<StorageSummary> {
    return storageSummary(await deps);
  },

  /** A verified file of an installed model (transferred, not copied). */
  async readFile(id: string, path: string): Promise<ArrayBuffer> {
    const { registry, store } = await deps;
    const rec = await registry.get(id);
    if (!rec) throw new ModelNotFoundError(`Model ${id} is not installed.`);
    if (!rec.files.some((f) => f.path === path))
      throw new ModelNotFoundError(`Model ${id} has no file ${path}.`);
    const buf = await (await store.read(id, path)).arrayBuffer();
    return transfer(buf, [buf]);
  },
};

export type ModelsWorkerApi = typeof api;

expose(api);
