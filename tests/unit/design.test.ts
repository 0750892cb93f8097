// Voice design: the words of a description → attributes → a blend of measured presets and a speed.
// Blend checks compare with the measured traits (src/lib/voices/traits.json), never with fixed voice ids.
import { describe, expect, it } from 'vitest';
import traitsFile from '../../src/lib/voices/traits.json';
import { designVoice, MAX_BLEND, presetTraits, type DesignResult } from '../../src/lib/voices/design';
import { DesignError, parseDescription } from '../../src/lib/voices/design-words';
import { parseMixFormula } from '../../src/lib/voices/mix';
import { toApiError } from '../../src/lib/api/errors';

const TRAITS = (traitsFile as unknown as { voices: Record<string, { language: string; gender: string; f0_median_hz: number }> }).voices; // prettier-ignore
const ids = (pred: (t: (typeof TRAITS)[string]) => boolean) =>
  Object.keys(TRAITS).filter((id) => pred(TRAITS[id]!));
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};
/** The blend's F0 as the weighted mean of its voices' measured F0 (in semitones). */
const blendF0 = (d: DesignResult) =>
  2 ** d.terms.reduce((acc, t) => acc + t.weight * Math.log2(presetTraits(t.voice)!.f0_median_hz), 0);
const medianF0 = (language: string, gender: string) =>
  median(ids((t) => t.language === language && t.gender === gender).map((id) => TRAITS[id]!.f0_median_hz));

describe('reading a description', () => {
  it('reads "a calm older British man, slow and deep" into six attributes with their words', () => {
    const { attributes, ignored } = parseDescription('a calm older British man, slow and deep');
    expect(attributes).toEqual({
      language: { value: ['en-gb'], accent: 'British', words: ['british'] },
      gender: { value: 'male', words: ['man'] },
      energy: { value: 'calm', level: -1, words: ['calm'] },
      age: { value: 'older', level: 1, words: ['older'] },
      pace: { value: 'slow', level: -1, words: ['slow'] },
      pitch: { value: 'low', level: -1, words: ['deep'] },
    });
    expect(ignored).toEqual([]);
  });

  it.each([
    ['not too fast', 'pace', -0.5, 'slightly slow', 'not too fast'],
    ["a voice that isn't fast", 'pace', -0.5, 'slightly slow', "isn't fast"],
    ['a woman, not deep', 'pitch', 0.5, 'slightly high', 'not deep'],
    ['not young', 'age', 0.5, 'older', 'not young'],
    ['very deep', 'pitch', -1.5, 'very low', 'very deep'],
    ['extremely slow', 'pace', -1.5, 'very slow', 'extremely slow'],
    ['a bit slow', 'pace', -0.5, 'slightly slow', 'a bit slow'],
    ['slightly energetic', 'energy', 0.5, 'slightly lively', 'slightly energetic'],
    ['slow and not calm', 'energy', 0.5, 'slightly lively', 'not calm'],
    ['not slow, deep', 'pitch', -1, 'low', 'deep'],
    ['not slow, deep', 'pace', 0.5, 'slightly fast', 'not slow'],
  ] as const)('"%s" → %s %d (%s) from "%s"', (text, scale, level, value, words) => {
    const a = parseDescription(text).attributes[scale];
    expect(a).toMatchObject({ level, value });
    expect(a!.words).toContain(words);
  });

  it('a negated gender is the other one; a negated language is noted and not used', () => {
    expect(parseDescription('a voice that is not male').attributes.gender).toEqual({
      value: 'female',
      words: ['not male'],
    });
    const p = parseDescription('not British, an American lady');
    expect(p.attributes.language?.value).toEqual(['en-us']);
    expect(p.ignored).toEqual(['not british']);
  });

  it.each([
    ['une voix française', ['fr-fr']],
    ['una voz en español', ['es']],
    ['Hindi', ['hi']],
    ['una voce italiana', ['it']],
    ['日本語の声', ['ja']],
    ['a Mandarin speaker', ['zh']],
    ['中文', ['zh']],
    ['Brazilian Portuguese', ['pt-br']],
    ['English', ['en-us', 'en-gb']],
    ['British English', ['en-gb']],
    ['English, British accent', ['en-gb']],
  ])('"%s" speaks %j', (text, langs) => {
    expect(parseDescription(text).attributes.language?.value).toEqual(langs);
  });

  it('words in other languages: "une femme calme et lente", "un hombre joven"', () => {
    expect(parseDescription('une femme calme et lente').attributes).toMatchObject({
      gender: { value: 'female' },
      energy: { value: 'calm' },
    });
    expect(parseDescription('un hombre joven').attributes).toMatchObject({
      gender: { value: 'male' },
      age: { value: 'young' },
    });
  });

  it('"old man" and "grandmother" give a gender and an age', () => {
    expect(parseDescription('an old man').attributes).toMatchObject({
      gender: { value: 'male', words: ['old man'] },
      age: { level: 1, words: ['old man'] },
    });
    expect(parseDescription('a grandmother').attributes).toMatchObject({
      gender: { value: 'female' },
      age: { value: 'older' },
    });
  });

  it.each([
    ['', /empty/],
    ['   ', /empty/],
    ['purple elephant banana', /Nothing in "purple elephant banana" describes a voice/],
    ['a German man', /No preset voice speaks German/],
    ['x'.repeat(1001), /longer than 1000/],
  ])('"%s" is a DesignError', (text, msg) => {
    expect(() => parseDescription(text)).toThrow(DesignError);
    expect(() => designVoice(text)).toThrow(msg);
  });

  it('a DesignError is a 400 in the documented error shape', () => {
    let err: unknown;
    try {
      designVoice('purple elephant');
    } catch (e) {
      err = e;
    }
    expect(toApiError(err)).toMatchObject({ status: 400, code: 'bad_request' });
  });
});

