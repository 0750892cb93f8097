import { z } from 'zod';
import type { AnyRoute, Route } from './router';
import { Router } from './router';
import * as S from './schemas';
import * as sys from './handlers/system';
import * as voices from './handlers/voices';
import * as keys from './handlers/keys';
import * as jobs from './handlers/jobs';
import * as models from './handlers/models';
import * as speech from './handlers/speech';
import * as speechSchemas from './handlers/speech-schemas';
import * as history from './handlers/history';
import * as transcribe from './handlers/transcribe';
import * as design from './handlers/design';
import * as lexicon from './handlers/lexicon';
import * as clone from './handlers/clone';
import * as audioTools from './handlers/audio-tools';
import * as audioEnhance from './handlers/audio-enhance';
import * as speechTranslate from './handlers/speech-translate';
import * as projects from './handlers/projects';
import { ApiError } from './errors';
import { buildOpenApi } from './openapi';
import { json } from './http';
import { runApiJob } from './run-job';
import type { ApiKeyRecord } from '../auth/keys';

function route<B = undefined, Q = Record<string, never>>(r: Route<B, Q>): AnyRoute {
  return r;
}

/**
 * A POST route the documents name that the studio does not offer: the router answers 501 not_implemented
 * with the reason (its `absent`), after the key and scope checks.
 */
function absent(path: string, scope: Route['scope'], tag: string, reason: string): AnyRoute {
  return route({
    method: 'POST',
    path,
    scope,
    tag,
    absent: reason,
    summary: `Not offered (501): ${reason}`,
    responses: { 501: reason },
    handler: async () => new Response(null, { status: 501 }),
  });
}

/** The key is present on every route whose scope is not null (the router guarantees it). */
function keyOf(k: ApiKeyRecord | null): ApiKeyRecord {
  if (!k) throw new ApiError('unauthorized', 'An API key is required.');
  return k;
}

/** `/api/clone` per key and minute: a 10 s segment loop over a 10-minute file (document 004). */
export const CLONE_CONVERT_LIMIT = 60;
const ABSENT_WS =
  'a Service Worker cannot accept WebSocket connections. Follow job progress with GET /api/events (Server-Sent Events; the browser EventSource may pass the key as ?api_key=).';
const ABSENT_WS_STREAM =
  'this is a WebSocket there, and a Service Worker cannot accept WebSocket connections. POST the same JSON {text, voice_id, format, …} to /api/v1/tts/stream: the audio arrives as a streamed HTTP response.';

