// Tempo, metre and key on synthetic clips made here with known answers: a drum pattern at a given tempo
// with accents, and chord progressions of harmonic tones in a given key.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Transcoder } from '../../src/lib/codec/transcoder';
import { NodeCoreProvider } from './ffmpeg-node';
import {
  AnalysisInputError,
  analyzeMusic,
  camelot,
  compatibleKeys,
  keyName,
} from '../../src/lib/dsp/analyze';
import { chords, drums, majorProgression, minorProgression, mix, SR } from './music-clips';

/** Real speech (16 kHz LibriSpeech FLACs) where ../shared/audio is present. */
const LIBRISPEECH = new URL('../../../shared/audio/librispeech', import.meta.url).pathname;

describe('tempo', () => {
  for (const bpm of [72, 96, 120, 128, 140, 174]) {
    it(`finds ${bpm} BPM within ±1 in drums with chords`, () => {
      const clip = mix(drums(bpm, 20), chords(majorProgression(60), bpm, 20));
      const a = analyzeMusic(clip, SR);
      expect(Math.abs(a.bpm - bpm)).toBeLessThanOrEqual(1);
      expect(a.tempo_confidence).toBeGreaterThan(0.2);
    });
  }

  it('finds the tempo of plain clicks without off-beat hats (no octave error) and at 44.1 kHz', () => {
    const at16 = analyzeMusic(drums(100, 15, 4, false), SR);
    expect(Math.abs(at16.bpm - 100)).toBeLessThanOrEqual(1);
    // The same pattern written at 44.1 kHz (sample-and-hold upsampling keeps the onsets).
    const src = drums(133, 15);
    const up = new Float32Array(Math.floor((src.length * 44100) / SR));
    for (let i = 0; i < up.length; i++) up[i] = src[Math.floor((i * SR) / 44100)]!;
    expect(Math.abs(analyzeMusic(up, 44100).bpm - 133)).toBeLessThanOrEqual(1);
  });
});

describe('metre', () => {
  it('reads accents every third beat as 3/4 and every fourth as 4/4', () => {
    expect(analyzeMusic(drums(150, 20, 3, false), SR).time_signature).toBe('3/4');
    expect(analyzeMusic(drums(110, 20, 4, false), SR).time_signature).toBe('4/4');
  });
});

describe('key', () => {
  const cases: { name: string; tonic: number; scale: 'major' | 'minor'; expect: string }[] = [
    { name: 'C major', tonic: 60, scale: 'major', expect: 'C' },
    { name: 'G major', tonic: 67, scale: 'major', expect: 'G' },
    { name: 'F# major', tonic: 66, scale: 'major', expect: 'F#' },
    { name: 'Eb major', tonic: 63, scale: 'major', expect: 'Eb' },
    { name: 'A minor', tonic: 57, scale: 'minor', expect: 'A' },
    { name: 'D minor', tonic: 62, scale: 'minor', expect: 'D' },
    { name: 'F# minor', tonic: 66, scale: 'minor', expect: 'F#' },
    { name: 'C minor', tonic: 60, scale: 'minor', expect: 'C' },
  ];
  for (const c of cases) {
    it(`finds ${c.name} from a chord progression over drums`, () => {
      const prog = c.scale === 'major' ? majorProgression(c.tonic) : minorProgression(c.tonic);
      const clip = mix(chords(prog, 100, 24), drums(100, 24));
      const a = analyzeMusic(clip, SR);
      expect(`${a.key} ${a.scale}`).toBe(`${c.expect} ${c.scale}`);
      expect(a.camelot).toBe(camelot(((c.tonic % 12) + 12) % 12, c.scale));
      expect(a.chroma).toHaveLength(12);
      expect(a.key_confidence).toBeGreaterThan(0);
    });
  }
});

describe('Camelot wheel', () => {
  it('codes keys as the wheel does and lists the relative and the neighbours a fifth away', () => {
    expect(camelot(0, 'major')).toBe('8B');
    expect(camelot(9, 'minor')).toBe('8A');
    expect(camelot(7, 'major')).toBe('9B');
    expect(camelot(5, 'major')).toBe('7B');
    expect(camelot(11, 'major')).toBe('1B');
    expect(camelot(8, 'minor')).toBe('1A');
    expect(camelot(4, 'major')).toBe('12B');
    expect(keyName(1, 'major').key).toBe('Db');
    expect(keyName(1, 'minor').key).toBe('C#');
    const near = compatibleKeys(0, 'major');
    expect(near.map((k) => k.camelot)).toEqual(['8A', '9B', '7B']);
    expect(near.map((k) => `${k.key} ${k.scale}`)).toEqual(['A minor', 'G major', 'F major']);
    expect(compatibleKeys(9, 'minor').map((k) => k.camelot)).toEqual(['8B', '9A', '7A']);
  });
});

describe('refusals', () => {
  it('refuses a clip under 3 s and a silent one, saying why', () => {
    expect(() => analyzeMusic(new Float32Array(SR * 2), SR)).toThrow(AnalysisInputError);
    expect(() => analyzeMusic(new Float32Array(SR * 2), SR)).toThrow(/at least 3 s/);
    expect(() => analyzeMusic(new Float32Array(SR * 5), SR)).toThrow(/silent/);
  });
});

describe('music or not', () => {
  it('takes drums with chords, and chord progressions alone, for music, with a confidence for each figure', () => {
    for (const clip of [
      mix(drums(120, 20), chords(majorProgression(60), 120, 20)),
      chords(minorProgression(57), 96, 20),
    ]) {
      const a = analyzeMusic(clip, SR);
      expect(a.music, a.verdict).toBe(true);
      expect(a.verdict).toMatch(
        /^Music: [\d.]+ BPM \(beat confidence \d+ %\), key \w+ (major|minor) \((clear|likely|uncertain)\)\.$/,
      );
    }
  });

  it.skipIf(!existsSync(LIBRISPEECH))(
    'says real speech is not music',
    async () => {
      const t = new Transcoder(new NodeCoreProvider());
      for (const f of readdirSync(LIBRISPEECH).filter((n) => n.endsWith('.flac'))) {
        const d = await t.decode(new Uint8Array(readFileSync(join(LIBRISPEECH, f))), { sampleRate: SR });
        if (d.samples.length < 3 * SR) continue;
        const a = analyzeMusic(d.samples, SR);
        expect(a.music, `${f}: ${a.verdict}`).toBe(false);
        expect(a.verdict).toMatch(/does not sound like music/);
      }
    },
    120_000,
  );
});
