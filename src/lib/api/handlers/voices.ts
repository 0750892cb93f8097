import type { z } from 'zod';
import type { ApiContext } from '../context';
import type { voiceListQuery, voiceUpdateBody, v1VoicesQuery } from '../schemas';
import { ApiError, badRequest, notFound } from '../errors';
import { json } from '../http';
import { NotFoundError, ImportError } from '../../storage/errors';
import { PresetProtectedError } from '../../storage/voices';
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

export async function updateVoice(id: string, body: z.infer<typeof voiceUpdateBody>, ctx: ApiContext) {
  if (Object.keys(body).length === 0)
    throw badRequest('Nothing to update: send at least one field.', { field: 'body' });
  const cur = await storage(() => ctx.voices.get(id));
  if (cur.kind === 'preset' && (body.name || body.language || body.gender))
    throw new ApiError(
      'forbidden',
      'Preset voices keep their name, language and gender; only tags, description and favourite change.',
    );
  return json(voiceJson(await storage(() => ctx.voices.update(id, body, ctx.now()))));
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
