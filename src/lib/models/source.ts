// Installed models served from another context. An embed on another site reaches the studio's own
// IndexedDB and OPFS only through the Storage Access handle its page holds; its engine worker (in the
// iframe's partition) cannot, so the page serves the files to the worker through these async calls only
// (each one crosses a worker boundary as it is).
import type { InstalledModel } from '../storage/records';
import type { ModelFileStore } from './store';
import type { OpenedModelFiles } from './files';
import { ModelNotFoundError, ModelNotInstalledError } from './types';

/** What an engine reads of installed models: records and complete files. */
export interface ModelFilesSource {
  get(id: string): Promise<InstalledModel | undefined>;
  list(): Promise<InstalledModel[]>;
  /** A complete file's bytes; a missing one rejects with ModelNotFoundError's name. */
  read(id: string, path: string): Promise<Blob>;
  size(id: string, path: string): Promise<number | null>;
  /** Where the bytes live (for diagnostics). */
  kind(): Promise<ModelFileStore['kind']>;
}

/** The reading side of opened model files (where the handle is). */
export function modelFilesSource(files: Pick<OpenedModelFiles, 'registry' | 'store'>): ModelFilesSource {
  return {
    get: (id) => files.registry.get(id),
    list: () => files.registry.list(),
    read: (id, path) => files.store.read(id, path),
    size: (id, path) => files.store.size(id, path),
    kind: async () => files.store.kind,
  };
}

const readOnly = (what: string) =>
  new ModelNotInstalledError(
    `Cannot ${what} here: this engine reads the studio's installed models through the page that embeds it. Install or change models in the studio itself.`,
  );

/**
 * Opened model files over a source (the engine worker's side): reading works as from the local store,
 * installing or removing is refused with a message saying where to do it.
 */
export function modelFilesFrom(source: ModelFilesSource, kind: ModelFileStore['kind']): OpenedModelFiles {
  const store: ModelFileStore = {
    kind,
    resumable: false,
    partialSize: async () => 0,
    append: async () => {
      throw readOnly('install a model');
    },
    flush: async () => undefined,
    async *readPartial() {},
    commit: async () => {
      throw readOnly('install a model');
    },
    read: async (id, path) => {
      try {
        return await source.read(id, path);
      } catch (e) {
        // Only the name survives the boundary: the same error again, for installedModelFiles to read.
        if ((e as { name?: string }).name === 'ModelNotFoundError')
          throw new ModelNotFoundError((e as Error).message);
        throw e;
      }
    },
    size: (id, path) => source.size(id, path),
    remove: async () => {
      throw readOnly('remove a model');
    },
    removePartial: async () => undefined,
    usage: async () => 0,
  };
  const files: OpenedModelFiles = {
    registry: {
      get: (id) => source.get(id),
      list: () => source.list(),
      put: async () => {
        throw readOnly('install a model');
      },
      delete: async () => {
        throw readOnly('remove a model');
      },
    },
    store,
    reopen: async () => files,
  };
  return files;
}
