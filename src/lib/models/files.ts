// Files of an installed model, for the engine worker: the registry (IndexedDB) says what is installed, the
// model store (OPFS, Cache Storage or memory) holds the bytes.
import type { ModelFileStore } from './store';
import type { InstalledModel } from '../storage/records';
import type { ModelRecords } from '../storage/models';
import { ModelNotInstalledError } from './types';

export interface ModelFileDeps {
  registry: { get(id: string): Promise<InstalledModel | undefined> };
  store: Pick<ModelFileStore, 'read'>;
  /** Opens the registry again when its connection was closed (another tab upgraded the database). */
  reopen?(): Promise<ModelFileDeps>;
}

/** The registry and store themselves, for what also installs (the converter writes its graphs). */
export interface OpenedModelFiles extends ModelFileDeps {
  registry: ModelRecords;
  store: ModelFileStore;
  reopen(): Promise<OpenedModelFiles>;
}

let opened: Promise<OpenedModelFiles> | null = null;

/** This context's registry and store, opened once (IndexedDB + pickModelStore); the engine context's. */
export function openModelFiles(): Promise<OpenedModelFiles> {
  opened ??= (async () => {
    const [{ openTimbreDB }, { ModelRegistry }, { pickModelStore }] = await Promise.all([
      import('../storage/db'),
      import('../storage/models'),
      import('./store'),
    ]);
    const db = await openTimbreDB();
    const reopen = () => {
      opened = null;
      return openModelFiles();
    };
    return { registry: new ModelRegistry(db), store: await pickModelStore(), reopen };
  })().catch((e: unknown) => {
    opened = null;
    throw e;
  });
  return opened;
}

/**
 * A reader of the installed files of `id`. Throws ModelNotInstalledError, saying where to install it,
 * when the model (or a file asked for later) is not on this device.
 */
export async function installedModelFiles(
  id: string,
  name: string,
  deps: ModelFileDeps,
): Promise<(path: string) => Promise<Uint8Array>> {
  let d = deps;
  let rec: InstalledModel | undefined;
  try {
    rec = await d.registry.get(id);
  } catch (e) {
    // The shared connection was closed (another tab upgraded the database): open it again, once.
    if (!d.reopen) throw e;
    d = await d.reopen();
    rec = await d.registry.get(id);
  }
  const { store } = d;
  const missing = () =>
    new ModelNotInstalledError(
      `${name} is not installed on this device. Install it in the Models view (it works offline once installed).`,
    );
  if (!rec) throw missing();
  const paths = new Set(rec.files.map((f) => f.path));
  return async (path: string) => {
    if (!paths.has(path)) {
      if (path.startsWith('voices/'))
        throw new ModelNotInstalledError(
          `${name} has no voice file ${path}: reinstall it in the Models view.`,
        );
      throw missing();
    }
    try {
      return new Uint8Array(await (await store.read(id, path)).arrayBuffer());
    } catch (e) {
      if ((e as { name?: string }).name === 'ModelNotFoundError') throw missing();
      throw e;
    }
  };
}