export const ROUTES: AnyRoute[] = [
  // System
  route({
    method: 'GET',
    path: '/api/health',
    scope: null,
    tag: 'System',
    summary: 'Is the studio running (no key needed)',
    errorShape: 'openvoice',
    handler: async (_r, ctx) => sys.health(ctx),
  }),
  route({
    method: 'GET',
    path: '/api/info',
    scope: 'system:read',
    tag: 'System',
    summary: 'Tone-colour model facts (OpenVoice shape)',
    errorShape: 'openvoice',
    handler: async (_r, ctx) => sys.info(ctx),
  }),
  route({
    method: 'GET',
    path: '/api/openapi.json',
    scope: null,
    tag: 'System',
    summary: 'This API as OpenAPI 3.1',
    handler: async () => json(buildOpenApi(ROUTES)),
  }),
  route({
    method: 'GET',
    path: '/api/system/info',
    scope: 'system:read',
    tag: 'System',
    summary: 'Cores, memory, storage, WebGPU, threads, app version',
    handler: async (_r, ctx) => sys.systemInfo(ctx),
  }),
  route({
    method: 'GET',
    path: '/api/system/stats',
    scope: 'system:read',
    tag: 'System',
    summary: 'Jobs queued and running, engine memory, cache sizes',
    handler: async (_r, ctx) => sys.systemStats(ctx),
  }),
  route({
    method: 'POST',
    path: '/api/system/benchmark',
    scope: 'system:read',
    tag: 'System',
    body: S.benchmarkBody,
    summary: "Measure this device's compute (float32 matrix multiply, GFLOP/s) in the engine; a job",
    handler: async (r, ctx) => {
      const ran = await runApiJob(
        ctx,
        { op: 'system.compute', args: { seconds: r.body.seconds, size: r.body.size } },
        {
          owner: keyOf(r.key).id,
          waitMs: r.body.async ? 0 : jobs.SYNC_WAIT_MS,
          onTimeout: { accept: () => ({}), noJobIdHeader: true },
          failMessage: 'The job failed.',
        },
      );
      return 'accepted' in ran ? ran.accepted : json(jobs.jobJson(ran.job));
    },
  }),
  // Jobs and events
  route({
    method: 'GET',
    path: '/api/jobs/{id}',
    scope: 'any',
    tag: 'Jobs',
    summary: 'Status, progress and result of a job you started',
    handler: async (r, ctx) => jobs.getJob(r.params.id!, keyOf(r.key), ctx),
  }),
  route({
    method: 'GET',
    path: '/api/events',
    scope: 'ws:connect',
    tag: 'Jobs',
    summary:
      'Job progress as Server-Sent Events (text/event-stream); the key may also be the api_key query parameter, for the browser EventSource',
    queryKey: true,
    handler: async (r, ctx) => jobs.events(r.request, keyOf(r.key), ctx),
  }),
  route({
    method: 'POST',
    path: '/api/generation/cancel',
    scope: 'tts:generate',
    tag: 'Jobs',
    body: S.cancelBody,
    emptyBody: 'object',
    summary: 'Cancel a job (job_id) or, with no job_id or no body at all, all your running jobs',
    handler: async (r, ctx) => jobs.cancel(r.body.job_id, keyOf(r.key), ctx),
  }),
  // Text and audio
  route({
    method: 'POST',
    path: '/api/text/split',
    scope: 'audio:process',
    tag: 'Audio',
    body: S.textSplitBody,
    summary: 'Split text into sentences',
    handler: async (r) => sys.textSplit(r.body),
  }),
  route({
    method: 'POST',
    path: '/api/audio-duration',
    scope: 'audio:process',
    tag: 'Audio',
    summary:
      'Duration of an audio file (wav, mp3, flac, ogg, m4a, webm…): JSON {audio: base64}, raw bytes or multipart file',
    handler: async (r) => sys.audioDuration(r.request),
  }),
  // Keys
  route({
    method: 'GET',
    path: '/api/api-keys',
    scope: 'system:read',
    tag: 'Keys',
    summary: 'List API keys (prefix and name; never the key)',
    handler: async (_r, ctx) => keys.listKeys(ctx),
  }),
  route({
    method: 'POST',
    path: '/api/api-keys',
    scope: 'system:read',
    tag: 'Keys',
    body: S.keyCreateBody,
    summary: "Create a key (shown once); scopes and limits at most the caller's own",
    handler: async (r, ctx) => keys.createKey(r.body, keyOf(r.key), ctx),
  }),
  route({
    method: 'PATCH',
    path: '/api/api-keys/{id}',
    scope: 'system:read',
    tag: 'Keys',
    body: S.keyUpdateBody,
    summary: 'Rename a key, change its scopes, limits or allowed origins',
    handler: async (r, ctx) => keys.updateKey(r.params.id!, r.body, keyOf(r.key), ctx),
  }),
  route({
    method: 'DELETE',
    path: '/api/api-keys/{id}',
    scope: 'system:read',
    tag: 'Keys',
    summary: 'Revoke a key',
    handler: async (r, ctx) => keys.revokeKey(r.params.id!, keyOf(r.key), ctx),
  }),
  // Voices
  route({
    method: 'GET',
    path: '/api/voices',
    scope: 'voices:read',
    tag: 'Voices',
    query: S.voiceListQuery,
    summary: 'List voices: search q, filters kind, language, gender, favorite; paging',
    handler: async (r, ctx) => voices.listVoices(r.query, ctx),
  }),
  route({
    method: 'GET',
    path: '/api/voices/export',
    scope: 'voices:read',
    tag: 'Voices',
    query: S.exportQuery,
    summary: 'Export voices (ids=a,b or all) as one JSON file',
    handler: async (r, ctx) => voices.exportVoices(r.query.ids, ctx),
  }),
  route({
    method: 'POST',
    path: '/api/voices/import',
    scope: 'voices:write',
    tag: 'Voices',
    body: z.unknown(),
    bodyLimit: 200 * 1024 * 1024,
    summary:
      'Import an exported voice file: all voices or none → 201 {imported, skipped (identical voices already in the library), ids}',
    handler: async (r, ctx) => voices.importVoices(r.body, ctx),
  }),
  route({
    method: 'GET',
    path: '/api/voices/{id}',
    scope: 'voices:read',
    tag: 'Voices',
    summary: 'One voice',
    handler: async (r, ctx) => voices.getVoice(r.params.id!, ctx),
  }),
  route({
    method: 'PUT',
    path: '/api/voices/{id}',
    scope: 'voices:write',
    tag: 'Voices',
    body: S.voiceUpdateBody,
    summary:
      'Update name, description, tags, language, gender, favorite; the object GET returned is accepted (its read-only fields are ignored and named in X-Timbre-Ignored-Parameters)',
    handler: async (r, ctx) => voices.updateVoice(r.params.id!, r.body, ctx),
  }),
  route({
    method: 'DELETE',
    path: '/api/voices/{id}',
    scope: 'voices:write',
    tag: 'Voices',
    summary: 'Delete a voice (presets cannot be deleted)',
    handler: async (r, ctx) => voices.deleteVoice(r.params.id!, ctx),
  }),
  route({
    method: 'GET',
    path: '/api/favorites',
    scope: 'voices:read',
    tag: 'Voices',
    summary: 'Favourite voices',
    handler: async (_r, ctx) => voices.favorites(ctx),
  }),
  route({
    method: 'POST',
    path: '/api/favorites/{id}',
    scope: 'voices:write',
    tag: 'Voices',
    summary: "Toggle a voice's favourite flag",
    handler: async (r, ctx) => voices.toggleFavorite(r.params.id!, ctx),
  }),
  route({
    method: 'GET',
    path: '/v1/voices',
    scope: 'voices:read',
    tag: 'Voices',
    query: S.v1VoicesQuery,
    summary: 'OpenAI-style voice list {voices, total}; filters model, language, gender',
    handler: async (r, ctx) => voices.v1Voices(r.query, ctx),
  }),
  route({
    method: 'GET',
    path: '/api/v1/voices',
    scope: 'voices:read',
    tag: 'Voices',
    summary: 'Your own voices (streaming-TTS family shape)',
    handler: async (_r, ctx) => voices.privateVoices(ctx),
  }),
  route({
    method: 'GET',
    path: '/api/v1/community/models',
    scope: 'voices:read',
    tag: 'Voices',
    query: S.communityQuery,
    summary:
      "The streaming-TTS family's community catalogue, answered from this studio's own voices (presets and library; nothing is shared): search, page, page_size → {models[{fish_audio_id, title, author_nickname, …}], total, page, page_size}",
    handler: async (r, ctx) => voices.communityModels(r.query, ctx),
  }),
  route({
    method: 'GET',
    path: '/api/v1/tts/stream',
    scope: null,
    tag: 'Speech',
    absent: ABSENT_WS_STREAM,
    summary: 'The WebSocket of the streaming-TTS document: 501, use POST /api/v1/tts/stream',
    handler: async () => new Response(null, { status: 501 }),
  }),
  route({
    method: 'GET',
    path: '/ws',
    scope: null,
    tag: 'Jobs',
    absent: ABSENT_WS,
    summary: 'The WebSocket of the studio document: 501, follow progress on GET /api/events',
    handler: async () => new Response(null, { status: 501 }),
  }),
  route({
    method: 'GET',
    path: '/v1/models',
    scope: 'system:read',
    tag: 'Models',
    summary:
      'Installed and available models: type, languages, supports_cloning, supports_streaming, installed',
    handler: async (_r, ctx) => models.v1Models(ctx),
  }),
  route({
    method: 'POST',
    path: '/api/generate/preset',
    scope: 'tts:generate',
    tag: 'Speech',
    body: speechSchemas.presetSpeechBody,
    bodyLimit: 64 * 1024,
    summary:
      'Speak text (≤ 5000 characters) in a preset, mixed or designed voice (Kokoro): JSON with base64 WAV/PCM and sentence timings; kept in the history (storage full: 507 whose error carries the audio); temperature is accepted and ignored',
    handler: async (r, ctx) => speech.presetSpeech(r.body, keyOf(r.key), ctx),
  }),
  route({
    method: 'POST',
    path: '/v1/audio/speech',
    scope: 'tts:generate',
    tag: 'Speech',
    body: speechSchemas.openAiSpeechBody,
    bodyLimit: 64 * 1024,
    summary:
      'OpenAI audio.speech (input ≤ 4096 characters): tts-1, tts-1-hd and gpt-4o-mini-tts mean Kokoro (X-Timbre-Model); instructions is accepted and ignored (X-Timbre-Ignored-Parameters); OpenAI voice names map to presets; mp3 (audio/mpeg), opus (audio/ogg; codecs=opus), aac (audio/aac), flac (audio/flac), wav (audio/wav), pcm (application/octet-stream, 24 kHz s16le). wav and pcm stream sentence by sentence (WAV header with streaming sizes); the compressed formats come whole once encoded. stream_format "sse": events speech.audio.delta {audio: base64} then speech.audio.done {usage}. X-Job-Id names the job to cancel',
    handler: async (r, ctx) => speech.openAiSpeech(r.body, keyOf(r.key), ctx, r.request),
  }),
  route({
    method: 'POST',
    path: '/v1/tts',
    scope: 'tts:generate',
    tag: 'Speech',
    body: speechSchemas.v1TtsBody,
    bodyLimit: 64 * 1024,
    summary:
      'Text to speech (OpenAI-style family): {model (kokoro; the other names of the alias table, e.g. tts-1, piper, chatterbox, also mean Kokoro: X-Timbre-Model says which ran), text ≤ 5000, voice, format mp3|opus|aac|flac|wav|pcm, speed 0.5–2, language, stream, webhook_url (accepted, not honoured: X-Timbre-Ignored-Parameters)}; audio bytes; stream=true streams wav/pcm sentence by sentence',
    handler: async (r, ctx) => speech.v1Tts(r.body, keyOf(r.key), ctx, r.request),
  }),
  route({
    method: 'POST',
    path: '/api/v1/tts',
    scope: 'tts:generate',
    tag: 'Speech',
    body: speechSchemas.apiV1TtsBody,
    bodyLimit: 64 * 1024,
    summary:
      'Text to speech, synchronous (streaming-TTS family): {text ≤ 5000, voice_id, format mp3|wav|pcm|opus, speed 0.5–2, volume −20…20 dB, temperature (ignored), latency}; audio bytes',
    handler: async (r, ctx) => speech.apiV1Tts(r.body, keyOf(r.key), ctx),
  }),
  route({
    method: 'POST',
    path: '/api/v1/tts/stream',
    scope: 'tts:generate',
    tag: 'Speech',
    body: speechSchemas.apiV1TtsBody,
    bodyLimit: 64 * 1024,
    summary:
      'Streamed speech as a chunked audio response (there a WebSocket): the /api/v1/tts parameters; wav, pcm and mp3 (the default) sentence by sentence as each is spoken, opus whole once encoded; latency is accepted (Kokoro always streams per sentence)',
    handler: async (r, ctx) => speech.apiV1TtsStream(r.body, keyOf(r.key), ctx, r.request),
  }),
  route({
    method: 'GET',
    path: '/api/v1/tts/history',
    scope: 'tts:generate',
    tag: 'Speech',
    query: S.historyQuery,
    summary:
      "Your key's generations, newest first (text, voice, parameters, duration, time taken; no audio): voice filter, offset/limit or page/page_size",
    handler: async (r, ctx) => history.listHistory(r.query, keyOf(r.key), ctx),
  }),
  route({
    method: 'GET',
    path: '/api/v1/tts/history/{id}',
    scope: 'tts:generate',
    tag: 'Speech',
    summary: 'One generation with its audio (16-bit WAV as base64)',
    handler: async (r, ctx) => history.getHistory(r.params.id!, keyOf(r.key), ctx),
  }),
  route({
    method: 'GET',
    path: '/api/v1/tts/history/{id}/audio',
    scope: 'tts:generate',
    tag: 'Speech',
    summary: "One generation's audio (audio/wav)",
    handler: async (r, ctx) => history.historyAudio(r.params.id!, keyOf(r.key), ctx),
  }),
  route({
    method: 'DELETE',
    path: '/api/v1/tts/history/{id}',
    scope: 'tts:generate',
    tag: 'Speech',
    summary: 'Delete a generation from the history',
    handler: async (r, ctx) => history.deleteHistory(r.params.id!, keyOf(r.key), ctx),
  }),
  // Planned: each answers 501 with the reason until its issue lands.
  route({
    method: 'POST',
    path: '/api/generate/design',
    scope: 'tts:generate',
    tag: 'Speech',
    body: design.designSpeechBody,
    bodyLimit: 64 * 1024,
    summary:
      'Speak text in a voice designed from a description (or a stored designed voice_id) at its recipe speed; JSON with base64 WAV/PCM, the blend and why',
    handler: async (r, ctx) => design.designSpeech(r.body, keyOf(r.key), ctx),
  }),
  route({
    method: 'POST',
    path: '/api/generate/clone',
    scope: 'tts:generate',
    tag: 'Speech',
    summary:
      'Speak text in a cloned voice {voice_id, text, language, speed 0.5–2, tau 0–1 (0.3), format wav|mp3|opus|aac|flac|pcm, async}: Kokoro in a base voice of the same language and gender → the OpenVoice converter; a job (cancellable, on /api/events, kept in the history); JSON with base64 audio and audio_url',
    handler: async (r, ctx) => clone.generateClone(r.request, keyOf(r.key), ctx),
  }),
  route({
    method: 'POST',
    path: '/api/design/create',
    scope: 'clone:create',
    tag: 'Voices',
    body: design.designCreateBody,
    summary:
      'Design a voice from a description ("a calm older British man, slow and deep"): attributes → a blend of the nearest presets plus speed, saved as a designed voice',
    handler: async (r, ctx) => design.createDesign(r.body, ctx),
  }),
  route({
    method: 'GET',
    path: '/api/lexicon',
    scope: 'voices:read',
    tag: 'Voices',
    query: lexicon.lexiconQuery,
    summary: 'Pronunciation lexicon entries (scope=global or a voice id; all when left out)',
    handler: async (r, ctx) => lexicon.listLexicon(r.query, ctx),
  }),
  route({
    method: 'PUT',
    path: '/api/lexicon',
    scope: 'voices:write',
    tag: 'Voices',
    body: lexicon.lexiconPutBody,
    summary: 'Add or replace lexicon entries {entries: [{word, phonemes | respelling, scope}]}: all or none',
    handler: async (r, ctx) => lexicon.putLexicon(r.body, ctx),
  }),
  route({
    method: 'DELETE',
    path: '/api/lexicon/{scope}/{word}',
    scope: 'voices:write',
    tag: 'Voices',
    summary: 'Delete one lexicon entry',
    handler: async (r, ctx) => lexicon.deleteLexicon(r.params.scope!, r.params.word!, ctx),
  }),
  route({
    method: 'POST',
    path: '/api/clone/create',
    scope: 'clone:create',
    tag: 'Cloning',
    summary:
      'Clone a voice from one recording (JSON {audio: base64 or data URL, name, language, gender, keep_samples} or multipart audio + fields; ≤ 20 MB, any format): VAD keeps the speech (≥ 3 s, else 400), ~10 s pieces averaged into a 256-float embedding; 201 with the voice, checks and warnings (clipping, noisy, non_speech, short, music, multiple_speakers)',
    handler: async (r, ctx) => clone.createClone(r.request, ctx),
  }),
  route({
    method: 'POST',
    path: '/api/clone/create-multi',
    scope: 'clone:create',
    tag: 'Cloning',
    summary:
      'Clone a voice from several recordings of one person (JSON {samples: [base64 | data URL], name, …} or multipart files, ≤ 20): every piece of every sample averaged',
    handler: async (r, ctx) => clone.createCloneMulti(r.request, ctx),
  }),
  route({
    method: 'POST',
    path: '/api/clone',
    scope: 'clone:create',
    tag: 'Cloning',
    errorShape: 'openvoice',
    // Its document tells callers to cut long audio into 10 s segments and send them in a loop; it stores
    // nothing, so it does not share the 2 a minute of voice creation.
    rate: { bucket: 'convert', minLimit: CLONE_CONVERT_LIMIT },
    summary:
      'Tone-colour conversion, OpenVoice shape: {target_audio, source_audio (base64 or data URL), tau 0–1 (0.3)} → {success, message, result_audio (base64 WAV 22050 Hz), stats{extract_time, clone_time, total_time ("1.23s")}}; long audio taken whole (chunked at pauses, crossfaded) or in segments (60 a minute); errors also {success: false, message}',
    handler: async (r, ctx) => clone.openVoiceClone(r.request, ctx),
  }),
  route({
    method: 'POST',
    path: '/v1/tts/clone',
    scope: 'clone:create',
    tag: 'Cloning',
    summary:
      'Speak text in a voice cloned from reference_audio (multipart {reference_audio ≤ 20 MB, text, model (chatterbox, openvoice, xtts, … all mean Kokoro + the OpenVoice converter: X-Timbre-Model), format (mp3; pcm is application/octet-stream, s16le mono), language, speed, tau}) → audio at 22050 Hz with X-Sample-Rate',
    handler: async (r, ctx) => clone.v1TtsClone(r.request, ctx),
  }),
  route({
    method: 'POST',
    path: '/v1/voice-convert',
    scope: 'clone:create',
    tag: 'Cloning',
    summary:
      'Convert a recording into another voice (multipart {file ≤ 200 MB, target_voice (a preset id or OpenAI voice name from /v1/voices, or a cloned voice id), model (openvoice, chatterbox, knn-vc, …: X-Timbre-Model), format (wav; pcm is application/octet-stream, s16le mono), tau}) → audio at 22050 Hz with X-Sample-Rate',
    handler: async (r, ctx) => clone.v1VoiceConvert(r.request, ctx),
  }),
  route({
    method: 'POST',
    path: '/v1/speech-to-speech',
    scope: 'clone:create',
    tag: 'Cloning',
    summary:
      'Speech to speech in another voice (multipart {file, voice (a preset, OpenAI voice name or cloned voice), model (X-Timbre-Model), speed 0.5–2 (time-stretched at the same pitch), format, tau}); timbre only: emotion other than neutral answers 400 (not supported)',
    handler: async (r, ctx) => clone.v1SpeechToSpeech(r.request, ctx),
  }),
  route({
    method: 'POST',
    path: '/api/transcribe',
    scope: 'audio:process',
    tag: 'Transcription',
    summary:
      'Transcribe audio with Whisper (≤ 100 MB; wav, mp3, flac, ogg/opus, m4a/aac, mp4, webm): JSON {audio: base64 or data URL, language, task transcribe|translate, model tiny|base|installed id, prompt, temperature, word_timestamps, async}, a multipart file with those fields, or raw audio → {text, language, language_probability (the detected language probability, null when given), duration, warnings[], segments[{id, start, end, text, words?}], model, vad}; warnings (an uncertain language below 0.6, audio or speech left out) also in X-Warning, joined with "; "; long files answer 202 with a job',
    handler: async (r, ctx) => transcribe.studioTranscribe(r.request, keyOf(r.key), ctx),
  }),
  route({
    method: 'POST',
    path: '/v1/stt',
    scope: 'audio:process',
    tag: 'Transcription',
    summary:
      'Speech to text, multipart {file ≤ 100 MB, model (whisper, faster-whisper, sensevoice, whisper-1 = the default installed Whisper; tiny, base; X-Timbre-Model says which ran), language (auto), timestamps (word timestamps), diarize (speaker labels SPEAKER_00…), num_speakers / max_speakers (hints)} → {text, language, language_probability (null when given), duration, warnings[], segments[{start, end, text, speaker (null without diarize)}], diarization {speakers, method tone-colour|acoustic, description, turns[{start, end, speaker}]} with diarize}; warnings also in X-Warning, joined with "; "; long files answer 202 with a job',
    handler: async (r, ctx) => transcribe.v1Stt(r.request, keyOf(r.key), ctx),
  }),
  route({
    method: 'POST',
    path: '/v1/audio/transcriptions',
    scope: 'audio:process',
    tag: 'Transcription',
    summary:
      'OpenAI audio.transcriptions, multipart {file ≤ 100 MB, model (whisper-1, gpt-4o-transcribe, gpt-4o-mini-transcribe = the default installed Whisper; tiny, base or an installed id), language, prompt, response_format json|text|srt|verbose_json|vtt, temperature, timestamp_granularities[] word|segment (verbose_json)}; json and verbose_json add warnings[] (verbose_json also language_probability, null when the language was given); every format sends the warnings in X-Warning, joined with "; "; long files answer 202 with a job',
    handler: async (r, ctx) => transcribe.openAiTranscription(r.request, 'transcribe', keyOf(r.key), ctx),
  }),
  route({
    method: 'POST',
    path: '/v1/audio/translations',
    scope: 'audio:process',
    tag: 'Transcription',
    summary:
      'OpenAI audio.translations: speech in any language to English text, the audio.transcriptions fields and formats',
    handler: async (r, ctx) => transcribe.openAiTranscription(r.request, 'translate', keyOf(r.key), ctx),
  }),
  route({
    method: 'POST',
    path: '/v1/speech-translate',
    scope: 'audio:process',
    tag: 'Transcription',
    summary:
      "Speech in any language to English speech, multipart {file ≤ 100 MB, target_language (en; any other answers 400 naming the available targets), voice (preset, mix formula or library voice; default: the English preset nearest to the speaker), preserve_voice (the speaker's own cloned voice; needs the converter, else 503), model (Whisper; the alias table's names), language (source, auto), format mp3|wav|opus|flac|aac|pcm, speed 0.5–2, response json|audio} → JSON {original_text, translated_text, source_language, target_language, audio_url (the WAV kept in the history), audio_base64, language_probability, warnings, voice, voice_choice, segments} (the default), or with response=audio the audio with X-Transcript, X-Translation, X-Voice headers (URI-encoded) and X-Warning when the transcription warns",
    handler: async (r, ctx) => speechTranslate.speechTranslate(r.request, keyOf(r.key), ctx),
  }),
  route({
    method: 'POST',
    path: '/v1/audio/convert',
    scope: 'audio:process',
    tag: 'Audio',
    summary:
      'Convert an audio file (multipart file or JSON {audio: base64 or data URL}, ≤ 100 MB, any format ffmpeg reads) to {format wav|mp3|ogg|opus|flac|m4a|aac|webm (mp3), bitrate 64–320 kbps, sample_rate 8000–48000, channels mono|stereo, sample_format s16|f32 (wav)} → the file, with X-Audio-Format, X-Sample-Rate, X-Channels, X-Bitrate; webhook_url, and bitrate for wav or flac, are accepted and named in X-Timbre-Ignored-Parameters',
    handler: async (r, ctx) => audioTools.convertAudio(r.request, ctx),
  }),
  route({
    method: 'POST',
    path: '/v1/audio/enhance',
    scope: 'audio:process',
    tag: 'Audio',
    summary:
      'Clean up speech (multipart file or JSON {audio: base64 or data URL}, ≤ 100 MB, any format ffmpeg reads; mono 48 kHz out): {denoise (true; RNNoise), enhance_clarity (true; presence EQ + de-esser), strength 1–3 (2; 1 = ¾ denoised + ¼ original, 2 = denoised, 3 = two passes), target_lufs −30…−9 (omitted: level unchanged; BS.1770-4 integrated loudness, true-peak ceiling −1 dBFS), format (wav) with the convert fields, response audio|json}; super_resolution is not supported (400). Answers the audio with X-Loudness-Before/After (LUFS) and X-SNR-Before/After (dB, estimated: VAD speech frames vs the noise floor between them), or JSON {audio_base64, loudness_before, loudness_after, snr_before, snr_after, noise_floor_before, noise_floor_after, …}; webhook_url, bitrate for wav or flac, and strength with denoise=false are accepted and named in X-Timbre-Ignored-Parameters',
    handler: async (r, ctx) => audioEnhance.enhanceAudio(r.request, ctx),
  }),
  route({
    method: 'POST',
    path: '/v1/audio/trim-silence',
    scope: 'audio:process',
    tag: 'Audio',
    summary:
      'Cut leading and trailing silence by VAD (multipart file or JSON {audio}, ≤ 100 MB), optional max_pause (s): longer inner pauses are shortened to it; response audio|json → mono WAV with X-Trim-Start, X-Trim-End, or JSON {audio_base64, start, end, duration, removed_seconds, pauses_shortened}',
    handler: async (r, ctx) => audioEnhance.trimSilenceRoute(r.request, ctx),
  }),
  route({
    method: 'POST',
    path: '/v1/audio/split',
    scope: 'audio:process',
    tag: 'Audio',
    summary:
      'Split speech at pauses of at least min_pause seconds (0.5) found by VAD (multipart file or JSON {audio}, ≤ 100 MB) → {pieces[{start, end, duration, audio_base64 (mono WAV)}], count, duration}',
    handler: async (r, ctx) => audioEnhance.splitRoute(r.request, ctx),
  }),
  route({
    method: 'POST',
    path: '/v1/audio/analyze',
    scope: 'audio:process',
    tag: 'Audio',
    summary:
      'Tempo, metre and key of a clip (multipart file, JSON {audio: base64 or data URL} or raw audio; ≤ 100 MB, ≥ 3 s; the first 10 minutes are analysed) → {key, scale Major|Minor, bpm, time_signature 3/4|4/4, camelot, compatible_keys ["C Major", …: the key, a fifth up, a fifth down, the relative], compatible_keys_detail, confidence, chroma, duration}; webhook_url is accepted and named in X-Timbre-Ignored-Parameters',
    handler: async (r, ctx) => audioTools.analyzeAudio(r.request, ctx),
  }),
  // Routes of the OpenAI-style document the studio does not offer: 501 with the reason, not a bare 404.
  absent(
    '/v1/audio/separate',
    'audio:process',
    'Audio',
    'Vocal/stem separation is not in Timbre: no source-separation model (demucs, spleeter) is published for the browser on npm, and plain DSP would damage the speech more than it helps.',
  ),
  absent(
    '/v1/audio/dereverb',
    'audio:process',
    'Audio',
    'Dereverberation is not in Timbre: no dereverberation model is published for the browser on npm, and plain DSP would damage the speech more than it helps. POST /v1/audio/enhance denoises.',
  ),
  absent(
    '/v1/voice-chat',
    'tts:generate',
    'Speech',
    'Voice chat needs a language model to answer, and Timbre has none: it runs offline on this device. Transcribe with POST /v1/stt, answer the text yourself, and speak it with POST /v1/tts.',
  ),
  route({
    method: 'GET',
    path: '/api/projects',
    scope: 'projects:read',
    tag: 'Projects',
    summary:
      'List projects, newest change first → {projects[{id, name, created_at, updated_at, sample_rate, tracks, clips, duration, speakers}], total}',
    handler: async (_r, ctx) => projects.listProjects(ctx),
  }),
  route({
    method: 'POST',
    path: '/api/projects',
    scope: 'projects:write',
    tag: 'Projects',
    body: projects.createProjectBody,
    bodyLimit: projects.PROJECT_BODY_LIMIT,
    summary:
      'Create a project {name, sample_rate 8000–96000 (24000), tracks, cast {speaker: voice}, script ("[Narrator] text" lines: one speech clip per line in its cast voice, placed one after another), gap (s between lines, 0.4)} → 201 the project with its duration',
    handler: async (r, ctx) => projects.createProject(r.body, ctx),
  }),
  route({
    method: 'GET',
    path: '/api/projects/{id}',
    scope: 'projects:read',
    tag: 'Projects',
    summary: 'One project: tracks of clips (speech, library or embedded audio), cast, script, duration',
    handler: async (r, ctx) => projects.getProject(r.params.id!, ctx),
  }),
  route({
    method: 'PUT',
    path: '/api/projects/{id}',
    scope: 'projects:write',
    tag: 'Projects',
    body: projects.putProjectBody,
    bodyLimit: projects.PROJECT_BODY_LIMIT,
    summary:
      'Replace a project (validated: 400 names the field, e.g. tracks[0].clips[1].gain_db; 404 unknown id) → the saved project',
    handler: async (r, ctx) => projects.putProject(r.params.id!, r.body, ctx),
  }),
  route({
    method: 'DELETE',
    path: '/api/projects/{id}',
    scope: 'projects:write',
    tag: 'Projects',
    summary: 'Delete a project → {deleted, id}',
    handler: async (r, ctx) => projects.deleteProject(r.params.id!, ctx),
  }),
  route({
    method: 'POST',
    path: '/api/projects/{id}/render',
    scope: 'tts:timeline',
    tag: 'Projects',
    body: projects.renderBody,
    summary:
      "Render the mixdown as a job {format wav|mp3|opus|ogg|flac|aac|m4a|webm|zip (wav; zip = every clip as a WAV), bitrate, sample_rate, channels, sample_format, limiter normalize|soft|none} → 202 {job_id, audio_url}; speech not generated yet (or changed) is spoken, the rest reused; the job result holds duration, sample_rate and each clip's start/end",
    handler: async (r, ctx) => projects.startRender(r.params.id!, r.body, keyOf(r.key), ctx),
  }),
  route({
    method: 'GET',
    path: '/api/projects/{id}/export',
    scope: 'projects:read',
    tag: 'Projects',
    summary: 'The project file: JSON with the project and the library audio it uses (WAV as base64)',
    handler: async (r, ctx) => projects.exportProject(r.params.id!, ctx),
  }),
  route({
    method: 'POST',
    path: '/api/projects/import',
    scope: 'projects:write',
    tag: 'Projects',
    bodyLimit: projects.PROJECT_BODY_LIMIT,
    summary:
      'Import a project file (the body, ≤ 64 MB) → 201 the project under a new id; its clips join the library',
    handler: async (r, ctx) => projects.importProject(r.request, ctx),
  }),
  route({
    method: 'GET',
    path: '/api/projects/{id}/render/{job_id}',
    scope: 'projects:read',
    tag: 'Projects',
    summary: 'The file of a finished render job (202 while it runs)',
    handler: async (r, ctx) => projects.renderedFile(r.params.id!, r.params.job_id!, keyOf(r.key), ctx),
  }),
];

export function createRouter(): Router {
  return new Router(ROUTES);
}
