// Audio tools (scope audio:process): `/v1/audio/analyze` — tempo, metre and key of a clip, computed in the
// engine (decoding needs the ffmpeg core for compressed formats).
import type { ApiContext } from '../context';
import { readAudioUpload } from '../audio-input';
import { ApiError } from '../errors';
import { json } from '../http';
import { audioInfo } from '../../audio/duration';
import { sniffContainer } from './transcribe';

export const ANALYZE_UPLOAD_LIMIT = 100 * 1024 * 1024;

/** `POST /v1/audio/analyze`: multipart `file`, JSON {audio: base64 or data URL}, or raw audio bytes. */
export async function analyzeAudio(request: Request, ctx: ApiContext): Promise<Response> {
  const up = await readAudioUpload(request, {
    fileField: 'file',
    jsonField: 'audio',
    limit: ANALYZE_UPLOAD_LIMIT,
  });
  const field = up.name !== undefined ? 'file' : 'audio';
  if (!sniffContainer(up.bytes))
    throw new ApiError(
      'unsupported_media_type',
      `${field}: this is not audio in a format Timbre can read (wav, mp3, flac, ogg/opus, m4a/aac, mp4, webm).`,
      { field },
    );
  const info = await audioInfo(up.bytes, up.mime).catch(() => null);
  const r = await ctx.engine.run('audio.analyze', {
    audio: up.bytes,
    mime: up.mime,
    duration_hint: info?.duration,
    rate_hint: info?.sample_rate ?? undefined,
  });
  return json({
    key: r.key,
    scale: r.scale,
    bpm: r.bpm,
    time_signature: r.time_signature,
    camelot: r.camelot,
    compatible_keys: r.compatible_keys,
    confidence: { tempo: r.tempo_confidence, key: r.key_confidence },
    chroma: r.chroma,
    duration: r.duration,
    analysed_seconds: r.analysed_seconds,
    method: r.method,
  });
}
