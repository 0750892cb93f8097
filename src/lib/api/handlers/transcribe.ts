// Transcription routes: every family's upload comes down to one 'asr.transcribe' engine job (Whisper in the
// engine worker), answered in the family's shape. A file whose transcription would outlast what a fetch
// may stay open (estimated from its duration and the real-time factor measured on this device) answers
// 202 with the job to follow instead.
import type { ApiContext } from '../context';
import { readAudioUpload, type AudioUpload } from '../audio-input';
import { ApiError, badRequest } from '../errors';
import { json, tooLarge } from '../http';
import type { ApiKeyRecord } from '../../auth/keys';
import { runApiJob } from '../run-job';
import { audioInfo } from '../../codec/duration';
import { sniffContainer } from '../../codec/formats';
import type { AsrTranscribeArgs, AsrTranscribeResult } from '../../asr/contract';
import { formatTranscript, RESPONSE_FORMATS, type ResponseFormat } from '../../documents/transcript-formats';
import { warningHeader } from '../../documents/transcript-warnings';
import { chooseModel, ignoredHeader, modelHeader, unhonoured, type ModelChoice } from '../aliases';

export const TRANSCRIBE_UPLOAD_LIMIT = 100 * 1024 * 1024;
/** A Service Worker keeps a fetch open for about five minutes: answer within four or hand out a job. */
export const TRANSCRIBE_WAIT_MS = 240_000;
/** What a failed transcription job says when its record has no message. */
export const TRANSCRIPTION_FAILED = 'Transcription failed.';
/** OpenAI model names that mean "the default installed Whisper". */
export const OPENAI_ASR_MODELS = new Set([
  'whisper-1',
  'gpt-4o-transcribe',
  'gpt-4o-mini-transcribe',
  'gpt-4o-mini-transcribe-2025-03-20',
  'gpt-4o-transcribe-diarize',
  'whisper',
  'default',
]);

/** Processing seconds per audio second, per model: a cautious guess until this device has measured one. */
const measuredRtf = new Map<string, number>();
const GUESS_RTF: Record<string, number> = { 'whisper-tiny-q8': 0.6, 'whisper-base-q8': 1.5 };
/** Model and session loading on a first run. */
const LOAD_SECONDS = 15;

export function estimateSeconds(model: string, duration: number): number {
  const rtf = measuredRtf.get(model) ?? GUESS_RTF[model] ?? 1.5;
  return LOAD_SECONDS + duration * rtf;
}

export function noteRtf(r: AsrTranscribeResult) {
  if (!(r.duration > 5) || !(r.rtf > 0)) return;
  const prev = measuredRtf.get(r.model);
  measuredRtf.set(r.model, prev === undefined ? r.rtf : 0.5 * prev + 0.5 * r.rtf);
}

const SUPPORTED = 'wav, mp3, flac, ogg/opus, m4a/aac, mp4, webm';

/** The upload, checked: a known container, its duration if the container says. */
export async function inspect(
  up: AudioUpload,
  field: string,
): Promise<{ container: string; duration?: number; rate?: number }> {
  const container = sniffContainer(up.bytes);
  if (!container)
    throw new ApiError(
      'unsupported_media_type',
      `${field}: this is not audio in a format Timbre can read (${SUPPORTED}).`,
      { field },
    );
  try {
    const info = await audioInfo(up.bytes, up.mime);
    return { container, duration: info.duration, rate: info.sample_rate ?? undefined };
  } catch {
    // Some containers give no duration (a MediaRecorder webm): the engine's decoder decides.
    if (container === 'wav' || container === 'flac' || container === 'mp3')
      throw badRequest(`${field}: the ${container} file is damaged or truncated and could not be decoded.`, {
        field,
      });
    return { container };
  }
}

export interface MultipartUpload extends AudioUpload {
  /** Every value of each text field (timestamp_granularities[] comes once per value). */
  all: Record<string, string[]>;
}

