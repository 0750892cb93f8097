// `POST /v1/speech-translate`: speech in any language → English text (Whisper) → English speech (Kokoro),
// in the voice given, else the English preset nearest to the speaker (median F0 and pace measured from the
// upload, matched with voice design's distance), or with preserve_voice in the speaker's own cloned voice
// (OpenVoice tone embedding of the upload, spoken by clone.speak).
//
// Whisper's 'translate' task gives English only, so the source text needs its own 'transcribe' pass; that
// pass runs first and its detected language is handed to the translate pass (no second detection, and
// both texts agree on the language). English input needs no translation: the one pass serves for both.
import type { ApiContext } from '../context';
import { ApiError, badRequest } from '../errors';
import { json } from '../http';
import type { ApiKeyRecord } from '../../auth/keys';
import type { RunOptions } from '../../core/run';
import type { AsrTranscribeArgs, AsrTranscribeResult } from '../../asr/contract';
import { measureSpeech } from '../../dsp/pitch';
import { decodeWav } from '../../dsp/wav';
import { nearestPreset, type SpeakerMatch } from '../../voices/design';
import { DesignError } from '../../voices/design-words';
import { encodeBase64 } from '../../core/base64';
import { KOKORO_VOICE_IDS } from '../../voices/presets';
import { CLONE_SAMPLE_RATE } from '../../clone/contract';
import { requireConverter } from './clone';
import { AUDIO_FORMATS, DEFAULT_VOICE, type AudioFormat, type SpeechSpec } from './speech-schemas';
import { resolveSpeaker, type Speaker } from './speaker';
import { audioAnswer, encodeAudio, speak } from './speak';
import {
  TRANSCRIBE_WAIT_MS,
  TRANSCRIPTION_FAILED,
  boolField,
  inspect,
  asrModel,
  languageField,
  noteRtf,
  readUpload,
  uploadSeconds,
} from './transcribe';
import { runApiJob } from '../run-job';
import { warningHeader } from '../../documents/transcript-warnings';
import { ignoredHeader, modelHeader, unhonoured } from '../aliases';
import { historyAudioUrl } from './history';

const ROUTE = 'POST /v1/speech-translate';
/** Seconds of the upload the speaker's pitch and pace are measured on (enough for a stable median). */
const MEASURE_SECONDS = 60;
/** Header values carry at most this many characters of text (the JSON answer has all of it). */
const HEADER_CHARS = 2000;

/** How the voice was chosen, as the answer reports it. */
export interface VoiceChoice {
  voice: string;
  how: 'given' | 'nearest_preset' | 'default' | 'cloned';
  reason: string;
  /** The Kokoro preset the cloned voice is spoken from (how = cloned). */
  base_voice?: string;
  measured?: { f0_median_hz: number | null; syllables_per_s: number | null; seconds: number };
  candidates?: SpeakerMatch['ranked'];
}

const str = (v: unknown) =>
  typeof v === 'string' ? v.trim() : typeof v === 'number' ? String(v) : undefined;

function formatField(v: unknown): AudioFormat {
  const s = str(v)?.toLowerCase();
  if (!s) return 'mp3';
  if (!(AUDIO_FORMATS as readonly string[]).includes(s))
    throw badRequest(`format: expected one of ${AUDIO_FORMATS.join(', ')} (got "${s}").`, {
      field: 'format',
    });
  return s as AudioFormat;
}

function speedField(v: unknown): number {
  const s = str(v);
  if (s === undefined || s === '') return 1;
  const n = Number(s);
  if (!Number.isFinite(n) || n < 0.5 || n > 2)
    throw badRequest(`speed: expected a number from 0.5 to 2 (got "${s}").`, { field: 'speed' });
  return n;
}

/** JSON by default (the document's answer); `audio` answers the speech itself with X-… headers. */
function responseField(v: unknown): 'audio' | 'json' {
  const s = str(v)?.toLowerCase();
  if (!s || s === 'json') return 'json';
  if (s === 'audio') return 'audio';
  throw badRequest(`response: expected "audio" or "json" (got "${s}").`, { field: 'response' });
}

/** The languages this route can speak the translation in: Whisper's translate task gives English only. */
export const TARGET_LANGUAGES = ['en'] as const;

/**
 * `target_language`: English ("en", "en-US", "en_GB", "english"; left out: English). Any other target is a
 * 400 naming the ones available, before any model runs.
 */
