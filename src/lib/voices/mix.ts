// Kokoro voices: a voice file is a Float32 style table [510, 256] (row r = the style for r phoneme
// tokens); mixing voices is a weighted sum of their tables, row by row.
import { KOKORO_VOICE_IDS } from './presets';
import { MixFormulaError, UnknownVoiceError, VoiceFileError } from './errors';

export const STYLE_ROWS = 510;
export const STYLE_DIM = 256;
export const VOICE_FILE_BYTES = STYLE_ROWS * STYLE_DIM * 4;

/** A style table: STYLE_ROWS × STYLE_DIM floats, row-major. */
export type StyleTable = Float32Array;

/** Reads a voice .bin (little-endian Float32 [510, 256]); the bytes are copied. */
export function parseVoiceFile(bytes: Uint8Array | ArrayBuffer, name = 'voice file'): StyleTable {
  const u8 = bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes);
  if (u8.byteLength !== VOICE_FILE_BYTES)
    throw new VoiceFileError(`${name} has ${u8.byteLength} bytes; a Kokoro voice has ${VOICE_FILE_BYTES}.`);
  const view = new DataView(u8.buffer, u8.byteOffset, u8.byteLength);
  const out = new Float32Array(STYLE_ROWS * STYLE_DIM);
  for (let i = 0; i < out.length; i++) {
    const v = view.getFloat32(i * 4, true);
    if (!Number.isFinite(v)) throw new VoiceFileError(`${name} holds a NaN or infinite value.`);
    out[i] = v;
  }
  return out;
}

export function checkStyleTable(t: Float32Array, name = 'style table'): StyleTable {
  if (t.length !== STYLE_ROWS * STYLE_DIM)
    throw new VoiceFileError(`${name} has ${t.length} values; a Kokoro voice has ${STYLE_ROWS * STYLE_DIM}.`);
  return t;
}

/** Row index for a run of `tokenCount` phoneme tokens (pads not counted): clamp(n, 0, 509), as kokoro-js. */
export const styleRowIndex = (tokenCount: number) =>
  Math.min(Math.max(Math.floor(tokenCount), 0), STYLE_ROWS - 1);

/** The style [256] for a run of `tokenCount` phoneme tokens (a view into the table). */
export function styleRow(voice: StyleTable, tokenCount: number): Float32Array {
  const r = styleRowIndex(tokenCount);
  return voice.subarray(r * STYLE_DIM, (r + 1) * STYLE_DIM);
}

export interface MixTerm {
  voice: string;
  /** Normalised: the weights of a mix add up to 1. */
  weight: number;
}

const PRESETS = new Set<string>(KOKORO_VOICE_IDS);

/** True when `s` is a mix formula rather than one voice id ("+" or "*" in it). */
export const isMixFormula = (s: string) => /[+*]/.test(s);

const ID = /^[a-z][a-z0-9_]*$/;
const NUM = /^(?:\d+(?:\.\d*)?|\.\d+)(?:e[+-]?\d+)?$/i;

/**
 * Reads `af_heart*0.6 + bf_emma*0.4` (also `0.6*af_heart`, a bare id for weight 1, `af_heart*60%`).
 * Weights are normalised to add up to 1; a voice named twice adds its weights. Errors name the term.
 */
export function parseMixFormula(formula: string, known: ReadonlySet<string> = PRESETS): MixTerm[] {
  const text = formula.trim();
  if (!text) throw new MixFormulaError('The voice mix formula is empty.');
  const weights = new Map<string, number>();
  for (const rawTerm of text.split('+')) {
    const term = rawTerm.trim();
    if (!term) throw new MixFormulaError(`"${text}" has an empty term (two "+" in a row, or one at an end).`);
    const factors = term.split('*').map((f) => f.trim());
    if (factors.length > 2 || factors.some((f) => !f))
      throw new MixFormulaError(`"${term}" is not a term: write voice*weight, e.g. af_heart*0.6.`, term);
    const voiceIdx = factors.findIndex((f) => ID.test(f));
    if (voiceIdx < 0)
      throw new MixFormulaError(`"${term}" names no voice: write voice*weight, e.g. af_heart*0.6.`, term);
    const voice = factors[voiceIdx]!;
    if (!known.has(voice))
      throw new UnknownVoiceError(voice, `"${voice}" in the mix formula is not a known voice.`);
    let weight = 1;
    const w = factors[1 - voiceIdx];
    if (factors.length === 2 && w !== undefined) {
      const pct = w.endsWith('%');
      const num = pct ? w.slice(0, -1).trim() : w;
      if (!NUM.test(num)) throw new MixFormulaError(`The weight "${w}" of ${voice} is not a number.`, term);
      weight = Number(num) / (pct ? 100 : 1);
      if (!(weight > 0) || !Number.isFinite(weight))
        throw new MixFormulaError(`The weight of ${voice} must be more than 0 (it is ${w}).`, term);
    }
    weights.set(voice, (weights.get(voice) ?? 0) + weight);
  }
  const total = [...weights.values()].reduce((a, b) => a + b, 0);
  return [...weights].map(([voice, weight]) => ({ voice, weight: weight / total }));
}

/** The canonical text of a mix: "af_heart*0.6 + bf_emma*0.4" (weights rounded to 4 places). */
export function formatMixFormula(terms: readonly MixTerm[]): string {
  return terms.map((t) => `${t.voice}*${Number(t.weight.toFixed(4))}`).join(' + ');
}

/** Σ weightᵢ · tableᵢ, row by row (weights used as given). */
export function mixVoices(parts: readonly { table: StyleTable; weight: number }[]): StyleTable {
  if (!parts.length) throw new MixFormulaError('A mix needs at least one voice.');
  const out = new Float32Array(STYLE_ROWS * STYLE_DIM);
  for (const { table, weight } of parts) {
    checkStyleTable(table);
    for (let r = 0; r < STYLE_ROWS; r++) {
      const base = r * STYLE_DIM;
      for (let c = 0; c < STYLE_DIM; c++) out[base + c]! += weight * table[base + c]!;
    }
  }
  return out;
}
