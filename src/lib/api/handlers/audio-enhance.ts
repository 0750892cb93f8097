// Speech clean-up routes (scope audio:process), computed in the engine: `/v1/audio/enhance` (RNNoise
// denoising, clarity EQ and de-essing, loudness normalisation; before/after loudness and estimated SNR),
// `/v1/audio/trim-silence` and `/v1/audio/split` (speech found by VAD).
import type { ApiContext } from '../context';
import { badRequest } from '../errors';
import { json } from '../http';
import { encodeBase64 } from '../../core/base64';
import type { AudioEnhanceResult } from '../../audio/contract';
import { audioUpload, convertOptions, text, toolIgnoredHeader } from './audio-tools';

export const SNR_METHOD =
  'Speech regions by voice-activity detection on the input; SNR = 10·log10((S − N)/N) with S the mean power of 32 ms frames in speech and N the median power of frames outside it; before and after use the same regions.';

function bool(v: unknown, field: string, fallback: boolean): boolean {
  if (typeof v === 'boolean') return v;
  const s = text(v).toLowerCase();
  if (!s) return fallback;
  if (['true', '1', 'yes', 'on'].includes(s)) return true;
  if (['false', '0', 'no', 'off'].includes(s)) return false;
  throw badRequest(`${field}: expected true or false (got "${s}").`, { field });
}

function num(v: unknown, field: string, lo: number, hi: number): number | undefined {
  const s = text(v);
  if (!s) return undefined;
  const n = Number(s);
  if (!Number.isFinite(n) || n < lo || n > hi)
    throw badRequest(`${field}: expected a number from ${lo} to ${hi} (got "${s}").`, { field });
  return n;
}

function responseKind(v: unknown): 'audio' | 'json' {
  const s = text(v).toLowerCase() || 'audio';
  if (s !== 'audio' && s !== 'json')
    throw badRequest(`response: expected "audio" or "json" (got "${s}").`, { field: 'response' });
  return s;
}

/** The upload's fields with the query's on top (so `?response=json` works with a raw body too). */
async function upload(request: Request) {
  const up = await audioUpload(request);
  return { up, f: { ...up.fields, ...Object.fromEntries(new URL(request.url).searchParams) } };
}

/** Fields of /v1/audio/enhance → the engine's arguments (without the audio). */
export function enhanceOptions(f: Record<string, unknown>) {
  if (bool(f.super_resolution, 'super_resolution', false))
    throw badRequest(
      'super_resolution: not supported — there is no bandwidth-extension model in Timbre; leave it out or set it to false.',
      { field: 'super_resolution' },
    );
  const strength = num(f.strength, 'strength', 1, 3);
  if (strength !== undefined && !Number.isInteger(strength))
    throw badRequest(`strength: expected 1, 2 or 3 (got "${text(f.strength)}").`, { field: 'strength' });
  return {
    denoise: bool(f.denoise, 'denoise', true),
    // On unless turned off, as the document has it.
    clarity: bool(f.enhance_clarity, 'enhance_clarity', true),
    strength: (strength ?? 2) as 1 | 2 | 3,
    target_lufs: num(f.target_lufs, 'target_lufs', -30, -9),
    options: convertOptions({ ...f, format: text(f.format) || 'wav' }),
  };
}

function figures(r: AudioEnhanceResult) {
  return {
    loudness_before: r.loudness_before,
    loudness_after: r.loudness_after,
    true_peak_after: r.true_peak_after,
    snr_before: r.snr_before.snr_db,
    snr_after: r.snr_after.snr_db,
    noise_floor_before: r.snr_before.noise_db,
    noise_floor_after: r.snr_after.noise_db,
    speech_level_before: r.snr_before.speech_db,
    speech_level_after: r.snr_after.speech_db,
    snr_method: SNR_METHOD,
    vad: r.vad,
    steps: r.steps,
    duration: r.duration,
  };
}

/**
 * `POST /v1/audio/enhance`: multipart `file` (or JSON {audio}) with {denoise, enhance_clarity, strength,
 * target_lufs, format…, response audio|json} → the enhanced audio with X-Loudness-*, X-SNR-* headers
 * (left out when a figure does not exist, e.g. the loudness of silence), or JSON.
 */
