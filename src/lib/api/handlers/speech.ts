// Speech routes: every family's request shape comes down to one SpeechSpec, spoken by the 'tts.generate'
// engine operation as a job (cancellable by id), kept in the history, and answered whole or streamed.
import { z } from 'zod';
import type { ApiContext } from '../context';
import { ApiError, jobError, notFound, toApiError } from '../errors';
import { json } from '../http';
import type { ApiKeyRecord } from '../../auth/keys';
import type { Progress, RunOptions } from '../../core/run';
import { HistoryStore } from '../../storage/history';
import { LexiconStore } from '../../storage/lexicon';
import { encodePcm16, encodeWav } from '../../dsp/wav';
import { encodeBase64 } from '../../core/base64';
import { KOKORO_VOICE_IDS } from '../../voices/presets';
import { baseVoiceFor } from '../../clone/base-voice';
import type { CloneSpeakArgs, CloneSpeakResult } from '../../clone/types';
import type { SynthesizeParams, SynthesizeResult } from '../../tts/kokoro';

/** Speech can take a while on 2 cores; a Service Worker keeps a fetch open for about five minutes. */
export const SPEECH_WAIT_MS = 240_000;
/** What a failed speech job says when its record has no message. */
const SPEECH_FAILED = 'Speech generation failed.';
/** A streamed answer keeps sending audio, so it may run longer than a whole-file one. */
export const STREAM_WAIT_MS = 30 * 60_000;
/**
 * How long a stream waits for its first audio before the response (headers) goes out anyway: errors that
 * come that early (unknown voice, model not installed) keep their status; a model that is still loading
 * must not keep the response back past the Service Worker's fetch limit (about five minutes).
 */
export const streamTiming = { holdMs: 15_000 };
/** Text limits: OpenAI's audio.speech takes 4096 characters; the other families 5000 (their "Pro" limit). */
export const OPENAI_MAX_CHARS = 4096;
export const MAX_CHARS = 5000;
export const DEFAULT_VOICE = 'af_heart';
/** Kokoro's output rate (kokoro.ts is not imported here: it would pull the engine into the SW). */
const KOKORO_RATE = 24000;

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
  marin: 'af_river',
  cedar: 'am_liam',
};

export const AUDIO_FORMATS = ['mp3', 'opus', 'aac', 'flac', 'wav', 'pcm'] as const;
export type AudioFormat = (typeof AUDIO_FORMATS)[number];

/**
 * Content-Type per format (the same as the formats module): wav audio/wav, mp3 audio/mpeg, opus
 * "audio/ogg; codecs=opus" (Ogg Opus), aac audio/aac (ADTS), flac audio/flac, pcm application/octet-stream
 * (raw 24 kHz mono s16le, no header; X-Sample-Rate says the rate).
 */
export const CONTENT_TYPES: Record<AudioFormat, string> = {
  wav: 'audio/wav',
  pcm: 'application/octet-stream',
  mp3: 'audio/mpeg',
  opus: 'audio/ogg; codecs=opus',
  aac: 'audio/aac',
  flac: 'audio/flac',
};

/** Text with a limit the 400 names (zod's own wording says "Too big: expected string to have <=…"). */
const text = (max: number) =>
  z
    .string()
    .max(max, `longer than the limit of ${max} characters`)
    .refine((s) => s.trim().length > 0, `empty: send 1 to ${max} characters of text`);
const voiceName = z.string().trim().min(1, 'empty: name a voice').max(1000);

export const openAiSpeechBody = z
  .object({
    model: z.enum([
      'tts-1',
      'tts-1-hd',
      'gpt-4o-mini-tts',
      'gpt-4o-mini-tts-2025-03-20',
      'gpt-4o-mini-tts-2025-12-15',
      'kokoro',
    ]),
    input: text(OPENAI_MAX_CHARS),
    // OpenAI also takes a custom voice as {id}.
    voice: z.union([voiceName, z.object({ id: voiceName }).strict()]),
    response_format: z.enum(AUDIO_FORMATS).default('mp3'),
    speed: z.number().min(0.25).max(4).default(1),
    instructions: z.string().max(4096).optional(),
    stream_format: z.enum(['audio', 'sse']).default('audio'),
  })
  .strict();

