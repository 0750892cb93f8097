// The Transcribe view's pure helpers: merging the segments that arrive live, editing a line, finding the
// line at a playback time, clock labels, and exports (text, SRT, VTT, JSON) that carry the edits.
// DOM-free, so Node tests check them.
import { formatTranscript, type TranscriptLike } from '../documents/transcript-formats';
import type { Segment } from '../documents/transcript';

export const EXPORT_FORMATS = ['text', 'srt', 'vtt', 'json'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

export const EXPORT_LABELS: Record<ExportFormat, string> = {
  text: 'Text (.txt)',
  srt: 'Subtitles (.srt)',
  vtt: 'Web subtitles (.vtt)',
  json: 'JSON with timings (.json)',
};

const EXTENSIONS: Record<ExportFormat, string> = { text: 'txt', srt: 'srt', vtt: 'vtt', json: 'json' };

/** A transcript as the view holds it: the segments (edited text in place) and which lines were edited. */
export interface EditableTranscript {
  language: string;
  task: 'transcribe' | 'translate';
  /** Seconds of audio. */
  duration: number;
  segments: Segment[];
  /** Segment ids whose text the person changed. */
  edited: number[];
}

/** An edit that would leave a line with no text (delete it from the exports by other means). */
export class EmptyLineError extends Error {
  override name = 'EmptyLineError';
}

export class UnknownLineError extends Error {
  override name = 'UnknownLineError';
}

/**
 * Adds the segments of a new window to those already shown. Each window sends only its new segments, but
 * ids can repeat when a window is decoded again (temperature fallback): the newest text for an id wins.
 * Kept in time order.
 */
export function mergeSegments(have: readonly Segment[], incoming: readonly Segment[]): Segment[] {
  const byId = new Map<number, Segment>();
  for (const s of have) byId.set(s.id, s);
  for (const s of incoming) byId.set(s.id, s);
  return [...byId.values()].sort((a, b) => a.start - b.start || a.id - b.id);
}

/** One line's new text (trimmed, inner runs of white space made single); the other lines are untouched. */
export function editLine(t: EditableTranscript, id: number, text: string): EditableTranscript {
  const clean = text.replace(/\s+/g, ' ').trim();
  if (!clean) throw new EmptyLineError('A line cannot be empty: type its words, or press Escape to keep it.');
  const at = t.segments.findIndex((s) => s.id === id);
  if (at < 0) throw new UnknownLineError(`There is no line ${id} in this transcript.`);
  if (t.segments[at]!.text.trim() === clean) return t;
  const segments = t.segments.map((s, i) => (i === at ? { ...s, text: ` ${clean}` } : s));
  return { ...t, segments, edited: t.edited.includes(id) ? t.edited : [...t.edited, id] };
}

/** The whole text: each line's words, one space between lines. */
export function transcriptText(segments: readonly Segment[]): string {
  return segments
    .map((s) => s.text.trim())
    .filter(Boolean)
    .join(' ');
}

/** The index of the line being heard at `t` seconds (the last one started, while inside it), or -1. */
export function lineAt(segments: readonly Segment[], t: number): number {
  let found = -1;
  for (let i = 0; i < segments.length; i++) {
    const s = segments[i]!;
    if (s.start > t) break;
    if (t < s.end) found = i;
  }
  return found;
}

/** A clock for a line: m:ss.t under an hour, h:mm:ss beyond. */
export function lineClock(seconds: number): string {
  const t = Math.max(0, seconds);
  if (t >= 3600) {
    const h = Math.floor(t / 3600);
    const m = Math.floor((t % 3600) / 60);
    const s = Math.floor(t % 60);
    return `${h}:${String(m).padStart(2, '0')}:${String(s).padStart(2, '0')}`;
  }
  const tenths = Math.floor(t * 10 + 1e-6);
  const m = Math.floor(tenths / 600);
  const s = (tenths % 600) / 10;
  return `${m}:${s.toFixed(1).padStart(4, '0')}`;
}

/** The exported file: body, Content-Type and file name, with every edit in it. */
export function exportTranscript(
  t: EditableTranscript,
  format: ExportFormat,
  stem: string,
): { body: string; type: string; filename: string } {
  const like: TranscriptLike = {
    text: transcriptText(t.segments),
    language: t.language,
    duration: t.duration,
    segments: t.segments,
  };
  const f = formatTranscript(like, format === 'json' ? 'verbose_json' : format, t.task);
  return { ...f, filename: `${fileStem(stem)}.${EXTENSIONS[format]}` };
}

/** A file name stem from a title: no path characters, not empty, not too long. */
export function fileStem(name: string): string {
  const s = name
    .replace(/\.[a-z0-9]{1,5}$/i, '')
    .replace(/[\\/:*?"<>|\s]+/g, '-')
    .replace(/^[-.]+|[-.]+$/g, '')
    .slice(0, 80);
  return s || 'transcript';
}

/** True when a finished transcription found no words (silence, a tone, noise). */
export function isEmptyTranscript(segments: readonly Segment[]): boolean {
  return transcriptText(segments).length === 0;
}

/** The languages offered besides "detect" (Whisper knows more; these are the common ones). */
export const TRANSCRIBE_LANGUAGES = [
  'en',
  'es',
  'fr',
  'de',
  'it',
  'pt',
  'nl',
  'pl',
  'ru',
  'uk',
  'tr',
  'ar',
  'hi',
  'ja',
  'ko',
  'zh',
  'sv',
  'da',
  'no',
  'fi',
  'cs',
  'el',
  'he',
  'id',
  'vi',
  'th',
  'ro',
  'hu',
  'ca',
] as const;

/** A stage line a person can read, from the engine's progress event. */
export function stageLine(p: { stage: string; done: number; total: number; message?: string }): string {
  switch (p.stage) {
    case 'decode':
      return 'Reading the audio…';
    case 'load':
    case 'create':
    case 'warmup':
      return 'Loading the Whisper model…';
    case 'vad':
      return 'Finding the speech…';
    case 'language':
      return `Detected the language: ${p.message ?? '?'}`;
    case 'transcribe':
    case 'segment':
      return p.total > 0
        ? `Transcribing · ${Math.min(100, Math.round((p.done / p.total) * 100))} %`
        : 'Transcribing…';
    default:
      return p.message ?? 'Working…';
  }
}
