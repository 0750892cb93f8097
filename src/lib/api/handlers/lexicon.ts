// The stored pronunciation lexicon over the API: list (one scope or all), put entries (all or nothing),
// delete one entry. A scope is "global" or the id of a voice in the library.
import { z } from 'zod';
import type { ApiContext } from '../context';
import { badRequest } from '../errors';
import { json } from '../http';
import { storage } from './voices';
import { LexiconStore, MAX_LEXICON_ENTRIES } from '../../storage/lexicon';
import { type StoredLexiconEntry } from '../../storage/records';

export const lexiconQuery = z.object({ scope: z.string().trim().min(1).max(100).optional() });

export const lexiconPutBody = z
  .object({
    entries: z.array(z.unknown()).min(1).max(MAX_LEXICON_ENTRIES),
  })
  .strict();

const entryJson = ({ id: _id, ...e }: StoredLexiconEntry) => e;

export async function listLexicon(q: z.infer<typeof lexiconQuery>, ctx: ApiContext): Promise<Response> {
  const entries = await new LexiconStore(ctx.db).list(q.scope);
  return json({ entries: entries.map(entryJson), total: entries.length, scope: q.scope ?? null });
}

/** Every scope must be "global" or a voice that exists: an entry for no voice would never apply. */
async function checkScopes(entries: readonly unknown[], ctx: ApiContext): Promise<void> {
  const scopes = new Set<string>();
  entries.forEach((e) => {
    const s = (e as { scope?: unknown } | null)?.scope;
    if (typeof s === 'string' && s.trim() && s.trim() !== 'global') scopes.add(s.trim());
  });
  for (const s of scopes)
    if (!(await ctx.db.get('voices', s)))
      throw badRequest(`Lexicon scope "${s}" is neither "global" nor a voice in the library.`, {
        field: 'entries.scope',
      });
}

export async function putLexicon(body: z.infer<typeof lexiconPutBody>, ctx: ApiContext): Promise<Response> {
  await checkScopes(body.entries, ctx);
  // LexiconStore validates every entry before it writes any (LexiconError → 400) and writes in one transaction
  const saved = await new LexiconStore(ctx.db).put(body.entries, ctx.now());
  return json({ saved: saved.length, entries: saved.map(entryJson) });
}

export async function deleteLexicon(scope: string, word: string, ctx: ApiContext): Promise<Response> {
  const e = await storage(() => new LexiconStore(ctx.db).delete(scope, word));
  return json({ deleted: true, entry: entryJson(e) });
}
