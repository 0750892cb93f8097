// Voice-cloning routes: the OpenVoice shape (/api/clone), the studio shape (/api/clone/create,
// create-multi, /api/generate/clone) and the OpenAI-style uploads (/v1/tts/clone, /v1/voice-convert,
// /v1/speech-to-speech). Every one runs the clone.* engine ops. Each reads and checks its request first (a
// 400 names the field whatever is installed), then, through `validThenConverter`, answers 503
// model_not_installed saying how to install the converter when it is not on this device (#21).
import type { ApiContext } from '../context';
import { readAudioUpload } from '../audio-input';
import { ApiError, badRequest, notFound } from '../errors';
import { decodeBase64Field, json, parseJson, readBodyBytes, tooLarge } from '../http';
import { voiceJson, storage } from './voices';
import { encodePcm16, encodeWav } from '../../dsp/wav';
import { encodeBase64 } from '../../core/base64';
import {
  CONVERTER_NOT_INSTALLED,
  DEFAULT_TAU,
  type CloneAudio,
  type CloneExtractResult,
  type ConverterPrecision,
} from '../../clone/contract';
import { isConverterPrecision } from '../../openvoice/contract';
import type { Gender, Voice } from '../../voices/types';
import { newId } from '../../core/ids';
import type { RunOptions } from '../../core/run';
import type { ApiKeyRecord } from '../../auth/keys';
import { runApiJob } from '../run-job';
import { historyAudioUrl } from './history';
import { keepInHistory, SPEECH_WAIT_MS, tooSlow } from './speak';
import { CONTENT_TYPES, type SpeechSpec } from './speech-schemas';
import { KOKORO_VOICE_IDS } from '../../voices/presets';
import { OPENAI_VOICES } from './speaker';
import { chooseModel, ignoredHeader, modelHeader, unhonoured } from '../aliases';

/** Per recording (the OpenAI-style reference limit is 20 MB; long conversions take up to 200 MB). */
export const REFERENCE_LIMIT = 20 * 1024 * 1024;
export const SOURCE_LIMIT = 200 * 1024 * 1024;
const FORMATS = ['wav', 'mp3', 'opus', 'aac', 'flac', 'pcm'] as const;
type Format = (typeof FORMATS)[number];

/** 503 when the converter is not on this device. */
export async function requireConverter(ctx: ApiContext): Promise<void> {
  const s = await ctx.engine.run('clone.status', {});
  if (!s.installed) throw new ApiError('model_not_installed', CONVERTER_NOT_INSTALLED);
}

/**
 * The order of every clone route: `read` parses and validates the request (its 400s and 404s come first,
 * whatever is installed), then the converter is required; the checked request is returned.
 */
async function validThenConverter<T>(ctx: ApiContext, read: () => Promise<T>): Promise<T> {
  const checked = await read();
  await requireConverter(ctx);
  return checked;
}

function tauOf(v: unknown): number {
  if (v === undefined || v === null || v === '') return DEFAULT_TAU;
  const t = Number(v);
  if (!Number.isFinite(t) || t < 0 || t > 1)
    throw badRequest('tau must be a number from 0 to 1.', { field: 'tau' });
  return t;
}

/**
 * `precision`: "int8" (the converter's fast variant, made on this device at install) or "fp32"; left out,
 * the engine picks int8 when the device's variant measured close enough to fp32 (clone.status `fast`).
 */
function precisionOf(v: unknown): ConverterPrecision | undefined {
  if (v === undefined || v === null || v === '') return undefined;
  const p = String(v).toLowerCase();
  if (!isConverterPrecision(p))
    throw badRequest('precision must be "int8" (fast) or "fp32" (full precision).', { field: 'precision' });
  return p;
}

function formatOf(v: unknown, fallback: Format = 'wav'): Format {
  if (v === undefined || v === null || v === '') return fallback;
  const f = String(v).toLowerCase();
  if (!(FORMATS as readonly string[]).includes(f))
    throw badRequest(`format must be one of ${FORMATS.join(', ')}.`, { field: 'format' });
  return f as Format;
}

