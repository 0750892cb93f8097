// Page-side bridge to the models worker: starts it on first use (through its WorkerHost, which also ends
// a crashed worker so that no call waits forever), passes progress callbacks through comlink, and rebuilds
// the manager's named errors from their name and message.
import { proxy, type Remote } from 'comlink';
import type { ModelsWorkerApi } from '../workers/models.worker';
import { reviveModelError, type InstallProgress } from '../lib/models/types';
import { WorkerHost } from './worker-host';

/** The models worker died during a call (crash, out of memory); the next call starts a fresh one. */
export class ModelsWorkerCrashedError extends Error {
  override name = 'ModelsWorkerCrashedError';
}

export class ModelsBridge {
  private host = new WorkerHost<ModelsWorkerApi>({
    start: () =>
      new Worker(new URL('../workers/models.worker.ts', import.meta.url), {
        type: 'module',
        name: 'timbre-models',
      }),
    crashed: (why) =>
      new ModelsWorkerCrashedError(
        `The model manager stopped unexpectedly (${why}); it restarts on its own, so try again.`,
      ),
    revive: (e) => reviveModelError(e as Error),
  });

  /** `changed` runs after any install, import or removal ends, however it ends (the views reload). */
  constructor(private readonly changed: () => void = () => {}) {}

  /** A call that changes what is installed. */
  private async change<T>(fn: (api: Remote<ModelsWorkerApi>) => Promise<T>): Promise<T> {
    try {
      return await this.call(fn);
    } finally {
      this.changed();
    }
  }

  private call<T>(fn: (api: Remote<ModelsWorkerApi>) => Promise<T>): Promise<T> {
    return this.host.call(fn);
  }

  private static progress(fn?: (p: InstallProgress) => void) {
    // The callback's return value would be sent back over comlink: never return one.
    return fn ? proxy((p: InstallProgress) => void fn(p)) : undefined;
  }

  list() {
    return this.call((a) => a.list());
  }
  summary() {
    return this.call((a) => a.summary());
  }
  install(id: string, onProgress?: (p: InstallProgress) => void) {
    return this.change((a) => a.install(id, ModelsBridge.progress(onProgress)));
  }
  installRequired(onProgress?: (p: InstallProgress) => void) {
    return this.change((a) => a.installRequired(ModelsBridge.progress(onProgress)));
  }
  installBundled(onProgress?: (p: InstallProgress) => void) {
    return this.change((a) => a.installBundled(ModelsBridge.progress(onProgress)));
  }
  cancel(id: string) {
    return this.call((a) => a.cancel(id));
  }
  importFiles(
    id: string,
    files: { path?: string; name: string; file: Blob }[],
    onProgress?: (p: InstallProgress) => void,
  ) {
    return this.change((a) => a.importFiles(id, files, ModelsBridge.progress(onProgress)));
  }
  remove(id: string) {
    return this.change((a) => a.remove(id));
  }
  addCatalog(url: string) {
    return this.call((a) => a.addCatalog(url));
  }
  removeCatalog(url: string) {
    return this.call((a) => a.removeCatalog(url));
  }
  customCatalogs() {
    return this.call((a) => a.customCatalogs());
  }
  readFile(id: string, path: string) {
    return this.call((a) => a.readFile(id, path));
  }
}
