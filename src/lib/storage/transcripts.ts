// The Transcribe view's transcripts: each with its segments (edits applied), which lines were edited, and
// the audio as a 16 kHz WAV so a reload can still show and play it. DOM-free (page, workers, Node tests).
import type { TimbreDB } from './db';
import type { TranscriptRecord } from './records';
import { guardQuota, NotFoundError } from './errors';

/** What lists show: everything but the audio. */
export type TranscriptSummary = Omit<TranscriptRecord, 'audio' | 'segments'> & {
  lines: number;
  preview: string;
  bytes: number;
};

/** The newest are kept; the oldest go past this many. */
export const TRANSCRIPTS_MAX_ITEMS = 200;

export function summarizeTranscript(r: TranscriptRecord): TranscriptSummary {
  const { audio, segments, ...rest } = r;
  const preview = segments
    .map((s) => s.text.trim())
    .join(' ')
    .slice(0, 140);
  return { ...rest, lines: segments.length, preview, bytes: audio?.byteLength ?? 0 };
}

export class TranscriptStore {
  constructor(private readonly db: TimbreDB) {}

  /** Newest first, without the audio. */
  async list(): Promise<TranscriptSummary[]> {
    const all = await this.db.getAllFromIndex('transcripts', 'created_at');
    return all.reverse().map(summarizeTranscript);
  }

  get(id: string): Promise<TranscriptRecord | undefined> {
    return this.db.get('transcripts', id);
  }

  /** Saves a transcript (new or changed); past TRANSCRIPTS_MAX_ITEMS the oldest other ones go. */
  async put(r: TranscriptRecord): Promise<void> {
    await guardQuota('the transcript', async () => {
      const tx = this.db.transaction('transcripts', 'readwrite');
      await tx.store.put(r);
      let over = (await tx.store.count()) - TRANSCRIPTS_MAX_ITEMS;
      let cursor = over > 0 ? await tx.store.index('created_at').openCursor() : null;
      while (cursor && over > 0) {
        if (cursor.value.id !== r.id) {
          await cursor.delete();
          over--;
        }
        cursor = await cursor.continue();
      }
      await tx.done;
    });
  }

  /** Changes one line's text and remembers it was edited. */
  async editLine(id: string, segmentId: number, text: string): Promise<TranscriptRecord> {
    const r = await this.get(id);
    if (!r) throw new NotFoundError(`No transcript "${id}".`);
    const at = r.segments.findIndex((s) => s.id === segmentId);
    if (at < 0) throw new NotFoundError(`Transcript "${id}" has no line ${segmentId}.`);
    const next: TranscriptRecord = {
      ...r,
      segments: r.segments.map((s, i) => (i === at ? { ...s, text } : s)),
      edited: r.edited.includes(segmentId) ? r.edited : [...r.edited, segmentId],
      updated_at: Date.now(),
    };
    await this.put(next);
    return next;
  }

  /** Deletes a transcript and hands it back (for Undo, which puts it again). */
  async delete(id: string): Promise<TranscriptRecord> {
    const r = await this.get(id);
    if (!r) throw new NotFoundError(`No transcript "${id}".`);
    await this.db.delete('transcripts', id);
    return r;
  }
}