/** Multipart with repeated fields kept; other bodies as readAudioUpload takes them. */
export async function readUpload(request: Request, jsonField: string): Promise<MultipartUpload> {
  const ct = (request.headers.get('Content-Type') ?? '').toLowerCase();
  if (!ct.startsWith('multipart/form-data')) {
    const up = await readAudioUpload(request, {
      fileField: 'file',
      jsonField,
      limit: TRANSCRIBE_UPLOAD_LIMIT,
    });
    const all: Record<string, string[]> = {};
    for (const [k, v] of Object.entries(up.fields))
      if (typeof v === 'string') all[k] = [v];
      else if (Array.isArray(v)) all[k] = v.map(String);
    return { ...up, all };
  }
  const declared = Number(request.headers.get('Content-Length') ?? NaN);
  if (Number.isFinite(declared) && declared > TRANSCRIBE_UPLOAD_LIMIT + 64 * 1024)
    throw tooLarge(TRANSCRIBE_UPLOAD_LIMIT, 'file');
  let form: FormData;
  try {
    form = await request.formData();
  } catch {
    throw badRequest('The multipart body could not be read.', { field: 'body' });
  }
  const file = form.get('file');
  if (!file || typeof file === 'string')
    throw badRequest('file: an audio file is required in the multipart body.', { field: 'file' });
  if (file.size > TRANSCRIBE_UPLOAD_LIMIT) throw tooLarge(TRANSCRIBE_UPLOAD_LIMIT, 'file');
  if (file.size === 0) throw badRequest('file: the file is empty.', { field: 'file' });
  const fields: Record<string, unknown> = {};
  const all: Record<string, string[]> = {};
  for (const [k, v] of form)
    if (typeof v === 'string') {
      fields[k] = v;
      (all[k] ??= []).push(v);
    }
  return {
    bytes: new Uint8Array(await file.arrayBuffer()),
    mime: file.type || undefined,
    name: file.name,
    fields,
    all,
  };
}

const str = (v: unknown) =>
  typeof v === 'string' ? v.trim() : typeof v === 'number' ? String(v) : undefined;

export function boolField(v: unknown, field: string): boolean {
  if (v === undefined || v === null || v === '') return false;
  if (typeof v === 'boolean') return v;
  const s = String(v).toLowerCase();
  if (s === 'true' || s === '1') return true;
  if (s === 'false' || s === '0') return false;
  throw badRequest(`${field}: expected true or false (got "${String(v)}").`, { field });
}

export function languageField(v: unknown): string | undefined {
  const s = str(v)?.toLowerCase();
  if (!s || s === 'auto') return undefined;
  const code = s.split(/[-_]/)[0]!;
  if (!/^[a-z]{2,3}$/.test(code))
    throw badRequest(`language: expected an ISO 639-1 code such as "en", or "auto" (got "${s}").`, {
      field: 'language',
    });
  return code;
}

export function modelField(v: unknown): string {
  const s = str(v);
  if (!s) return 'default';
  if (OPENAI_ASR_MODELS.has(s.toLowerCase())) return 'default';
  if (s.length > 200) throw badRequest('model: too long.', { field: 'model' });
  return s;
}

/**
 * A `/v1` route's `model`: the alias table's name for the job (faster-whisper, sensevoice, whisper-1 … =
 * the default installed Whisper; tiny, base) or the id of an installed model; anything else is a 400.
 */
export async function asrModel(v: unknown, ctx: ApiContext): Promise<ModelChoice> {
  const installed = new Set((await ctx.db.getAllKeys('models')).map(String));
  return chooseModel('asr', typeof v === 'number' ? String(v) : v, { installed });
}

function temperatureField(v: unknown): number | undefined {
  const s = str(v);
  if (s === undefined || s === '') return undefined;
  const t = Number(s);
  if (!Number.isFinite(t) || t < 0 || t > 1)
    throw badRequest(`temperature: expected a number from 0 to 1 (got "${s}").`, { field: 'temperature' });
  return t;
}

/** num_speakers / max_speakers: a whole number from 1 to 32, or absent. */
function speakersField(v: unknown, field: string): number | undefined {
  const s = str(v);
  if (s === undefined || s === '') return undefined;
  const n = Number(s);
  if (!Number.isInteger(n) || n < 1 || n > 32)
    throw badRequest(`${field}: expected a whole number from 1 to 32 (got "${s}").`, { field });
  return n;
}

/** The diarization fields of a form: diarize, num_speakers, max_speakers. */
/** The engine's arguments: the upload, what its probe found, the fields every route shares, and the route's own. */
function asrArgs(
  up: MultipartUpload,
  probe: { duration?: number; rate?: number },
  f: Record<string, unknown>,
  o: {
    task: 'transcribe' | 'translate';
    words: boolean;
    diarize: ReturnType<typeof diarizeFields>;
    model?: string;
  },
): AsrTranscribeArgs {
  return {
    ...o.diarize,
    audio: up.bytes,
    mime: up.mime,
    model: o.model ?? modelField(f.model),
    language: languageField(f.language),
    task: o.task,
    prompt: str(f.prompt) || undefined,
    temperature: temperatureField(f.temperature),
    words: o.words,
  };
}

