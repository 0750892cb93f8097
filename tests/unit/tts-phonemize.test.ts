// espeak-ng phonemes for the nine Kokoro languages (both wasm builds run offline in Node), the clean-up
// upstream applies, kept punctuation, and the lexicon.
import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { englishVoiceNames, fullVoiceNames } from '../../src/lib/tts/espeak';
import { ESPEAK_VOICE, isEnglish, TTS_LANGUAGES, type TtsLanguage } from '../../src/lib/voices/languages';
import { applyLexicon, entriesFor, validateLexicon } from '../../src/lib/text/lexicon';
import { LexiconError } from '../../src/lib/text/lexicon';
import { cleanEspeak, phonemize, phonemizeTexts } from '../../src/lib/tts/phonemize';
import { parseVocab, tokenize } from '../../src/lib/tts/tokenize';

const TOKENIZER = '.cache/models/kokoro-82m-q8/tokenizer.json';

const SAMPLES: Record<TtsLanguage, string> = {
  'en-us': 'Hello world. This is Timbre, and it costs $5.',
  'en-gb': 'Hello world. The doctor drank water.',
  es: '¿Cómo estás? Tengo 42 años y 3,5 kilos.',
  'fr-fr': "Bonjour le monde, je m'appelle Timbre.",
  hi: 'नमस्ते दुनिया, मेरा नाम राम है।',
  it: 'Ciao mondo, mi chiamo Timbre e mangio la pizza.',
  ja: 'こんにちは、ありがとうございます。',
  'pt-br': 'Olá mundo, muito obrigado pelo pão.',
  zh: '你好，世界。我们今天去北京。',
};

describe('espeak-ng voices', () => {
  it('phonemizer (English) accepts the names used for en-us and en-gb', async () => {
    const names = await englishVoiceNames();
    expect(names.has(ESPEAK_VOICE['en-us'])).toBe(true);
    expect(names.has(ESPEAK_VOICE['en-gb'])).toBe(true);
  });

  it('the full espeak-ng build has a voice for every other language', async () => {
    const names = await fullVoiceNames();
    for (const lang of TTS_LANGUAGES.filter((l) => !isEnglish(l)))
      expect(names).toContain(ESPEAK_VOICE[lang]);
  });
});

describe.skipIf(!existsSync(TOKENIZER))('phonemes of the nine languages', () => {
  const vocab = existsSync(TOKENIZER) ? parseVocab(readFileSync(TOKENIZER)) : null;

  it.each(TTS_LANGUAGES.map((l) => [l]))(
    '%s: non-empty IPA that tokenizes with nothing dropped',
    async (lang) => {
      const [r] = await phonemizeTexts([SAMPLES[lang]], lang);
      expect(r!.phonemes.length).toBeGreaterThan(10);
      const tok = tokenize(r!.phonemes, vocab!);
      expect(tok.droppedChars).toEqual([]);
      expect(tok.ids.length).toBeGreaterThan(10);
      // Kept punctuation: every sample has a comma or a full stop.
      expect(r!.phonemes).toMatch(/[,.]/);
    },
  );

  it('American English is what kokoro-js gives', async () => {
    expect(await phonemize('Hello world. This is Timbre.', 'en-us')).toBe('həlˈoʊ wˈɜːld. ðɪs ɪz tˈæmbɚ.');
    // the "ninety" flap and punctuation runs kept as they are
    expect(await phonemize('Ninety, really?! Yes.', 'en-us')).toBe('nˈaɪndi, ɹˈiəli?! jˈɛs.');
  });

  it('British English differs from American', async () => {
    const us = await phonemize('The doctor drank water.', 'en-us');
    const gb = await phonemize('The doctor drank water.', 'en-gb');
    expect(gb).toBe('ðə dˈɒktə dɹˈaŋk wˈɔːtə.');
    expect(gb).not.toBe(us);
    // and back: the voice switches every call
    expect(await phonemize('The doctor drank water.', 'en-us')).toBe(us);
  });

  it('numbers with decimal commas stay one number for espeak', async () => {
    expect(await phonemize('3,5 kilos', 'es')).toBe('tɾˈes koma θˈinko kˈilos');
  });

  it('skips and counts kanji in Japanese (espeak-ng reads kana only)', async () => {
    const [r] = await phonemizeTexts(['東京へ行きます。'], 'ja');
    expect(r!.skipped).toBe(3);
    expect(r!.phonemes).toMatch(/kimˈasɯᵝ\.$/);
  });

  it('batches many texts and keeps them apart', async () => {
    const texts = ['Uno.', 'Dos, tres.', '', 'Cuatro!'];
    const r = await phonemizeTexts(texts, 'es');
    expect(r.map((x) => x.phonemes)).toEqual(['ˈuno.', 'dˈos, tɾˈes.', '', 'kwˈatɾo!']);
  });
});

