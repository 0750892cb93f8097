import { z } from 'zod';
import type { TimbreDB } from './db';
import { GENDERS, VOICE_KINDS, type Voice, type VoiceKind, type Gender } from '../voices/types';
import { languageMatches } from '../voices/presets';
import { guardQuota, ImportError, NotFoundError } from './errors';
import { decodeBase64, encodeBase64 } from '../core/base64';

/** What an import did: the voices written, and the user voices skipped as already in the library. */
export interface ImportResult {
  written: Voice[];
  skipped: Voice[];
}

/** The same voice as far as a person can tell: everything but when it was touched and how it is filed. */
function sameVoice(a: Voice, b: Voice): boolean {
  const { id: _ai, created_at: _ac, updated_at: _au, favorite: _af, tags: _at, samples: as, ...ar } = a;
  const { id: _bi, created_at: _bc, updated_at: _bu, favorite: _bf, tags: _bt, samples: bs, ...br } = b;
  if (JSON.stringify(ar, Object.keys(ar).sort()) !== JSON.stringify(br, Object.keys(br).sort())) return false;
  if (as.length !== bs.length) return false;
  return as.every((s, i) => {
    const t = bs[i]!;
    const x = new Uint8Array(s.data);
    const y = new Uint8Array(t.data);
    return s.name === t.name && x.length === y.length && x.every((v, k) => v === y[k]);
  });
}

export class PresetProtectedError extends Error {
  override name = 'PresetProtectedError';
}

export interface VoiceQuery {
  q?: string;
  kind?: VoiceKind;
  language?: string;
  gender?: Gender;
  favorite?: boolean;
  model?: string;
  offset?: number;
  limit?: number;
}

export interface VoiceChanges {
  name?: string;
  description?: string;
  tags?: string[];
  language?: string;
  gender?: Gender;
  favorite?: boolean;
}

export const EXPORT_FORMAT = 'timbre-voices';
export const EXPORT_VERSION = 1;

const sampleSchema = z.object({
  id: z.string().min(1).max(100),
  name: z.string().max(300),
  mime: z.string().max(100),
  duration: z.number().nonnegative().finite(),
  data_base64: z.string(),
});

export const exportedVoiceSchema = z.object({
  id: z.string().min(1).max(100),
  name: z.string().min(1).max(200),
  description: z.string().max(5000),
  tags: z.array(z.string().max(50)).max(50),
  language: z.string().max(20),
  accent: z.string().max(50).optional(),
  gender: z.enum(GENDERS),
  kind: z.enum(VOICE_KINDS),
  model: z.string().max(50),
  samples: z.array(sampleSchema).max(20),
  embedding: z.array(z.number().finite()).length(256).optional(),
  recipe: z
    .object({
      formula: z.string().max(1000).optional(),
      attributes: z.record(z.string(), z.union([z.string(), z.number()])).optional(),
      speed: z.number().finite().optional(),
      base_voice: z.string().max(100).optional(),
    })
    .optional(),
  checks: z.record(z.string(), z.unknown()).optional(),
  favorite: z.boolean(),
  created_at: z.number().finite(),
  updated_at: z.number().finite(),
});

export const exportFileSchema = z.object({
  format: z.literal(EXPORT_FORMAT),
  version: z.literal(EXPORT_VERSION),
  exported_at: z.number(),
  voices: z.array(exportedVoiceSchema).min(1),
});

export type ExportFile = z.infer<typeof exportFileSchema>;

export class VoiceStore {
  constructor(private readonly db: TimbreDB) {}

  async all(): Promise<Voice[]> {
    return this.db.getAll('voices');
  }

  async query(q: VoiceQuery = {}): Promise<{ voices: Voice[]; total: number }> {
    const needle = q.q?.trim().toLowerCase();
    let list = await this.all();
    list = list.filter(
      (v) =>
        (!q.kind || v.kind === q.kind) &&
        (!q.language || languageMatches(v.language, q.language)) &&
        (!q.gender || v.gender === q.gender) &&
        (q.favorite === undefined || v.favorite === q.favorite) &&
        (!q.model || v.model === q.model) &&
        (!needle ||
          [v.id, v.name, v.description, v.language, v.accent ?? '', ...v.tags].some((s) =>
            s.toLowerCase().includes(needle),
          )),
    );
    // Favourites first, then the user's own voices, then presets, each by name.
    list.sort(
      (a, b) =>
        Number(b.favorite) - Number(a.favorite) ||
        Number(a.kind === 'preset') - Number(b.kind === 'preset') ||
        a.name.localeCompare(b.name),
    );
    const offset = q.offset ?? 0;
    const limit = q.limit ?? list.length;
    return { voices: list.slice(offset, offset + limit), total: list.length };
  }

