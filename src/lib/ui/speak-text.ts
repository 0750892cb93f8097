// What the Speak view shows of a text before it is spoken: the sentences the engine will speak one by one
// (the same paragraph and sentence split as tts.generate), and the limits the view enforces.
import { splitSentences } from '../text/split';
import { normalizePunctuation } from '../text/normalize';
import type { TtsLanguage } from '../voices/languages';

/** The studio's limit per generation; longer texts belong in a project (and the engine's own limit is higher). */
export const STUDIO_MAX_CHARS = 5000;
/** The engine's speed range (kokoro.ts MIN_SPEED/MAX_SPEED; kept equal, a unit test compares). */
export const SPEED_RANGE = { min: 0.5, max: 2 } as const;
/** kokoro.ts cuts sentences longer than this at clause marks; kept equal (a unit test compares the two). */
const SENTENCE_MAX_CHARS = 350;

export interface Sentence {
  text: string;
  /** A blank line comes before it. */
  paragraph: boolean;
}

/** The sentences tts.generate will speak, in order: paragraphs at blank lines, then sentences. */
export function speakSentences(text: string): Sentence[] {
  const out: Sentence[] = [];
  for (const para of text.split(/\n\s*\n/)) {
    const sentences = splitSentences(normalizePunctuation(para), { maxChars: SENTENCE_MAX_CHARS });
    sentences.forEach((s, i) => out.push({ text: s, paragraph: i === 0 && out.length > 0 }));
  }
  return out;
}

/**
 * Which sentence a streamed run speaks, from its text. Runs come in order and carry either a whole
 * sentence or a part of one (the engine cuts the first sentence short for early audio, and a sentence too
 * long for one run gives several runs): a new sentence is the next one whole, anything else that is
 * part of the current (or next) sentence belongs to it.
 */
export function sentenceOfRun(sentences: readonly string[], current: number, text: string): number {
  const t = text.trim();
  const whole = (j: number) => sentences[j] === t;
  const part = (j: number) => j >= 0 && j < sentences.length && t.length > 0 && sentences[j]!.includes(t);
  if (whole(current + 1)) return current + 1;
  if (part(current)) return current;
  if (part(current + 1)) return current + 1;
  const later = sentences.indexOf(t, current + 1);
  return later >= 0 ? later : current;
}

/**
 * The "done / total parts" counter of a generation, counted in the sentences the page lists (the engine
 * may cut a long sentence into several runs, so its own run count can grow mid-way): never backwards,
 * never a changed total, and full only once the engine's last run has arrived.
 */
export function sentencesDone(prev: number, sentence: number, total: number, lastRun: boolean): number {
  if (lastRun) return total;
  return Math.max(prev, Math.min(sentence + 1, total - 1));
}

/** A short sentence per language for voice previews. */
export const PREVIEW_TEXT: Record<TtsLanguage, string> = {
  'en-us': 'Hello! This is how I sound when I read your words aloud.',
  'en-gb': 'Hello! This is how I sound when I read your words aloud.',
  es: '¡Hola! Así sueno cuando leo tus palabras en voz alta.',
  'fr-fr': 'Bonjour ! Voici ma voix quand je lis vos mots à voix haute.',
  hi: 'नमस्ते! जब मैं आपके शब्द पढ़ती हूँ, तो मेरी आवाज़ ऐसी लगती है।',
  it: 'Ciao! Ecco come suono quando leggo ad alta voce le tue parole.',
  ja: 'こんにちは。これが、あなたの言葉を読み上げる私の声です。',
  'pt-br': 'Olá! É assim que eu soo quando leio as suas palavras em voz alta.',
  zh: '你好！这就是我朗读你的文字时的声音。',
};

/** 3.25 → "0:03.3", 75 → "1:15.0". */
export function formatClock(seconds: number): string {
  const s = Math.max(0, seconds);
  const m = Math.floor(s / 60);
  const rest = s - m * 60;
  return `${m}:${rest.toFixed(1).padStart(4, '0')}`;
}

/** A file name from the start of the text: "hello-world-this-is.wav". */
export function fileStem(text: string, fallback = 'speech'): string {
  const words = text
    .toLowerCase()
    .normalize('NFKD')
    .replace(/[^\p{L}\p{N}]+/gu, ' ')
    .trim()
    .split(' ')
    .filter(Boolean)
    .slice(0, 5);
  const stem = words.join('-').slice(0, 40).replace(/-+$/, '');
  return stem || fallback;
}
