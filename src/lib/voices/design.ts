// Voice design: a description in words → attributes (language/accent, gender, pitch, pace, energy, age),
// each with the words that gave it → a blend of the preset styles nearest to those attributes, by traits
// measured from the presets themselves (src/lib/voices/traits.json, `npm run voices:traits`), plus a speed.
//
// Pitch, pace and energy become targets in standard scores of the measured traits: pitch = F0 in
// semitones against the presets of the same gender; pace = phonemes per second against the median preset
// of the same language; energy = spectral centroid and F0 spread (brightness and liveliness), against the
// same gender. Age has no measurement: older nudges the targets lower, slower and calmer, young the other
// way. The nearest presets of the same language and gender (≤ 3) are blended with weights from their
// distances; where the language has no voice of that gender, its own voice keeps the language and the
// nearest voices of that gender elsewhere give the timbre. Everything is deterministic.
import traitsFile from './traits.json';
import type { Gender } from './types';
import { TTS_LANGUAGES, parseLanguage, type TtsLanguage } from './languages';
import { formatMixFormula, type MixTerm } from './mix';

/** A description that yields no voice (empty, nothing understood, or a language no preset speaks). */
export class DesignError extends Error {
  override name = 'DesignError';
}

export const MAX_DESCRIPTION = 1000;
/** Voices in a blend. */
export const MAX_BLEND = 3;

export interface PresetTraits {
  language: string;
  accent: string;
  gender: 'female' | 'male';
  f0_median_hz: number;
  f0_spread_st: number;
  phonemes_per_s: number;
  syllables_per_s: number;
  centroid_hz: number;
  loudness_db: number;
}

interface TraitsFile {
  script_commit: string;
  voices: Record<string, PresetTraits>;
}

const TRAITS = (traitsFile as unknown as TraitsFile).voices;

// ------------------------------------------------------------------------------------------------ words

export type Scale = 'pitch' | 'pace' | 'energy' | 'age';
type DesignGender = 'female' | 'male' | 'neutral';

interface Rule {
  words: readonly string[];
  scale?: Partial<Record<Scale, number>>;
  gender?: DesignGender;
  language?: readonly TtsLanguage[];
  /** A language the presets do not speak. */
  unsupported?: string;
}

const ENGLISH: readonly TtsLanguage[] = ['en-us', 'en-gb'];

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

const LANGUAGE_NAMES: Record<TtsLanguage, string> = {
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

function accentOf(langs: readonly TtsLanguage[]): string {
  return langs.length > 1 ? 'English' : ACCENTS[langs[0]!];
}

// ------------------------------------------------------------------------------------------------ traits

interface Scored {
  id: string;
  t: PresetTraits;
  language: TtsLanguage;
  /** Standard scores: pitch within gender (or all voices), pace within language, energy within gender. */
  z: Record<'pitch' | 'pace' | 'energy', number>;
  /** log(phonemes/s ÷ the language's median): the voice's own pace. */
  paceLog: number;
}

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
const sd = (xs: number[]) => {
  const m = mean(xs);
  return Math.sqrt(mean(xs.map((x) => (x - m) ** 2))) || 1;
};
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};
const zOf = (x: number, xs: number[]) => (x - mean(xs)) / sd(xs);

function scorePresets(neutral: boolean): Scored[] {
  const ids = Object.keys(TRAITS).sort();
  if (!ids.length) throw new DesignError('No measured voice traits: run npm run voices:traits.');
  const st = (id: string) => 12 * Math.log2(TRAITS[id]!.f0_median_hz);
  const group = (id: string) => (neutral ? ids : ids.filter((o) => TRAITS[o]!.gender === TRAITS[id]!.gender));
  const lang = (id: string) => parseLanguage(TRAITS[id]!.language);
  const paceLog = new Map(
    ids.map((id) => {
      const same = ids.filter((o) => lang(o) === lang(id)).map((o) => TRAITS[o]!.phonemes_per_s);
      return [id, Math.log(TRAITS[id]!.phonemes_per_s / median(same))];
    }),
  );
  const allPace = [...paceLog.values()];
  return ids.map((id) => {
    const t = TRAITS[id]!;
    const g = group(id);
    const energy =
      (zOf(
        Math.log(t.centroid_hz),
        g.map((o) => Math.log(TRAITS[o]!.centroid_hz)),
      ) +
        zOf(
          t.f0_spread_st,
          g.map((o) => TRAITS[o]!.f0_spread_st),
        )) /
      2;
    return {
      id,
      t,
      language: lang(id),
      z: {
        pitch: zOf(st(id), g.map(st)),
        pace: paceLog.get(id)! / sd(allPace),
        energy,
      },
      paceLog: paceLog.get(id)!,
    };
  });
}

