// The pure parts of the speech pipeline: vocabulary and chunking, voice files and mixing, joins, trimming,
// the limiter and WAV.
import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { VocabularyError } from '../../src/lib/tts/errors';
import { MixFormulaError, UnknownVoiceError, VoiceFileError } from '../../src/lib/voices/errors';
import { applyVolume, LIMIT_CEILING } from '../../src/lib/tts/gain';
import { concatAudio, fadeEdges, pauseSamples, withLeadingSilence } from '../../src/lib/dsp/join';
import { chunk, MAX_TOKENS, parseVocab, tokenize, type Vocab } from '../../src/lib/tts/tokenize';
import { speechBounds, trimSilence } from '../../src/lib/tts/trim';
import {
  formatMixFormula,
  mixVoices,
  parseMixFormula,
  parseVoiceFile,
  STYLE_DIM,
  STYLE_ROWS,
  styleRow,
  styleRowIndex,
  VOICE_FILE_BYTES,
} from '../../src/lib/voices/mix';
import { decodeWav, encodeWav, streamingWavHeader, WavFormatError } from '../../src/lib/dsp/wav';
import { mulberry32 } from './test-utils';

const TOKENIZER = '.cache/models/kokoro-82m-q8/tokenizer.json';
const VOICES = '.cache/models/kokoro-82m-q8/voices';

/** The real vocabulary when installed, else a small one of the same shape. */
function vocab(): Vocab {
  if (existsSync(TOKENIZER)) return parseVocab(readFileSync(TOKENIZER));
  const chars = ['$', ';', ':', ',', '.', '!', '?', '—', '…', ' ', ...'abcdefhijklmnopqrstuvwxyzəɪˈ'];
  return parseVocab({ model: { vocab: Object.fromEntries(chars.map((c, i) => [c, i])) } });
}

describe('vocabulary', () => {
  it.skipIf(!existsSync(TOKENIZER))('is read from the model tokenizer.json', () => {
    const v = parseVocab(readFileSync(TOKENIZER));
    expect(v.ids.get('$')).toBe(0);
    expect(v.ids.get(';')).toBe(1);
    expect(v.ids.get('.')).toBe(4);
    expect(v.ids.get(' ')).toBe(16);
    expect(v.ids.get('ˈ')).toBe(156);
    expect(v.ids.size).toBe(115);
  });

  it('rejects files that are not a Kokoro vocabulary', () => {
    expect(() => parseVocab('{')).toThrow(VocabularyError);
    expect(() => parseVocab({ model: {} })).toThrow(/no model.vocab/);
    expect(() => parseVocab({ model: { vocab: { a: 0 } } })).toThrow(/pad/);
    expect(() => parseVocab({ model: { vocab: { $: 0, ab: 1 } } })).toThrow(/one character/);
  });

  it('drops and counts characters it has no token for', () => {
    const t = tokenize('həlˈoʊ 7 wˈɜːld☃$', vocab());
    expect(t.dropped).toBeGreaterThanOrEqual(3);
    expect(t.droppedChars).toEqual(expect.arrayContaining(['7', '☃', '$']));
    expect(t.ids).not.toContain(0);
  });
});

