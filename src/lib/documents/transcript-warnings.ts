// What a transcription says about itself when its answer may be wrong or incomplete: a detected language
// the model was unsure of, and any part of the input that has no text. Plain functions of the result, so
// the engine, the API and the page agree (no model code here: the page imports it).
import { languageName } from './transcript-formats';

/**
 * Below this detection probability the language is reported as uncertain. Measured (README): tiny's one
 * wrong answer on the ten LibriSpeech files was Latin at 0.58 for English; its right answers were 0.63 or
 * more but for a 2.5 s clip at 0.50 (base: 0.50 there, 0.70 or more elsewhere); clean Kokoro speech in
 * es/fr/it/pt scored 0.97 or more on both models, and reversed (language-less) speech 0.48 on tiny.
 */
export const LANGUAGE_UNCERTAIN_BELOW = 0.6;

/** The output is shorter than the input by more than this (seconds): say so. */
export const SHORT_OUTPUT_TOLERANCE = 0.1;
/** Speech heard this long (seconds) after the last line without text: say so. */
export const UNWRITTEN_SPEECH_TOLERANCE = 2;

export interface LanguageDetection {
  language: string;
  /** The detected language's probability; null when the caller gave the language (or nothing was heard). */
  language_probability: number | null;
}

/** The detection was made and fell below LANGUAGE_UNCERTAIN_BELOW. */
export function languageUncertain(r: LanguageDetection): boolean {
  return r.language_probability !== null && r.language_probability < LANGUAGE_UNCERTAIN_BELOW;
}

/** "Latin" for "la" (the code itself when Whisper's table has no name). */
export function languageLabel(code: string): string {
  const n = languageName(code);
  return n === code ? code : n.charAt(0).toUpperCase() + n.slice(1);
}

/** The warning for an uncertain detection, or null. `bigger`: a larger installed model to suggest. */
export function languageWarning(r: LanguageDetection, model: string, bigger?: string): string | null {
  if (!languageUncertain(r)) return null;
  const p = r.language_probability!.toFixed(2);
  const advice = bigger ? `choose the language or use ${bigger}` : 'choose the language';
  return `Language uncertain: detected ${languageLabel(r.language)} (${r.language}) with probability ${p} on ${model}, ${advice}.`;
}

export interface TranscribedSpan {
  /** Seconds of audio transcribed (what was decoded). */
  duration: number;
  segments: readonly { end: number }[];
}

export interface InputExtent {
  /** Seconds the input declares (its container), when known. */
  duration?: number | null;
  /** Where the voice detector last heard speech (seconds), when known. */
  speechEnd?: number | null;
}

const s = (x: number) => `${x.toFixed(1)} s`;

/**
 * Warnings for a result shorter than its input: audio the decoding did not deliver, and speech after the
 * last line that has no text. Each names the span left out and why, so a short answer is never silent.
 */
export function truncationWarnings(r: TranscribedSpan, input: InputExtent): string[] {
  const out: string[] = [];
  const declared = input.duration;
  if (declared != null && declared - r.duration > SHORT_OUTPUT_TOLERANCE)
    out.push(
      `Audio left out: ${s(r.duration)} to ${s(declared)} of the input was not transcribed, because decoding delivered ${s(r.duration)} of audio where the file declares ${s(declared)}.`,
    );
  const lastEnd = r.segments.length ? r.segments[r.segments.length - 1]!.end : 0;
  const speechEnd = input.speechEnd == null ? null : Math.min(input.speechEnd, r.duration);
  if (speechEnd !== null && speechEnd - lastEnd > UNWRITTEN_SPEECH_TOLERANCE)
    out.push(
      `Speech left out: ${s(lastEnd)} to ${s(speechEnd)} has no text, because Whisper wrote none there though the voice detector hears speech up to ${s(speechEnd)}.`,
    );
  return out;
}

/**
 * Warnings as one X-Warning header value: joined with "; " (so a semicolon inside one becomes a comma),
 * Latin-1 only (a header cannot carry more), no line breaks.
 */
export function warningHeader(warnings: readonly string[]): string | null {
  if (!warnings.length) return null;
  return warnings
    .map((w) =>
      w
        .replace(/;/g, ',')
        .replace(/[\r\n]+/g, ' ')
        .replace(/[^\x20-\x7e\xa0-\xff]/g, '?'),
    )
    .join('; ');
}
