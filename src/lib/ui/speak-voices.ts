// Voices as the Speak view uses them: what the engine is given for a library voice, which languages it may
// be read in, mixes built from weight sliders, and the library record of a saved mix.
import { formatMixFormula, isMixFormula, parseMixFormula, type MixTerm } from '../voices/mix';
import { languageOfVoice, TTS_LANGUAGES, type TtsLanguage } from '../voices/languages';
import { PRESET_VOICES } from '../voices/presets';
import type { Gender, Voice } from '../voices/types';
import { newId } from '../core/ids';

export class MixError extends Error {
  override name = 'MixError';
}

export const MIX_MIN_VOICES = 2;
export const MIX_MAX_VOICES = 4;

/** What tts.generate is given for a library voice: a preset id or the recipe's formula; null when Kokoro cannot speak it (cloned voices). */
export function engineVoice(v: Pick<Voice, 'id' | 'kind' | 'recipe'>): string | null {
  if (v.kind === 'preset') return v.id;
  if (v.recipe?.formula) return v.recipe.formula;
  return null;
}

/** The preset ids an engine voice (id or formula) is made of, heaviest first. */
export function voiceParts(voice: string): MixTerm[] {
  if (!isMixFormula(voice)) return [{ voice, weight: 1 }];
  return parseMixFormula(voice).sort((a, b) => b.weight - a.weight);
}

/**
 * The languages a voice may be read in: its own, and for English voices both accents; a mix may be read
 * in the language of any voice in it. The first is the default (the heaviest voice's).
 */
export function voiceLanguages(voice: string): TtsLanguage[] {
  const out: TtsLanguage[] = [];
  for (const t of voiceParts(voice)) {
    const lang = languageOfVoice(t.voice);
    if (!lang) continue;
    const family = lang.startsWith('en-') ? [lang, lang === 'en-us' ? 'en-gb' : 'en-us'] : [lang];
    for (const l of family as TtsLanguage[]) if (!out.includes(l)) out.push(l);
  }
  return out.length ? out : [TTS_LANGUAGES[0]];
}

export interface MixRow {
  voice: string;
  /** Any positive number; weights are normalised. */
  weight: number;
}

/** Weight sliders → the normalised formula, e.g. "af_heart*0.6 + bf_emma*0.4". */
export function mixFormula(rows: readonly MixRow[]): string {
  const used = rows.filter((r) => r.voice && r.weight > 0);
  const voices = new Set(used.map((r) => r.voice));
  if (voices.size < MIX_MIN_VOICES)
    throw new MixError(`A mix needs at least ${MIX_MIN_VOICES} different voices with a weight above 0.`);
  if (voices.size > MIX_MAX_VOICES) throw new MixError(`A mix takes at most ${MIX_MAX_VOICES} voices.`);
  const raw = used.map((r) => `${r.voice}*${r.weight}`).join(' + ');
  return formatMixFormula(parseMixFormula(raw));
}

const PRESET_BY_ID = new Map(PRESET_VOICES.map((v) => [v.id, v]));

/** The name a mix is saved under when the person gives none: its voices and shares. */
export function defaultMixName(formula: string): string {
  const parts = voiceParts(formula).map(
    (t) => `${PRESET_BY_ID.get(t.voice)?.name ?? t.voice} ${Math.round(t.weight * 100)} %`,
  );
  return `Mix: ${parts.join(' + ')}`.slice(0, 200);
}

/** The library record of a saved mix: language and gender of its heaviest voice (gender 'neutral' when the mix crosses genders). */
export function mixedVoice(name: string, formula: string, now: number, id = newId('mix')): Voice {
  const terms = voiceParts(formula);
  const presets = terms.map((t) => PRESET_BY_ID.get(t.voice));
  const head = presets[0];
  const genders = new Set(presets.map((p) => p?.gender));
  const gender: Gender = genders.size === 1 && head ? head.gender : 'neutral';
  const clean = name.trim();
  if (!clean || clean.length > 200) throw new MixError('A voice name needs 1 to 200 characters.');
  return {
    id,
    name: clean,
    description: `Mix of ${terms.map((t) => `${PRESET_BY_ID.get(t.voice)?.name ?? t.voice} ${Math.round(t.weight * 100)} %`).join(', ')}.`,
    tags: ['mix'],
    language: head?.language ?? 'en-us',
    accent: head?.accent,
    gender,
    kind: 'mixed',
    model: 'kokoro',
    samples: [],
    recipe: { formula },
    favorite: false,
    created_at: now,
    updated_at: now,
  };
}

/** Group headings of the voice picker. */
export const LANGUAGE_LABELS: Record<string, string> = {
  'en-us': 'English (US)',
  'en-gb': 'English (UK)',
  es: 'Spanish',
  'fr-fr': 'French',
  hi: 'Hindi',
  it: 'Italian',
  ja: 'Japanese',
  'pt-br': 'Portuguese (BR)',
  zh: 'Mandarin Chinese',
};

export const languageLabel = (code: string) => LANGUAGE_LABELS[code.toLowerCase()] ?? code;

type Searchable = Pick<Voice, 'id' | 'name' | 'language' | 'accent' | 'gender' | 'kind' | 'tags'>;

/**
 * Voice search: every word of the query must match the voice's name, id, language (code or name),
 * accent, kind or tags (as a prefix of one of their words), or its gender exactly ("male" does not find
 * the female voices).
 */
export function matchesVoice(v: Searchable, query: string): boolean {
  const words = query.toLowerCase().split(/\s+/).filter(Boolean);
  if (!words.length) return true;
  const hay = [
    v.name,
    v.id,
    v.language,
    languageLabel(v.language),
    v.accent ?? '',
    v.kind,
    v.gender,
    ...v.tags,
  ]
    .join(' ')
    .toLowerCase();
  const tokens = hay.split(/[\s_()\-,.]+/).filter(Boolean);
  return words.every(
    (w) =>
      v.gender === w ||
      (!['male', 'female'].includes(w) && (tokens.some((t) => t.startsWith(w)) || hay.includes(w))),
  );
}

export interface VoiceGroup<V> {
  language: string;
  label: string;
  voices: V[];
}

/** Voices grouped by language in the order of TTS_LANGUAGES (others after), each group by name. */
export function groupByLanguage<V extends Searchable>(voices: readonly V[]): VoiceGroup<V>[] {
  const groups = new Map<string, V[]>();
  for (const v of voices) {
    const key = v.language.toLowerCase();
    groups.set(key, [...(groups.get(key) ?? []), v]);
  }
  const rank = (l: string) => {
    const i = (TTS_LANGUAGES as readonly string[]).indexOf(l);
    return i < 0 ? TTS_LANGUAGES.length : i;
  };
  return [...groups]
    .sort(([a], [b]) => rank(a) - rank(b) || a.localeCompare(b))
    .map(([language, list]) => ({
      language,
      label: languageLabel(language),
      voices: list.sort((a, b) => a.name.localeCompare(b.name)),
    }));
}
