// The model catalogue: the bundled set (/models/manifest.json, written by the build from bundled.json and
// served from the app's own origin) merged with the optional hand-written /models/catalog.json.
import { z } from 'zod';
import { MODEL_KINDS, type CatalogEntry } from './types';

/** The bundled models that make up "everything needed for offline use". */
export const REQUIRED_IDS: readonly string[] = ['kokoro-82m-q8', 'whisper-tiny-q8', 'silero-vad-v5'];

export const MANIFEST_PATH = '/models/manifest.json';
export const CATALOG_PATH = '/models/catalog.json';

const fileSchema = z.object({
  path: z
    .string()
    .min(1)
    .max(500)
    .refine((p) => p.split('/').every((s) => s && s !== '.' && s !== '..' && !/[\\\0]/.test(s)), {
      message: 'must be a relative path without "." or ".." segments',
    }),
  bytes: z.number().int().nonnegative().nullable(),
  sha256: z
    .string()
    .regex(/^[0-9a-fA-F]{64}$/)
    .nullable(),
  url: z.string().min(1),
});

const entrySchema = z.object({
  id: z.string().regex(/^[\w][\w.-]*$/),
  name: z.string().min(1),
  kind: z.enum(MODEL_KINDS),
  languages: z.array(z.string()),
  sample_rate: z.number().int().positive(),
  licence: z.string().min(1),
  source: z.array(z.string()),
  bundled: z.boolean().optional(),
  total_bytes: z.number().int().nonnegative().nullable().optional(),
  approx_bytes: z.number().int().positive().optional(),
  files: z.array(fileSchema).min(1),
  description: z.string().optional(),
  homepage: z.string().optional(),
  required: z.boolean().optional(),
});

const catalogSchema = z.object({ version: z.number().int(), models: z.array(z.unknown()) });

export interface LoadedCatalog {
  models: CatalogEntry[];
  /** Entries that were skipped, and why (a broken optional catalogue never hides the bundled models). */
  problems: string[];
}

type Entry = z.infer<typeof entrySchema>;

function parseEntries(json: unknown, where: string, problems: string[]): Entry[] {
  const top = catalogSchema.safeParse(json);
  if (!top.success) {
    problems.push(`${where}: not a model catalogue (${top.error.issues[0]?.message ?? 'invalid'}).`);
    return [];
  }
  const out: Entry[] = [];
  for (const [i, m] of top.data.models.entries()) {
    const r = entrySchema.safeParse(m);
    if (r.success) out.push(r.data);
    else {
      const issue = r.error.issues[0];
      const id = (m as { id?: unknown } | null)?.id;
      problems.push(
        `${where}: model ${typeof id === 'string' ? id : `#${i}`} skipped (${issue?.path.join('.') ?? ''}: ${issue?.message ?? 'invalid'}).`,
      );
    }
  }
  return out;
}

function finish(e: Entry, bundled: boolean, base: string | undefined): CatalogEntry {
  const files = e.files.map((f) => ({
    path: f.path,
    bytes: f.bytes,
    sha256: f.sha256?.toLowerCase() ?? null,
    url: base ? new URL(f.url, base).href : f.url,
  }));
  const known = files.every((f) => f.bytes !== null);
  const out: CatalogEntry = {
    id: e.id,
    name: e.name,
    kind: e.kind,
    languages: e.languages,
    sample_rate: e.sample_rate,
    licence: e.licence,
    source: e.source,
    bundled,
    total_bytes: known ? files.reduce((a, f) => a + (f.bytes ?? 0), 0) : null,
    files,
    required: REQUIRED_IDS.includes(e.id) || e.required === true,
  };
  if (e.approx_bytes !== undefined) out.approx_bytes = e.approx_bytes;
  if (e.description !== undefined) out.description = e.description;
  if (e.homepage !== undefined) out.homepage = e.homepage;
  return out;
}

/**
 * Merges the bundled manifest and the optional catalogue. Bundled entries come first and keep their files;
 * a catalogue entry with a bundled id only adds its description, homepage and `required`. Relative URLs are
 * resolved against `base` when given.
 */
export function mergeCatalog(manifest: unknown, extra: unknown, base?: string): LoadedCatalog {
  const problems: string[] = [];
  const bundled = manifest == null ? [] : parseEntries(manifest, 'manifest.json', problems);
  const optional = extra == null ? [] : parseEntries(extra, 'catalog.json', problems);
  const models = bundled.map((e) => finish(e, true, base));
  const byId = new Map(models.map((m) => [m.id, m]));
  for (const e of optional) {
    const have = byId.get(e.id);
    if (have) {
      if (have.bundled) {
        if (e.description !== undefined) have.description = e.description;
        if (e.homepage !== undefined) have.homepage = e.homepage;
        if (e.required) have.required = true;
      } else problems.push(`catalog.json: model ${e.id} listed twice; the first is kept.`);
      continue;
    }
    const m = finish(e, false, base);
    models.push(m);
    byId.set(m.id, m);
  }
  return { models, problems };
}

