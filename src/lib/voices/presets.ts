import type { Gender, Voice } from './types';

/** The 54 Kokoro-82M v1.0 voices (docs/models.md). The first letter is the language, the second the gender. */
export const KOKORO_VOICE_IDS = [
  'af_alloy', 'af_aoede', 'af_bella', 'af_heart', 'af_jessica', 'af_kore', 'af_nicole', 'af_nova', 'af_river',
  'af_sarah', 'af_sky', 'am_adam', 'am_echo', 'am_eric', 'am_fenrir', 'am_liam', 'am_michael', 'am_onyx',
  'am_puck', 'am_santa', 'bf_alice', 'bf_emma', 'bf_isabella', 'bf_lily', 'bm_daniel', 'bm_fable', 'bm_george',
  'bm_lewis', 'ef_dora', 'em_alex', 'em_santa', 'ff_siwis', 'hf_alpha', 'hf_beta', 'hm_omega', 'hm_psi',
  'if_sara', 'im_nicola', 'jf_alpha', 'jf_gongitsune', 'jf_nezumi', 'jf_tebukuro', 'jm_kumo', 'pf_dora',
  'pm_alex', 'pm_santa', 'zf_xiaobei', 'zf_xiaoni', 'zf_xiaoxiao', 'zf_xiaoyi', 'zm_yunjian', 'zm_yunxi',
  'zm_yunxia', 'zm_yunyang',
] as const; // prettier-ignore

const LANGUAGES: Record<string, { language: string; accent: string; label: string }> = {
  a: { language: 'en-us', accent: 'American', label: 'English (US)' },
  b: { language: 'en-gb', accent: 'British', label: 'English (UK)' },
  e: { language: 'es', accent: 'Spanish', label: 'Spanish' },
  f: { language: 'fr-fr', accent: 'French', label: 'French' },
  h: { language: 'hi', accent: 'Hindi', label: 'Hindi' },
  i: { language: 'it', accent: 'Italian', label: 'Italian' },
  j: { language: 'ja', accent: 'Japanese', label: 'Japanese' },
  p: { language: 'pt-br', accent: 'Brazilian', label: 'Portuguese (BR)' },
  z: { language: 'zh', accent: 'Mandarin', label: 'Mandarin Chinese' },
};

export function presetVoice(id: string, now = 0): Voice {
  const lang = LANGUAGES[id[0] ?? ''];
  if (!lang || !/^[a-z][fm]_[a-z]+$/.test(id)) throw new Error(`Not a Kokoro voice id: ${id}`);
  const gender: Gender = id[1] === 'f' ? 'female' : 'male';
  const base = id.slice(3);
  const name = base.charAt(0).toUpperCase() + base.slice(1);
  return {
    id,
    name,
    description: `${lang.accent} ${gender} Kokoro voice (${lang.label}).`,
    tags: ['kokoro', lang.accent.toLowerCase()],
    language: lang.language,
    accent: lang.accent,
    gender,
    kind: 'preset',
    model: 'kokoro',
    samples: [],
    favorite: false,
    created_at: now,
    updated_at: now,
  };
}

export const PRESET_VOICES: readonly Voice[] = KOKORO_VOICE_IDS.map((id) => presetVoice(id));

/** Language filters match by prefix, so `en` finds en-us and en-gb. */
export function languageMatches(voiceLanguage: string, wanted: string): boolean {
  const v = voiceLanguage.toLowerCase();
  const w = wanted.toLowerCase();
  return v === w || v.startsWith(`${w}-`);
}
