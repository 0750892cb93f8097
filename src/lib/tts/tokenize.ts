// Phonemes → Kokoro token ids, with the vocabulary read from the model's own tokenizer.json, and the
// chunking that keeps every model run within 510 tokens without dropping any.
import { VocabularyError } from './errors';

/** Phoneme tokens one run takes between its two pad tokens. */
export const MAX_TOKENS = 510;
/** Token id of the pad ("$"), put at both ends of every run. */
export const PAD_ID = 0;

export interface Vocab {
  /** One IPA character (code point) → its id. */
  readonly ids: ReadonlyMap<string, number>;
}

/** Reads `model.vocab` of a tokenizer.json (bytes, text or parsed JSON). */
export function parseVocab(source: Uint8Array | string | unknown): Vocab {
  let json: unknown = source;
  try {
    if (source instanceof Uint8Array) json = JSON.parse(new TextDecoder().decode(source));
    else if (typeof source === 'string') json = JSON.parse(source);
  } catch (e) {
    throw new VocabularyError(`tokenizer.json is not JSON: ${(e as Error).message}`);
  }
  const vocab = (json as { model?: { vocab?: unknown } } | null)?.model?.vocab;
  if (!vocab || typeof vocab !== 'object') throw new VocabularyError('tokenizer.json has no model.vocab.');
  const ids = new Map<string, number>();
  for (const [ch, id] of Object.entries(vocab as Record<string, unknown>)) {
    if (typeof id !== 'number' || !Number.isInteger(id) || id < 0)
      throw new VocabularyError(`tokenizer.json: the id of "${ch}" is not a token id.`);
    if ([...ch].length !== 1) throw new VocabularyError(`tokenizer.json: "${ch}" is not one character.`);
    ids.set(ch, id);
  }
  if (ids.get('$') !== PAD_ID) throw new VocabularyError('tokenizer.json: the pad "$" is not token 0.');
  return { ids };
}

export interface Tokenized {
  ids: number[];
  /** How many characters had no token and were left out. */
  dropped: number;
  /** Those characters, once each, in order of appearance. */
  droppedChars: string[];
}

/** Maps each character to its id; characters outside the vocabulary are dropped and counted. */
export function tokenize(phonemes: string, vocab: Vocab): Tokenized {
  const ids: number[] = [];
  const seen = new Set<string>();
  let dropped = 0;
  for (const ch of phonemes) {
    const id = ch === '$' ? undefined : vocab.ids.get(ch);
    if (id === undefined) {
      dropped++;
      seen.add(ch);
    } else ids.push(id);
  }
  return { ids, dropped, droppedChars: [...seen] };
}

/** Break marks, strongest first: sentence ends, then ; :, then , —, then spaces. */
const LEVELS: readonly string[][] = [['.', '!', '?', '…'], [';', ':'], [',', '—'], [' ']];

/**
 * Splits token ids into runs of at most `max`, cutting after the strongest break marks that make the
 * pieces fit (as many whole pieces per run as fit), a word only when nothing else does. Never drops or
 * reorders a token: the runs joined are the input.
 */
export function chunk(ids: readonly number[], vocab: Vocab, max = MAX_TOKENS): number[][] {
  if (max < 1) throw new RangeError('max must be at least 1.');
  if (ids.length === 0) return [];
  const marks = LEVELS.map(
    (level) => new Set(level.map((c) => vocab.ids.get(c)).filter((x) => x !== undefined)),
  );
  const space = vocab.ids.get(' ');
  return split([...ids], 0);

  function split(part: number[], level: number): number[][] {
    if (part.length <= max) return [part];
    const set = marks[level];
    if (!set) {
      const out: number[][] = [];
      for (let i = 0; i < part.length; i += max) out.push(part.slice(i, i + max));
      return out;
    }
    // Pieces ending just after each break mark and the spaces after it (a run of marks stays together).
    const pieces: number[][] = [];
    let start = 0;
    for (let i = 0; i < part.length; i++) {
      if (set.has(part[i]!) && !set.has(part[i + 1] ?? -1)) {
        while (part[i + 1] === space) i++;
        pieces.push(part.slice(start, i + 1));
        start = i + 1;
      }
    }
    if (start < part.length) pieces.push(part.slice(start));
    if (pieces.length === 1) return split(part, level + 1);
    const out: number[][] = [];
    let cur: number[] = [];
    for (const p of pieces) {
      if (p.length > max) {
        if (cur.length) out.push(cur);
        cur = [];
        out.push(...split(p, level + 1));
      } else if (cur.length + p.length > max) {
        out.push(cur);
        cur = [...p];
      } else cur.push(...p);
    }
    if (cur.length) out.push(cur);
    return out;
  }
}
