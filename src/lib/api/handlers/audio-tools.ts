// Audio tools (scope audio:process), computed in the engine (decoding needs the ffmpeg core for compressed
// formats): `/v1/audio/convert` — another format, rate or channel count; `/v1/audio/analyze` — tempo, metre
// and key of a clip.
import type { ApiContext } from '../context';
import { readAudioUpload } from '../audio-input';
import { ApiError, badRequest } from '../errors';
import { json } from '../http';
import {
  FORMAT_IDS,
  FormatOptionError,
  resolveEncode,
  type EncodeOptions,
  type FormatId,
} from '../../codec/formats';
import { formatSpec, sniffContainer } from '../../codec/formats';
import { ignoredHeader, unhonoured } from '../aliases';

export const TOOLS_UPLOAD_LIMIT = 100 * 1024 * 1024;
/** What /v1/audio/convert writes (raw PCM is for the speech routes). */
export const CONVERT_FORMATS = FORMAT_IDS.filter((f) => f !== 'pcm');

/** The upload, refused with 415 unless it starts like an audio or video container we can read. */
export async function audioUpload(request: Request) {
  const up = await readAudioUpload(request, {
    fileField: 'file',
    jsonField: 'audio',
    limit: TOOLS_UPLOAD_LIMIT,
  });
  const field = up.name !== undefined ? 'file' : 'audio';
  if (!sniffContainer(up.bytes))
    throw new ApiError(
      'unsupported_media_type',
      `${field}: this is not audio in a format Timbre can read (wav, mp3, flac, ogg/opus, m4a/aac, mp4, webm).`,
      { field },
    );
  return up;
}

export const text = (v: unknown) =>
  typeof v === 'string' ? v.trim() : typeof v === 'number' ? String(v) : '';

function intField(v: unknown, field: string): number | undefined {
  const s = text(v);
  if (!s) return undefined;
  const n = Number(s);
  if (!Number.isInteger(n)) throw badRequest(`${field}: expected a whole number (got "${s}").`, { field });
  return n;
}

/** Fields of /v1/audio/convert → encode options (ranges are checked by the transcoder, field by field). */
export function convertOptions(f: Record<string, unknown>): EncodeOptions {
  const format = (text(f.format) || 'mp3').toLowerCase();
  if (!(CONVERT_FORMATS as string[]).includes(format))
    throw badRequest(`format: expected one of ${CONVERT_FORMATS.join(', ')} (got "${format}").`, {
      field: 'format',
    });
  const ch = text(f.channels).toLowerCase();
  const channels =
    ch === '' ? undefined : ch === 'mono' || ch === '1' ? 1 : ch === 'stereo' || ch === '2' ? 2 : null;
  if (channels === null)
    throw badRequest(`channels: expected "mono" or "stereo" (got "${ch}").`, { field: 'channels' });
  const sampleFormat = text(f.sample_format);
  if (sampleFormat && sampleFormat !== 's16' && sampleFormat !== 'f32')
    throw badRequest(`sample_format: expected "s16" or "f32" (got "${sampleFormat}").`, {
      field: 'sample_format',
    });
  const options: EncodeOptions = {
    format: format as FormatId,
    bitrate: intField(f.bitrate, 'bitrate'),
    sampleRate: intField(f.sample_rate, 'sample_rate'),
    channels,
    ...(sampleFormat ? { sampleFormat: sampleFormat as 's16' | 'f32' } : {}),
  };
  // The ranges, checked here so the error names the API's field; the source's own facts are checked again
  // in the engine once the file is probed.
  try {
    resolveEncode(options, { sampleRate: 48000, channels: channels ?? 1 });
  } catch (e) {
    if (!(e instanceof FormatOptionError)) throw e;
    const field = API_FIELDS[e.field] ?? e.field;
    throw badRequest(`${field}${e.message.slice(e.field.length)}`, { field });
  }
  return options;
}

const API_FIELDS: Record<string, string> = { sampleRate: 'sample_rate', sampleFormat: 'sample_format' };

/**
 * The X-Timbre-Ignored-Parameters header of the audio tools: the fields every route names when they are
 * sent (webhook_url, aliases.ts), `bitrate` when the format written has none (wav, flac), and `extra`.
 */
export function toolIgnoredHeader(
  f: Record<string, unknown>,
  options: EncodeOptions | null,
  extra: readonly string[] = [],
): Record<string, string> {
  const lossless = options !== null && !formatSpec(options.format).lossy;
  return ignoredHeader(unhonoured(f, [...(lossless ? ['bitrate'] : []), ...extra]));
}

/**
 * `POST /v1/audio/convert`: multipart `file` (or JSON {audio}) with {format, bitrate 64–320, sample_rate
 * 8000–48000, channels mono|stereo, sample_format} → the converted file.
 */
export async function convertAudio(request: Request, ctx: ApiContext): Promise<Response> {
  const up = await audioUpload(request);
  const f = { ...up.fields, ...Object.fromEntries(new URL(request.url).searchParams) };
  const options = convertOptions(f);
  const r = await ctx.engine.run('audio.convert', { audio: up.bytes, options });
  const stem = (up.name ?? 'audio').replace(/\.[^.]*$/, '').replace(/[^\w.-]+/g, '_') || 'audio';
  return new Response(r.bytes as Uint8Array<ArrayBuffer>, {
    headers: {
      'Content-Type': r.mime,
      'Content-Disposition': `attachment; filename="${stem}.${r.extension}"`,
      'X-Audio-Format': r.format,
      'X-Sample-Rate': String(r.sampleRate),
      'X-Channels': String(r.channels),
      ...(r.bitrate !== null ? { 'X-Bitrate': String(r.bitrate) } : {}),
      ...(r.duration !== null ? { 'X-Audio-Duration': String(r.duration) } : {}),
      ...toolIgnoredHeader(f, options),
    },
  });
}

/** `POST /v1/audio/analyze`: multipart `file`, JSON {audio: base64 or data URL}, or raw audio bytes. */
export async function analyzeAudio(request: Request, ctx: ApiContext): Promise<Response> {
  const up = await audioUpload(request);
  const f = { ...up.fields, ...Object.fromEntries(new URL(request.url).searchParams) };
  const r = await ctx.engine.run('audio.analyze', { audio: up.bytes, mime: up.mime });
  // The document's shape: "Major"/"Minor", and the compatible keys as "C Major" strings, the key itself
  // first; the Camelot neighbours with their relation stay in compatible_keys_detail.
  const scale = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);
  return json(
    {
      key: r.key,
      scale: scale(r.scale),
      bpm: r.bpm,
      time_signature: r.time_signature,
      camelot: r.camelot,
      // In the document's order: the key, a fifth up, a fifth down, the relative.
      compatible_keys: [
        `${r.key} ${scale(r.scale)}`,
        ...['dominant', 'subdominant', 'relative'].flatMap((rel) =>
          r.compatible_keys.filter((k) => k.relation === rel).map((k) => `${k.key} ${scale(k.scale)}`),
        ),
      ],
      compatible_keys_detail: r.compatible_keys.map((k) => ({ ...k, scale: scale(k.scale) })),
      confidence: { tempo: r.tempo_confidence, key: r.key_confidence },
      // Whether it sounds like music at all: for speech, key and tempo mean little (#21).
      music: r.music,
      held_notes: r.held_notes,
      key_certainty: r.key_certainty,
      verdict: r.verdict,
      chroma: r.chroma,
      duration: r.duration,
      analysed_seconds: r.analysed_seconds,
      method: r.method,
    },
    200,
    toolIgnoredHeader(f, null),
  );
}
