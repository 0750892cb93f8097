// Voice design, the presets' measured traits (traits.json, `npm run voices:traits`) as standard scores:
// pitch against the same gender, pace against the same language, energy from brightness and liveliness.
import traitsFile from './traits.json';
import { parseLanguage, type TtsLanguage } from './languages';
import { DesignError } from './design-words';

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

export interface TraitsFile {
  script_commit: string;
  voices: Record<string, PresetTraits>;
}

export const TRAITS = (traitsFile as unknown as TraitsFile).voices;

export interface Scored {
  id: string;
  t: PresetTraits;
  language: TtsLanguage;
  /** Standard scores: pitch within gender (or all voices), pace within language, energy within gender. */
  z: Record<'pitch' | 'pace' | 'energy', number>;
  /** log(phonemes/s ÷ the language's median): the voice's own pace. */
  paceLog: number;
}

export const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
export const sd = (xs: number[]) => {
  const m = mean(xs);
  return Math.sqrt(mean(xs.map((x) => (x - m) ** 2))) || 1;
};
export const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};
export const zOf = (x: number, xs: number[]) => (x - mean(xs)) / sd(xs);

export function scorePresets(neutral: boolean): Scored[] {
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
