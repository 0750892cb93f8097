// The one table of model names clients send for a job (the documents' and OpenAI's: faster-whisper,
// sensevoice, whisper-1, chatterbox, openvoice, kokoro, tts-1, …) and the studio model that does that job,
// plus the two response headers that say what happened: which model ran for the name asked
// (X-Timbre-Model) and which parameters were accepted but had no effect (X-Timbre-Ignored-Parameters).
import { badRequest } from './errors';

/** Which model ran, and for which name: `whisper-tiny-q8 (asked: faster-whisper)`. */
export const MODEL_HEADER = 'X-Timbre-Model';
/** Parameters accepted and not honoured, comma-separated: `model, instructions`. */
export const IGNORED_HEADER = 'X-Timbre-Ignored-Parameters';

/** The jobs a `/v1` route's `model` field chooses a model for. */
export type ModelJob = 'tts' | 'asr' | 'clone' | 'convert';

/**
 * Per job: the studio's model for it (what the header reports when the name is an alias), and every name
 * accepted for it, lower case, mapped to what the engine is asked for. Speech recognition passes Whisper
 * names on ('default' = the installed Whisper the engine picks, tiny, base); the others have one model.
 */
const TABLE: Record<ModelJob, { studio: string; names: Record<string, string> }> = {
  tts: {
    studio: 'kokoro-82m-q8',
    names: Object.fromEntries(
      [
        'kokoro',
        'kokoro-82m',
        'kokoro-82m-q8',
        'tts-1',
        'tts-1-hd',
        'gpt-4o-mini-tts',
        'gpt-4o-mini-tts-2025-03-20',
        'gpt-4o-mini-tts-2025-12-15',
        // The other speech models the TTS.ai document lists for /v1/tts.
        'piper',
        'vits',
        'melotts',
        'cosyvoice',
        'cosyvoice2',
        'chatterbox',
        'tortoise',
      ].map((n) => [n, 'kokoro']),
    ),
  },
  asr: {
    studio: 'whisper',
    names: {
      ...Object.fromEntries(
        [
          'default',
          'whisper',
          'whisper-1',
          'faster-whisper',
          'sensevoice',
          'gpt-4o-transcribe',
          'gpt-4o-mini-transcribe',
          'gpt-4o-mini-transcribe-2025-03-20',
          'gpt-4o-transcribe-diarize',
        ].map((n) => [n, 'default']),
      ),
      tiny: 'tiny',
      'whisper-tiny': 'tiny',
      'whisper-tiny-q8': 'tiny',
      base: 'base',
      'whisper-base': 'base',
      'whisper-base-q8': 'base',
    },
  },
  // Text in a cloned voice: Kokoro's speech through the OpenVoice tone-colour converter.
  clone: {
    studio: 'openvoice',
    names: Object.fromEntries(
      [
        'openvoice',
        'openvoice-v2',
        'chatterbox',
        'xtts',
        'xtts-v2',
        'f5-tts',
        'gpt-sovits',
        'cosyvoice',
        'cosyvoice2',
      ].map((n) => [n, 'openvoice']),
    ),
  },
  // A recording in another voice: the OpenVoice tone-colour converter.
  convert: {
    studio: 'openvoice',
    names: Object.fromEntries(
      ['openvoice', 'openvoice-v2', 'chatterbox', 'knn-vc', 'rvc', 'seed-vc'].map((n) => [n, 'openvoice']),
    ),
  },
};

/** What a request that names no model gets. */
const DEFAULT_MODEL: Record<ModelJob, string> = {
  tts: 'kokoro',
  asr: 'default',
  clone: 'openvoice',
  convert: 'openvoice',
};

/** The names a job accepts, for the API reference and the 400's list. */
export function acceptedModels(job: ModelJob): string[] {
  return Object.keys(TABLE[job].names);
}

export interface ModelChoice {
  /** The name as the request gave it (undefined: not given). */
  asked: string | undefined;
  /** What the engine is asked for: 'kokoro', 'openvoice', or a Whisper name ('default', 'tiny', 'base', an id). */
  model: string;
}

/**
 * The studio model for a requested name. Unknown names are a 400 listing the accepted ones; for speech
 * recognition, `installed` also lets through the id of an installed model (an imported Whisper).
 */
export function chooseModel(
  job: ModelJob,
  value: unknown,
  o: { field?: string; installed?: ReadonlySet<string> } = {},
): ModelChoice {
  const field = o.field ?? 'model';
  const asked = typeof value === 'string' ? value.trim() : value === undefined || value === null ? '' : null;
  if (asked === null) throw badRequest(`${field}: expected a model name.`, { field });
  const t = TABLE[job];
  if (!asked) return { asked: undefined, model: DEFAULT_MODEL[job] };
  const hit = t.names[asked.toLowerCase()];
  if (hit !== undefined) return { asked, model: hit };
  if (o.installed?.has(asked)) return { asked, model: asked };
  throw badRequest(
    `${field}: no model "${asked.slice(0, 100)}" for this route. Accepted: ${acceptedModels(job).join(', ')}${job === 'asr' ? ', or the id of an installed Whisper model' : ''}.`,
    { field, accepted: acceptedModels(job) },
  );
}

/**
 * The X-Timbre-Model header: the model that ran (`ran`, e.g. the Whisper id the engine chose; default: the
 * job's studio model) and the name asked when it differs.
 */
export function modelHeader(job: ModelJob, choice: ModelChoice, ran?: string): Record<string, string> {
  const model = ran ?? TABLE[job].studio;
  const asked =
    choice.asked && choice.asked.toLowerCase() !== model.toLowerCase() ? ` (asked: ${choice.asked})` : '';
  return { [MODEL_HEADER]: `${model}${asked}`.replace(/[^\x20-\x7e]/g, '?') };
}

/** The X-Timbre-Ignored-Parameters header, or none when nothing was ignored. */
export function ignoredHeader(names: readonly string[]): Record<string, string> {
  const list = [...new Set(names)];
  return list.length ? { [IGNORED_HEADER]: list.join(', ') } : {};
}

/**
 * Fields the documents name that the studio accepts but cannot honour, on every route that takes them:
 * webhooks (there is no server to call back from; long work answers 202 with a job to follow instead).
 */
export const UNHONOURED_FIELDS = ['webhook_url'] as const;

/** The unhonoured fields present in a request's fields. */
export function unhonoured(fields: Record<string, unknown>, extra: readonly string[] = []): string[] {
  return [...UNHONOURED_FIELDS, ...extra].filter((k) => fields[k] !== undefined && fields[k] !== '');
}

/** The same response with more headers (handlers that build their answer elsewhere). */
export function withHeaders(res: Response, headers: Record<string, string>): Response {
  if (!Object.keys(headers).length) return res;
  const h = new Headers(res.headers);
  for (const [k, v] of Object.entries(headers)) h.set(k, v);
  return new Response(res.body, { status: res.status, statusText: res.statusText, headers: h });
}