function targetField(v: unknown): 'en' {
  const s = str(v)?.toLowerCase();
  if (!s || s === 'english' || s.split(/[-_]/)[0] === 'en') return 'en';
  throw badRequest(
    `target_language: "${s.slice(0, 40)}" is not available. Available targets: ${TARGET_LANGUAGES.join(', ')} (English, through Whisper's translate task; no other translation model is in Timbre). For text in the source language, use POST /v1/stt.`,
    { field: 'target_language', available: [...TARGET_LANGUAGES] },
  );
}

function voiceField(v: unknown): string | undefined {
  const s = str(v);
  if (!s) return undefined;
  if (s.length > 1000) throw badRequest('voice: longer than 1000 characters.', { field: 'voice' });
  return s;
}

/** One Whisper pass as a job; this route answers whole, so a pass that outlasts the wait is stopped. */
async function transcribeJob(
  args: AsrTranscribeArgs,
  key: ApiKeyRecord,
  ctx: ApiContext,
): Promise<AsrTranscribeResult> {
  const { result } = await runApiJob(
    ctx,
    { op: 'asr.transcribe', args },
    {
      owner: key.id,
      waitMs: TRANSCRIBE_WAIT_MS,
      onTimeout: {
        fail: (jobId) =>
          new ApiError(
            'internal_error',
            `Transcription took longer than ${TRANSCRIBE_WAIT_MS / 1000} s and was stopped; send a shorter file.`,
            { job_id: jobId },
          ),
      },
      failMessage: TRANSCRIPTION_FAILED,
    },
  );
  noteRtf(result);
  return result;
}

/**
 * Median F0 and pace of the speaker. A WAV upload is read here; other containers need the engine's
 * decoder, whose decoded speech only clone.extract hands back (`speech`), so without it they give null.
 */
function measureSpeaker(
  container: string,
  bytes: Uint8Array,
  speech?: Float32Array,
): VoiceChoice['measured'] | null {
  let samples: Float32Array;
  let rate: number;
  if (speech?.length) {
    samples = speech;
    rate = CLONE_SAMPLE_RATE;
  } else if (container === 'wav' || isRiff(bytes)) {
    try {
      const w = decodeWav(bytes);
      samples = w.samples;
      rate = w.sampleRate;
    } catch {
      return null;
    }
  } else return null;
  const part = samples.subarray(0, Math.round(MEASURE_SECONDS * rate));
  const m = measureSpeech(part, rate);
  return {
    f0_median_hz: m.f0_median_hz === null ? null : Math.round(m.f0_median_hz * 10) / 10,
    syllables_per_s: m.active_s > 0.5 ? Math.round(m.syllables_per_s * 100) / 100 : null,
    seconds: Math.round((part.length / rate) * 100) / 100,
  };
}

/**
 * The upload as WAV for measuring the speaker: as sent when it is WAV, else decoded by the engine's
 * ffmpeg (mono 16 kHz: pitch and pace need no more). A decode failure leaves the default voice.
 */
async function wavForMeasure(container: string, bytes: Uint8Array, ctx: ApiContext): Promise<Uint8Array> {
  if (container === 'wav') return bytes;
  try {
    const r = await ctx.engine.run('audio.convert', {
      audio: bytes,
      options: { format: 'wav', sampleRate: 16000, channels: 1 },
    });
    return r.bytes;
  } catch {
    return bytes;
  }
}

/** The nearest English preset to what was measured, or the default voice saying why there is none. */
function choosePreset(measured: VoiceChoice['measured'] | null, container: string): VoiceChoice {
  if (!measured)
    return {
      voice: DEFAULT_VOICE,
      how: 'default',
      reason: `The speaker could not be measured (the ${container} upload could not be decoded; send WAV, or name a voice): spoken in the default voice ${DEFAULT_VOICE}.`,
    };
  try {
    const m = nearestPreset({
      f0_median_hz: measured.f0_median_hz ?? NaN,
      syllables_per_s: measured.syllables_per_s,
    });
    return {
      voice: m.voice,
      how: 'nearest_preset',
      reason: m.explanation.join(' '),
      measured,
      candidates: m.ranked,
    };
  } catch (e) {
    if (!(e instanceof DesignError)) throw e;
    return {
      voice: DEFAULT_VOICE,
      how: 'default',
      reason: `${e.message} Spoken in the default voice ${DEFAULT_VOICE}.`,
      measured,
    };
  }
}

/** Kokoro's English for the voice: British for the b… presets, American otherwise. */
const englishFor = (voice: string) => (/^b[fm]_/.test(voice.trim()) ? 'en-gb' : 'en-us');

