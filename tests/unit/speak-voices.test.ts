import { describe, expect, it } from 'vitest';
import {
  defaultMixName,
  engineVoice,
  groupByLanguage,
  matchesVoice,
  mixedVoice,
  MixError,
  mixFormula,
  voiceLanguages,
} from '../../src/lib/ui/speak-voices';
import { PRESET_VOICES, presetVoice } from '../../src/lib/voices/presets';
import { parseMixFormula } from '../../src/lib/voices/mix';
import { encodeLocally } from '../../src/lib/ui/speak-download';
import { decodeWav } from '../../src/lib/dsp/wav';

describe('voice search', () => {
  const find = (q: string) => PRESET_VOICES.filter((v) => matchesVoice(v, q)).map((v) => v.id);
  it('matches name, language, accent and gender', () => {
    expect(find('emma')).toEqual(['bf_emma']);
    expect(find('british male')).toEqual(['bm_daniel', 'bm_fable', 'bm_george', 'bm_lewis']);
    expect(find('french')).toEqual(['ff_siwis']);
    expect(find('pt-br')).toEqual(['pf_dora', 'pm_alex', 'pm_santa']);
    expect(find('')).toHaveLength(54);
  });
  it('does not find female voices for "male"', () => {
    const males = find('male');
    expect(males.length).toBeGreaterThan(10);
    expect(males.every((id) => id[1] === 'm')).toBe(true);
  });
  it('groups by language in the engine order, names sorted', () => {
    const groups = groupByLanguage(PRESET_VOICES);
    expect(groups.map((g) => g.language)).toEqual([
      'en-us',
      'en-gb',
      'es',
      'fr-fr',
      'hi',
      'it',
      'ja',
      'pt-br',
      'zh',
    ]);
    expect(groups[1]!.voices.map((v) => v.name)).toEqual([
      'Alice',
      'Daniel',
      'Emma',
      'Fable',
      'George',
      'Isabella',
      'Lewis',
      'Lily',
    ]);
    expect(groups.reduce((n, g) => n + g.voices.length, 0)).toBe(54);
  });
});

describe('mixing', () => {
  it('normalises slider weights into a formula the engine reads', () => {
    const f = mixFormula([
      { voice: 'af_heart', weight: 60 },
      { voice: 'bf_emma', weight: 20 },
      { voice: 'am_adam', weight: 20 },
    ]);
    expect(f).toBe('af_heart*0.6 + bf_emma*0.2 + am_adam*0.2');
    expect(parseMixFormula(f).reduce((n, t) => n + t.weight, 0)).toBeCloseTo(1);
  });
  it('adds up a voice named twice and ignores zero weights', () => {
    expect(
      mixFormula([
        { voice: 'af_heart', weight: 1 },
        { voice: 'af_heart', weight: 1 },
        { voice: 'bf_emma', weight: 2 },
        { voice: 'am_adam', weight: 0 },
      ]),
    ).toBe('af_heart*0.5 + bf_emma*0.5');
  });
  it('needs 2 to 4 voices', () => {
    expect(() => mixFormula([{ voice: 'af_heart', weight: 1 }])).toThrow(MixError);
    expect(() =>
      mixFormula([
        { voice: 'af_heart', weight: 1 },
        { voice: 'bf_emma', weight: 0 },
      ]),
    ).toThrow(MixError);
    const five = ['af_heart', 'bf_emma', 'am_adam', 'bm_george', 'ff_siwis'].map((voice) => ({
      voice,
      weight: 1,
    }));
    expect(() => mixFormula(five)).toThrow(/at most 4/);
  });
  it('builds the library record of a saved mix', () => {
    const v = mixedVoice(' Warm ', 'bf_emma*0.7 + af_heart*0.3', 1000, 'mix_1');
    expect(v).toMatchObject({
      id: 'mix_1',
      name: 'Warm',
      kind: 'mixed',
      language: 'en-gb',
      gender: 'female',
      recipe: { formula: 'bf_emma*0.7 + af_heart*0.3' },
      created_at: 1000,
    });
    expect(mixedVoice('x', 'bf_emma*0.5 + bm_george*0.5', 0).gender).toBe('neutral');
    expect(() => mixedVoice('  ', 'bf_emma*0.5 + bm_george*0.5', 0)).toThrow(MixError);
    expect(engineVoice(v)).toBe('bf_emma*0.7 + af_heart*0.3');
  });
});

describe('engine voices and languages', () => {
  it('gives presets by id, recipes by formula, and nothing for cloned voices', () => {
    expect(engineVoice(presetVoice('af_heart'))).toBe('af_heart');
    expect(engineVoice({ id: 'c1', kind: 'cloned' })).toBeNull();
    expect(engineVoice({ id: 'd1', kind: 'designed', recipe: { formula: 'bm_george*1' } })).toBe(
      'bm_george*1',
    );
  });
  it('offers both English accents for English voices, the own language otherwise', () => {
    expect(voiceLanguages('af_heart')).toEqual(['en-us', 'en-gb']);
    expect(voiceLanguages('bf_emma')).toEqual(['en-gb', 'en-us']);
    expect(voiceLanguages('ff_siwis')).toEqual(['fr-fr']);
    expect(voiceLanguages('ef_dora*0.3 + ff_siwis*0.7')).toEqual(['fr-fr', 'es']);
  });
});

describe('downloads written without ffmpeg', () => {
  const tone = Float32Array.from({ length: 2400 }, (_, i) => 0.5 * Math.sin(i / 5));
  it('WAV 16-bit and float decode back to the same audio', () => {
    for (const id of ['wav16', 'wav32'] as const) {
      const f = encodeLocally(id, tone, 24000)!;
      expect(f.extension).toBe('wav');
      const back = decodeWav(f.bytes);
      expect(back.sampleRate).toBe(24000);
      expect(back.samples.length).toBe(tone.length);
      expect(back.format).toBe(id === 'wav16' ? 's16' : 'f32');
      expect(Math.abs(back.samples[100]! - tone[100]!)).toBeLessThan(id === 'wav16' ? 1e-4 : 1e-7);
    }
  });
  it('PCM is 2 bytes a sample and compressed formats are left to ffmpeg', () => {
    expect(encodeLocally('pcm', tone, 24000)!.bytes.length).toBe(tone.length * 2);
    expect(encodeLocally('mp3', tone, 24000)).toBeNull();
  });
});

describe('defaultMixName', () => {
  it('names a mix saved without a name by its voices and shares', () => {
    expect(defaultMixName('af_heart*0.6 + am_adam*0.4')).toBe('Mix: Heart 60 % + Adam 40 %');
  });
});