describe('designing a voice from the measured presets', () => {
  it('is deterministic: the same description gives the same blend, speed and explanation', () => {
    const a = designVoice('a calm older British man, slow and deep');
    const b = designVoice('a calm older British man, slow and deep');
    expect(JSON.stringify(a)).toBe(JSON.stringify(b));
  });

  it('blends at most three presets of the language and gender asked for, as a formula that parses', () => {
    for (const [text, language, gender] of [
      ['a calm older British man, slow and deep', 'en-gb', 'male'],
      ['a bright young American woman', 'en-us', 'female'],
      ['a Chinese man', 'zh', 'male'],
      ['a Japanese woman, slow', 'ja', 'female'],
    ] as const) {
      const d = designVoice(text);
      const terms = parseMixFormula(d.formula);
      expect(terms.length).toBeGreaterThanOrEqual(1);
      expect(terms.length).toBeLessThanOrEqual(MAX_BLEND);
      expect(terms.reduce((s, t) => s + t.weight, 0)).toBeCloseTo(1, 6);
      for (const t of terms) expect(TRAITS[t.voice]).toMatchObject({ language, gender });
      expect(d.language).toBe(language);
      expect(d.gender).toBe(gender);
      // the formula's weights are the chosen weights, heaviest first
      expect(terms.map((t) => t.voice)).toEqual(d.chosen.map((c) => c.voice));
      const w = d.chosen.map((c) => c.weight);
      expect([...w].sort((x, y) => y - x)).toEqual(w);
    }
  });

  it('deep men blend lower F0 than the median man, high-pitched women higher than the median woman', () => {
    const deep = designVoice('a deep American man');
    expect(blendF0(deep)).toBeLessThan(medianF0('en-us', 'male'));
    const high = designVoice('a high-pitched American woman');
    expect(blendF0(high)).toBeGreaterThan(medianF0('en-us', 'female'));
    const deepGb = designVoice('a very deep British man');
    expect(blendF0(deepGb)).toBeLessThanOrEqual(medianF0('en-gb', 'male'));
  });

  it('nearer voices weigh more: weights fall as distances grow', () => {
    const d = designVoice('a lively fast American woman with a high voice');
    for (let i = 1; i < d.chosen.length; i++)
      expect(d.chosen[i]!.distance).toBeGreaterThanOrEqual(d.chosen[i - 1]!.distance);
    expect(d.chosen.map((c) => c.why).join(' ')).toMatch(/distance/);
  });

  it('pace sets the speed: slow < no pace named (1) < fast, within Kokoro range', () => {
    const slow = designVoice('a slow American man').speed;
    const plain = designVoice('an American man').speed;
    const fast = designVoice('a fast American man').speed;
    expect(plain).toBe(1);
    expect(slow).toBeLessThan(1);
    expect(fast).toBeGreaterThan(1);
    expect(designVoice('a very slow American man').speed).toBeLessThan(slow);
    for (const s of [slow, fast]) expect(s >= 0.6 && s <= 1.6).toBe(true);
  });

  it('explains itself: the attributes and their words, the blend, the speed and each choice', () => {
    const d = designVoice('a calm older British man, slow and deep');
    const text = d.explanation.join('\n');
    for (const w of [
      '"british"',
      '"man"',
      '"calm"',
      '"older"',
      '"slow"',
      '"deep"',
      d.formula,
      `speed ${d.speed}`,
    ])
      expect(text).toContain(w);
    expect(d.recipe_attributes).toMatchObject({
      language: 'en-gb',
      gender: 'male',
      pitch: 'low',
      pace: 'slow',
      energy: 'calm',
      age: 'older',
    });
    expect(d.targets.pitch).toBeLessThan(-1); // deep, and older pushes lower still
    expect(d.chosen.every((c) => c.distance >= 0 && c.f0_median_hz > 0)).toBe(true);
  });

  it('a language with no voice of the gender keeps its own voice heaviest and borrows the gender elsewhere', () => {
    const d = designVoice('a French man');
    const [first, ...rest] = d.terms;
    expect(TRAITS[first!.voice]!.language).toBe('fr-fr');
    for (const t of rest) {
      expect(TRAITS[t.voice]!.gender).toBe('male');
      expect(t.weight).toBeLessThanOrEqual(first!.weight);
    }
    expect(rest.length).toBeGreaterThan(0);
    expect(d.language).toBe('fr-fr');
    // the language of a mix is its heaviest voice's, ties to the first named: the formula keeps French
    expect(parseMixFormula(d.formula)[0]!.voice).toBe(first!.voice);
    expect(d.explanation.join(' ')).toMatch(/No French male preset/);
  });

  it('a neutral voice sits between the median man and the median woman', () => {
    const d = designVoice('an androgynous American voice');
    const f0 = blendF0(d);
    expect(f0).toBeGreaterThan(medianF0('en-us', 'male'));
    expect(f0).toBeLessThan(medianF0('en-us', 'female'));
  });

  it('with no gender named, the nearest voice decides it and only that gender is blended', () => {
    const deep = designVoice('a deep American voice');
    expect(deep.gender).toBe('male');
    for (const t of deep.terms) expect(TRAITS[t.voice]!.gender).toBe('male');
    const high = designVoice('a very high-pitched American voice');
    expect(high.gender).toBe('female');
    for (const t of high.terms) expect(TRAITS[t.voice]!.gender).toBe('female');
    expect(deep.explanation.join(' ')).toMatch(/No gender named/);
  });

  it('language and gender given apart from the description win over it', () => {
    const d = designVoice('calm and slow', { language: 'ja', gender: 'female' });
    for (const t of d.terms) expect(TRAITS[t.voice]).toMatchObject({ language: 'ja', gender: 'female' });
    expect(d.attributes.language?.words).toEqual(['language: ja']);
  });
});