const isRiff = (b: Uint8Array) =>
  b.length >= 4 && b[0] === 0x52 && b[1] === 0x49 && b[2] === 0x46 && b[3] === 0x46;

const headerText = (s: string) => encodeURIComponent(s.length > HEADER_CHARS ? s.slice(0, HEADER_CHARS) : s);

/** What the route was asked, checked before any model runs. */
interface TranslateRequest {
  up: Awaited<ReturnType<typeof readUpload>>;
  probe: Awaited<ReturnType<typeof inspect>>;
  format: AudioFormat;
  speed: number;
  preserve: boolean;
  model: string;
  language: string | undefined;
  voiceName: string | undefined;
  given: Speaker | undefined;
  target: 'en';
}

/** How the work runs: each Whisper pass and the speech as jobs waited for, or inside one job of its own. */
type Within = { jobId: string; opts: RunOptions } | undefined;

/**
 * multipart {file ≤ 100 MB, voice, preserve_voice, model, language, format, speed, response, async} or
 * JSON with base64 audio in `file` → English speech (audio bytes with X-… headers, or JSON). A file that
 * would take longer than one request may stay open (or `async: true`) answers 202 with a job, whose result
 * is the JSON answer (audio as base64).
 */
export async function speechTranslate(
  request: Request,
  key: ApiKeyRecord,
  ctx: ApiContext,
): Promise<Response> {
  const up = await readUpload(request, 'file');
  const f = up.fields;
  const format = formatField(f.format);
  const response = responseField(f.response);
  const speed = speedField(f.speed);
  const preserve = boolField(f.preserve_voice, 'preserve_voice');
  const asJob = boolField(f.async, 'async');
  const target = targetField(f.target_language);
  const asked = await asrModel(f.model, ctx);
  const model = asked.model;
  const language = languageField(f.language);
  const voiceName = voiceField(f.voice);
  // Refusals before any model runs: an unknown voice (404), not audio (415/400), then no converter (503):
  // the request is checked before what is installed, as on the clone routes.
  const given = voiceName ? await resolveSpeaker(voiceName, ctx) : undefined;
  const probe = await inspect(up, 'file');
  if (preserve) await requireConverter(ctx);
  const req: TranslateRequest = {
    up,
    probe,
    format,
    speed,
    preserve,
    model,
    language,
    voiceName,
    given,
    target,
  };
  // Two Whisper passes, then the speech.
  const est = 2 * uploadSeconds(model, probe.duration, up.bytes.byteLength);
  if (asJob || est * 1000 > TRANSCRIBE_WAIT_MS) {
    const ran = await runApiJob(
      ctx,
      {
        op: 'speech.translate',
        task: async (opts, jobId) => {
          const r = await translateAndSpeak(req, key, ctx, { jobId, opts });
          // Storage full: the job still holds the audio; the history entry is what is missing.
          return r.spoken.kept.error ? { ...r.out, history_error: r.spoken.kept.error.message } : r.out;
        },
      },
      {
        owner: key.id,
        waitMs: 0,
        onTimeout: { accept: () => ({ estimated_seconds: Math.round(est) }) },
      },
    );
    return ran.accepted;
  }
  const r = await translateAndSpeak(req, key, ctx, undefined);
  const said = {
    ...modelHeader('asr', asked, r.out.model),
    ...ignoredHeader(unhonoured(f)),
  };
  if (response === 'audio')
    return audioAnswer(r.spoken, r.bytes, r.type, {
      'X-Source-Language': r.out.source_language,
      'X-Transcript': headerText(r.out.source_text),
      'X-Translation': headerText(r.out.text),
      'X-Voice': encodeURIComponent(r.choice.voice),
      'X-Voice-Choice': r.choice.how,
      ...(r.choice.base_voice ? { 'X-Base-Voice': r.choice.base_voice } : {}),
      'X-Voice-Reason': headerText(r.choice.reason),
      ...(r.out.warnings.length ? { 'X-Warning': warningHeader(r.out.warnings)! } : {}),
      ...said,
    });
  // Full storage: the audio still goes back, inside the error.
  if (r.spoken.kept.error) throw new ApiError('storage_full', r.spoken.kept.error.message, r.out);
  return json(r.out, 200, said);
}

/** One Whisper pass: a job waited for, or (within a job) the engine op under that job's signal. */
async function whisperPass(
  args: AsrTranscribeArgs,
  key: ApiKeyRecord,
  ctx: ApiContext,
  within: Within,
): Promise<AsrTranscribeResult> {
  if (!within) return transcribeJob(args, key, ctx);
  const r = await ctx.engine.run('asr.transcribe', args, within.opts);
  noteRtf(r);
  return r;
}