export const presetSpeechBody = z
  .object({
    text: text(MAX_CHARS),
    voice_id: voiceName,
    language: z.string().min(2).max(10).optional(),
    speed: z.number().min(0.5).max(2).default(1),
    volume: z.number().min(-20).max(20).default(0),
    pause_ms: z.number().int().min(0).max(5000).optional(),
    temperature: z.number().min(0.1).max(1.5).optional(),
    format: z.enum(['wav', 'pcm']).default('wav'),
  })
  .strict();

/** `POST /v1/tts/` (the OpenAI-style family's own route). */
export const v1TtsBody = z
  .object({
    model: z.string().min(1).max(100).default('kokoro'),
    text: text(MAX_CHARS),
    voice: voiceName.default(DEFAULT_VOICE),
    format: z.enum(AUDIO_FORMATS).default('mp3'),
    speed: z.number().min(0.5).max(2).default(1),
    language: z.string().min(2).max(10).optional(),
    stream: z.boolean().default(false),
  })
  .strict();

/** The streaming-TTS family's parameters (`POST /api/v1/tts/` and `/api/v1/tts/stream`). */
export const fr02TtsBody = z
  .object({
    text: text(MAX_CHARS),
    voice_id: voiceName.optional(),
    format: z.enum(['mp3', 'wav', 'pcm', 'opus']).default('mp3'),
    speed: z.number().min(0.5).max(2).default(1),
    volume: z.number().min(-20).max(20).default(0),
    temperature: z.number().min(0.1).max(1.5).optional(),
    latency: z.enum(['normal', 'balanced', 'low']).default('balanced'),
  })
  .strict();

/** Model names /v1/tts accepts: all mean the bundled Kokoro. */
const KOKORO_NAMES = new Set([
  'kokoro',
  'kokoro-82m',
  'kokoro-82m-q8',
  'tts-1',
  'tts-1-hd',
  'gpt-4o-mini-tts',
]);

/** One generation as every route describes it. */
export interface SpeechSpec {
  text: string;
  /** The voice as the caller named it. */
  voice: string;
  format: AudioFormat;
  speed: number;
  volume_db?: number;
  pause_ms?: number;
  language?: string;
  temperature?: number;
  /** "POST /v1/audio/speech", … (kept in the history). */
  route: string;
}

export interface Speaker {
  /** What the engine speaks: a preset id or a mix formula. */
  voice: string;
  /** Whose voice-scoped lexicon entries apply (a preset or library voice id; none for a bare formula). */
  lexiconScope?: string;
  /** A designed voice's own pace, multiplied into the caller's speed. */
  speed?: number;
  /** A cloned voice: spoken by clone.speak (Kokoro in `voice`, its base voice → the converter). */
  cloned?: { embedding: number[]; language: string; gender: string };
}

/**
 * A voice as callers name it: a preset id, an OpenAI voice name, a mix formula, or a library voice whose
 * recipe is a formula (mixed and designed voices), or a cloned voice (spoken by clone.speak).
 */
export async function resolveSpeaker(name: string, ctx: ApiContext): Promise<Speaker> {
  const v = name.trim();
  if ((KOKORO_VOICE_IDS as readonly string[]).includes(v)) return { voice: v, lexiconScope: v };
  const mapped = OPENAI_VOICES[v.toLowerCase()];
  if (mapped) return { voice: mapped, lexiconScope: mapped };
  if (/[*+]/.test(v)) return { voice: v }; // a mix formula; the engine validates each term
  const stored = await ctx.db.get('voices', v);
  if (!stored)
    throw notFound(
      `No voice "${v}": use a preset id (e.g. af_heart), an OpenAI voice name, a mix formula, or a library voice id.`,
    );
  if (stored.recipe?.formula)
    return { voice: stored.recipe.formula, lexiconScope: stored.id, speed: stored.recipe.speed };
  if (stored.kind === 'preset') return { voice: stored.id, lexiconScope: stored.id };
  if (stored.embedding?.length)
    return {
      voice: baseVoiceFor(stored.language, stored.gender),
      lexiconScope: stored.id,
      cloned: { embedding: stored.embedding, language: stored.language, gender: stored.gender },
    };
  throw notFound(`Voice "${stored.name}" has neither a recipe nor a tone embedding to speak with.`);
}

