import { z } from 'zod';
import type { ApiContext } from '../context';
import { ApiError, notFound } from '../errors';
import { json } from '../http';
import type { ApiKeyRecord } from '../../auth/keys';
import { encodePcm16, encodeWav } from '../../tts/wav';
import { encodeBase64 } from '../../util/base64';
import { KOKORO_VOICE_IDS } from '../../voices/presets';
import type { SynthesizeResult } from '../../tts/kokoro';

/** Speech can take a while on 2 cores; a Service Worker keeps a fetch open for about five minutes. */
export const SPEECH_WAIT_MS = 240_000;

/** OpenAI voice names → the Kokoro presets that sound most alike (documented in the README). */
export const OPENAI_VOICES: Record<string, string> = {
  alloy: 'af_alloy',
  ash: 'am_adam',
  ballad: 'bm_fable',
  coral: 'af_heart',
  echo: 'am_echo',
  fable: 'bm_fable',
  nova: 'af_nova',
  onyx: 'am_onyx',
  sage: 'af_sarah',
  shimmer: 'af_bella',
  verse: 'am_michael',
};

const formatField = z.enum(['mp3', 'opus', 'aac', 'flac', 'wav', 'pcm']);

export const openAiSpeechBody = z
  .object({
    model: z.enum(['tts-1', 'tts-1-hd', 'gpt-4o-mini-tts', 'kokoro']),
    input: z.string().min(1).max(4096),
    voice: z.string().min(1).max(1000),
    response_format: formatField.default('mp3'),
    speed: z.number().min(0.25).max(4).default(1),
    instructions: z.string().max(4096).optional(),
    stream_format: z.enum(['audio', 'sse']).optional(),
  })
  .strict();

export const presetSpeechBody = z
  .object({
    text: z.string().min(1).max(5000),
    voice_id: z.string().min(1).max(1000),
    language: z.string().min(2).max(10).optional(),
    speed: z.number().min(0.5).max(2).default(1),
    volume: z.number().min(-20).max(20).default(0),
    pause_ms: z.number().int().min(0).max(5000).optional(),
    temperature: z.number().min(0.1).max(1.5).optional(),
    format: z.enum(['wav', 'pcm']).default('wav'),
  })
  .strict();

/**
 * A voice as callers name it: a preset id, an OpenAI voice name, a mix formula, or a library voice whose
 * recipe is a formula (mixed and designed voices). Cloned voices need the converter (issue #6).
 */
export async function resolveVoice(name: string, ctx: ApiContext): Promise<string> {
  const v = name.trim();
  if ((KOKORO_VOICE_IDS as readonly string[]).includes(v)) return v;
  const mapped = OPENAI_VOICES[v.toLowerCase()];
  if (mapped) return mapped;
  if (/[*+]/.test(v)) return v; // a mix formula; the engine validates each term
  const stored = await ctx.db.get('voices', v);
  if (!stored)
    throw notFound(
      `No voice "${v}": use a preset id (e.g. af_heart), an OpenAI voice name, a mix formula, or a library voice id.`,
    );
  if (stored.recipe?.formula) return stored.recipe.formula;
  if (stored.kind === 'preset') return stored.id;
  throw new ApiError(
    'model_not_installed',
    `Voice "${stored.name}" is a cloned voice; speaking in it needs the tone-colour converter, which is not available yet.`,
  );
}

