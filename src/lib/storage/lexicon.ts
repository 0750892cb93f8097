import type { TimbreDB } from './db';
import { guardQuota, NotFoundError } from './errors';
import { LexiconError, validateLexicon } from '../text/lexicon';
import type { StoredLexiconEntry } from './records';
import type { LexiconEntry } from '../text/lexicon';

export const lexiconId = (scope: string, word: string): string => `${scope}|${word.toLowerCase()}`;

export const MAX_LEXICON_ENTRIES = 5000;

export class LexiconStore {
  constructor(private readonly db: TimbreDB) {}

  /** All entries, or those of one scope ('global' or a voice id). */
  async list(scope?: string): Promise<StoredLexiconEntry[]> {
    const all = scope
      ? await this.db.getAllFromIndex('lexicon', 'scope', scope)
      : await this.db.getAll('lexicon');
    return all.sort((a, b) => a.word.localeCompare(b.word));
  }

  /** The entries a generation in `voiceId` uses: global ones and the voice's own. */
  async forVoice(voiceId?: string): Promise<LexiconEntry[]> {
    const global = await this.db.getAllFromIndex('lexicon', 'scope', 'global');
    const own = voiceId ? await this.db.getAllFromIndex('lexicon', 'scope', voiceId) : [];
    return [...global, ...own].map(({ word, phonemes, respelling, scope }) =>
      phonemes !== undefined ? { word, phonemes, scope } : { word, respelling, scope },
    );
  }

  /** Validates and writes entries (all or nothing); an entry for the same scope and word is replaced. */
  async put(entries: readonly unknown[], now = Date.now()): Promise<StoredLexiconEntry[]> {
    const clean = validateLexicon(entries).map((e) => ({
      ...e,
      id: lexiconId(e.scope, e.word),
      updated_at: now,
    }));
    await guardQuota('the lexicon', async () => {
      const tx = this.db.transaction('lexicon', 'readwrite');
      const count = await tx.store.count();
      if (count + clean.length > MAX_LEXICON_ENTRIES) {
        // the aborted transaction's done rejects: handled here, the LexiconError below is the error
        void tx.done.catch(() => undefined);
        tx.abort();
        throw new LexiconError(`The lexicon holds at most ${MAX_LEXICON_ENTRIES} entries.`);
      }
      for (const e of clean) await tx.store.put(e);
      await tx.done;
    });
    return clean;
  }

  async delete(scope: string, word: string): Promise<StoredLexiconEntry> {
    const id = lexiconId(scope, word);
    const e = await this.db.get('lexicon', id);
    if (!e) throw new NotFoundError(`No lexicon entry for "${word}" (${scope}).`);
    await this.db.delete('lexicon', id);
    return e;
  }
}