/** The engine voice only (kept for callers that need no lexicon scope). */
export async function resolveVoice(name: string, ctx: ApiContext): Promise<string> {
  return (await resolveSpeaker(name, ctx)).voice;
}

/** The engine arguments: the resolved voice and the stored lexicon entries that apply to it. */
export async function engineArgs(
  spec: SpeechSpec,
  ctx: ApiContext,
  resolved?: Speaker,
): Promise<{ args: SynthesizeParams; speaker: Speaker }> {
  const speaker = resolved ?? (await resolveSpeaker(spec.voice, ctx));
  const lexicon = await new LexiconStore(ctx.db).forVoice(speaker.lexiconScope);
  const args: SynthesizeParams = {
    text: spec.text,
    voice: speaker.voice,
    // Kokoro speaks at 0.5–2×; a designed voice's pace scales the caller's speed within that range.
    speed: Math.min(2, Math.max(0.5, Math.round(spec.speed * (speaker.speed ?? 1) * 100) / 100)),
    volume_db: spec.volume_db,
    pause_ms: spec.pause_ms,
    language: spec.language,
    temperature: spec.temperature,
  };
  if (lexicon.length) args.lexicon = lexicon;
  if (speaker.lexiconScope) args.voice_id = speaker.lexiconScope;
  return { args, speaker };
}

function tooSlow(): ApiError {
  return new ApiError(
    'internal_error',
    `Speech took longer than ${SPEECH_WAIT_MS / 1000} s and was stopped; send shorter text or stream it.`,
  );
}

const seconds = (r: SynthesizeResult) => Math.round((r.samples.length / r.sampleRate) * 1000) / 1000;

/** What keeping a generation in the history gave: its id, or the storage error to report. */
export type Kept = { id: string; error?: undefined } | { id?: undefined; error: ApiError };

/** Keeps a generation (16-bit WAV). A full storage is reported, never fatal: the caller still gets audio. */
export async function keepInHistory(
  spec: SpeechSpec,
  speaker: Speaker,
  result: SynthesizeResult,
  elapsedMs: number,
  key: ApiKeyRecord,
  ctx: ApiContext,
): Promise<Kept> {
  const wav = encodeWav(result.samples, result.sampleRate, 's16');
  try {
    const rec = await new HistoryStore(ctx.db).add({
      created_at: ctx.now(),
      text: spec.text,
      voice: spec.voice,
      voice_resolved: speaker.voice,
      params: {
        speed: spec.speed,
        volume_db: spec.volume_db,
        pause_ms: spec.pause_ms,
        language: spec.language,
        format: spec.format,
      },
      duration: seconds(result),
      elapsed_ms: Math.max(0, Math.round(elapsedMs)),
      sample_rate: result.sampleRate,
      audio: wav.buffer as ArrayBuffer,
      source: 'api',
      route: spec.route,
      key_id: key.id,
    });
    return { id: rec.id };
  } catch (e) {
    const err = toApiError(e);
    if (err.code !== 'storage_full') throw e;
    return {
      error: new ApiError(
        'storage_full',
        `${err.message.replace(/ Nothing was stored\.$/, '')} The generation was not kept in the history; its audio is in this response.`,
      ),
    };
  }
}

export interface Spoken {
  result: SynthesizeResult;
  jobId: string;
  kept: Kept;
  speaker: Speaker;
}

/** clone.speak's arguments for a cloned voice (the converter takes no lexicon, pauses or volume). */
export function clonedArgs(a: SynthesizeParams, c: NonNullable<Speaker['cloned']>): CloneSpeakArgs {
  return {
    text: a.text,
    embedding: c.embedding,
    language: a.language ?? c.language,
    gender: c.gender as CloneSpeakArgs['gender'],
    baseVoice: typeof a.voice === 'string' ? a.voice : undefined,
    speed: a.speed,
  };
}

const clonedResult = (r: CloneSpeakResult, text: string): SynthesizeResult => ({
  samples: r.samples,
  sampleRate: r.sampleRate,
  chunks: [{ text, start: 0, end: r.samples.length / r.sampleRate }],
  dropped_chars: 0,
});

