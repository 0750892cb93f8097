// `GET/DELETE /api/v1/tts/history…`: the generations a key made through the API. Like jobs, another key's
// generations (and the studio's own) are reported as missing, so texts cannot be read across keys.
import type { z } from 'zod';
import type { ApiContext } from '../context';
import { notFound } from '../errors';
import { json } from '../http';
import type { historyQuery } from '../schemas';
import type { ApiKeyRecord } from '../../auth/keys';
import { HISTORY_MAX_ITEMS, HistoryStore, summarize } from '../../storage/history';
import { type HistoryRecord } from '../../storage/records';
import { encodeBase64 } from '../../core/base64';

/** Where the Service Worker serves a generation's audio (WAV) while it is in the history. */
export const historyAudioUrl = (id: string) => `/api/v1/tts/history/${id}/audio`;

async function own(id: string, key: ApiKeyRecord, ctx: ApiContext): Promise<HistoryRecord> {
  const r = await ctx.db.get('history', id);
  if (!r || r.key_id !== key.id) throw notFound(`No generation "${id}" in your history.`);
  return r;
}

export async function listHistory(q: z.infer<typeof historyQuery>, key: ApiKeyRecord, ctx: ApiContext) {
  const { items } = await new HistoryStore(ctx.db).list({ limit: HISTORY_MAX_ITEMS, voice: q.voice });
  const mine = items.filter((r) => r.key_id === key.id);
  const limit = q.limit ?? q.page_size ?? 50;
  const offset = q.offset ?? (q.page ? (q.page - 1) * limit : 0);
  return json({
    items: mine.slice(offset, offset + limit).map((r) => ({ ...r, audio_url: historyAudioUrl(r.id) })),
    total: mine.length,
    offset,
    limit,
  });
}

/** One generation with its audio (16-bit WAV, base64). */
export async function getHistory(id: string, key: ApiKeyRecord, ctx: ApiContext) {
  const r = await own(id, key, ctx);
  return json({
    ...summarize(r),
    audio_url: historyAudioUrl(r.id),
    content_type: 'audio/wav',
    audio_base64: encodeBase64(new Uint8Array(r.audio)),
  });
}

/** The audio alone, for replay and download. */
export async function historyAudio(id: string, key: ApiKeyRecord, ctx: ApiContext) {
  const r = await own(id, key, ctx);
  return new Response(r.audio, {
    headers: {
      'Content-Type': 'audio/wav',
      'Content-Length': String(r.audio.byteLength),
      'Content-Disposition': `attachment; filename="${r.id}.wav"`,
    },
  });
}

export async function deleteHistory(id: string, key: ApiKeyRecord, ctx: ApiContext) {
  await own(id, key, ctx);
  await new HistoryStore(ctx.db).delete(id);
  return json({ deleted: id });
}
