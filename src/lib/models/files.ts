// Files of an installed model, for the engine worker: the registry (IndexedDB) says what is installed, the
// model store (OPFS, Cache Storage or memory) holds the bytes.
import type { ModelFileStore } from './store';
import type { InstalledModel } from '../storage/records';
import type { ModelRecords } from '../storage/models';
import { ModelLoadingError, ModelNotInstalledError } from './types';
import { installUnderWay, waitForInstall } from './installing';

/**
 * How long a run waits for its model while the model is being installed (#21), before it fails as
 * "being installed". Under the API's 15 s hold for a streamed answer, so that error still gets its 503.
 */
export const INSTALL_WAIT_MS = 8_000;

export interface ModelFileDeps {
  registry: { get(id: string): Promise<InstalledModel | undefined> };
  store: Pick<ModelFileStore, 'read'>;
  /** Opens the registry again when its connection was closed (another tab upgraded the database). */
  reopen?(): Promise<ModelFileDeps>;
  /** Whether an install of `id` is under way (default: its Web Lock is held somewhere on this origin). */
  installing?(id: string): Promise<boolean>;
  /** Default INSTALL_WAIT_MS. */
  installWaitMs?: number;
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
  if (!rec) rec = await modelOnItsWay(id, name, d);
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

/**
 * A model not installed yet may be on its way (the first-start install): wait for it a little, and when it
 * is still coming, say so rather than "not installed". Undefined when no install brings it.
 */
export async function modelOnItsWay(
  id: string,
  name: string,
  d: ModelFileDeps,
): Promise<InstalledModel | undefined> {
  const underWay = d.installing ?? installUnderWay;
  if (!(await underWay(id))) return undefined;
  const outcome = await waitForInstall(id, async () => (await d.registry.get(id)) !== undefined, {
    ms: d.installWaitMs ?? INSTALL_WAIT_MS,
    underWay,
  });
  if (outcome === 'timeout')
    throw new ModelLoadingError(
      `${name} is being installed on this device (the first-start install) and is not ready yet: try again in a few seconds.`,
    );
  return d.registry.get(id);
}
