// The TypeScript half of `npm run voices:traits` (scripts/measure-voice-traits.mjs loads it through Vite's
// module runner): one module graph, so the runtime installed here is the one synthesize() uses.
import { measureSpeech, type SpeechMeasures } from '../src/lib/dsp/pitch';
import { installRuntime } from '../src/lib/runtime/host';
import type { OrtModule } from '../src/lib/runtime/ort-session';
import { synthesize } from '../src/lib/tts/kokoro';
import { languageOfVoice, type TtsLanguage } from '../src/lib/voices/languages';
import { phonemizeTexts } from '../src/lib/tts/phonemize';

export { KOKORO_VOICE_IDS, presetVoice } from '../src/lib/voices/presets';
export { languageOfVoice };

/** The same plain sentence in every language the voices speak (kana only in Japanese: espeak-ng reads no kanji). */
export const SENTENCES: Record<TtsLanguage, string> = {
  'en-us': 'I walked down to the river this morning, and the water was calm and clear.',
  'en-gb': 'I walked down to the river this morning, and the water was calm and clear.',
  es: 'Esta mañana caminé hasta el río, y el agua estaba tranquila y clara.',
  'fr-fr': "Ce matin, je suis descendu jusqu'à la rivière, et l'eau était calme et claire.",
  hi: 'आज सुबह मैं नदी तक गया, और पानी शांत और साफ़ था।',
  it: "Stamattina sono sceso fino al fiume, e l'acqua era calma e limpida.",
  ja: 'けさ、かわまで あるきました。みずは しずかで、きれいでした。',
  'pt-br': 'Hoje de manhã eu desci até o rio, e a água estava calma e clara.',
  zh: '今天早上我走到河边，河水平静而清澈。',
};

/** `ort`: onnxruntime-node behind onnxruntime-web's interface (the script wraps it). */
export function install(ort: OrtModule, cores: number) {
  installRuntime({ loadOrt: async () => ort, isolated: true, cores });
}

/** Phoneme letters of the sentence (no spaces or punctuation): the units of the speaking rate. */
export async function phonemeCount(language: TtsLanguage): Promise<number> {
  const [p] = await phonemizeTexts([SENTENCES[language]], language);
  return [...(p?.phonemes ?? '')].filter((c) => /\p{L}/u.test(c)).length;
}

export async function measureVoice(
  voice: string,
  loadFile: (path: string) => Promise<Uint8Array>,
  units: number,
): Promise<SpeechMeasures & { language: TtsLanguage }> {
  const language = languageOfVoice(voice)!;
  const r = await synthesize({ text: SENTENCES[language], voice }, { loadFile });
  return { ...measureSpeech(r.samples, r.sampleRate, { units }), language };
}