/**
 * Speaks the whole text as one job, waits for it, and keeps it in the history. `resolved` is a speaker
 * already chosen by the caller (e.g. a tone embedding measured from an upload, not a stored voice).
 * `within`: the caller is itself a job (e.g. a long speech translation): the engine runs under its
 * signal and progress, with no wait limit, and the history names that job.
 */
export async function speak(
  spec: SpeechSpec,
  key: ApiKeyRecord,
  ctx: ApiContext,
  resolved?: Speaker,
  within?: { jobId: () => string; opts: RunOptions },
): Promise<Spoken> {
  const { args, speaker } = await engineArgs(spec, ctx, resolved);
  const t0 = ctx.now();
  let raw: unknown;
  let jobId: string;
  if (within) {
    raw = speaker.cloned
      ? await ctx.engine.run('clone.speak', clonedArgs(args, speaker.cloned), within.opts)
      : await ctx.engine.run('tts.generate', args, within.opts);
    jobId = within.jobId();
  } else {
    const job = speaker.cloned
      ? await ctx.jobs.start('clone.speak', clonedArgs(args, speaker.cloned), key.id)
      : await ctx.jobs.start('tts.generate', args, key.id);
    const done = await ctx.jobs.wait(job.id, SPEECH_WAIT_MS);
    if (!done || done.status === 'running' || done.status === 'queued') {
      await ctx.jobs.cancel({ id: job.id });
      throw tooSlow();
    }
    if (done.status !== 'succeeded') throw jobError(done, SPEECH_FAILED);
    raw = done.result;
    jobId = job.id;
  }
  const result = speaker.cloned
    ? clonedResult(raw as CloneSpeakResult, spec.text)
    : (raw as SynthesizeResult);
  const kept = await keepInHistory(spec, speaker, result, ctx.now() - t0, key, ctx);
  return { result, jobId, kept, speaker };
}

/** The whole audio in `format`: wav and pcm here, the compressed ones on the engine's ffmpeg.wasm core. */
export async function encodeAudio(
  r: SynthesizeResult,
  format: AudioFormat,
  ctx: ApiContext,
): Promise<{ bytes: Uint8Array; type: string }> {
  if (format === 'wav') return { bytes: encodeWav(r.samples, r.sampleRate, 's16'), type: CONTENT_TYPES.wav };
  if (format === 'pcm') return { bytes: encodePcm16(r.samples), type: CONTENT_TYPES.pcm };
  const e = await ctx.engine.run('audio.encode', {
    samples: r.samples,
    sampleRate: r.sampleRate,
    options: { format },
  });
  return { bytes: e.bytes, type: e.mime };
}

/** The audio bytes, or — storage full — a 507 whose error carries the audio as base64. */
export function audioAnswer(
  s: Spoken,
  bytes: Uint8Array,
  type: string,
  extra: Record<string, string> = {},
): Response {
  const info = {
    'X-Sample-Rate': String(s.result.sampleRate),
    'X-Audio-Duration': String(seconds(s.result)),
    'X-Job-Id': s.jobId,
    ...extra,
  };
  if (s.kept.error)
    throw new ApiError(
      'storage_full',
      s.kept.error.message,
      { job_id: s.jobId, content_type: type, audio_base64: encodeBase64(bytes) },
      info,
    );
  return new Response(bytes as BodyInit, {
    headers: {
      'Content-Type': type,
      'Content-Length': String(bytes.byteLength),
      'X-History-Id': s.kept.id,
      ...info,
    },
  });
}

/** Speaks the whole text and answers the audio bytes with their Content-Type. */
export async function wholeAudio(spec: SpeechSpec, key: ApiKeyRecord, ctx: ApiContext): Promise<Response> {
  const s = await speak(spec, key, ctx);
  const { bytes, type } = await encodeAudio(s.result, spec.format, ctx);
  return audioAnswer(s, bytes, type);
}

// ——— Streaming ———

interface Chunk {
  samples: Float32Array;
  sampleRate: number;
}

/** The audio of a tts.generate 'chunk' progress event (checked here: the SW must not import the engine). */
function chunkOf(p: Progress): Chunk | null {
  if (p.stage !== 'chunk' || !p.data || typeof p.data !== 'object') return null;
  const d = p.data as Partial<Chunk>;
  return d.samples instanceof Float32Array && typeof d.sampleRate === 'number' ? (d as Chunk) : null;
}