async function synthesize(
  args: {
    text: string;
    voice: string;
    speed: number;
    volume_db?: number;
    pause_ms?: number;
    language?: string;
    temperature?: number;
  },
  key: ApiKeyRecord,
  ctx: ApiContext,
): Promise<{ result: SynthesizeResult; jobId: string }> {
  const job = await ctx.jobs.start('tts.generate', args, key.id);
  const done = await ctx.jobs.wait(job.id, SPEECH_WAIT_MS);
  if (!done || done.status === 'running' || done.status === 'queued') {
    await ctx.jobs.cancel({ id: job.id });
    throw new ApiError(
      'internal_error',
      `Speech took longer than ${SPEECH_WAIT_MS / 1000} s and was stopped; send shorter text.`,
    );
  }
  if (done.status !== 'succeeded') {
    const code = done.error?.code;
    throw new ApiError(
      code === 'model_not_installed' ||
        code === 'not_found' ||
        code === 'bad_request' ||
        code === 'engine_unavailable' ||
        code === 'cancelled'
        ? code
        : 'internal_error',
      done.error?.message ?? 'Speech generation failed.',
      { job_id: job.id },
    );
  }
  return { result: done.result as SynthesizeResult, jobId: job.id };
}

function audioBytes(r: SynthesizeResult, format: 'wav' | 'pcm'): { bytes: Uint8Array; type: string } {
  return format === 'wav'
    ? { bytes: encodeWav(r.samples, r.sampleRate, 's16'), type: 'audio/wav' }
    : { bytes: encodePcm16(r.samples), type: 'application/octet-stream' };
}

/** mp3, opus, aac and flac through the ffmpeg.wasm core in the engine (the engine host's worker). */
async function compressed(
  r: SynthesizeResult,
  format: 'mp3' | 'opus' | 'aac' | 'flac',
  ctx: ApiContext,
): Promise<{ bytes: Uint8Array; type: string }> {
  const e = await ctx.engine.run('audio.encode', {
    samples: r.samples,
    sampleRate: r.sampleRate,
    options: { format },
  });
  return { bytes: e.bytes, type: e.mime };
}

/** `POST /v1/audio/speech`: OpenAI's shape; raw audio bytes with their Content-Type. */
export async function openAiSpeech(
  body: z.infer<typeof openAiSpeechBody>,
  key: ApiKeyRecord,
  ctx: ApiContext,
): Promise<Response> {
  const format = body.response_format;
  if (body.stream_format === 'sse')
    throw new ApiError(
      'bad_request',
      'stream_format "sse" is not available yet; leave it out for the whole file.',
      { field: 'stream_format' },
    );
  const voice = await resolveVoice(body.voice, ctx);
  // Kokoro speaks at 0.5–2×; OpenAI's wider range is clamped (documented).
  const speed = Math.min(2, Math.max(0.5, body.speed));
  const { result } = await synthesize({ text: body.input, voice, speed }, key, ctx);
  const { bytes, type } =
    format === 'wav' || format === 'pcm' ? audioBytes(result, format) : await compressed(result, format, ctx);
  return new Response(bytes as BodyInit, {
    headers: {
      'Content-Type': type,
      'Content-Length': String(bytes.byteLength),
      'X-Sample-Rate': String(result.sampleRate),
    },
  });
}

/** `POST /api/generate/preset`: the studio shape; JSON with base64 audio and the sentence timings. */
export async function presetSpeech(
  body: z.infer<typeof presetSpeechBody>,
  key: ApiKeyRecord,
  ctx: ApiContext,
): Promise<Response> {
  const voice = await resolveVoice(body.voice_id, ctx);
  const { result, jobId } = await synthesize(
    {
      text: body.text,
      voice,
      speed: body.speed,
      volume_db: body.volume,
      pause_ms: body.pause_ms,
      language: body.language,
      temperature: body.temperature,
    },
    key,
    ctx,
  );
  const { bytes, type } = audioBytes(result, body.format);
  return json({
    success: true,
    job_id: jobId,
    format: body.format,
    content_type: type,
    sample_rate: result.sampleRate,
    duration: Math.round((result.samples.length / result.sampleRate) * 1000) / 1000,
    chunks: result.chunks,
    dropped_chars: result.dropped_chars,
    temperature_note:
      body.temperature !== undefined
        ? 'temperature is accepted and ignored: Kokoro has no sampling temperature.'
        : undefined,
    audio_base64: encodeBase64(bytes),
  });
}