/**
 * The converter's audio (22050 Hz) in `format`, with the studio's one Content-Type for it (the speech
 * routes' CONTENT_TYPES: pcm is application/octet-stream, s16le mono at the rate X-Sample-Rate names).
 * `tempo` ≠ 1 (speech-to-speech's `speed`) is a time-stretch at the same pitch, on the encoder's ffmpeg.
 */
async function encode(samples: Float32Array, sampleRate: number, format: Format, ctx: ApiContext, tempo = 1) {
  const type = CONTENT_TYPES[format];
  if (tempo !== 1) {
    const e = await ctx.engine.run('audio.encode', { samples, sampleRate, options: { format, tempo } });
    return { bytes: e.bytes, type };
  }
  if (format === 'wav') return { bytes: encodeWav(samples, sampleRate, 's16'), type };
  if (format === 'pcm') return { bytes: encodePcm16(samples), type };
  const e = await ctx.engine.run('audio.encode', { samples, sampleRate, options: { format } });
  return { bytes: e.bytes, type };
}

const audioResponse = (bytes: Uint8Array, type: string, extra: Record<string, string> = {}) =>
  new Response(bytes as Uint8Array<ArrayBuffer>, {
    status: 200,
    headers: { 'Content-Type': type, ...extra },
  });

async function extract(
  ctx: ApiContext,
  audio: CloneAudio[],
  keepSamples = false,
): Promise<CloneExtractResult> {
  return ctx.engine.run('clone.extract', { audio, keepSamples });
}

/** A library voice with an embedding (a cloned voice). */
async function clonedVoice(id: unknown, field: string, ctx: ApiContext): Promise<Voice> {
  if (typeof id !== 'string' || !id.trim())
    throw badRequest(`${field}: the id of a cloned voice is required.`, { field });
  const v = await ctx.db.get('voices', id.trim());
  if (!v) throw notFound(`No voice "${id}".`);
  if (!v.embedding?.length)
    throw badRequest(
      `Voice "${v.name}" is not a cloned voice (it has no tone embedding); clone one with POST /api/clone/create.`,
      {
        field,
      },
    );
  return v;
}

/**
 * The target of a conversion as `/v1/voices` lists voices: a preset id or OpenAI voice name (its tone
 * measured by the engine from Kokoro's speech), a preset's library entry, or a cloned voice (its embedding).
 */
async function convertTarget(
  name: unknown,
  field: string,
  ctx: ApiContext,
): Promise<{ target: Float32Array } | { targetPreset: string }> {
  if (typeof name !== 'string' || !name.trim())
    throw badRequest(`${field}: a voice is required (a preset id such as af_bella, or a cloned voice id).`, {
      field,
    });
  const v = name.trim();
  if ((KOKORO_VOICE_IDS as readonly string[]).includes(v)) return { targetPreset: v };
  const mapped = OPENAI_VOICES[v.toLowerCase()];
  if (mapped) return { targetPreset: mapped };
  const stored = await ctx.db.get('voices', v);
  if (!stored)
    throw notFound(`No voice "${v}": use a preset id from /v1/voices (e.g. af_bella) or a cloned voice id.`);
  if (stored.embedding?.length) return { target: Float32Array.from(stored.embedding) };
  if (stored.kind === 'preset') return { targetPreset: stored.id };
  throw badRequest(
    `${field}: voice "${stored.name}" is a mix of presets with no single tone to convert to; name a preset (e.g. af_bella) or a cloned voice.`,
    { field },
  );
}

const genderOf = (g: unknown): Gender => (g === 'female' || g === 'male' || g === 'neutral' ? g : 'unknown');