/**
 * A WAV header for a stream of unknown length: 16-bit mono, RIFF and data sizes 0xFFFFFFFF (what
 * streaming encoders write; readers take the data as running to the end of the file).
 */
export function streamingWavHeader(sampleRate: number): Uint8Array {
  const h = new Uint8Array(44);
  const v = new DataView(h.buffer);
  const ascii = (at: number, s: string) => [...s].forEach((c, i) => (h[at + i] = c.charCodeAt(0)));
  ascii(0, 'RIFF');
  v.setUint32(4, 0xffffffff, true);
  ascii(8, 'WAVE');
  ascii(12, 'fmt ');
  v.setUint32(16, 16, true);
  v.setUint16(20, 1, true);
  v.setUint16(22, 1, true);
  v.setUint32(24, sampleRate, true);
  v.setUint32(28, sampleRate * 2, true);
  v.setUint16(32, 2, true);
  v.setUint16(34, 16, true);
  ascii(36, 'data');
  v.setUint32(40, 0xffffffff, true);
  return h;
}

/** OpenAI's usage object; Kokoro has no billing tokens: characters in, 20 ms audio frames out. */
function usage(spec: SpeechSpec, r: SynthesizeResult) {
  const input = spec.text.length;
  const output = Math.round((r.samples.length / r.sampleRate) * 50);
  return { input_tokens: input, output_tokens: output, total_tokens: input + output };
}

const sse = (event: unknown) => new TextEncoder().encode(`data: ${JSON.stringify(event)}\n\n`);

/** Base64 deltas of at most this many bytes when a whole file goes out as SSE. */
const SSE_PIECE = 48 * 1024;

/**
 * Streams speech. wav and pcm go out sentence by sentence as the engine makes them (a WAV header with
 * streaming sizes first); the compressed formats are encoded whole at the end (separately encoded mp3 or
 * Ogg pieces do not join into one clean file). `mode` 'sse' sends OpenAI's events
 * `{"type":"speech.audio.delta","audio":base64}` … `{"type":"speech.audio.done","usage":…}`; 'audio' the raw
 * bytes. Errors before the first audio (within streamTiming.holdMs) answer with their own status; later
 * ones end an 'audio' stream with an error (the client sees an aborted body, never a short file) and an
 * 'sse' stream with an `{"type":"error"}` event and no done event. Cancelling the job (POST /api/generation/cancel with the
 * X-Job-Id of the response) or dropping the connection stops the generation.
 */