// ------------------------------------------------------------------------------------------------ design

export interface DesignChoice {
  voice: string;
  weight: number;
  /** Distance from the targets in standard scores (only the attributes the description names). */
  distance: number;
  language: string;
  gender: string;
  f0_median_hz: number;
  phonemes_per_s: number;
  centroid_hz: number;
  z: { pitch: number; pace: number; energy: number };
  why: string;
}

export interface DesignResult {
  description: string;
  attributes: DesignAttributes;
  /** The attributes as stored in a voice recipe (flat). */
  recipe_attributes: Record<string, string | number>;
  formula: string;
  terms: MixTerm[];
  speed: number;
  language: TtsLanguage;
  gender: Gender;
  targets: Partial<Record<'pitch' | 'pace' | 'energy', number>>;
  chosen: DesignChoice[];
  explanation: string[];
  /** Phrases understood and not used. */
  ignored: string[];
  traits_commit: string;
}

type Targets = Partial<Record<'pitch' | 'pace' | 'energy', number>>;

/** Euclidean distance from the targets in standard scores (only the targets given). */
function distanceTo(s: Scored, targets: Targets): number {
  return Math.sqrt(
    (Object.entries(targets) as ['pitch' | 'pace' | 'energy', number][]).reduce(
      (acc, [k, t]) => acc + (s.z[k] - t) ** 2,
      // with no scale named, the most typical voices of the group: distance from its centre
      0,
    ) || (Object.keys(targets).length ? 0 : s.z.pitch ** 2 + s.z.pace ** 2 + s.z.energy ** 2),
  );
}

/** How strongly an age pushes the other targets (older: lower, slower, calmer). */
const AGE_PUSH = { pitch: -0.5, pace: -0.4, energy: -0.3 } as const;
/** Speed per pace level: slow (−1) is 0.86× the language's median pace, very slow 0.74×. */
const PACE_STEP = 0.15;

const r2 = (x: number) => Math.round(x * 100) / 100;
const sgn = (x: number) => (x >= 0 ? `+${r2(x)}` : `−${r2(-x)}`);

export interface DesignOverrides {
  language?: string;
  gender?: DesignGender;
}