function clonedVoiceRecord(
  r: CloneExtractResult,
  f: Record<string, unknown>,
  files: { bytes: Uint8Array; mime?: string; name?: string }[],
  now: number,
): Voice {
  const keep = f.keep_samples === true || f.keep_samples === 'true';
  const name = typeof f.name === 'string' && f.name.trim() ? f.name.trim().slice(0, 200) : 'Cloned voice';
  return {
    id: newId('clone'),
    name,
    description: typeof f.description === 'string' ? f.description.slice(0, 5000) : '',
    tags: ['cloned'],
    language: typeof f.language === 'string' && f.language ? f.language.slice(0, 20) : 'en-us',
    gender: genderOf(f.gender),
    kind: 'cloned',
    model: 'openvoice',
    samples: keep
      ? files.map((x, i) => ({
          id: `sample_${i + 1}`,
          name: x.name ?? `sample-${i + 1}`,
          mime: x.mime ?? 'application/octet-stream',
          duration: 0,
          data: x.bytes.slice().buffer,
        }))
      : [],
    embedding: Array.from(r.embedding),
    checks: { ...r.checks },
    favorite: false,
    created_at: now,
    updated_at: now,
  };
}

/** POST /api/clone/create: one recording (JSON {audio, name, …} or multipart audio/file + fields). */
export async function createClone(request: Request, ctx: ApiContext): Promise<Response> {
  const up = await validThenConverter(ctx, () =>
    readAudioUpload(request, { fileField: 'audio', jsonField: 'audio', limit: REFERENCE_LIMIT }),
  );
  const r = await extract(ctx, [{ bytes: up.bytes, mimeType: up.mime }]);
  const voice = await storage(() => ctx.voices.put(clonedVoiceRecord(r, up.fields, [up], ctx.now())));
  return json(
    {
      success: true,
      voice_id: voice.id,
      voice: voiceJson(voice),
      speech_seconds: r.speech_seconds,
      warnings: r.warnings,
      checks: r.checks,
    },
    201,
  );
}

/** POST /api/clone/create-multi: JSON {samples: [base64 | data URL, …], name, …} or multipart files. */
export async function createCloneMulti(request: Request, ctx: ApiContext): Promise<Response> {
  const { files, fields } = await validThenConverter(ctx, () => readSamples(request));
  const r = await extract(
    ctx,
    files.map((f) => ({ bytes: f.bytes, mimeType: f.mime })),
  );
  const voice = await storage(() => ctx.voices.put(clonedVoiceRecord(r, fields, files, ctx.now())));
  return json(
    {
      success: true,
      voice_id: voice.id,
      voice: voiceJson(voice),
      samples_used: files.length,
      speech_seconds: r.speech_seconds,
      warnings: r.warnings,
      checks: r.checks,
    },
    201,
  );
}

/** The recordings of create-multi: JSON {samples: [base64 | data URL, …], …} or multipart files. */
async function readSamples(request: Request) {
  const ct = (request.headers.get('Content-Type') ?? '').toLowerCase();
  const files: { bytes: Uint8Array; mime?: string; name?: string }[] = [];
  const fields: Record<string, unknown> = {};
  if (ct.startsWith('multipart/form-data')) {
    const form = await request.formData().catch(() => {
      throw badRequest('The multipart body could not be read.', { field: 'body' });
    });
    for (const [k, v] of form) {
      if (typeof v === 'string') fields[k] = v;
      else {
        if (v.size > REFERENCE_LIMIT) throw tooLarge(REFERENCE_LIMIT, k);
        files.push({ bytes: new Uint8Array(await v.arrayBuffer()), mime: v.type || undefined, name: v.name });
      }
    }
  } else {
    const raw = parseJson(await readBodyBytes(request, Math.ceil((REFERENCE_LIMIT * 20 * 4) / 3)));
    if (!raw || typeof raw !== 'object' || Array.isArray(raw))
      throw badRequest('The body must be a JSON object.', { field: 'body' });
    const o = raw as Record<string, unknown>;
    const list = o.samples ?? o.audios ?? o.audio_files;
    if (!Array.isArray(list))
      throw badRequest('samples: an array of base64 audio or data URLs is required.', { field: 'samples' });
    list.forEach((s, i) => {
      if (typeof s !== 'string')
        throw badRequest(`samples[${i}]: expected base64 audio or a data URL.`, { field: 'samples' });
      files.push({ bytes: decodeBase64Field(s, `samples[${i}]`, REFERENCE_LIMIT) });
    });
    Object.assign(fields, o);
  }
  if (!files.length) throw badRequest('No recordings: send one or more samples.', { field: 'samples' });
  if (files.length > 20) throw badRequest('At most 20 recordings per voice.', { field: 'samples' });
  return { files, fields };
}

