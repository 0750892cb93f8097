import type { TimbreDB } from './db';
import { guardQuota, NotFoundError } from './errors';
import type { HistoryRecord } from './records';
import { newId } from '../core/ids';

/** What lists show: everything but the audio bytes. */
export type HistorySummary = Omit<HistoryRecord, 'audio'> & { bytes: number };

export const HISTORY_MAX_ITEMS = 500;

export function summarize(r: HistoryRecord): HistorySummary {
  const { audio, ...rest } = r;
  return { ...rest, bytes: audio.byteLength };
}

export class HistoryStore {
  constructor(private readonly db: TimbreDB) {}

  /**
   * Keeps a generation. When the history holds HISTORY_MAX_ITEMS, the oldest go first; a quota error
   * becomes StorageFullError and nothing is written.
   */
  async add(r: Omit<HistoryRecord, 'id'> & { id?: string }): Promise<HistoryRecord> {
    const rec: HistoryRecord = { ...r, id: r.id ?? newId('gen') };
    await guardQuota('this generation to the history', async () => {
      const tx = this.db.transaction('history', 'readwrite');
      const count = await tx.store.count();
      if (count >= HISTORY_MAX_ITEMS) {
        let cursor = await tx.store.index('created_at').openCursor();
        for (let n = count - HISTORY_MAX_ITEMS + 1; cursor && n > 0; n--) {
          await cursor.delete();
          cursor = await cursor.continue();
        }
      }
      await tx.store.put(rec);
      await tx.done;
    });
    return rec;
  }

  /** Newest first. */
  async list(opts: { offset?: number; limit?: number; voice?: string } = {}): Promise<{
    items: HistorySummary[];
    total: number;
  }> {
    const all = (await this.db.getAllFromIndex('history', 'created_at'))
      .reverse()
      .filter((r) => !opts.voice || r.voice === opts.voice || r.voice_resolved === opts.voice);
    const offset = opts.offset ?? 0;
    const limit = opts.limit ?? 50;
    return { items: all.slice(offset, offset + limit).map(summarize), total: all.length };
  }

  async get(id: string): Promise<HistoryRecord> {
    const r = await this.db.get('history', id);
    if (!r) throw new NotFoundError(`No generation "${id}" in the history.`);
    return r;
  }

  /** Removes and returns the record, so the caller can offer undo with `restore`. */
  async delete(id: string): Promise<HistoryRecord> {
    const r = await this.get(id);
    await this.db.delete('history', id);
    return r;
  }

  async restore(r: HistoryRecord): Promise<void> {
    await guardQuota('the restored generation', () => this.db.put('history', r));
  }

  async clear(): Promise<number> {
    const n = await this.db.count('history');
    await this.db.clear('history');
    return n;
  }
}