/** Description → attributes → the blend and speed. Same description, same result. */
export function designVoice(description: string, overrides: DesignOverrides = {}): DesignResult {
  const { attributes, ignored } = parseDescription(description);
  if (overrides.language) {
    const l = parseLanguage(overrides.language);
    attributes.language = { value: [l], accent: accentOf([l]), words: [`language: ${overrides.language}`] };
  }
  if (overrides.gender)
    attributes.gender = { value: overrides.gender, words: [`gender: ${overrides.gender}`] };
  const explanation: string[] = [];
  const langs = attributes.language?.value ?? ENGLISH;
  if (!attributes.language) explanation.push('No language named: English (American or British voices).');
  const named = attributes.gender?.value;
  const langName = langs.length > 1 ? 'English' : LANGUAGE_NAMES[langs[0]!];

  const age = attributes.age?.level ?? 0;
  const targets: DesignResult['targets'] = {};
  for (const k of ['pitch', 'pace', 'energy'] as const) {
    const own = attributes[k]?.level;
    if (own === undefined && !attributes.age) continue;
    targets[k] = r2((own ?? 0) + AGE_PUSH[k] * age);
  }
  if (attributes.age)
    explanation.push(
      `Age "${attributes.age.value}" (${attributes.age.words.join(', ')}): no preset has a measured age, so it moves the targets: pitch ${sgn(AGE_PUSH.pitch * age)}, pace ${sgn(AGE_PUSH.pace * age)}, energy ${sgn(AGE_PUSH.energy * age)} (standard scores).`,
    );

  const distance = (s: Scored) => distanceTo(s, targets);
  const byDistance = (a: Scored, b: Scored) => distance(a) - distance(b) || a.id.localeCompare(b.id);
  // no gender named: the nearest voice by pitch against every voice decides it (men and women are not mixed)
  let gender: DesignGender | undefined = named;
  if (!gender) {
    const nearest = scorePresets(true)
      .filter((s) => langs.includes(s.language))
      .sort(byDistance)[0];
    if (!nearest) throw new DesignError(`No preset voice speaks ${langName}.`);
    gender = nearest.t.gender;
    explanation.push(
      `No gender named: the nearest ${langName} preset (${nearest.id}) is ${gender}, so ${gender} presets are blended.`,
    );
  }
  const neutral = gender === 'neutral';
  const scored = scorePresets(neutral);
  const genderOk = (s: Scored) => neutral || s.t.gender === gender;
  const inLang = scored.filter((s) => langs.includes(s.language));
  const tier1 = inLang.filter(genderOk).sort(byDistance);

  let picks: Scored[];
  let anchor: Scored | undefined;
  if (tier1.length >= 2) {
    picks = tier1.slice(0, MAX_BLEND);
    explanation.push(
      `Candidates: the ${tier1.length} ${langName}${neutral ? '' : ` ${gender}`} presets; the ${picks.length} nearest are blended.`,
    );
  } else {
    anchor = tier1[0] ?? [...inLang].sort(byDistance)[0];
    if (!anchor) throw new DesignError(`No preset voice speaks ${langName}.`);
    const others = scored
      .filter((s) => s !== anchor && genderOk(s) && !langs.includes(s.language))
      .sort(byDistance)
      .slice(0, MAX_BLEND - 1);
    picks = [anchor, ...others];
    explanation.push(
      tier1.length
        ? `Only one ${langName} ${gender} preset (${anchor.id}): it keeps the language and weighs most; the nearest ${gender} presets of other languages (${others.map((o) => o.id).join(', ')}) widen the blend.`
        : `No ${langName} ${gender} preset: ${anchor.id} keeps the language and weighs most; the nearest ${gender} presets of other languages (${others.map((o) => o.id).join(', ')}) give the ${gender} timbre.`,
    );
  }

  // weights ∝ 1 / (distance + 0.25), normalised; the anchor never weighs less than another voice
  const raw = picks.map((p) => 1 / (distance(p) + 0.25));
  if (anchor) raw[0] = Math.max(...raw);
  let weights = raw.map((w) => w / raw.reduce((a, b) => a + b, 0));
  // drop voices under 10 %, then round to hundredths that add up to 1 (the rest to the first voice)
  const keep = picks.map((_, i) => i === 0 || weights[i]! >= 0.1);
  picks = picks.filter((_, i) => keep[i]);
  weights = weights.filter((_, i) => keep[i]);
  const total = weights.reduce((a, b) => a + b, 0);
  weights = weights.map((w) => Math.round((w / total) * 100) / 100);
  weights[0] = Math.round((1 - weights.slice(1).reduce((a, b) => a + b, 0)) * 100) / 100;
  const order = picks
    .map((_, i) => i)
    .sort((a, b) => weights[b]! - weights[a]! || (anchor ? a - b : picks[a]!.id.localeCompare(picks[b]!.id)));
  const terms: MixTerm[] = order.map((i) => ({ voice: picks[i]!.id, weight: weights[i]! }));
  const language = picks[order[0]!]!.language;

  const chosen: DesignChoice[] = order.map((i) => {
    const p = picks[i]!;
    const parts = (['pitch', 'pace', 'energy'] as const).map(
      (k) => `${k} z ${sgn(p.z[k])}${targets[k] !== undefined ? ` (target ${sgn(targets[k])})` : ''}`,
    );
    return {
      voice: p.id,
      weight: weights[i]!,
      distance: r2(distance(p)),
      language: p.t.language,
      gender: p.t.gender,
      f0_median_hz: p.t.f0_median_hz,
      phonemes_per_s: p.t.phonemes_per_s,
      centroid_hz: p.t.centroid_hz,
      z: { pitch: r2(p.z.pitch), pace: r2(p.z.pace), energy: r2(p.z.energy) },
      why: `${p.id}: F0 ${p.t.f0_median_hz} Hz, ${p.t.phonemes_per_s} phonemes/s, centroid ${p.t.centroid_hz} Hz; ${parts.join(', ')}; distance ${r2(distance(p))} → weight ${weights[i]}`,
    };
  });

  // speed: the named pace against the language's median, less the blend's own pace
  let speed = 1;
  if (targets.pace !== undefined) {
    const blendPace = picks.reduce((acc, p, i) => acc + weights[i]! * p.paceLog, 0);
    const want = (attributes.pace?.level ?? 0) * PACE_STEP + AGE_PUSH.pace * age * PACE_STEP;
    speed = r2(Math.min(1.6, Math.max(0.6, Math.exp(want - blendPace))));
    explanation.push(
      `Speed ${speed}: the description asks for ${r2(Math.exp(want))}× the median ${langName} pace; the blend speaks at ${r2(Math.exp(blendPace))}× on its own.`,
    );
  } else explanation.push('Speed 1: no pace named, the blend keeps its own.');

  const recipeAttributes: Record<string, string | number> = {
    language,
    accent: attributes.language?.accent ?? accentOf([language]),
    gender,
  };
  for (const k of ['pitch', 'pace', 'energy', 'age'] as const) {
    const a = attributes[k];
    if (a) recipeAttributes[k] = a.value;
  }
  const formula = formatMixFormula(terms);
  explanation.unshift(`Found: ${describeAttributes(attributes)}.`, `Blend: ${formula} at speed ${speed}.`);
  if (ignored.length) explanation.push(`Not used: ${ignored.map((w) => `"${w}"`).join(', ')}.`);
  return {
    description,
    attributes,
    recipe_attributes: recipeAttributes,
    formula,
    terms,
    speed,
    language,
    gender: gender as Gender,
    targets,
    chosen,
    explanation,
    ignored,
    traits_commit: (traitsFile as unknown as TraitsFile).script_commit,
  };
}

