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
import {
  accentOf,
  type DesignAttributes,
  DesignError,
  type DesignGender,
  ENGLISH,
  LANGUAGE_NAMES,
  parseDescription,
} from './design-words';
import {
  median,
  type PresetTraits,
  type Scored,
  scorePresets,
  sd,
  TRAITS,
  type TraitsFile,
  zOf,
} from './design-traits';
/** Voices in a blend. */
export const MAX_BLEND = 3;

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
