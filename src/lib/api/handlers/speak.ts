// Speaking the whole text: one engine job ('tts.generate', or 'clone.speak' for a cloned voice) that the
// route waits for, kept in the history, encoded and answered as audio bytes or the studio's JSON.
import type { ApiContext } from '../context';
import { ApiError, jobError, toApiError } from '../errors';
import { json } from '../http';
import type { ApiKeyRecord } from '../../auth/keys';
import type { JobRecord } from '../../storage/records';
import type { RunOptions } from '../../core/run';
import { HistoryStore } from '../../storage/history';
import { encodePcm16, encodeWav } from '../../dsp/wav';
import { encodeBase64 } from '../../core/base64';
import type { CloneSpeakResult } from '../../clone/contract';
import type { SynthesizeResult } from '../../tts/contract';
import { CONTENT_TYPES, type AudioFormat, type SpeechSpec } from './speech-schemas';
import { clonedArgs, engineArgs, type Speaker } from './speaker';
import { runApiJob } from '../run-job';
import { historyAudioUrl } from './history';

/** Speech can take a while on 2 cores; a Service Worker keeps a fetch open for about five minutes. */
export const SPEECH_WAIT_MS = 240_000;

/** The message of a failed speech job whose record has none. */
const SPEECH_FAILED = 'Speech generation failed.';

/** A failed or cancelled speech job as the API error it stands for (the one job-error policy). */
export const speechJobError = (done: JobRecord): ApiError => jobError(done, SPEECH_FAILED);

export function tooSlow(): ApiError {
  return new ApiError(
    'internal_error',
    `Speech took longer than ${SPEECH_WAIT_MS / 1000} s and was stopped; send shorter text or stream it.`,
  );
}

export const seconds = (r: SynthesizeResult) => Math.round((r.samples.length / r.sampleRate) * 1000) / 1000;

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
  within?: { jobId: string; opts: RunOptions },
): Promise<Spoken> {
  const { args, speaker } = await engineArgs(spec, ctx, resolved);
  const t0 = ctx.now();
  let raw: unknown;
  let jobId: string;
  if (within) {
    raw = speaker.cloned
      ? await ctx.engine.run('clone.speak', clonedArgs(args, speaker.cloned), within.opts)
      : await ctx.engine.run('tts.generate', args, within.opts);
    jobId = within.jobId;
  } else {
    const ran = await runApiJob(
      ctx,
      speaker.cloned
        ? { op: 'clone.speak', args: clonedArgs(args, speaker.cloned) }
        : { op: 'tts.generate', args },
      {
        owner: key.id,
        waitMs: SPEECH_WAIT_MS,
        onTimeout: { fail: () => tooSlow() },
        failMessage: SPEECH_FAILED,
      },
    );
    raw = ran.result;
    jobId = ran.job.id;
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
    audio_url: s.kept.id ? historyAudioUrl(s.kept.id) : undefined,
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