export async function streamSpeech(
  spec: SpeechSpec,
  mode: 'sse' | 'audio',
  key: ApiKeyRecord,
  ctx: ApiContext,
  request?: Request,
): Promise<Response> {
  // Cloned voices are spoken whole (clone.speak), then sent the same way as compressed formats.
  if ((spec.format !== 'wav' && spec.format !== 'pcm') || (await resolveSpeaker(spec.voice, ctx)).cloned) {
    const s = await speak(spec, key, ctx);
    const { bytes, type } = await encodeAudio(s.result, spec.format, ctx);
    if (mode === 'audio') return audioAnswer(s, bytes, type);
    const events: Uint8Array[] = [];
    for (let at = 0; at < bytes.length; at += SSE_PIECE)
      events.push(
        sse({ type: 'speech.audio.delta', audio: encodeBase64(bytes.subarray(at, at + SSE_PIECE)) }),
      );
    events.push(sse(doneEvent(spec, s.result, s.jobId, s.kept)));
    return sseResponse(new Blob(events as BlobPart[]).stream(), s.jobId);
  }

  const { args, speaker } = await engineArgs(spec, ctx);
  const t0 = ctx.now();
  const pending: Chunk[] = [];
  let push: ((c: Chunk) => void) | null = null;
  let sawFirst = () => {};
  const first = new Promise<'first'>((r) => (sawFirst = () => r('first')));
  const job = await ctx.jobs.start('tts.generate', args, key.id, {
    onProgress: (p) => {
      const c = chunkOf(p);
      if (!c) return;
      if (push) push(c);
      else pending.push(c);
      sawFirst();
    },
  });
  const done = ctx.jobs.wait(job.id, STREAM_WAIT_MS);
  // Errors before any audio (unknown voice term, model not installed, …) answer with their own status.
  let timer: ReturnType<typeof setTimeout> | undefined;
  const hold = new Promise<'hold'>((r) => (timer = setTimeout(() => r('hold'), streamTiming.holdMs)));
  const early = await Promise.race([first, done, hold]);
  clearTimeout(timer);
  if (early !== 'first' && early !== 'hold') {
    if (!early) {
      await ctx.jobs.cancel({ id: job.id });
      throw tooSlow();
    }
    if (early.status !== 'succeeded') throw jobError(early, SPEECH_FAILED);
  }

  const format = spec.format;
  const sampleRate = pending[0]?.sampleRate ?? KOKORO_RATE;
  let header = format === 'wav';
  let sentAudio = false;
  const bytesOf = (c: Chunk): Uint8Array => {
    const pcm = encodePcm16(c.samples);
    sentAudio = true;
    if (!header) return pcm;
    header = false;
    const out = new Uint8Array(44 + pcm.length);
    out.set(streamingWavHeader(c.sampleRate));
    out.set(pcm, 44);
    return out;
  };
  const frame = (b: Uint8Array) =>
    mode === 'sse' ? sse({ type: 'speech.audio.delta', audio: encodeBase64(b) }) : b;

  let finished = false;
  const stop = () => {
    if (finished) return;
    finished = true;
    void ctx.jobs.cancel({ id: job.id });
  };
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      const send = (b: Uint8Array) => {
        if (finished) return;
        try {
          controller.enqueue(b);
        } catch {
          stop();
        }
      };
      for (const c of pending.splice(0)) send(frame(bytesOf(c)));
      push = (c) => send(frame(bytesOf(c)));
      void done.then(async (rec) => {
        push = null;
        if (finished) return;
        if (rec?.status === 'succeeded') {
          const result = rec.result as SynthesizeResult;
          // An engine that sent no chunks (none of ours) still gives its audio, whole.
          if (!sentAudio) send(frame(bytesOf(result)));
          const kept = await keepInHistory(spec, speaker, result, ctx.now() - t0, key, ctx).catch(
            (e: unknown) => ({ error: toApiError(e) }) as Kept,
          );
          if (mode === 'sse') send(sse(doneEvent(spec, result, job.id, kept)));
          finished = true;
          controller.close();
          return;
        }
        if (!rec) await ctx.jobs.cancel({ id: job.id });
        const err = rec ? jobError(rec, SPEECH_FAILED) : tooSlow();
        if (mode === 'sse') {
          send(sse({ type: 'error', error: { code: err.code, message: err.message, job_id: job.id } }));
          finished = true;
          controller.close();
        } else {
          finished = true;
          // An errored body: the client's read fails, so partial audio is never taken for a whole file.
          controller.error(new Error(err.message));
        }
      });
    },
    cancel() {
      stop();
    },
  });
  request?.signal?.addEventListener('abort', stop, { once: true });
  if (mode === 'sse') return sseResponse(body, job.id);
  return new Response(body, {
    headers: {
      'Content-Type': CONTENT_TYPES[format],
      'X-Sample-Rate': String(sampleRate),
      'X-Job-Id': job.id,
    },
  });
}

function doneEvent(spec: SpeechSpec, r: SynthesizeResult, jobId: string, kept: Kept) {
  return {
    type: 'speech.audio.done',
    usage: usage(spec, r),
    duration: seconds(r),
    job_id: jobId,
    ...(kept.error
      ? { history_error: { code: kept.error.code, message: kept.error.message } }
      : { history_id: kept.id }),
  };
}

function sseResponse(body: ReadableStream<Uint8Array>, jobId: string): Response {
  return new Response(body, {
    headers: {
      'Content-Type': 'text/event-stream',
      'Cache-Control': 'no-store',
      'X-Job-Id': jobId,
    },
  });
}

// ——— Routes ———

