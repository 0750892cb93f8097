// The Kokoro preset cloned speech starts from: one of the target's language and gender (well-rounded
// voices preferred), so the converter has less to change.
import { PRESET_VOICES, languageMatches } from './presets';

const PREFERRED: Record<string, string> = {
  'a:female': 'af_heart',
  'a:male': 'am_michael',
  'b:female': 'bf_emma',
  'b:male': 'bm_george',
};

export function baseVoiceFor(language = 'en-us', gender = 'unknown'): string {
  const g = gender === 'male' ? 'male' : 'female';
  const langs = PRESET_VOICES.filter((v) => languageMatches(v.language, language || 'en-us'));
  const pool = langs.length ? langs : PRESET_VOICES.filter((v) => v.id.startsWith('a'));
  const same = pool.filter((v) => v.gender === g);
  const pick = (same.length ? same : pool).map((v) => v.id);
  const pref = PREFERRED[`${pick[0]?.[0]}:${g}`];
  return pref && pick.includes(pref) ? pref : (pick[0] ?? 'af_heart');
}