async function jsonBody(request: Request, limit: number): Promise<Record<string, unknown>> {
  const raw = parseJson(await readBodyBytes(request, limit));
  if (!raw || typeof raw !== 'object' || Array.isArray(raw))
    throw badRequest('The body must be a JSON object.', { field: 'body' });
  return raw as Record<string, unknown>;
}

function textOf(v: unknown, field = 'text'): string {
  if (typeof v !== 'string' || !v.trim())
    throw badRequest(`${field}: 1 to 5000 characters of text are required.`, { field });
  if (v.length > 5000) throw badRequest(`${field}: longer than 5000 characters.`, { field });
  return v;
}

function speedOf(v: unknown): number {
  if (v === undefined || v === null || v === '') return 1;
  const s = Number(v);
  if (!Number.isFinite(s) || s < 0.5 || s > 2)
    throw badRequest('speed must be from 0.5 to 2.', { field: 'speed' });
  return s;
}

/** The history and job facts of a cloned generation (`/api/generate/clone`). */
interface ClonedAnswer {
  success: true;
  job_id: string;
  history_id?: string;
  audio_url?: string;
  voice_id: string;
  base_voice: string;
  precision: ConverterPrecision;
  format: Format;
  content_type: string;
  sample_rate: number;
  duration: number;
  generation_time: number;
  audio_base64: string;
}

/**
 * POST /api/generate/clone {voice_id, text, language, speed, tau, format, async} → JSON with base64 audio.
 * A job like every generation: cancellable (`POST /api/generation/cancel`), followed on `/api/events`, kept
 * in the history (its WAV at `audio_url`); `async: true` answers 202 with the job at once.
 */
export async function generateClone(request: Request, key: ApiKeyRecord, ctx: ApiContext): Promise<Response> {
  const { b, text, format, tau, speed, precision, language, v } = await validThenConverter(ctx, async () => {
    const b = await jsonBody(request, 256 * 1024);
    return {
      b,
      text: textOf(b.text),
      format: formatOf(b.format),
      tau: tauOf(b.tau),
      speed: speedOf(b.speed),
      precision: precisionOf(b.precision),
      language: typeof b.language === 'string' && b.language ? b.language : undefined,
      v: await clonedVoice(b.voice_id, 'voice_id', ctx),
    };
  });
  const spec: SpeechSpec = { text, voice: v.id, format, speed, language, route: 'POST /api/generate/clone' };
  const task = async (o: RunOptions, jobId: string): Promise<ClonedAnswer> => {
    const t0 = ctx.now();
    const r = await ctx.engine.run(
      'clone.speak',
      {
        text,
        embedding: Float32Array.from(v.embedding!),
        language: language ?? v.language,
        gender: v.gender,
        speed,
        tau,
        precision,
      },
      o,
    );
    const { bytes, type } = await encode(r.samples, r.sampleRate, format, ctx);
    const result = {
      samples: r.samples,
      sampleRate: r.sampleRate,
      chunks: [{ text, start: 0, end: r.samples.length / r.sampleRate }],
      dropped_chars: 0,
    };
    const speaker = {
      voice: r.baseVoice,
      lexiconScope: v.id,
      cloned: { embedding: v.embedding!, language: language ?? v.language, gender: v.gender },
    };
    const kept = await keepInHistory(spec, speaker, result, ctx.now() - t0, key, ctx);
    const answer: ClonedAnswer = {
      success: true,
      job_id: jobId,
      history_id: kept.id,
      audio_url: kept.id ? historyAudioUrl(kept.id) : undefined,
      voice_id: v.id,
      base_voice: r.baseVoice,
      precision: r.precision,
      format,
      content_type: type,
      sample_rate: r.sampleRate,
      duration: Math.round((r.samples.length / r.sampleRate) * 1000) / 1000,
      generation_time: (ctx.now() - t0) / 1000,
      audio_base64: encodeBase64(bytes),
    };
    if (kept.error) throw new ApiError('storage_full', kept.error.message, { ...answer });
    return answer;
  };
  const work = { op: 'clone.generate', task };
  if (b.async === true) {
    const ran = await runApiJob(ctx, work, { owner: key.id, waitMs: 0, onTimeout: { accept: () => ({}) } });
    return ran.accepted;
  }
  const ran = await runApiJob(ctx, work, {
    owner: key.id,
    waitMs: SPEECH_WAIT_MS,
    onTimeout: { fail: () => tooSlow() },
    failMessage: 'Cloned speech generation failed.',
  });
  return json(ran.result, 200, { 'X-Job-Id': ran.job.id });
}