function describeAttributes(a: DesignAttributes): string {
  const out: string[] = [];
  if (a.language)
    out.push(`language ${a.language.value.join('/')} (${a.language.words.map((w) => `"${w}"`).join(', ')})`);
  if (a.gender) out.push(`gender ${a.gender.value} (${a.gender.words.map((w) => `"${w}"`).join(', ')})`);
  for (const k of ['pitch', 'pace', 'energy', 'age'] as const) {
    const s = a[k];
    if (s) out.push(`${k} ${s.value} (${s.words.map((w) => `"${w}"`).join(', ')})`);
  }
  return out.join('; ');
}

/** The languages designed voices can speak. */
export const DESIGN_LANGUAGES: readonly TtsLanguage[] = TTS_LANGUAGES;
export const presetTraits = (id: string): PresetTraits | undefined => TRAITS[id];

/** What was measured of a speaker (src/lib/dsp/pitch.ts measureSpeech). */
export interface SpeakerTraits {
  f0_median_hz: number;
  /** Syllables per active second; omitted when not measured. */
  syllables_per_s?: number | null;
}

export interface SpeakerMatch {
  voice: string;
  gender: 'female' | 'male';
  language: string;
  distance: number;
  /** The speaker in the presets' standard scores (pitch within the chosen gender, pace as the presets'). */
  targets: Targets;
  /** The nearest presets of that gender, nearest first (≤ MAX_BLEND). */
  ranked: { voice: string; distance: number; f0_median_hz: number; syllables_per_s: number }[];
  explanation: string[];
}

/**
 * The preset nearest to a measured speaker, in the same standard scores and distance voice design uses:
 * the gender by F0 (nearer to which gender's median), then the nearest preset of that gender by pitch
 * within the gender and pace. Pace is the speaker's syllables per second turned into the presets'
 * phonemes per second by their median ratio. Deterministic; throws DesignError when nothing matches.
 */