function diarizeFields(f: Record<string, unknown>, force = false) {
  const diarize = force || boolField(f.diarize, 'diarize');
  const speakers = speakersField(f.num_speakers, 'num_speakers');
  const max = speakersField(f.max_speakers, 'max_speakers');
  if ((speakers !== undefined || max !== undefined) && !diarize)
    throw badRequest('num_speakers and max_speakers need diarize=true.', {
      field: speakers !== undefined ? 'num_speakers' : 'max_speakers',
    });
  return diarize ? { diarize, speakers, max_speakers: max } : {};
}

/** What the answer says about how the speaker labels were obtained. */
const diarizationOf = (r: AsrTranscribeResult) =>
  r.diarization
    ? {
        speakers: r.diarization.speakers,
        method: r.diarization.method,
        description: r.diarization.description,
        turns: r.diarization.turns,
      }
    : undefined;

/**
 * Seconds one Whisper pass over an upload is expected to take. Which model runs is settled in the engine;
 * 'base' in the name is the slow one. Unknown duration: about 4 kB per second of compressed audio.
 */
export function uploadSeconds(
  model: string | undefined,
  duration: number | undefined,
  bytes: number,
): number {
  const whisper = /base/i.test(model ?? '') ? 'whisper-base-q8' : 'whisper-tiny-q8';
  return estimateSeconds(whisper, duration ?? bytes / 4000);
}

type Outcome = { result: AsrTranscribeResult; jobId: string } | { accepted: Response };

/** Starts the job; waits for it when it should end in time, else answers 202 with the job to follow. */
async function run(
  args: AsrTranscribeArgs,
  key: ApiKeyRecord,
  ctx: ApiContext,
  opts: { async?: boolean; duration?: number; bytes: number },
): Promise<Outcome> {
  const est = uploadSeconds(args.model, opts.duration, opts.bytes);
  const long = est * 1000 > TRANSCRIBE_WAIT_MS;
  const ran = await runApiJob(
    ctx,
    { op: 'asr.transcribe', args },
    {
      owner: key.id,
      waitMs: opts.async || long ? 0 : TRANSCRIBE_WAIT_MS,
      onTimeout: { accept: () => ({ estimated_seconds: Math.round(est) }) },
      failMessage: TRANSCRIPTION_FAILED,
    },
  );
  if ('accepted' in ran) return ran;
  noteRtf(ran.result);
  return { result: ran.result, jobId: ran.job.id };
}

/** A job stored before results carried warnings has none. */
const warningsOf = (r: AsrTranscribeResult): string[] => r.warnings ?? [];

/** Every warning goes in one X-Warning header too (joined with "; "), so no format answers silently. */
function jobHeaders(id: string, r: AsrTranscribeResult): Record<string, string> {
  const warning = warningHeader(warningsOf(r));
  return {
    'X-Job-Id': id,
    'X-Audio-Duration': String(r.duration),
    'X-Model': r.model,
    ...(warning ? { 'X-Warning': warning } : {}),
  };
}

/** `POST /v1/audio/transcriptions` and `/v1/audio/translations` (OpenAI's multipart shape). */
export async function openAiTranscription(
  request: Request,
  task: 'transcribe' | 'translate',
  key: ApiKeyRecord,
  ctx: ApiContext,
): Promise<Response> {
  const up = await readUpload(request, 'file');
  const f = up.fields;
  const format = (str(f.response_format) || 'json') as ResponseFormat;
  if (!RESPONSE_FORMATS.includes(format))
    throw badRequest(`response_format: expected one of ${RESPONSE_FORMATS.join(', ')} (got "${format}").`, {
      field: 'response_format',
    });
  const granularities = [
    ...(up.all['timestamp_granularities[]'] ?? []),
    ...(up.all.timestamp_granularities ?? []),
  ].flatMap((s) =>
    s
      .split(',')
      .map((x) => x.trim())
      .filter(Boolean),
  );
  for (const g of granularities)
    if (g !== 'word' && g !== 'segment')
      throw badRequest(`timestamp_granularities[]: expected "word" or "segment" (got "${g}").`, {
        field: 'timestamp_granularities[]',
      });
  const words = granularities.includes('word');
  if (granularities.length && format !== 'verbose_json')
    throw badRequest('timestamp_granularities[]: needs response_format "verbose_json".', {
      field: 'timestamp_granularities[]',
    });
  if (boolField(f.stream, 'stream'))
    throw badRequest(
      'stream: streamed transcripts are not offered; follow a long job on /api/events instead.',
      {
        field: 'stream',
      },
    );
  const model = await asrModel(f.model, ctx);
  const probe = await inspect(up, 'file');
  // OpenAI's diarizing model name asks for speakers too.
  const diarizeModel = str(f.model)?.toLowerCase() === 'gpt-4o-transcribe-diarize';
  const args = asrArgs(up, probe, f, {
    task,
    words,
    diarize: diarizeFields(f, diarizeModel),
    model: model.model,
  });
  const out = await run(args, key, ctx, { duration: probe.duration, bytes: up.bytes.byteLength });
  if ('accepted' in out) return out.accepted;
  const { body, type } = formatTranscript({ ...out.result, warnings: warningsOf(out.result) }, format, task, {
    words,
    segments: !granularities.length || granularities.includes('segment'),
  });
  return new Response(body, {
    headers: {
      'Content-Type': type,
      ...jobHeaders(out.jobId, out.result),
      ...modelHeader('asr', model, out.result.model),
      ...ignoredHeader(unhonoured(f)),
    },
  });
}

