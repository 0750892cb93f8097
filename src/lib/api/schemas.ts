import { z } from 'zod';
import { SCOPES } from '../auth/scopes';
import { GENDERS, VOICE_KINDS } from '../voices/types';

/** Query-string booleans: only the words true/false/1/0, so "favorite=no" is an error, not true. */
export const qBool = z.enum(['true', 'false', '1', '0']).transform((v) => v === 'true' || v === '1');
export const qInt = (min: number, max: number) =>
  z
    .string()
    .regex(/^\d+$/, 'expected a whole number')
    .transform(Number)
    .pipe(z.number().int().min(min).max(max));

export const voiceListQuery = z.object({
  q: z.string().max(200).optional(),
  kind: z.enum(VOICE_KINDS).optional(),
  language: z.string().max(20).optional(),
  gender: z.enum(GENDERS).optional(),
  favorite: qBool.optional(),
  model: z.string().max(50).optional(),
  offset: qInt(0, 1_000_000).optional(),
  limit: qInt(1, 500).optional(),
  page: qInt(1, 100_000).optional(),
  page_size: qInt(1, 500).optional(),
});

/**
 * A voice's fields GET /api/voices/{id} returns that PUT cannot change: a client may send the object it
 * read back with its edits; these are ignored (and named in X-Timbre-Ignored-Parameters).
 */
export const VOICE_READ_ONLY = [
  'id',
  'kind',
  'model',
  'accent',
  'samples',
  'embedding',
  'recipe',
  'checks',
  'created_at',
  'updated_at',
] as const;

export const voiceUpdateBody = z
  .object({
    name: z.string().trim().min(1).max(200).optional(),
    description: z.string().max(5000).optional(),
    tags: z.array(z.string().trim().min(1).max(50)).max(50).optional(),
    language: z.string().min(2).max(20).optional(),
    gender: z.enum(GENDERS).optional(),
    favorite: z.boolean().optional(),
    ...Object.fromEntries(VOICE_READ_ONLY.map((k) => [k, z.unknown().optional()])),
  })
  .strict();

export const communityQuery = z.object({
  search: z.string().max(200).optional(),
  page: qInt(1, 100_000).optional(),
  page_size: qInt(1, 100).optional(),
  language: z.string().max(20).optional(),
});

const origin = z
  .string()
  .max(300)
  .refine((s) => {
    try {
      const u = new URL(s);
      return (u.protocol === 'http:' || u.protocol === 'https:') && u.origin === s;
    } catch {
      return false;
    }
  }, 'expected an origin such as https://example.com (scheme, host and port only)');

const limits = z.partialRecord(z.enum(SCOPES), z.number().int().min(1).max(100_000));

export const keyCreateBody = z
  .object({
    name: z.string().trim().min(1).max(100),
    scopes: z.array(z.enum(SCOPES)).min(1).optional(),
    limits: limits.optional(),
    allowed_origins: z.array(origin).max(50).optional(),
  })
  .strict();

export const keyUpdateBody = z
  .object({
    name: z.string().trim().min(1).max(100).optional(),
    scopes: z.array(z.enum(SCOPES)).min(1).optional(),
    limits: limits.optional(),
    allowed_origins: z.array(origin).max(50).optional(),
  })
  .strict();

export const textSplitBody = z
  .object({
    text: z.string().min(1).max(100_000),
    max_chars: z.number().int().min(20).max(5000).optional(),
  })
  .strict();

export const cancelBody = z.object({ job_id: z.string().min(1).max(100).optional() }).strict();

export const benchmarkBody = z
  .object({
    seconds: z.number().min(0.1).max(60).default(2),
    size: z.number().int().min(16).max(1024).default(256),
    async: z.boolean().default(false),
  })
  .strict();

export const v1VoicesQuery = z.object({
  model: z.string().max(50).optional(),
  language: z.string().max(20).optional(),
  gender: z.enum(GENDERS).optional(),
});

export const exportQuery = z.object({ ids: z.string().max(10_000).optional() });

export const historyQuery = z.object({
  voice: z.string().max(1000).optional(),
  offset: qInt(0, 1_000_000).optional(),
  limit: qInt(1, 500).optional(),
  page: qInt(1, 100_000).optional(),
  page_size: qInt(1, 500).optional(),
});
