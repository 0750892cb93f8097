import type { z } from 'zod';
import type { ApiContext } from '../context';
import {
  VOICE_READ_ONLY,
  type communityQuery,
  type voiceListQuery,
  type voiceUpdateBody,
  type v1VoicesQuery,
} from '../schemas';
import { ApiError, badRequest, notFound } from '../errors';
import { json } from '../http';
import { NotFoundError, ImportError } from '../../storage/errors';
import { PresetProtectedError, type VoiceChanges } from '../../storage/voices';
import type { Voice } from '../../voices/types';

/** The JSON shape of a voice: samples are listed without their bytes. */
export function voiceJson(v: Voice) {
  return {
    ...v,
    samples: v.samples.map(({ data, ...s }) => ({ ...s, bytes: data.byteLength })),
  };
}

/** Maps storage errors onto API errors. */
export async function storage<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    if (e instanceof NotFoundError) throw notFound(e.message);
    if (e instanceof PresetProtectedError) throw new ApiError('forbidden', e.message);
    if (e instanceof ImportError) throw badRequest(e.message, { field: 'body' });
    throw e;
  }
}

export async function listVoices(q: z.infer<typeof voiceListQuery>, ctx: ApiContext): Promise<Response> {
  const limit = q.limit ?? q.page_size ?? 100;
  const offset = q.offset ?? (q.page ? (q.page - 1) * limit : 0);
  const { voices, total } = await ctx.voices.query({ ...q, offset, limit });
  return json({ voices: voices.map(voiceJson), total, offset, limit });
}

export async function getVoice(id: string, ctx: ApiContext) {
  return json(voiceJson(await storage(() => ctx.voices.get(id))));
}

/** Names what a request sent that the studio does not use (the same header on every route that ignores). */
export const IGNORED_HEADER = 'X-Timbre-Ignored-Parameters';

export async function updateVoice(id: string, body: z.infer<typeof voiceUpdateBody>, ctx: ApiContext) {
  const sent = body as Record<string, unknown>;
  const ignored = VOICE_READ_ONLY.filter((k) => sent[k] !== undefined);
  const changes = Object.fromEntries(
    Object.entries(sent).filter(([k, v]) => v !== undefined && !ignored.includes(k as never)),
  ) as VoiceChanges;
  if (Object.keys(changes).length === 0)
    throw badRequest(
      ignored.length
        ? `Nothing to update: ${ignored.join(', ')} cannot be changed; send name, description, tags, language, gender or favorite.`
        : 'Nothing to update: send at least one field.',
      { field: 'body' },
    );
  const cur = await storage(() => ctx.voices.get(id));
  // The object GET returned carries a preset's own name, language and gender: only a change is refused.
  const changed = (k: 'name' | 'language' | 'gender') => changes[k] !== undefined && changes[k] !== cur[k];
  if (cur.kind === 'preset' && (changed('name') || changed('language') || changed('gender')))
    throw new ApiError(
      'forbidden',
      'Preset voices keep their name, language and gender; only tags, description and favourite change.',
    );
  const saved = await storage(() => ctx.voices.update(id, changes, ctx.now()));
  return json(voiceJson(saved), 200, ignored.length ? { [IGNORED_HEADER]: ignored.join(', ') } : {});
}

export async function deleteVoice(id: string, ctx: ApiContext) {
  const v = await storage(() => ctx.voices.delete(id));
  return json({ deleted: true, id: v.id });
}

export async function favorites(ctx: ApiContext) {
  const { voices, total } = await ctx.voices.query({ favorite: true });
  return json({ voices: voices.map(voiceJson), total });
}

export async function toggleFavorite(id: string, ctx: ApiContext) {
  const v = await storage(() => ctx.voices.toggleFavorite(id, ctx.now()));
  return json({ id: v.id, favorite: v.favorite });
}

/** `GET /v1/voices`: the OpenAI-style catalogue shape. */
export async function v1Voices(q: z.infer<typeof v1VoicesQuery>, ctx: ApiContext) {
  const { voices, total } = await ctx.voices.query({
    model: q.model,
    language: q.language,
    gender: q.gender,
  });
  return json({
    voices: voices.map((v) => ({
      id: v.id,
      name: v.name,
      model: v.model,
      language: v.language,
      gender: v.gender,
      kind: v.kind,
      preview_url: null,
    })),
    total,
  });
}

/** `GET /api/v1/voices/`: the streaming-TTS family's "private voices" (the user's own). */
export async function privateVoices(ctx: ApiContext) {
  const all = (await ctx.voices.query({})).voices.filter((v) => v.kind !== 'preset');
  return json({
    voices: all.map((v) => ({
      id: v.id,
      fish_audio_model_id: v.id,
      title: v.name,
      kind: v.kind,
      language: v.language,
      created_at: v.created_at,
    })),
    total: all.length,
  });
}

export async function exportVoices(ids: string | undefined, ctx: ApiContext) {
  const list = ids
    ? ids
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean)
    : undefined;
  const file = await storage(() => ctx.voices.export(list, ctx.now()));
  return json(file, 200, { 'Content-Disposition': 'attachment; filename="timbre-voices.json"' });
}

export async function importVoices(body: unknown, ctx: ApiContext) {
  const { written, skipped } = await storage(() => ctx.voices.import(body, ctx.now()));
  return json({ imported: written.length, skipped: skipped.length, ids: written.map((v) => v.id) }, 201);
}

/**
 * `GET /api/v1/community/models`: the streaming-TTS document's community catalogue (there 100k+ shared
 * voices). A device-local studio shares none, so it answers its own voices — presets and library — in
 * that shape, searchable and paged, so a client that looks a voice up there and speaks with it works.
 */
export async function communityModels(q: z.infer<typeof communityQuery>, ctx: ApiContext) {
  const page = q.page ?? 1;
  const pageSize = q.page_size ?? 10;
  const { voices, total } = await ctx.voices.query({
    q: q.search?.trim() || undefined,
    language: q.language,
    offset: (page - 1) * pageSize,
    limit: pageSize,
  });
  return json({
    models: voices.map((v) => ({
      fish_audio_id: v.id,
      id: v.id,
      title: v.name,
      description: v.description,
      author_nickname: v.kind === 'preset' ? 'Kokoro' : 'you',
      language: v.language,
      gender: v.gender,
      kind: v.kind,
      tags: v.tags,
      model: v.model,
    })),
    total,
    page,
    page_size: pageSize,
  });
}