async function translateAndSpeak(req: TranslateRequest, key: ApiKeyRecord, ctx: ApiContext, within: Within) {
  const { up, probe, format, speed, preserve, model, language, voiceName, given, target } = req;
  const step = (stage: string, message: string) =>
    within?.opts.onProgress?.({ stage, done: 0, total: 0, message });
  const asrArgs: AsrTranscribeArgs = {
    audio: up.bytes,
    mime: up.mime,
    model,
    language,
    task: 'transcribe',
  };
  step('source', 'Transcribing the source');
  const source = await whisperPass(asrArgs, key, ctx, within);
  if (source.language !== 'en') step('translate', 'Translating to English');
  const english =
    source.language === 'en'
      ? source
      : await whisperPass({ ...asrArgs, task: 'translate', language: source.language }, key, ctx, within);
  const text = english.text.trim();
  if (!text)
    throw badRequest(
      'file: no speech was found in the upload, so there is nothing to translate and speak (the English translation is empty).',
      { field: 'file' },
    );

  let choice: VoiceChoice;
  let speaker: Speaker | undefined;
  if (preserve) {
    step('voice', "Cloning the speaker's voice");
    const e = await ctx.engine.run(
      'clone.extract',
      {
        audio: [{ bytes: up.bytes, mimeType: up.mime }],
        keepSamples: !given && probe.container !== 'wav',
      },
      within?.opts,
    );
    // The converter changes timbre only: the base speech comes from the given preset or the nearest one.
    const base =
      given && (KOKORO_VOICE_IDS as readonly string[]).includes(given.voice) && !given.cloned
        ? { voice: given.voice, how: 'given' as const, reason: `Base voice ${given.voice} as given.` }
        : choosePreset(measureSpeaker(probe.container, up.bytes, e.speech?.[0]), probe.container);
    const gender = base.voice[1] === 'm' ? 'male' : 'female';
    speaker = {
      voice: base.voice,
      cloned: { embedding: Array.from(e.embedding), language: englishFor(base.voice), gender },
    };
    choice = {
      ...base,
      voice: 'cloned',
      how: 'cloned',
      base_voice: base.voice,
      reason: `preserve_voice: the speaker's own voice, cloned from ${e.speech_seconds.toFixed(1)} s of speech in the upload${e.warnings.length ? ` (${e.warnings.map((w) => w.message).join(' ')})` : ''}; spoken from ${base.voice}. ${base.reason}`,
    };
  } else if (voiceName) {
    choice = { voice: voiceName, how: 'given', reason: `The voice "${voiceName}" was named in the request.` };
  } else {
    choice = choosePreset(
      measureSpeaker(probe.container, await wavForMeasure(probe.container, up.bytes, ctx)),
      probe.container,
    );
  }

  const spec: SpeechSpec = {
    text,
    voice: voiceName && !preserve ? voiceName : (choice.base_voice ?? choice.voice),
    format,
    speed,
    language: englishFor(speaker?.voice ?? given?.voice ?? choice.voice),
    route: ROUTE,
  };
  step('speak', 'Speaking the English');
  const s = await speak(spec, key, ctx, speaker, within);
  const { bytes, type } = await encodeAudio(s.result, format, ctx);
  const out = {
    // The document's answer: both texts, both languages, and where the audio is (kept in the history,
    // served by the Service Worker as WAV, deleted with the history entry).
    original_text: source.text.trim(),
    translated_text: text,
    source_language: source.language,
    target_language: target,
    audio_url: s.kept.id ? historyAudioUrl(s.kept.id) : null,
    audio_base64: encodeBase64(bytes),
    format,
    content_type: type,
    sample_rate: s.result.sampleRate,
    duration: Math.round((s.result.samples.length / s.result.sampleRate) * 1000) / 1000,
    source_text: source.text.trim(),
    language_probability: source.language_probability,
    // Both Whisper passes' warnings, once each (jobs stored before warnings existed have none).
    warnings: [...new Set([...(source.warnings ?? []), ...(english.warnings ?? [])])],
    text,
    voice: choice.voice,
    voice_choice: choice,
    model: english.model,
    segments: english.segments.map((x) => ({ start: x.start, end: x.end, text: x.text })),
    source_segments: source.segments.map((x) => ({ start: x.start, end: x.end, text: x.text })),
    job_id: s.jobId,
    history_id: s.kept.id,
  };
  return { out, spoken: s, bytes, type, choice };
}