  async get(id: string): Promise<Voice> {
    const v = await this.db.get('voices', id);
    if (!v) throw new NotFoundError(`No voice with id "${id}".`);
    return v;
  }

  async put(voice: Voice): Promise<Voice> {
    await guardQuota(`the voice "${voice.name}"`, () => this.db.put('voices', voice));
    return voice;
  }

  async update(id: string, changes: VoiceChanges, now: number): Promise<Voice> {
    const tx = this.db.transaction('voices', 'readwrite');
    const v = await tx.store.get(id);
    if (!v) throw new NotFoundError(`No voice with id "${id}".`);
    const clean = Object.fromEntries(Object.entries(changes).filter(([, x]) => x !== undefined));
    const next: Voice = { ...v, ...clean, updated_at: now };
    await guardQuota(`the voice "${v.name}"`, async () => {
      await tx.store.put(next);
      await tx.done;
    });
    return next;
  }

  async toggleFavorite(id: string, now: number): Promise<Voice> {
    const v = await this.get(id);
    return this.update(id, { favorite: !v.favorite }, now);
  }

  /** Deletes a user voice and returns it (so the UI can offer undo). Presets cannot be deleted. */
  async delete(id: string): Promise<Voice> {
    const tx = this.db.transaction('voices', 'readwrite');
    const v = await tx.store.get(id);
    if (!v) throw new NotFoundError(`No voice with id "${id}".`);
    if (v.kind === 'preset')
      throw new PresetProtectedError(`"${v.name}" is a preset voice; presets cannot be deleted.`);
    await tx.store.delete(id);
    await tx.done;
    return v;
  }

  /** Exports the given voices (all when no ids) as one JSON document. */
  async export(ids?: string[], now = Date.now()): Promise<ExportFile> {
    const voices = ids ? await Promise.all(ids.map((id) => this.get(id))) : await this.all();
    return {
      format: EXPORT_FORMAT,
      version: EXPORT_VERSION,
      exported_at: now,
      voices: voices.map((v) => ({
        ...v,
        samples: v.samples.map(({ data, ...s }) => ({
          ...s,
          data_base64: encodeBase64(new Uint8Array(data)),
        })),
      })),
    };
  }

  /**
   * Imports an export file. Validation happens first, then every voice is written in one transaction:
   * either all land or none. Preset entries update only the favourite flag and tags of the preset.
   * Ids that clash with existing user voices are renamed so nothing is overwritten, except that a voice
   * identical to one already there (its own export imported again) is skipped rather than duplicated.
   */
  async import(file: unknown, now: number): Promise<ImportResult> {
    const parsed = exportFileSchema.safeParse(file);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new ImportError(
        `This is not a Timbre voice file: ${issue ? `${issue.path.join('.') || 'file'}: ${issue.message}` : 'invalid'}.`,
      );
    }
    const incoming: Voice[] = parsed.data.voices.map((v) => ({
      ...v,
      samples: v.samples.map(({ data_base64, ...s }) => {
        const bytes = decodeBase64(data_base64);
        if (!bytes) throw new ImportError(`Sample "${s.name}" of voice "${v.name}" is not valid base64.`);
        return { ...s, data: bytes.buffer as ArrayBuffer };
      }),
    }));
    return guardQuota('the imported voices', async () => {
      const tx = this.db.transaction('voices', 'readwrite');
      const written: Voice[] = [];
      const skipped: Voice[] = [];
      try {
        for (const v of incoming) {
          const existing = await tx.store.get(v.id);
          if (v.kind === 'preset') {
            if (!existing || existing.kind !== 'preset') continue; // unknown preset: nothing to attach it to
            const next = { ...existing, favorite: v.favorite, tags: v.tags, updated_at: now };
            await tx.store.put(next);
            written.push(next);
            continue;
          }
          // Its id, then the ids earlier imports renamed it to (id-2, id-3…): is one of them this very voice?
          let id = v.id;
          let same = false;
          for (let n = 2, at = existing; at; n++) {
            if (sameVoice(at, v)) {
              same = true;
              break;
            }
            id = `${v.id}-${n}`;
            at = await tx.store.get(id);
          }
          if (same) {
            skipped.push(v);
            continue;
          }
          const next = { ...v, id, updated_at: now };
          await tx.store.put(next);
          written.push(next);
        }
      } catch (e) {
        // A failed write must not let the earlier ones commit: abort so that none land.
        void tx.done.catch(() => undefined);
        try {
          tx.abort();
        } catch {
          // already aborted
        }
        throw e;
      }
      await tx.done;
      return { written, skipped };
    });
  }
}