export function nearestPreset(m: SpeakerTraits, languages: readonly TtsLanguage[] = ENGLISH): SpeakerMatch {
  if (!(m.f0_median_hz > 0)) throw new DesignError('No pitch was measured: the speaker cannot be matched.');
  const st = (hz: number) => 12 * Math.log2(hz);
  const ids = Object.keys(TRAITS);
  const inLangs = (s: Scored) => languages.includes(s.language);
  const pitchAll = zOf(
    st(m.f0_median_hz),
    ids.map((id) => st(TRAITS[id]!.f0_median_hz)),
  );
  // Single presets' F0 overlap (a breathy woman at 136 Hz, a falsetto man at 171 Hz): the gender whose
  // presets' median F0 is nearer in semitones decides, not the one nearest preset.
  const medianOf = (g: 'female' | 'male') =>
    median(ids.filter((id) => TRAITS[id]!.gender === g).map((id) => st(TRAITS[id]!.f0_median_hz)));
  const gap = (g: 'female' | 'male') => Math.abs(st(m.f0_median_hz) - medianOf(g));
  const gender: 'female' | 'male' = gap('female') <= gap('male') ? 'female' : 'male';
  const hz = (g: 'female' | 'male') => Math.round(2 ** (medianOf(g) / 12));
  const sameGender = ids.filter((id) => TRAITS[id]!.gender === gender);
  const scored = scorePresets(false);
  const targets: Targets = {
    pitch: r2(
      zOf(
        st(m.f0_median_hz),
        sameGender.map((id) => st(TRAITS[id]!.f0_median_hz)),
      ),
    ),
  };
  let paceNote = 'pace not measured';
  if (m.syllables_per_s && m.syllables_per_s > 0) {
    const ratio = median(ids.map((id) => TRAITS[id]!.phonemes_per_s / TRAITS[id]!.syllables_per_s));
    const langMedian = median(scored.filter(inLangs).map((s) => s.t.phonemes_per_s));
    const paceLog = Math.log((m.syllables_per_s * ratio) / langMedian);
    targets.pace = r2(paceLog / sd(scored.map((s) => s.paceLog)));
    paceNote = `${r2(m.syllables_per_s)} syllables/s ≈ ${r2(m.syllables_per_s * ratio)} phonemes/s (pace z ${sgn(targets.pace)})`;
  }
  const ranked = scored
    .filter((s) => inLangs(s) && s.t.gender === gender)
    .map((s) => ({ s, d: distanceTo(s, targets) }))
    .sort((a, b) => a.d - b.d || a.s.id.localeCompare(b.s.id))
    .slice(0, MAX_BLEND);
  const best = ranked[0];
  if (!best) throw new DesignError(`No ${gender} preset voice speaks ${languages.join('/')}.`);
  return {
    voice: best.s.id,
    gender,
    language: best.s.t.language,
    distance: r2(best.d),
    targets,
    ranked: ranked.map(({ s, d }) => ({
      voice: s.id,
      distance: r2(d),
      f0_median_hz: s.t.f0_median_hz,
      syllables_per_s: s.t.syllables_per_s,
    })),
    explanation: [
      `Speaker: F0 ${Math.round(m.f0_median_hz)} Hz (pitch z ${sgn(pitchAll)} against every preset), ${paceNote}.`,
      `Gender ${gender}: ${Math.round(m.f0_median_hz)} Hz is nearer the ${gender} presets' median F0 (${hz(gender)} Hz) than the ${gender === 'female' ? 'male' : 'female'} presets' (${hz(gender === 'female' ? 'male' : 'female')} Hz).`,
      `Nearest ${gender} preset: ${best.s.id} (F0 ${best.s.t.f0_median_hz} Hz, ${best.s.t.syllables_per_s} syllables/s; pitch z ${sgn(best.s.z.pitch)} vs target ${sgn(targets.pitch!)}${targets.pace !== undefined ? `, pace z ${sgn(best.s.z.pace)} vs target ${sgn(targets.pace)}` : ''}; distance ${r2(best.d)}).`,
    ],
  };
}