describe('chunking', () => {
  const v = vocab();
  const ids = (s: string) => tokenize(s, v).ids;

  it('leaves short input whole', () => {
    expect(chunk(ids('hello world.'), v)).toEqual([ids('hello world.')]);
    expect(chunk([], v)).toEqual([]);
  });

  it('cuts at sentence ends first, packing whole sentences', () => {
    const s = ids('aaaa bbbb. cccc dddd. eeee, ffff.');
    const parts = chunk(s, v, 12);
    expect(parts).toEqual([ids('aaaa bbbb. '), ids('cccc dddd. '), ids('eeee, ffff.')]);
    expect(parts.flat()).toEqual(s);
    // two sentences that fit go together
    expect(chunk(s, v, 22)).toEqual([ids('aaaa bbbb. cccc dddd. '), ids('eeee, ffff.')]);
  });

  it('then at ; and :, then , and —, then spaces, then anywhere', () => {
    const semi = ids('aaaa bbbb; cccc dddd');
    expect(chunk(semi, v, 12)[0]).toEqual(ids('aaaa bbbb; '));
    const comma = ids('aaaa bbbb, cccc dddd');
    expect(chunk(comma, v, 12)[0]).toEqual(ids('aaaa bbbb, '));
    const words = ids('aaaa bbbb cccc dddd');
    expect(chunk(words, v, 12)[0]).toEqual(ids('aaaa bbbb '));
    const one = ids('a'.repeat(25));
    expect(chunk(one, v, 10).map((p) => p.length)).toEqual([10, 10, 5]);
  });

  it('never passes 510 tokens and loses no token, on long random text', () => {
    const rnd = mulberry32(7);
    const alphabet = [...'abcdefhijklmnopqrstuvwxyzəɪˈ', ' ', ' ', ' ', ' ', ',', '.', ';', '—', '!'];
    for (let trial = 0; trial < 20; trial++) {
      const n = 100 + Math.floor(rnd() * 5000);
      let s = '';
      for (let i = 0; i < n; i++) s += alphabet[Math.floor(rnd() * alphabet.length)];
      if (trial === 0) s = 'x'.repeat(2000); // no break mark at all
      const t = ids(s);
      const parts = chunk(t, v);
      expect(parts.every((p) => p.length > 0 && p.length <= MAX_TOKENS)).toBe(true);
      expect(parts.flat()).toEqual(t);
    }
  });
});

describe('voices', () => {
  const table = (seed: number) => {
    const rnd = mulberry32(seed);
    return Float32Array.from({ length: STYLE_ROWS * STYLE_DIM }, () => rnd() - 0.5);
  };

  it('parses a voice file and picks the row by token count', () => {
    const t = table(1);
    const bytes = new Uint8Array(t.buffer.slice(0));
    const parsed = parseVoiceFile(bytes);
    expect(parsed).toEqual(t);
    expect(styleRowIndex(0)).toBe(0);
    expect(styleRowIndex(42)).toBe(42);
    expect(styleRowIndex(600)).toBe(509);
    expect(styleRow(parsed, 42)).toEqual(t.subarray(42 * 256, 43 * 256));
    expect(() => parseVoiceFile(new Uint8Array(100))).toThrow(VoiceFileError);
  });

  it.skipIf(!existsSync(`${VOICES}/af_heart.bin`))('reads the bundled voice files', () => {
    const bytes = readFileSync(`${VOICES}/af_heart.bin`);
    expect(bytes.byteLength).toBe(VOICE_FILE_BYTES);
    const t = parseVoiceFile(bytes);
    expect(t.length).toBe(510 * 256);
    expect(t.some((x) => x !== 0)).toBe(true);
  });

  it('parses mix formulas and normalises the weights', () => {
    expect(parseMixFormula('af_heart*0.6 + bf_emma*0.4')).toEqual([
      { voice: 'af_heart', weight: 0.6 },
      { voice: 'bf_emma', weight: 0.4 },
    ]);
    const w = parseMixFormula('af_heart*3+bf_emma*1');
    expect(w.map((t) => t.weight)).toEqual([0.75, 0.25]);
    expect(parseMixFormula('0.5*af_bella + am_adam')).toEqual([
      { voice: 'af_bella', weight: 1 / 3 },
      { voice: 'am_adam', weight: 2 / 3 },
    ]);
    expect(parseMixFormula('af_heart*60% + af_heart*20% + bf_emma*20%')).toEqual([
      { voice: 'af_heart', weight: 0.8 },
      { voice: 'bf_emma', weight: 0.2 },
    ]);
    expect(formatMixFormula(parseMixFormula('af_heart*2 + bf_emma'))).toBe(
      'af_heart*0.6667 + bf_emma*0.3333',
    );
  });

  it('rejects bad formulas, naming the voice or the weight', () => {
    expect(() => parseMixFormula('af_heart*0.5 + xx_nobody*0.5')).toThrow(UnknownVoiceError);
    expect(() => parseMixFormula('af_heart*0.5 + xx_nobody*0.5')).toThrow(/xx_nobody/);
    expect(() => parseMixFormula('af_heart*abc')).toThrow(MixFormulaError);
    expect(() => parseMixFormula('af_heart*abc')).toThrow(/"abc" of af_heart/);
    expect(() => parseMixFormula('af_heart*0 + bf_emma')).toThrow(/weight of af_heart/);
    expect(() => parseMixFormula('af_heart*-1')).toThrow(MixFormulaError);
    expect(() => parseMixFormula('af_heart +')).toThrow(/empty term/);
    expect(() => parseMixFormula('')).toThrow(/empty/);
    expect(() => parseMixFormula('0.5*0.5')).toThrow(/names no voice/);
    expect(() => parseMixFormula('af_heart*bf_emma*2')).toThrow(MixFormulaError);
  });

  it('mixes row by row', () => {
    const a = table(2);
    const b = table(3);
    const m = mixVoices([
      { table: a, weight: 0.25 },
      { table: b, weight: 0.75 },
    ]);
    for (const i of [0, 1, 300, 256 * 509 + 255]) expect(m[i]).toBeCloseTo(0.25 * a[i]! + 0.75 * b[i]!, 6);
    expect(mixVoices([{ table: a, weight: 1 }])).toEqual(a);
  });
});

