// Speech request shapes: each route family's zod body, their limits and audio formats, and the one
// SpeechSpec every body comes down to.
import { z } from 'zod';

/** Text limits: OpenAI's audio.speech takes 4096 characters; the other families 5000 (their "Pro" limit). */
export const OPENAI_MAX_CHARS = 4096;
export const MAX_CHARS = 5000;
export const DEFAULT_VOICE = 'af_heart';

export const AUDIO_FORMATS = ['mp3', 'opus', 'aac', 'flac', 'wav', 'pcm'] as const;
export type AudioFormat = (typeof AUDIO_FORMATS)[number];

/**
 * Content-Type per format (the same as the formats module): wav audio/wav, mp3 audio/mpeg, opus
 * "audio/ogg; codecs=opus" (Ogg Opus), aac audio/aac (ADTS), flac audio/flac, pcm application/octet-stream
 * (raw mono s16le, no header; X-Sample-Rate says the rate: 24 kHz from Kokoro, 22050 Hz from the converter).
 * The clone routes answer with these too.
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
    // Checked against the alias table (aliases.ts): an unknown name is a 400 listing the accepted ones.
    model: z.string().min(1).max(100),
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
    model: z.string().min(1).max(100).optional(),
    text: text(MAX_CHARS),
    voice: voiceName.default(DEFAULT_VOICE),
    format: z.enum(AUDIO_FORMATS).default('mp3'),
    speed: z.number().min(0.5).max(2).default(1),
    language: z.string().min(2).max(10).optional(),
    stream: z.boolean().default(false),
    // The document's callback for long tasks: accepted, not honoured (X-Timbre-Ignored-Parameters).
    webhook_url: z.string().max(2048).optional(),
  })
  .strict();

/** The streaming-TTS family's parameters (`POST /api/v1/tts/` and `/api/v1/tts/stream`). */
export const apiV1TtsBody = z
  .object({
    text: text(MAX_CHARS),
    // Its document's default is "default", and its Python sends null when no voice is given.
    voice_id: voiceName.nullable().optional(),
    format: z.enum(['mp3', 'wav', 'pcm', 'opus']).default('mp3'),
    speed: z.number().min(0.5).max(2).default(1),
    volume: z.number().min(-20).max(20).default(0),
    temperature: z.number().min(0.1).max(1.5).optional(),
    latency: z.enum(['normal', 'balanced', 'low']).default('balanced'),
  })
  .strict();

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
