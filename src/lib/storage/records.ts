// What each IndexedDB store keeps (db.ts's schema names them; each store's module reads and writes them).
// Kept apart from the stores so the schema and the stores do not import each other.
import type { Progress } from '../core/run';
import type { LexiconEntry } from '../text/lexicon';
import type { Segment } from '../documents/transcript';
import type { Project } from '../documents/project';

export type JobStatus = 'queued' | 'running' | 'succeeded' | 'failed' | 'cancelled';

export interface JobRecord {
  id: string;
  op: string;
  status: JobStatus;
  progress: Progress | null;
  result?: unknown;
  error?: { code: string; message: string };
  /** Id of the API key that started it ('studio' for the studio itself). */
  owner: string;
  created_at: number;
  updated_at: number;
}

export type ModelOrigin = 'bundled' | 'download' | 'import';

export interface InstalledFile {
  path: string;
  bytes: number;
  sha256: string;
  /** When the bytes were checked (epoch ms). */
  verified_at: number;
  /** True when `sha256` was checked against a pinned hash; false when the catalogue had none. */
  pinned: boolean;
}

/** What the `models` store of IndexedDB keeps: written only once every file of the model is verified. */
export interface InstalledModel {
  id: string;
  files: InstalledFile[];
  installed_at: number;
  origin: ModelOrigin;
}

/** The parameters a generation ran with, enough to run it again. */
export interface HistoryParams {
  speed: number;
  volume_db?: number;
  pause_ms?: number;
  language?: string;
  /** The format the caller asked for (the stored audio is always 16-bit WAV). */
  format?: string;
}

/** One speech generation, kept for replay, download, re-generation and delete. */
export interface HistoryRecord {
  id: string;
  created_at: number;
  text: string;
  /** The voice as the caller named it (preset id, library voice id, OpenAI name or formula). */
  voice: string;
  /** What it resolved to for the engine (a preset id or a mix formula). */
  voice_resolved: string;
  params: HistoryParams;
  /** Seconds of audio. */
  duration: number;
  /** Wall-clock milliseconds the generation took. */
  elapsed_ms: number;
  sample_rate: number;
  /** 16-bit mono WAV bytes. */
  audio: ArrayBuffer;
  /** Each sentence's span in the audio, in seconds (studio generations; older entries have none). */
  chunks?: { text: string; start: number; end: number }[];
  /** Where it was made: the studio page or an API route. */
  source: 'studio' | 'api';
  route?: string;
  key_id?: string;
}

/** A lexicon entry as stored: one per (scope, word). */
export type StoredLexiconEntry = LexiconEntry & { id: string; updated_at: number };

/** A short sample of a voice, generated the first time someone asks to hear it. */
export interface VoicePreview {
  voice_id: string;
  text: string;
  sample_rate: number;
  /** 16-bit mono WAV bytes. */
  audio: ArrayBuffer;
  created_at: number;
}

export interface TranscriptRecord {
  id: string;
  /** The file's name, or "Recording 1". */
  name: string;
  created_at: number;
  updated_at: number;
  /** The Whisper model id that made it. */
  model: string;
  language: string;
  task: 'transcribe' | 'translate';
  duration: number;
  segments: Segment[];
  /** Ids of the segments whose text was edited. */
  edited: number[];
  /** 16-bit mono WAV bytes of what was transcribed, or null when it was too long to keep. */
  audio: ArrayBuffer | null;
  /** The detected language's probability (null when chosen); absent in transcripts kept before it was. */
  language_probability?: number | null;
  /** What the transcription may have got wrong or left out, so a reopened transcript still says it. */
  warnings?: string[];
}

export type ClipSource = 'recording' | 'import' | 'generated' | 'converted' | 'edit';

export interface ClipRecord {
  id: string;
  name: string;
  created_at: number;
  updated_at: number;
  source: ClipSource;
  /** Seconds. */
  duration: number;
  sample_rate: number;
  channels: number;
  /** A WAV file (16-bit or float). */
  audio: ArrayBuffer;
}

export type ProjectRecord = Project;

export interface RateBucket {
  /** `${keyId}|${scope}` */
  bucket: string;
  window_start: number;
  count: number;
}
