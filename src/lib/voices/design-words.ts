// Voice design, the words: which attributes a description names (language/accent, gender, pitch, pace,
// energy, age), each with the words that gave it, negations and intensifiers read around them.
import type { TtsLanguage } from './languages';

/** A description that yields no voice (empty, nothing understood, or a language no preset speaks). */
export class DesignError extends Error {
  override name = 'DesignError';
}

export const MAX_DESCRIPTION = 1000;

export type Scale = 'pitch' | 'pace' | 'energy' | 'age';
export type DesignGender = 'female' | 'male' | 'neutral';

interface Rule {
  words: readonly string[];
  scale?: Partial<Record<Scale, number>>;
  gender?: DesignGender;
  language?: readonly TtsLanguage[];
  /** A language the presets do not speak. */
  unsupported?: string;
}

export const ENGLISH: readonly TtsLanguage[] = ['en-us', 'en-gb'];

const RULES: readonly Rule[] = [
  // pitch
  { words: ['deep', 'deeper', 'low', 'lower', 'low-pitched', 'bass', 'baritone', 'booming', 'rumbling'], scale: { pitch: -1 } },
  { words: ['gravelly', 'husky', 'gruff', 'resonant', 'grave'], scale: { pitch: -0.6 } },
  { words: ['high', 'higher', 'high-pitched', 'squeaky', 'shrill', 'soprano', 'piping'], scale: { pitch: 1 } },
  { words: ['thin', 'light', 'airy'], scale: { pitch: 0.5 } },
  { words: ['medium pitch', 'medium-pitched', 'mid-pitched', 'average pitch'], scale: { pitch: 0 } },
  // pace
  { words: ['slow', 'slowly', 'slower', 'unhurried', 'leisurely', 'drawling', 'lento', 'lenta', 'langsam'], scale: { pace: -1 } },
  { words: ['measured', 'deliberate', 'steady'], scale: { pace: -0.5 } },
  { words: ['fast', 'faster', 'quick', 'quickly', 'rapid', 'rapidly', 'brisk', 'hurried', 'speedy', 'fast-paced', 'fast-talking', 'rápido', 'rapido', 'rapide', 'veloce'], scale: { pace: 1 } },
  { words: ['normal pace', 'normal speed', 'moderate pace', 'average pace'], scale: { pace: 0 } },
  // energy
  { words: ['calm', 'calming', 'soft', 'softly', 'gentle', 'relaxed', 'soothing', 'mellow', 'quiet', 'serene', 'peaceful', 'tranquil', 'laid-back', 'monotone', 'whispery', 'hushed', 'calme', 'tranquilo', 'tranquila', 'sereno'], scale: { energy: -1 } },
  { words: ['sleepy', 'drowsy'], scale: { energy: -1.5, pace: -0.5 } },
  { words: ['warm', 'smooth', 'composed'], scale: { energy: -0.5 } },
  { words: ['energetic', 'lively', 'excited', 'excitable', 'enthusiastic', 'cheerful', 'upbeat', 'dynamic', 'animated', 'bubbly', 'vibrant', 'peppy', 'loud', 'intense', 'expressive', 'énergique', 'energico', 'enérgico', 'enérgica'], scale: { energy: 1 } },
  { words: ['bright', 'bold', 'confident', 'crisp', 'clear'], scale: { energy: 0.5 } },
  // age
  { words: ['young', 'younger', 'youthful', 'teen', 'teenage', 'teenager', 'kid', 'child', 'childlike', 'jeune', 'joven', 'giovane'], scale: { age: -1 } },
  { words: ['old', 'older', 'elderly', 'aged', 'senior', 'aging', 'ageing', 'vieux', 'viejo', 'vieja', 'anziano'], scale: { age: 1 } },
  { words: ['mature', 'wise', 'seasoned'], scale: { age: 0.6 } },
  { words: ['middle-aged', 'middle aged'], scale: { age: 0.3 } },
  // gender (some words also carry an age)
  { words: ['man', 'men', 'male', 'guy', 'gentleman', 'masculine', 'he', 'him', 'his', 'husband', 'son', 'brother', 'sir', 'lad', 'father', 'dad', 'uncle', 'homme', 'hombre', 'uomo', 'mann', 'masculin', 'masculino'], gender: 'male' },
  { words: ['woman', 'women', 'female', 'lady', 'feminine', 'she', 'her', 'hers', 'wife', 'daughter', 'sister', 'madam', 'lass', 'mother', 'mom', 'mum', 'aunt', 'femme', 'mujer', 'donna', 'frau', 'féminin', 'femenino'], gender: 'female' },
  { words: ['boy', 'schoolboy', 'garçon', 'niño'], gender: 'male', scale: { age: -1 } },
  { words: ['girl', 'schoolgirl', 'fille', 'niña'], gender: 'female', scale: { age: -1 } },
  { words: ['grandfather', 'grandpa', 'old man', 'grand-père', 'abuelo', 'nonno'], gender: 'male', scale: { age: 1 } },
  { words: ['grandmother', 'grandma', 'granny', 'old woman', 'old lady', 'grand-mère', 'abuela', 'nonna'], gender: 'female', scale: { age: 1 } },
  { words: ['androgynous', 'gender-neutral', 'non-binary', 'nonbinary', 'neutral gender', 'genderless'], gender: 'neutral' },
  // languages and accents (names in English and in the language itself)
  { words: ['british', 'uk', 'england', 'english accent', 'brit', 'londoner', 'london', 'scottish', 'posh', 'received pronunciation', 'rp'], language: ['en-gb'] },
  { words: ['american', 'usa', 'u.s.', 'united states', 'yankee', 'texan', 'californian', 'new york', 'new yorker'], language: ['en-us'] },
  { words: ['english', 'anglais', 'inglés', 'ingles', 'inglese', 'englisch'], language: ENGLISH },
  { words: ['spanish', 'español', 'espanol', 'castilian', 'spain', 'mexican', 'espagnol', 'spagnolo', 'spanisch'], language: ['es'] },
  { words: ['french', 'français', 'francais', 'française', 'france', 'parisian', 'francés', 'francese', 'französisch'], language: ['fr-fr'] },
  { words: ['hindi', 'indian', 'india', 'हिंदी', 'हिन्दी'], language: ['hi'] },
  { words: ['italian', 'italiano', 'italiana', 'italy', 'italien', 'italienne'], language: ['it'] },
  { words: ['japanese', 'japan', 'nihongo', '日本語', '日本', 'japonais', 'japonés', 'giapponese'], language: ['ja'] },
  { words: ['portuguese', 'brazilian', 'brazil', 'português', 'portugues', 'brasileiro', 'brasileira', 'portugais', 'portugués', 'portoghese'], language: ['pt-br'] },
  { words: ['chinese', 'mandarin', 'china', '中文', '普通话', '汉语', 'putonghua', 'chinois', 'chino', 'cinese'], language: ['zh'] },
  { words: ['german', 'deutsch', 'allemand', 'alemán'], unsupported: 'German' },
  { words: ['russian', 'русский'], unsupported: 'Russian' },
  { words: ['korean', '한국어'], unsupported: 'Korean' },
  { words: ['arabic', 'العربية'], unsupported: 'Arabic' },
  { words: ['dutch', 'nederlands'], unsupported: 'Dutch' },
  { words: ['polish', 'polski'], unsupported: 'Polish' },
  { words: ['turkish', 'türkçe'], unsupported: 'Turkish' },
  { words: ['swedish', 'svenska'], unsupported: 'Swedish' },
  { words: ['greek'], unsupported: 'Greek' },
]; // prettier-ignore