async function getJson(
  fetchFn: typeof fetch,
  url: string,
  signal: AbortSignal | undefined,
): Promise<unknown | null> {
  const res = await fetchFn(url, { signal, cache: 'no-cache' });
  if (res.status === 404) return null;
  if (!res.ok) throw new Error(`${url}: HTTP ${res.status}`);
  return res.json();
}

/**
 * Loads and merges /models/manifest.json and /models/catalog.json from `base` (the app's origin). A missing
 * file (404) counts as empty; a network failure throws (see loadCatalogCached for the offline case).
 */
export async function loadCatalog(
  opts: { base: string; fetch?: typeof fetch; signal?: AbortSignal } = { base: '/' },
): Promise<LoadedCatalog> {
  const f = opts.fetch ?? ((input, init) => globalThis.fetch(input, init));
  const [manifest, extra] = await Promise.all([
    getJson(f, new URL(MANIFEST_PATH, opts.base).href, opts.signal),
    getJson(f, new URL(CATALOG_PATH, opts.base).href, opts.signal).catch(() => null),
  ]);
  return mergeCatalog(manifest, extra, opts.base);
}

const META_KEY = 'models.catalog';

/** Where the last good catalogue is kept (the studio's `meta` store), so the list works offline. */
export interface CatalogCache {
  get(): Promise<CatalogEntry[] | undefined>;
  set(models: CatalogEntry[]): Promise<void>;
}

export function metaCatalogCache(db: {
  get(store: 'meta', key: string): Promise<unknown>;
  put(store: 'meta', value: unknown, key: string): Promise<unknown>;
}): CatalogCache {
  return {
    get: async () => (await db.get('meta', META_KEY)) as CatalogEntry[] | undefined,
    set: async (models) => {
      await db.put('meta', models, META_KEY).catch(() => undefined);
    },
  };
}

/** loadCatalog, remembering the result; offline (or the server failing) it answers the last good one. */
export async function loadCatalogCached(
  cache: CatalogCache,
  opts: { base: string; fetch?: typeof fetch; signal?: AbortSignal },
): Promise<LoadedCatalog> {
  try {
    const loaded = await loadCatalog(opts);
    await cache.set(loaded.models);
    return loaded;
  } catch (e) {
    const last = await cache.get();
    if (last) return { models: last, problems: [`Using the last known catalogue: ${(e as Error).message}`] };
    throw e;
  }
}

/** A catalogue the user added by URL (a mirror, or a model the built-in catalogue lacks). */
export interface CustomCatalog {
  url: string;
  models: CatalogEntry[];
  added_at: number;
}

export class CatalogError extends Error {
  override name = 'CatalogError';
}

/**
 * Validates a catalogue file fetched from `url` (same schema as /models/catalog.json); relative file
 * URLs resolve against it. Entries that fail validation are refused with the reason; none is bundled.
 */
export function parseCustomCatalog(json: unknown, url: string): LoadedCatalog {
  const problems: string[] = [];
  const models = parseEntries(json, url, problems).map((e) => ({
    ...finish(e, false, url),
    source: [url, ...e.source],
  }));
  if (models.length === 0)
    throw new CatalogError(
      `${url} has no usable model entries${problems.length ? `: ${problems.join(' ')}` : '.'}`,
    );
  return { models, problems };
}

/** Adds custom catalogues' entries after the built-in ones; an id already present keeps the built-in entry. */
export function withCustom(models: CatalogEntry[], custom: CustomCatalog[]): CatalogEntry[] {
  const out = [...models];
  const ids = new Set(models.map((m) => m.id));
  for (const c of custom)
    for (const m of c.models)
      if (!ids.has(m.id)) {
        out.push(m);
        ids.add(m.id);
      }
  return out;
}

const CUSTOM_KEY = 'models.custom-catalogs';

type MetaDb = Parameters<typeof metaCatalogCache>[0];

/** The catalogues the user added, kept in the `meta` store. */
export function customCatalogStore(db: MetaDb) {
  return {
    list: async () => ((await db.get('meta', CUSTOM_KEY)) as CustomCatalog[] | undefined) ?? [],
    save: async (all: CustomCatalog[]) => {
      await db.put('meta', all, CUSTOM_KEY);
    },
  };
}

/** Built-in catalogue (the last good one when offline) plus the user's catalogues: what every view lists. */
export async function fullCatalog(db: MetaDb, base: string): Promise<CatalogEntry[]> {
  const builtIn = (await loadCatalogCached(metaCatalogCache(db), { base })).models;
  return withCustom(builtIn, await customCatalogStore(db).list());
}
