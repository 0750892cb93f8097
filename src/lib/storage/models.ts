// The installed-model records (IndexedDB store `models`, DB v2). The bytes themselves are in a ModelFileStore.
import type { TimbreDB } from './db';
import { guardQuota } from './errors';
import type { InstalledModel } from './records';

export class ModelRegistry {
  constructor(private readonly db: TimbreDB) {}

  get(id: string): Promise<InstalledModel | undefined> {
    return this.db.get('models', id);
  }

  async list(): Promise<InstalledModel[]> {
    return (await this.db.getAll('models')).sort((a, b) => a.id.localeCompare(b.id));
  }

  async put(record: InstalledModel): Promise<void> {
    await guardQuota(`the record of model ${record.id}`, () => this.db.put('models', record));
  }

  async delete(id: string): Promise<boolean> {
    const tx = this.db.transaction('models', 'readwrite');
    const had = (await tx.store.getKey(id)) !== undefined;
    if (had) await tx.store.delete(id);
    await tx.done;
    return had;
  }
}

/** What the installer needs of a registry (ModelRegistry, or a Map-backed one in tests). */
export type ModelRecords = Pick<ModelRegistry, 'get' | 'list' | 'put' | 'delete'>;