const NEGATIONS = new Set([
  'not',
  "n't",
  'never',
  'no',
  'without',
  'nor',
  'neither',
  'pas',
  'nicht',
  'non',
  'ni',
]);
const STRONGER = new Set(['very', 'really', 'extremely', 'super', 'incredibly', 'quite', 'so', 'especially', 'très', 'muy', 'molto', 'sehr']); // prettier-ignore
const WEAKER = new Set(['slightly', 'somewhat', 'fairly', 'rather', 'moderately', 'mildly', 'bit', 'little', 'touch', 'kinda', 'peu', 'poco', 'etwas']); // prettier-ignore
/** Words that end the reach of a negation or an intensifier. */
const BOUNDARY = new Set(['and', 'but', 'or', 'with', 'yet', 'though', 'although', 'et', 'y', 'e', 'mais', 'pero', 'ma', 'und']); // prettier-ignore

export interface Attribute<T> {
  value: T;
  /** The phrases of the description that produced it, modifiers included ("not too fast"). */
  words: string[];
}

export interface ScaleAttribute extends Attribute<string> {
  /** −2 … 2: below 0 is lower / slower / calmer / younger. */
  level: number;
}

export interface DesignAttributes {
  language?: Attribute<TtsLanguage[]> & { accent: string };
  gender?: Attribute<DesignGender>;
  pitch?: ScaleAttribute;
  pace?: ScaleAttribute;
  energy?: ScaleAttribute;
  age?: ScaleAttribute;
}

