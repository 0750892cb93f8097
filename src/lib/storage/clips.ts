// The clip library: recordings, imported files and edits, kept as WAV bytes so every view and the
// timeline can decode them without ffmpeg. DOM-free (page, workers, Node tests).
import type { TimbreDB } from './db';
import { guardQuota, NotFoundError } from './errors';
import type { ClipRecord } from './records';
import { newId } from '../core/ids';

/** What lists show: everything but the audio. */
export type ClipSummary = Omit<ClipRecord, 'audio'> & { bytes: number };

export function summarizeClip(r: ClipRecord): ClipSummary {
  const { audio, ...rest } = r;
  return { ...rest, bytes: audio.byteLength };
}

export class ClipStore {
  constructor(private readonly db: TimbreDB) {}

  /** Newest first, without the audio. */
  async list(): Promise<ClipSummary[]> {
    const all = await this.db.getAllFromIndex('clips', 'created_at');
    return all.reverse().map(summarizeClip);
  }

  get(id: string): Promise<ClipRecord | undefined> {
    return this.db.get('clips', id);
  }

  /** Saves a clip, new or changed (also what Undo of a delete uses). */
  async put(r: ClipRecord): Promise<void> {
    await guardQuota(`the clip "${r.name}"`, () => this.db.put('clips', r).then(() => undefined));
  }

  /** A new clip with a fresh id and times; returns the stored record. */
  async add(c: Omit<ClipRecord, 'id' | 'created_at' | 'updated_at'>, now = Date.now()): Promise<ClipRecord> {
    const r: ClipRecord = { ...c, id: newId('clip'), created_at: now, updated_at: now };
    await this.put(r);
    return r;
  }

  async rename(id: string, name: string, now = Date.now()): Promise<ClipRecord> {
    const trimmed = name.trim();
    if (!trimmed) throw new ClipNameError('A clip needs a name.');
    const r = await this.get(id);
    if (!r) throw new NotFoundError(`No clip "${id}".`);
    const next = { ...r, name: trimmed, updated_at: now };
    await this.put(next);
    return next;
  }

  /** Deletes a clip and hands it back (for Undo, which puts it again). */
  async delete(id: string): Promise<ClipRecord> {
    const r = await this.get(id);
    if (!r) throw new NotFoundError(`No clip "${id}".`);
    await this.db.delete('clips', id);
    return r;
  }

  /** Undo of a delete: the record comes back as it was (same id and times). */
  restore(r: ClipRecord): Promise<void> {
    return this.put(r);
  }
}

export class ClipNameError extends Error {
  override name = 'ClipNameError';
}
