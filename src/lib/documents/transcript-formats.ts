// Transcript output formats (OpenAI's audio.transcriptions response_format): json, text, srt, verbose_json,
// vtt; and the /v1/stt shape.
import type { Segment } from './transcript';
import type { Word } from './transcript';

export const RESPONSE_FORMATS = ['json', 'text', 'srt', 'verbose_json', 'vtt'] as const;
export type ResponseFormat = (typeof RESPONSE_FORMATS)[number];

export interface TranscriptLike {
  text: string;
  language: string;
  /** The detected language's probability (null when the language was given). */
  language_probability?: number | null;
  duration: number;
  segments: readonly Segment[];
  /** What the transcript may get wrong or leave out (JSON formats carry them; see warnings.ts). */
  warnings?: readonly string[];
}

/** Whisper's language codes → the English names OpenAI's verbose_json reports. */
const LANGUAGE_NAMES: Record<string, string> = {
  en: 'english',
  zh: 'chinese',
  de: 'german',
  es: 'spanish',
  ru: 'russian',
  ko: 'korean',
  fr: 'french',
  ja: 'japanese',
  pt: 'portuguese',
  tr: 'turkish',
  pl: 'polish',
  ca: 'catalan',
  nl: 'dutch',
  ar: 'arabic',
  sv: 'swedish',
  it: 'italian',
  id: 'indonesian',
  hi: 'hindi',
  fi: 'finnish',
  vi: 'vietnamese',
  he: 'hebrew',
  uk: 'ukrainian',
  el: 'greek',
  ms: 'malay',
  cs: 'czech',
  ro: 'romanian',
  da: 'danish',
  hu: 'hungarian',
  ta: 'tamil',
  no: 'norwegian',
  th: 'thai',
  ur: 'urdu',
  hr: 'croatian',
  bg: 'bulgarian',
  lt: 'lithuanian',
  la: 'latin',
  cy: 'welsh',
  sk: 'slovak',
  fa: 'persian',
  lv: 'latvian',
  bn: 'bengali',
  sr: 'serbian',
  sl: 'slovenian',
  et: 'estonian',
  mk: 'macedonian',
  eu: 'basque',
  is: 'icelandic',
  hy: 'armenian',
  ne: 'nepali',
  mn: 'mongolian',
  bs: 'bosnian',
  kk: 'kazakh',
  sq: 'albanian',
  sw: 'swahili',
  gl: 'galician',
  mr: 'marathi',
  pa: 'punjabi',
  af: 'afrikaans',
  ka: 'georgian',
  be: 'belarusian',
  tl: 'tagalog',
};

export const languageName = (code: string) => LANGUAGE_NAMES[code] ?? code;

const pad = (n: number, w = 2) => String(n).padStart(w, '0');

/** HH:MM:SS,mmm (SRT) or HH:MM:SS.mmm (VTT). */
export function timecode(seconds: number, sep: ',' | '.'): string {
  const ms = Math.max(0, Math.round(seconds * 1000));
  const h = Math.floor(ms / 3_600_000);
  const m = Math.floor((ms % 3_600_000) / 60_000);
  const s = Math.floor((ms % 60_000) / 1000);
  return `${pad(h)}:${pad(m)}:${pad(s)}${sep}${pad(ms % 1000, 3)}`;
}

/** Cue text: no blank lines (they end a cue), and in VTT no "-->" inside. */
const cueText = (t: string, vtt: boolean) => {
  const one = t.replace(/\r?\n\s*\r?\n/g, '\n').trim();
  return vtt ? one.replace(/-->/g, '->') : one;
};

export function toSrt(segments: readonly Segment[]): string {
  return segments
    .filter((s) => s.text.trim())
    .map(
      (s, i) =>
        `${i + 1}\n${timecode(s.start, ',')} --> ${timecode(s.end, ',')}\n${cueText(s.text, false)}\n`,
    )
    .join('\n');
}

export function toVtt(segments: readonly Segment[]): string {
  const cues = segments
    .filter((s) => s.text.trim())
    .map((s) => `${timecode(s.start, '.')} --> ${timecode(s.end, '.')}\n${cueText(s.text, true)}\n`);
  return `WEBVTT\n\n${cues.join('\n')}`;
}

/** OpenAI's verbose_json: task, language (name), duration, text, segments[, words]. */
export function toVerboseJson(
  t: TranscriptLike,
  task: 'transcribe' | 'translate',
  opts: { words?: boolean; segments?: boolean } = {},
) {
  const words: Word[] = [];
  for (const s of t.segments) if (s.words) words.push(...s.words);
  return {
    task,
    language: languageName(t.language),
    language_probability: t.language_probability ?? null,
    duration: t.duration,
    text: t.text,
    warnings: t.warnings ?? [],
    ...(opts.segments === false
      ? {}
      : {
          segments: t.segments.map((s) => ({
            id: s.id,
            seek: Math.round(s.start * 100),
            start: s.start,
            end: s.end,
            text: s.text,
            tokens: s.tokens,
            temperature: s.temperature,
            avg_logprob: s.avg_logprob,
            compression_ratio: s.compression_ratio,
            no_speech_prob: s.no_speech_prob,
            // Only when the transcript was diarized (OpenAI's verbose_json has no speaker field).
            ...(s.speaker !== undefined ? { speaker: s.speaker } : {}),
          })),
        }),
    ...(opts.words ? { words } : {}),
    usage: { type: 'duration', seconds: Math.ceil(t.duration) },
  };
}

/** The body and Content-Type of one response_format. */
export function formatTranscript(
  t: TranscriptLike,
  format: ResponseFormat,
  task: 'transcribe' | 'translate',
  opts: { words?: boolean; segments?: boolean } = {},
): { body: string; type: string } {
  switch (format) {
    case 'text':
      return { body: t.text + '\n', type: 'text/plain; charset=utf-8' };
    case 'srt':
      return { body: toSrt(t.segments), type: 'application/x-subrip; charset=utf-8' };
    case 'vtt':
      return { body: toVtt(t.segments), type: 'text/vtt; charset=utf-8' };
    case 'verbose_json':
      return { body: JSON.stringify(toVerboseJson(t, task, opts)), type: 'application/json' };
    case 'json':
      return {
        body: JSON.stringify({
          text: t.text,
          warnings: t.warnings ?? [],
          usage: { type: 'duration', seconds: Math.ceil(t.duration) },
        }),
        type: 'application/json',
      };
  }
}