/** Seconds as the tone-colour document writes them: "1.23s". */
const secondsText = (ms: number) => `${(ms / 1000).toFixed(2)}s`;

/**
 * POST /api/clone (OpenVoice shape): {target_audio, source_audio, tau} → base64 WAV at 22050 Hz. Errors
 * carry `{success: false, message}` too (the route's errorShape).
 */
export async function openVoiceClone(request: Request, ctx: ApiContext): Promise<Response> {
  const { target, source, tau, precision } = await validThenConverter(ctx, async () => {
    const b = await jsonBody(request, Math.ceil((SOURCE_LIMIT * 2 * 4) / 3));
    for (const f of ['target_audio', 'source_audio'])
      if (typeof b[f] !== 'string')
        throw badRequest(`${f}: base64 audio or a data URL is required.`, { field: f });
    return {
      target: decodeBase64Field(b.target_audio as string, 'target_audio', SOURCE_LIMIT),
      source: decodeBase64Field(b.source_audio as string, 'source_audio', SOURCE_LIMIT),
      tau: tauOf(b.tau),
      precision: precisionOf(b.precision),
    };
  });
  const t0 = ctx.now();
  const e = await extract(ctx, [{ bytes: target }]);
  const t1 = ctx.now();
  const c = await ctx.engine.run('clone.convert', {
    source: { bytes: source },
    target: e.embedding,
    tau,
    precision,
  });
  const t2 = ctx.now();
  return json({
    success: true,
    message: e.warnings.length ? `Converted. ${e.warnings.map((w) => w.message).join(' ')}` : 'Converted.',
    result_audio: encodeBase64(encodeWav(c.samples, c.sampleRate, 's16')),
    stats: {
      extract_time: secondsText(t1 - t0),
      clone_time: secondsText(t2 - t1),
      total_time: secondsText(t2 - t0),
      precision: c.precision,
    },
    warnings: e.warnings,
  });
}

/** POST /v1/tts/clone: multipart {reference_audio ≤ 20 MB, text, format, language, tau} → audio. */
export async function v1TtsClone(request: Request, ctx: ApiContext): Promise<Response> {
  const { up, model, text, format, tau, speed, precision } = await validThenConverter(ctx, async () => {
    const up = await readAudioUpload(request, {
      fileField: 'reference_audio',
      jsonField: 'reference_audio',
      limit: REFERENCE_LIMIT,
    });
    return {
      up,
      model: chooseModel('clone', up.fields.model),
      text: textOf(up.fields.text),
      format: formatOf(up.fields.format, 'mp3'),
      tau: tauOf(up.fields.tau),
      speed: speedOf(up.fields.speed),
      precision: precisionOf(up.fields.precision),
    };
  });
  const e = await extract(ctx, [{ bytes: up.bytes, mimeType: up.mime }]);
  const language =
    typeof up.fields.language === 'string' && up.fields.language ? up.fields.language : 'en-us';
  const r = await ctx.engine.run('clone.speak', {
    text,
    embedding: e.embedding,
    language,
    speed,
    tau,
    precision,
  });
  const { bytes, type } = await encode(r.samples, r.sampleRate, format, ctx);
  return audioResponse(bytes, type, {
    'X-Clone-Warnings': String(e.warnings.length),
    'X-Base-Voice': r.baseVoice,
    'X-Converter-Precision': r.precision,
    'X-Sample-Rate': String(r.sampleRate),
    ...modelHeader('clone', model),
    ...ignoredHeader(unhonoured(up.fields)),
  });
}