describe('clean-up of espeak output', () => {
  it('maps tied pairs to single Kokoro symbols outside English (misaki)', () => {
    expect(cleanEspeak('t^ʃˈiko ˈa^ɪ', 'es')).toBe('ʧˈiko ˈI');
    expect(cleanEspeak('ɡrˈat^sje', 'it')).toBe('ɡrˈaʦje');
    expect(cleanEspeak('nˌɐ̃^ʊ̃ sˈe^ɪ', 'pt-br')).toBe('nˌɐ̃ʊ̃ sˈA');
    expect(cleanEspeak('ʒə- syˌi', 'fr-fr')).toBe('ʒə syˌi');
    expect(cleanEspeak('(^e^n)ˈampəsˌand(^h^i)', 'hi')).toBe('ˈampəsˌand');
  });

  it('removes Chinese tone marks and writes aspiration as ʰ', () => {
    expect(cleanEspeak('t^ɕ^hˈy5 niɜχˈɑ^u2', 'zh')).toBe('ʨʰˈy niχˈɑu');
  });

  it('applies kokoro-js substitutions in English', () => {
    expect(cleanEspeak('rˈɛd bˈɑx ɬ', 'en-gb')).toBe('ɹˈɛd bˈɑk l');
    expect(cleanEspeak('tˈuːhˈʌndɹɪd', 'en-us')).toBe('tˈuː hˈʌndɹɪd');
  });
});

describe('pronunciation lexicon', () => {
  const lexicon = validateLexicon([
    { word: 'Timbre', phonemes: 'tˈæmbɚ', scope: 'global' },
    { word: 'Timbre', phonemes: 'tˈɛ̃bʁ', scope: 'ff_siwis' },
    { word: 'GIF', respelling: 'jif', scope: 'global' },
    { word: 'New York', respelling: 'Noo York', scope: 'af_heart' },
  ]);

  it('validates entries and names the bad one', () => {
    expect(() => validateLexicon([{ word: '', phonemes: 'x' }])).toThrow(LexiconError);
    expect(() => validateLexicon([{ word: 'a', phonemes: 'x', respelling: 'y' }])).toThrow(
      /"a".*exactly one/,
    );
    expect(() => validateLexicon([{ word: 'b' }])).toThrow(/"b"/);
    expect(validateLexicon([{ word: ' c ', respelling: 'see' }])).toEqual([
      { word: 'c', respelling: 'see', scope: 'global' },
    ]);
  });

  it('a voice entry wins over a global one; other voices see only global ones', () => {
    expect(entriesFor(lexicon, 'ff_siwis').get('timbre')!.phonemes).toBe('tˈɛ̃bʁ');
    expect(entriesFor(lexicon, 'af_bella').get('timbre')!.phonemes).toBe('tˈæmbɚ');
    expect(entriesFor(lexicon, 'af_bella').has('new york')).toBe(false);
    expect(entriesFor(lexicon, 'af_heart').has('new york')).toBe(true);
  });

  it('splits text at whole words, case-insensitively', () => {
    expect(applyLexicon('I love timbre and GIFs, not gif.', entriesFor(lexicon))).toEqual([
      { text: 'I love ' },
      { ipa: 'tˈæmbɚ' },
      { text: ' and GIFs, not jif.' },
    ]);
  });

  it('inserts phonemes verbatim and reads respellings', async () => {
    const plain = await phonemize('Say Timbre now.', 'en-us');
    const lex = await phonemize('Say Timbre now.', 'en-us', { lexicon, voiceId: 'ff_siwis' });
    expect(lex).toBe('sˈeɪ tˈɛ̃bʁ nˈaʊ.');
    expect(lex).not.toBe(plain);
    const gif = await phonemize('A GIF.', 'en-us', { lexicon });
    expect(gif).toBe(await phonemize('A jif.', 'en-us'));
  });
});