interface Hit {
  start: number;
  end: number;
  phrase: string;
  rule: Rule;
}

const escapeRe = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const CJK = /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Hangul}]/u;

const MATCHERS = RULES.flatMap((rule) =>
  [...new Set(rule.words)].map((w) => ({
    rule,
    re: new RegExp(
      CJK.test(w)
        ? escapeRe(w)
        : `(?<![\\p{L}\\p{N}'’-])${escapeRe(w).replace(/ /g, '[\\s-]+')}(?![\\p{L}\\p{N}'’-])`,
      'giu',
    ),
  })),
);

function findHits(text: string): Hit[] {
  const hits: Hit[] = [];
  for (const { rule, re } of MATCHERS)
    for (const m of text.matchAll(re))
      hits.push({ start: m.index, end: m.index + m[0].length, phrase: m[0], rule });
  // longest first at each place, then drop hits inside a longer one ("old man" over "old" and "man")
  hits.sort((a, b) => a.start - b.start || b.end - a.end);
  const kept: Hit[] = [];
  for (const h of hits) if (!kept.some((k) => h.start < k.end && h.end > k.start)) kept.push(h);
  return kept;
}

interface Modifier {
  negated: boolean;
  factor: number;
  words: string[];
}

/** The words just before a hit, back to a clause mark, a joining word or the previous hit (≤ 3). */
function modifierOf(text: string, from: number, to: number): Modifier {
  let before = text.slice(from, to).toLowerCase();
  const mark = Math.max(...[',', ';', ':', '.', '!', '?', '('].map((c) => before.lastIndexOf(c)));
  if (mark >= 0) before = before.slice(mark + 1);
  const tokens = before.split(/[^\p{L}\p{N}'’-]+/u).filter(Boolean);
  const window: string[] = [];
  for (let i = tokens.length - 1; i >= 0 && window.length < 3; i--) {
    if (BOUNDARY.has(tokens[i]!)) break;
    window.unshift(tokens[i]!);
  }
  const out: Modifier = { negated: false, factor: 1, words: [] };
  window.forEach((t, i) => {
    const neg = NEGATIONS.has(t) || /n['’]t$/.test(t);
    const used = neg || STRONGER.has(t) || WEAKER.has(t) || t === 'too';
    if (neg) out.negated = true;
    if (STRONGER.has(t)) out.factor *= 1.5;
    if (WEAKER.has(t)) out.factor *= 0.5;
    if (t === 'too') out.factor *= 1.3;
    if (used && WEAKER.has(t) && window[i - 1] === 'a') out.words.push('a');
    if (used) out.words.push(t);
  });
  return out;
}

const LABELS: Record<Scale, [string, string, string, string, string, string, string]> = {
  pitch: ['very low', 'low', 'slightly low', 'medium', 'slightly high', 'high', 'very high'],
  pace: ['very slow', 'slow', 'slightly slow', 'normal', 'slightly fast', 'fast', 'very fast'],
  energy: ['very calm', 'calm', 'slightly calm', 'neutral', 'slightly lively', 'energetic', 'very energetic'],
  age: ['young', 'young', 'youngish', 'middle-aged', 'older', 'older', 'old'],
};

export function scaleLabel(scale: Scale, level: number): string {
  const l = LABELS[scale];
  const i =
    level <= -1.5
      ? 0
      : level <= -0.75
        ? 1
        : level < -0.2
          ? 2
          : level <= 0.2
            ? 3
            : level < 0.75
              ? 4
              : level < 1.5
                ? 5
                : 6;
  return l[i]!;
}

export const LANGUAGE_NAMES: Record<TtsLanguage, string> = {
  'en-us': 'American English',
  'en-gb': 'British English',
  es: 'Spanish',
  'fr-fr': 'French',
  hi: 'Hindi',
  it: 'Italian',
  ja: 'Japanese',
  'pt-br': 'Brazilian Portuguese',
  zh: 'Mandarin Chinese',
};

export interface ParsedDescription {
  attributes: DesignAttributes;
  /** Phrases understood but not used (a second language, a negated language). */
  ignored: string[];
}

/** Reads the attributes a description names. Throws DesignError when it names none, or no spoken language. */
export function parseDescription(description: string): ParsedDescription {
  if (typeof description !== 'string' || !description.trim())
    throw new DesignError(
      'The voice description is empty: describe the voice, e.g. "a calm older British man, slow and deep".',
    );
  if (description.length > MAX_DESCRIPTION)
    throw new DesignError(`The voice description is longer than ${MAX_DESCRIPTION} characters.`);
  const text = description.normalize('NFC');
  const hits = findHits(text);
  const attributes: DesignAttributes = {};
  const ignored: string[] = [];
  const sums: Partial<Record<Scale, { level: number; words: string[] }>> = {};
  let prevEnd = 0;
  for (const h of hits) {
    const mod = modifierOf(text, prevEnd, h.start);
    prevEnd = h.end;
    const phrase = [...mod.words, h.phrase.toLowerCase()].join(' ');
    const { rule } = h;
    if (rule.unsupported) {
      if (mod.negated) ignored.push(phrase);
      else
        throw new DesignError(
          `No preset voice speaks ${rule.unsupported} ("${h.phrase}"). Designed voices speak ${Object.values(LANGUAGE_NAMES).join(', ')}.`,
        );
      continue;
    }
    if (rule.language) {
      const cur = attributes.language;
      if (mod.negated) ignored.push(phrase);
      else if (!cur)
        attributes.language = { value: [...rule.language], accent: accentOf(rule.language), words: [phrase] };
      else if (rule.language.every((l) => cur.value.includes(l))) {
        // "English" then "British": the narrower one wins; "British English": the same language
        cur.value = [...rule.language];
        cur.accent = accentOf(rule.language);
        cur.words.push(phrase);
      } else if (cur.value.every((l) => rule.language!.includes(l))) cur.words.push(phrase);
      else ignored.push(phrase);
      continue;
    }
    if (rule.gender) {
      let g = rule.gender;
      if (mod.negated) g = g === 'male' ? 'female' : g === 'female' ? 'male' : g;
      if (!attributes.gender) attributes.gender = { value: g, words: [phrase] };
      else if (attributes.gender.value === g) attributes.gender.words.push(phrase);
      else ignored.push(phrase);
    }
    for (const [scale, base] of Object.entries(rule.scale ?? {}) as [Scale, number][]) {
      // "not fast" is a little slow, "not too deep" a little high: half a step the other way
      const level = mod.negated ? (base === 0 ? 0 : -0.5 * Math.sign(base)) : base * mod.factor;
      const s = (sums[scale] ??= { level: 0, words: [] });
      s.level += level;
      s.words.push(phrase);
    }
  }
  for (const [scale, s] of Object.entries(sums) as [Scale, { level: number; words: string[] }][]) {
    const level = Math.max(-2, Math.min(2, Math.round(s.level * 100) / 100));
    attributes[scale] = { value: scaleLabel(scale, level), level, words: s.words };
  }
  if (!Object.keys(attributes).length)
    throw new DesignError(
      `Nothing in "${description.slice(0, 80)}" describes a voice. Name a language or accent (British, French…), a gender (man, woman), pitch (deep, high), pace (slow, fast), energy (calm, lively) or age (young, older).`,
    );
  return { attributes, ignored };
}

/** As the preset metadata names accents (src/lib/voices/presets.ts). */
const ACCENTS: Record<TtsLanguage, string> = {
  'en-us': 'American',
  'en-gb': 'British',
  es: 'Spanish',
  'fr-fr': 'French',
  hi: 'Hindi',
  it: 'Italian',
  ja: 'Japanese',
  'pt-br': 'Brazilian',
  zh: 'Mandarin',
};

export function accentOf(langs: readonly TtsLanguage[]): string {
  return langs.length > 1 ? 'English' : ACCENTS[langs[0]!];
}