/** POST /v1/voice-convert: multipart {file, target_voice (a preset or cloned voice), format, tau} → audio. */
export async function v1VoiceConvert(request: Request, ctx: ApiContext): Promise<Response> {
  const { up, model, target, format, tau, precision } = await validThenConverter(ctx, async () => {
    const up = await readAudioUpload(request, { fileField: 'file', jsonField: 'file', limit: SOURCE_LIMIT });
    // The fields first, then the voice (a 404 only for a request that is otherwise valid).
    const model = chooseModel('convert', up.fields.model);
    const format = formatOf(up.fields.format, 'wav');
    const tau = tauOf(up.fields.tau);
    const precision = precisionOf(up.fields.precision);
    return {
      up,
      model,
      format,
      tau,
      precision,
      target: await convertTarget(up.fields.target_voice, 'target_voice', ctx),
    };
  });
  const c = await ctx.engine.run('clone.convert', {
    source: { bytes: up.bytes, mimeType: up.mime },
    ...target,
    tau,
    precision,
  });
  const { bytes, type } = await encode(c.samples, c.sampleRate, format, ctx);
  return audioResponse(bytes, type, {
    'X-Converter-Precision': c.precision,
    'X-Sample-Rate': String(c.sampleRate),
    ...modelHeader('convert', model),
    ...ignoredHeader(unhonoured(up.fields)),
  });
}

/**
 * POST /v1/speech-to-speech: multipart {file, voice (a preset or cloned voice), speed, emotion}. The
 * converter changes timbre only and keeps the speaker's expression, so `emotion` other than neutral is
 * refused with a 400 rather than silently ignored; `speed` time-stretches the converted speech at the same
 * pitch (ffmpeg's atempo).
 */
export async function v1SpeechToSpeech(request: Request, ctx: ApiContext): Promise<Response> {
  const { up, model, speed, target, format, tau, precision } = await validThenConverter(ctx, async () => {
    const up = await readAudioUpload(request, { fileField: 'file', jsonField: 'file', limit: SOURCE_LIMIT });
    const emotion = up.fields.emotion;
    if (emotion !== undefined && emotion !== '' && String(emotion).toLowerCase() !== 'neutral')
      throw badRequest(
        'emotion is not supported: the tone-colour converter changes who is speaking, not how; the source recording’s own expression is kept. Send emotion=neutral or leave it out.',
        { field: 'emotion' },
      );
    const model = chooseModel('convert', up.fields.model);
    const speed = speedOf(up.fields.speed);
    const format = formatOf(up.fields.format, 'wav');
    const tau = tauOf(up.fields.tau);
    const precision = precisionOf(up.fields.precision);
    return {
      up,
      model,
      speed,
      format,
      tau,
      precision,
      target: await convertTarget(up.fields.voice, 'voice', ctx),
    };
  });
  const c = await ctx.engine.run('clone.convert', {
    source: { bytes: up.bytes, mimeType: up.mime },
    ...target,
    tau,
    precision,
  });
  const { bytes, type } = await encode(c.samples, c.sampleRate, format, ctx, speed);
  return audioResponse(bytes, type, {
    'X-Converter-Precision': c.precision,
    'X-Sample-Rate': String(c.sampleRate),
    'X-Speed': String(speed),
    ...modelHeader('convert', model),
    ...ignoredHeader(unhonoured(up.fields)),
  });
}
