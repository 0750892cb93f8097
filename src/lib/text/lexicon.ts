// The pronunciation lexicon: user entries that say how a word is read, for one voice or for all of them.
// An entry gives either phonemes (Kokoro IPA, inserted verbatim) or a respelling (plain text that replaces
// the word before normalisation and phonemisation).

export interface LexiconEntry {
  /** The word or phrase as written; matched whole and case-insensitively. */
  word: string;
  /** IPA in Kokoro's vocabulary, e.g. "kˈOkəɹO"; used as it is. */
  phonemes?: string;
  /** A spelling espeak-ng reads right, e.g. "Timbre" → "Tamber". */
  respelling?: string;
  /** 'global', or the id of the one voice the entry applies to. */
  scope: string;
}

/** A run of text to phonemise, or phonemes from the lexicon. */
export type LexiconSegment = { text: string } | { ipa: string };

export const MAX_LEXICON_WORD = 100;
export const MAX_LEXICON_VALUE = 500;

/** Checks entries from outside (API, import); returns them cleaned. Errors name the entry. */
export function validateLexicon(entries: readonly unknown[]): LexiconEntry[] {
  return entries.map((raw, i) => {
    const e = (raw ?? {}) as Partial<Record<keyof LexiconEntry, unknown>>;
    const at = typeof e.word === 'string' && e.word.trim() ? `"${e.word.trim()}"` : `#${i + 1}`;
    if (typeof e.word !== 'string' || !e.word.trim())
      throw new LexiconError(`Lexicon entry ${at} has no word.`);
    const word = e.word.trim();
    if (word.length > MAX_LEXICON_WORD)
      throw new LexiconError(`Lexicon entry ${at}: the word is longer than ${MAX_LEXICON_WORD} characters.`);
    const hasPh = typeof e.phonemes === 'string' && e.phonemes.trim() !== '';
    const hasResp = typeof e.respelling === 'string' && e.respelling.trim() !== '';
    if (hasPh === hasResp)
      throw new LexiconError(`Lexicon entry ${at} needs exactly one of "phonemes" or "respelling".`);
    const value = ((hasPh ? e.phonemes : e.respelling) as string).trim();
    if (value.length > MAX_LEXICON_VALUE)
      throw new LexiconError(`Lexicon entry ${at}: the ${hasPh ? 'phonemes' : 'respelling'} are too long.`);
    const scope = e.scope === undefined ? 'global' : e.scope;
    if (typeof scope !== 'string' || !scope.trim())
      throw new LexiconError(`Lexicon entry ${at}: scope must be "global" or a voice id.`);
    return hasPh
      ? { word, phonemes: value, scope: scope.trim() }
      : { word, respelling: value, scope: scope.trim() };
  });
}

/** The entries that apply to `voiceId`, one per word: an entry for the voice wins over a global one. */
export function entriesFor(lexicon: readonly LexiconEntry[], voiceId?: string): Map<string, LexiconEntry> {
  const out = new Map<string, LexiconEntry>();
  for (const e of lexicon) if (e.scope === 'global') out.set(e.word.toLowerCase(), e);
  if (voiceId) for (const e of lexicon) if (e.scope === voiceId) out.set(e.word.toLowerCase(), e);
  return out;
}

const escapeRe = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
/** Scripts written without spaces between words: their entries match anywhere. */
const UNSPACED = /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}]/u;

/** Splits `text` at the lexicon's words: respellings replace them, phonemes become their own segments. */
export function applyLexicon(text: string, entries: ReadonlyMap<string, LexiconEntry>): LexiconSegment[] {
  if (!entries.size) return [{ text }];
  const words = [...entries.values()].map((e) => e.word).sort((a, b) => b.length - a.length);
  const alternatives = words.map((w) =>
    UNSPACED.test(w) ? escapeRe(w) : `(?<![\\p{L}\\p{N}])${escapeRe(w)}(?![\\p{L}\\p{N}])`,
  );
  const re = new RegExp(alternatives.join('|'), 'giu');
  const out: LexiconSegment[] = [];
  let text_ = '';
  let last = 0;
  for (const m of text.matchAll(re)) {
    const e = entries.get(m[0].toLowerCase());
    if (!e) continue;
    text_ += text.slice(last, m.index);
    last = m.index + m[0].length;
    if (e.respelling !== undefined) text_ += e.respelling;
    else {
      if (text_) out.push({ text: text_ });
      text_ = '';
      out.push({ ipa: e.phonemes! });
    }
  }
  text_ += text.slice(last);
  if (text_) out.push({ text: text_ });
  return out;
}

/** A pronunciation lexicon entry that cannot be used. */
export class LexiconError extends Error {
  override name = 'LexiconError';
}