/** `POST /v1/audio/speech`: OpenAI's shape; raw audio bytes (streamed for wav/pcm) or SSE events. */
export async function openAiSpeech(
  body: z.infer<typeof openAiSpeechBody>,
  key: ApiKeyRecord,
  ctx: ApiContext,
  request?: Request,
): Promise<Response> {
  const spec: SpeechSpec = {
    text: body.input,
    voice: typeof body.voice === 'string' ? body.voice : body.voice.id,
    format: body.response_format,
    // Kokoro speaks at 0.5–2×; OpenAI's wider range is clamped (documented).
    speed: Math.min(2, Math.max(0.5, body.speed)),
    route: 'POST /v1/audio/speech',
  };
  return streamSpeech(spec, body.stream_format, key, ctx, request);
}

/** `POST /api/generate/preset`: the studio shape; JSON with base64 audio and the sentence timings. */
export async function presetSpeech(
  body: z.infer<typeof presetSpeechBody>,
  key: ApiKeyRecord,
  ctx: ApiContext,
): Promise<Response> {
  const spec: SpeechSpec = {
    text: body.text,
    voice: body.voice_id,
    format: body.format,
    speed: body.speed,
    volume_db: body.volume,
    pause_ms: body.pause_ms,
    language: body.language,
    temperature: body.temperature,
    route: 'POST /api/generate/preset',
  };
  const s = await speak(spec, key, ctx);
  const { bytes, type } = await encodeAudio(s.result, body.format, ctx);
  return speechJson(s, { bytes, type }, body);
}

/**
 * The JSON answer of a generation (the studio's routes): the job and history ids, `extra` fields, the audio
 * as base64 with its facts. Storage full is a 507 whose error still carries all of it.
 */
export function speechJson(
  s: Spoken,
  audio: { bytes: Uint8Array; type: string },
  body: { format: string; temperature?: number },
  extra: Record<string, unknown> = {},
): Response {
  const out = {
    success: true,
    job_id: s.jobId,
    history_id: s.kept.id,
    ...extra,
    format: body.format,
    content_type: audio.type,
    sample_rate: s.result.sampleRate,
    duration: seconds(s.result),
    chunks: s.result.chunks,
    dropped_chars: s.result.dropped_chars,
    temperature_note:
      body.temperature !== undefined
        ? 'temperature is accepted and ignored: Kokoro has no sampling temperature.'
        : undefined,
    audio_base64: encodeBase64(audio.bytes),
  };
  if (s.kept.error) throw new ApiError('storage_full', s.kept.error.message, out);
  return json(out);
}

/** `POST /v1/tts/`: {model, text, voice, format, speed, language, stream}; stream=true is chunked audio. */
export async function v1Tts(
  body: z.infer<typeof v1TtsBody>,
  key: ApiKeyRecord,
  ctx: ApiContext,
  request?: Request,
): Promise<Response> {
  if (!KOKORO_NAMES.has(body.model.toLowerCase()))
    throw notFound(`No model "${body.model}": this studio speaks with Kokoro (model "kokoro").`);
  const spec: SpeechSpec = {
    text: body.text,
    voice: body.voice,
    format: body.format,
    speed: body.speed,
    language: body.language,
    route: 'POST /v1/tts',
  };
  return body.stream ? streamSpeech(spec, 'audio', key, ctx, request) : wholeAudio(spec, key, ctx);
}

function fr02Spec(body: z.infer<typeof fr02TtsBody>, route: string): SpeechSpec {
  return {
    text: body.text,
    voice: body.voice_id ?? DEFAULT_VOICE,
    format: body.format,
    speed: body.speed,
    volume_db: body.volume,
    temperature: body.temperature,
    route,
  };
}

/** `POST /api/v1/tts/`: the streaming-TTS family's synchronous call; the audio bytes. */
export async function fr02Tts(
  body: z.infer<typeof fr02TtsBody>,
  key: ApiKeyRecord,
  ctx: ApiContext,
): Promise<Response> {
  return wholeAudio(fr02Spec(body, 'POST /api/v1/tts'), key, ctx);
}

/**
 * `POST /api/v1/tts/stream`: that family streams over a WebSocket, which a Service Worker cannot serve;
 * here the same parameters give a chunked audio response. `latency` is accepted: Kokoro always streams
 * per sentence.
 */
export async function fr02Stream(
  body: z.infer<typeof fr02TtsBody>,
  key: ApiKeyRecord,
  ctx: ApiContext,
  request?: Request,
): Promise<Response> {
  return streamSpeech(fr02Spec(body, 'POST /api/v1/tts/stream'), 'audio', key, ctx, request);
}