export async function enhanceAudio(request: Request, ctx: ApiContext): Promise<Response> {
  const { up, f } = await upload(request);
  const kind = responseKind(f.response);
  const options = enhanceOptions(f);
  // strength is the denoiser's: with denoise off it has nothing to set.
  const ignored = toolIgnoredHeader(f, options.options, options.denoise ? [] : ['strength']);
  const r = await ctx.engine.run('audio.enhance', { audio: up.bytes, ...options });
  const a = r.audio;
  if (kind === 'json')
    return json(
      {
        audio_base64: encodeBase64(a.bytes),
        format: a.format,
        mime: a.mime,
        sample_rate: a.sampleRate,
        channels: a.channels,
        ...figures(r),
      },
      200,
      ignored,
    );
  const headers: Record<string, string> = {
    ...ignored,
    'Content-Type': a.mime,
    'Content-Disposition': `attachment; filename="${stem(up.name)}-enhanced.${a.extension}"`,
    'X-Audio-Format': a.format,
    'X-Sample-Rate': String(a.sampleRate),
    'X-Audio-Duration': String(r.duration),
  };
  const put = (name: string, v: number | null) => {
    if (v !== null) headers[name] = String(v);
  };
  put('X-Loudness-Before', r.loudness_before);
  put('X-Loudness-After', r.loudness_after);
  put('X-SNR-Before', r.snr_before.snr_db);
  put('X-SNR-After', r.snr_after.snr_db);
  put('X-Noise-Floor-Before', r.snr_before.noise_db);
  put('X-Noise-Floor-After', r.snr_after.noise_db);
  return new Response(a.bytes as Uint8Array<ArrayBuffer>, { headers });
}

const stem = (name: string | undefined) =>
  (name ?? 'audio').replace(/\.[^.]*$/, '').replace(/[^\w.-]+/g, '_') || 'audio';

/** `POST /v1/audio/trim-silence`: {file, max_pause (s, optional), response audio|json} → WAV. */
export async function trimSilenceRoute(request: Request, ctx: ApiContext): Promise<Response> {
  const { up, f } = await upload(request);
  const kind = responseKind(f.response);
  const maxPause = num(f.max_pause, 'max_pause', 0.05, 60);
  const r = await ctx.engine.run('audio.silence', { audio: up.bytes, mode: 'trim', max_pause: maxPause });
  const t = r.trimmed!;
  if (kind === 'json')
    return json({
      audio_base64: encodeBase64(t.wav),
      start: t.start,
      end: t.end,
      duration: t.duration,
      original_duration: r.duration,
      removed_seconds: t.removed_seconds,
      pauses_shortened: t.pauses_shortened,
      sample_rate: r.sample_rate,
      vad: r.vad,
    });
  return new Response(t.wav as Uint8Array<ArrayBuffer>, {
    headers: {
      'Content-Type': 'audio/wav',
      'Content-Disposition': `attachment; filename="${stem(up.name)}-trimmed.wav"`,
      'X-Trim-Start': String(t.start),
      'X-Trim-End': String(t.end),
      'X-Audio-Duration': String(t.duration),
      'X-Pauses-Shortened': String(t.pauses_shortened),
    },
  });
}

/** `POST /v1/audio/split`: {file, min_pause (s, 0.5)} → {pieces[{start, end, duration, audio_base64}]}. */
export async function splitRoute(request: Request, ctx: ApiContext): Promise<Response> {
  const { up, f } = await upload(request);
  const minPause = num(f.min_pause, 'min_pause', 0.1, 60) ?? 0.5;
  const r = await ctx.engine.run('audio.silence', { audio: up.bytes, mode: 'split', min_pause: minPause });
  const pieces = r.pieces ?? [];
  return json({
    pieces: pieces.map((p) => ({
      start: p.start,
      end: p.end,
      duration: Math.round((p.end - p.start) * 1000) / 1000,
      audio_base64: encodeBase64(p.wav),
    })),
    count: pieces.length,
    min_pause: minPause,
    duration: r.duration,
    sample_rate: r.sample_rate,
    format: 'wav',
    vad: r.vad,
  });
}