/** `POST /v1/stt/`: multipart {file ≤ 100 MB, model, language, timestamps, diarize, num_speakers, max_speakers}. */
export async function v1Stt(request: Request, key: ApiKeyRecord, ctx: ApiContext): Promise<Response> {
  const up = await readUpload(request, 'file');
  const f = up.fields;
  const words = boolField(f.timestamps, 'timestamps');
  const dia = diarizeFields(f);
  const model = await asrModel(f.model, ctx);
  const probe = await inspect(up, 'file');
  const out = await run(
    {
      ...dia,
      audio: up.bytes,
      mime: up.mime,
      model: model.model,
      language: languageField(f.language),
      task: 'transcribe',
      words,
    },
    key,
    ctx,
    { duration: probe.duration, bytes: up.bytes.byteLength },
  );
  if ('accepted' in out) return out.accepted;
  const r = out.result;
  return json(
    {
      text: r.text,
      language: r.language,
      language_probability: r.language_probability,
      duration: r.duration,
      warnings: warningsOf(r),
      segments: r.segments.map((s) => ({
        start: s.start,
        end: s.end,
        text: s.text,
        speaker: s.speaker ?? null,
        ...(words ? { words: s.words ?? [] } : {}),
      })),
      ...(dia.diarize ? { diarization: diarizationOf(r) } : {}),
    },
    200,
    { ...jobHeaders(out.jobId, r), ...modelHeader('asr', model, r.model), ...ignoredHeader(unhonoured(f)) },
  );
}

/**
 * `POST /api/transcribe` (the Studio family): JSON {audio: base64 or data URL, language, task, model,
 * prompt, word_timestamps, diarize, num_speakers, max_speakers, async}, a multipart `file` with the same fields, or raw audio bytes.
 */
export async function studioTranscribe(
  request: Request,
  key: ApiKeyRecord,
  ctx: ApiContext,
): Promise<Response> {
  const up = await readUpload(request, 'audio');
  const f = { ...up.fields, ...Object.fromEntries(new URL(request.url).searchParams) };
  const task = str(f.task) || 'transcribe';
  if (task !== 'transcribe' && task !== 'translate')
    throw badRequest(`task: expected "transcribe" or "translate" (got "${task}").`, { field: 'task' });
  const field = up.name !== undefined ? 'file' : 'audio';
  const probe = await inspect(up, field);
  const words = boolField(f.word_timestamps ?? f.timestamps, 'word_timestamps');
  const dia = diarizeFields(f);
  const out = await run(asrArgs(up, probe, f, { task, words, diarize: dia }), key, ctx, {
    async: boolField(f.async, 'async'),
    duration: probe.duration,
    bytes: up.bytes.byteLength,
  });
  if ('accepted' in out) return out.accepted;
  const r = out.result;
  return json(
    {
      text: r.text,
      language: r.language,
      language_probability: r.language_probability,
      duration: r.duration,
      warnings: warningsOf(r),
      task: r.task,
      model: r.model,
      vad: r.vad,
      segments: r.segments.map((s) => ({
        id: s.id,
        start: s.start,
        end: s.end,
        text: s.text,
        ...(dia.diarize ? { speaker: s.speaker ?? null } : {}),
        ...(words ? { words: s.words ?? [] } : {}),
      })),
      ...(dia.diarize ? { diarization: diarizationOf(r) } : {}),
      job_id: out.jobId,
      elapsed_ms: r.elapsed_ms,
      rtf: r.rtf,
    },
    200,
    jobHeaders(out.jobId, r),
  );
}