describe('joins, trimming and the limiter', () => {
  const tone = (n: number, amp: number, sr = 24000) =>
    Float32Array.from({ length: n }, (_, i) => amp * Math.sin((2 * Math.PI * 220 * i) / sr));

  it('fades the edges to zero without touching the middle', () => {
    const x = new Float32Array(1000).fill(1);
    fadeEdges(x, 100);
    expect(x[0]).toBeLessThan(0.001);
    expect(x[999]).toBeLessThan(0.001);
    expect(x[500]).toBe(1);
    for (let i = 1; i < 100; i++) expect(x[i]!).toBeGreaterThanOrEqual(x[i - 1]!);
  });

  it('sizes pauses by the kind of break', () => {
    expect(pauseSamples('sentence', 250, 24000)).toBe(6000);
    expect(pauseSamples('paragraph', 250, 24000)).toBe(15000);
    expect(pauseSamples('clause', 250, 24000)).toBe(1800);
    expect(withLeadingSilence(new Float32Array([1, 2]), 3)).toEqual(new Float32Array([0, 0, 0, 1, 2]));
    expect(concatAudio([new Float32Array([1]), new Float32Array([2, 3])])).toEqual(
      new Float32Array([1, 2, 3]),
    );
  });

  it('trims leading and trailing silence but not inside', () => {
    const sr = 24000;
    const x = concatAudio([
      new Float32Array(sr / 2),
      tone(sr / 4, 0.5),
      new Float32Array(sr / 4),
      tone(sr / 4, 0.5),
      new Float32Array(sr),
    ]);
    const { start, end } = speechBounds(x, sr);
    expect(start).toBeGreaterThan(sr / 2 - sr * 0.06);
    expect(start).toBeLessThanOrEqual(sr / 2);
    const trimmed = trimSilence(x, sr, { leading: true, trailing: true });
    expect(trimmed.length).toBe(end - start);
    // the quarter second of silence inside stays
    expect(trimmed.length).toBeGreaterThan((3 * sr) / 4);
    expect(trimmed.length).toBeLessThan((3 * sr) / 4 + sr * 0.1);
    expect(trimSilence(new Float32Array(100), sr, { leading: true, trailing: false }).length).toBe(0);
  });

  it('applies volume in dB and limits peaks without clipping or steps', () => {
    const quiet = tone(2400, 0.1);
    const q = applyVolume(quiet.slice(), 6, 24000);
    expect(q[60]!).toBeCloseTo(quiet[60]! * 10 ** (6 / 20), 5);

    const loud = tone(24000, 0.8);
    const out = applyVolume(loud.slice(), 20, 24000);
    const peak = out.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
    expect(peak).toBeLessThanOrEqual(LIMIT_CEILING + 1e-6);
    expect(peak).toBeGreaterThan(0.9);
    // The gain changes smoothly: no sample-to-sample jump bigger than the signal's own slope allows.
    let maxStep = 0;
    for (let i = 1; i < out.length; i++) maxStep = Math.max(maxStep, Math.abs(out[i]! - out[i - 1]!));
    expect(maxStep).toBeLessThan(0.1);
    expect(out.every(Number.isFinite)).toBe(true);
  });
});

