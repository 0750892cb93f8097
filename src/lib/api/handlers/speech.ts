// Speech routes: every family's request shape comes down to one SpeechSpec, spoken by the 'tts.generate'
// engine operation as a job (cancellable by id), kept in the history, and answered whole or streamed.
// The bodies are in speech-schemas.ts, the voice in speaker.ts, whole audio in speak.ts, streaming in
// speech-stream.ts.
import type { z } from 'zod';
import type { ApiContext } from '../context';
import { chooseModel, ignoredHeader, modelHeader, unhonoured, withHeaders } from '../aliases';
import type { ApiKeyRecord } from '../../auth/keys';
import {
  DEFAULT_VOICE,
  type apiV1TtsBody,
  type openAiSpeechBody,
  type presetSpeechBody,
  type SpeechSpec,
  type v1TtsBody,
} from './speech-schemas';
import { encodeAudio, speak, speechJson, wholeAudio } from './speak';
import { streamSpeech } from './speech-stream';

/** `POST /v1/audio/speech`: OpenAI's shape; raw audio bytes (streamed for wav/pcm) or SSE events. */
export async function openAiSpeech(
  body: z.infer<typeof openAiSpeechBody>,
  key: ApiKeyRecord,
  ctx: ApiContext,
  request?: Request,
): Promise<Response> {
  const model = chooseModel('tts', body.model);
  const spec: SpeechSpec = {
    text: body.input,
    voice: typeof body.voice === 'string' ? body.voice : body.voice.id,
    format: body.response_format,
    // Kokoro speaks at 0.5–2×; OpenAI's wider range is clamped (documented).
    speed: Math.min(2, Math.max(0.5, body.speed)),
    route: 'POST /v1/audio/speech',
  };
  // Kokoro takes no style prompt: `instructions` is accepted and named as ignored.
  return withHeaders(await streamSpeech(spec, body.stream_format, key, ctx, request), {
    ...modelHeader('tts', model),
    ...ignoredHeader(unhonoured(body, ['instructions'])),
  });
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

/** `POST /v1/tts/`: {model, text, voice, format, speed, language, stream}; stream=true is chunked audio. */
export async function v1Tts(
  body: z.infer<typeof v1TtsBody>,
  key: ApiKeyRecord,
  ctx: ApiContext,
  request?: Request,
): Promise<Response> {
  const model = chooseModel('tts', body.model);
  const spec: SpeechSpec = {
    text: body.text,
    voice: body.voice,
    format: body.format,
    speed: body.speed,
    language: body.language,
    route: 'POST /v1/tts',
  };
  const res = body.stream
    ? await streamSpeech(spec, 'audio', key, ctx, request)
    : await wholeAudio(spec, key, ctx);
  return withHeaders(res, { ...modelHeader('tts', model), ...ignoredHeader(unhonoured(body)) });
}

function apiV1TtsSpec(body: z.infer<typeof apiV1TtsBody>, route: string): SpeechSpec {
  return {
    text: body.text,
    voice: body.voice_id == null || body.voice_id.toLowerCase() === 'default' ? DEFAULT_VOICE : body.voice_id,
    format: body.format,
    speed: body.speed,
    volume_db: body.volume,
    temperature: body.temperature,
    route,
  };
}

/** `POST /api/v1/tts/`: the streaming-TTS family's synchronous call; the audio bytes. */
export async function apiV1Tts(
  body: z.infer<typeof apiV1TtsBody>,
  key: ApiKeyRecord,
  ctx: ApiContext,
): Promise<Response> {
  return wholeAudio(apiV1TtsSpec(body, 'POST /api/v1/tts'), key, ctx);
}

/**
 * `POST /api/v1/tts/stream`: that family streams over a WebSocket, which a Service Worker cannot serve;
 * here the same parameters give a chunked audio response. `latency` is accepted: Kokoro always streams
 * per sentence.
 */
export async function apiV1TtsStream(
  body: z.infer<typeof apiV1TtsBody>,
  key: ApiKeyRecord,
  ctx: ApiContext,
  request?: Request,
): Promise<Response> {
  return streamSpeech(apiV1TtsSpec(body, 'POST /api/v1/tts/stream'), 'audio', key, ctx, request, {
    streamMp3: true,
  });
}
