// The languages the Kokoro voices speak, how a voice id names its language, and which espeak-ng voice
// phonemises each one.
import { UnsupportedLanguageError } from './errors';

export const TTS_LANGUAGES = ['en-us', 'en-gb', 'es', 'fr-fr', 'hi', 'it', 'ja', 'pt-br', 'zh'] as const;
export type TtsLanguage = (typeof TTS_LANGUAGES)[number];

/** First letter of a Kokoro voice id → its language (docs/models.md). */
const BY_LETTER: Record<string, TtsLanguage> = {
  a: 'en-us',
  b: 'en-gb',
  e: 'es',
  f: 'fr-fr',
  h: 'hi',
  i: 'it',
  j: 'ja',
  p: 'pt-br',
  z: 'zh',
};

/**
 * espeak-ng voice names, as `list_voices` (phonemizer) and `espeak-ng --voices` list them. Upstream Kokoro
 * (misaki) uses the same names for e/f/h/i/p; for j and z it has its own G2P, which has no JavaScript port.
 * British English is "en" (gmw/en, as kokoro-js): phonemizer 1.2.1 keeps the American voice when "en-gb"
 * follows "en-us".
 */
export const ESPEAK_VOICE: Record<TtsLanguage, string> = {
  'en-us': 'en-us',
  'en-gb': 'en',
  es: 'es',
  'fr-fr': 'fr-fr',
  hi: 'hi',
  it: 'it',
  ja: 'ja',
  'pt-br': 'pt-br',
  zh: 'cmn',
};

const ALIASES: Record<string, TtsLanguage> = {
  en: 'en-us',
  'en-us': 'en-us',
  'en-gb': 'en-gb',
  'en-uk': 'en-gb',
  es: 'es',
  'es-es': 'es',
  fr: 'fr-fr',
  'fr-fr': 'fr-fr',
  hi: 'hi',
  'hi-in': 'hi',
  it: 'it',
  'it-it': 'it',
  ja: 'ja',
  'ja-jp': 'ja',
  pt: 'pt-br',
  'pt-br': 'pt-br',
  zh: 'zh',
  'zh-cn': 'zh',
  cmn: 'zh',
};

/** The language of a Kokoro voice id (`af_heart` → en-us), or null when the id names none. */
export function languageOfVoice(id: string): TtsLanguage | null {
  return BY_LETTER[id[0] ?? ''] ?? null;
}

/** Reads a language code ("en", "fr", "pt-BR", "zh-CN", …) as one of the nine Kokoro languages. */
export function parseLanguage(code: string): TtsLanguage {
  const lang = ALIASES[code.trim().toLowerCase().replace(/_/g, '-')];
  if (!lang)
    throw new UnsupportedLanguageError(
      `Kokoro does not speak "${code}". Use one of: ${TTS_LANGUAGES.join(', ')}.`,
    );
  return lang;
}

export const isEnglish = (l: TtsLanguage) => l === 'en-us' || l === 'en-gb';