describe('WAV', () => {
  it('a stream header is a 16-bit mono header with both sizes unknown (0xFFFFFFFF)', () => {
    const h = streamingWavHeader(22050);
    const whole = encodeWav(new Float32Array(0), 22050, 's16');
    const v = new DataView(h.buffer);
    expect(h.length).toBe(44);
    expect(v.getUint32(4, true)).toBe(0xffffffff);
    expect(v.getUint32(40, true)).toBe(0xffffffff);
    // Everything but the two sizes matches a whole file's header.
    for (const at of [0, 8, 12, 16, 20, 22, 24, 28, 32, 34, 36]) expect(h[at]).toBe(whole[at]);
    expect(v.getUint32(24, true)).toBe(22050);
    expect(v.getUint16(34, true)).toBe(16);
  });

  const x = Float32Array.from({ length: 480 }, (_, i) => Math.sin(i / 10) * 0.9);

  it('round-trips 16-bit PCM and 32-bit float', () => {
    const s16 = decodeWav(encodeWav(x, 24000, 's16'));
    expect(s16.sampleRate).toBe(24000);
    expect(s16.format).toBe('s16');
    expect(s16.samples.length).toBe(480);
    for (let i = 0; i < 480; i++) expect(Math.abs(s16.samples[i]! - x[i]!)).toBeLessThan(1 / 16000);
    const f32 = decodeWav(encodeWav(x, 24000, 'f32'));
    expect(f32.format).toBe('f32');
    expect(f32.samples).toEqual(x);
  });

  it('writes a plain 44-byte header and clips out-of-range samples', () => {
    const b = encodeWav(new Float32Array([2, -2, 0]), 24000);
    expect(b.length).toBe(44 + 6);
    expect(new TextDecoder().decode(b.subarray(0, 4))).toBe('RIFF');
    const d = decodeWav(b).samples;
    expect(d[0]).toBeCloseTo(32767 / 32768, 6);
    expect(d[1]).toBe(-1);
    expect(() => decodeWav(new Uint8Array(10))).toThrow(WavFormatError);
  });

  it('writes interleaved channels with their block size; decoding gives their mean', () => {
    const st = Float32Array.from({ length: 960 }, (_, i) => (i % 2 ? -0.25 : 0.75));
    for (const format of ['s16', 'f32'] as const) {
      const b = encodeWav(st, 24000, format, 2);
      const v = new DataView(b.buffer);
      const bytes = format === 's16' ? 2 : 4;
      expect([v.getUint16(22, true), v.getUint32(28, true), v.getUint16(32, true)]).toEqual([
        2,
        24000 * 2 * bytes,
        2 * bytes,
      ]);
      const d = decodeWav(b);
      expect([d.channels, d.samples.length]).toEqual([2, 480]);
      for (const y of d.samples) expect(y).toBeCloseTo(0.25, 4);
    }
  });
});

describe('raw PCM', () => {
  it('encodePcm16 writes the same samples as the WAV body, without a header', async () => {
    const { encodePcm16, encodeWav } = await import('../../src/lib/dsp/wav');
    const x = new Float32Array([0, 0.5, -0.5, 1, -1, 2, Number.NaN]);
    const pcm = encodePcm16(x);
    expect(pcm.byteLength).toBe(x.length * 2);
    expect(Array.from(pcm)).toEqual(Array.from(encodeWav(x, 24000, 's16').subarray(44)));
    const v = new DataView(pcm.buffer);
    expect([v.getInt16(2, true), v.getInt16(8, true), v.getInt16(10, true), v.getInt16(12, true)]).toEqual([
      16384, -32768, 32767, 0,
    ]);
  });
});
