// Text → Kokoro phonemes: lexicon, normalisation, espeak-ng around kept punctuation, then the clean-up
// upstream applies to espeak's output.
//
// Punctuation: espeak-ng drops it, so (as kokoro-js does) the text is split around runs of ;:,.!?¡¿—…"«»“”
// ()[]{}, the runs are kept as they are and only the text between them is phonemised.
// Clean-up, English (en-us, en-gb): kokoro-js's, minus its "kokoro" fix: ʲ→j, r→ɹ, x→k, ɬ→l (Kokoro's
// English has only ɹ; ɬ is not in the vocabulary), a space before "hundred", " z" joined to its word, and
// in en-us "nˈaɪnti" → "nˈaɪndi".
// Clean-up, other languages: misaki's EspeakG2P, which made the voices' training phonemes: espeak's tied
// pairs become the vocabulary's single symbols (a^ɪ→I, a^ʊ→W, d^z→ʣ, d^ʒ→ʤ, e^ɪ→A, o^ʊ→O, ə^ʊ→Q, s^s→S,
// t^s→ʦ, t^ʃ→ʧ, ɔ^ɪ→Y), language-switch flags are removed, then remaining ties and hyphens. Japanese and
// Chinese have their own G2P upstream (no JavaScript port): espeak stands in, with t^ɕ→ʨ, d^ʑ→ʥ (and ^h→ʰ
// in Chinese), which the vocabulary has; espeak's Chinese tone marks have no Kokoro token and are removed,
// and kanji, which espeak-ng's Japanese cannot read, are skipped (and counted). Combining diacritics other
// than the nasal tilde (which the vocabulary has) are removed, leaving their base letter, and Japanese "ä"
// (espeak's central a) becomes "a".
import { englishEspeak, fullEspeak, type SectionPhonemizer } from './espeak';
import { ESPEAK_VOICE, isEnglish, type TtsLanguage } from '../voices/languages';
import { applyLexicon, entriesFor, type LexiconEntry } from '../text/lexicon';
import { normalizeText } from '../text/normalize';

export interface PhonemizeOptions {
  lexicon?: readonly LexiconEntry[];
  /** Voice whose lexicon entries apply (with the global ones). */
  voiceId?: string;
  /** Replaces espeak-ng (tests). */
  espeak?: SectionPhonemizer;
}

export interface Phonemized {
  phonemes: string;
  /** Characters espeak-ng cannot read and that were left out (kanji in Japanese). */
  skipped: number;
}

const PUNCTUATION_RUN = /(?:\s*[;:,.!?¡¿—…"«»“”(){}[\]]+\s*)+/g;

/** Punctuation as the vocabulary has it: no ¡ ¿ « » [ ] { }. */
function kokoroPunctuation(run: string): string {
  return run
    .replace(/[¡¿]/g, '')
    .replace(/«/g, '“')
    .replace(/»/g, '”')
    .replace(/[[{]/g, '(')
    .replace(/[\]}]/g, ')');
}

const E2M: [string, string][] = [
  ['a^ɪ', 'I'],
  ['a^ʊ', 'W'],
  ['d^z', 'ʣ'],
  ['d^ʒ', 'ʤ'],
  ['e^ɪ', 'A'],
  ['o^ʊ', 'O'],
  ['ə^ʊ', 'Q'],
  ['s^s', 'S'],
  ['t^s', 'ʦ'],
  ['t^ʃ', 'ʧ'],
  ['ɔ^ɪ', 'Y'],
];
const CJK_E2M: [string, string][] = [
  ['t^ɕ', 'ʨ'],
  ['d^ʑ', 'ʥ'],
];

/** Clean-up of one espeak section (never applied to lexicon phonemes or kept punctuation). */
export function cleanEspeak(ps: string, language: TtsLanguage): string {
  if (isEnglish(language)) {
    let out = ps
      .replace(/ʲ/g, 'j')
      .replace(/r/g, 'ɹ')
      .replace(/x/g, 'k')
      .replace(/ɬ/g, 'l')
      .replace(/(?<=[a-zɹː])(?=hˈʌndɹɪd)/g, ' ');
    if (language === 'en-us') out = out.replace(/(?<=nˈaɪn)ti(?!ː)/g, 'di');
    return out;
  }
  let out = ps.replace(/\((?:\^?[a-z-])+\)/g, ''); // language-switch flags: "(^e^n)"
  // Diacritics the vocabulary lacks (all but the nasal tilde) leave their base letter: "o̞" → "o".
  out = out.replace(/[\u0300-\u0302\u0304-\u036f]/g, '');
  if (language === 'ja') out = out.replace(/ä/g, 'a');
  if (language === 'zh') out = out.replace(/[0-9ɜ]/g, '').replace(/\^h/g, 'ʰ');
  if (language === 'zh' || language === 'ja') for (const [a, b] of CJK_E2M) out = out.replaceAll(a, b);
  for (const [a, b] of E2M) out = out.replaceAll(a, b);
  // Ties left, hyphens (espeak's word joins) and syllable dots are not sounds.
  return out.replace(/[\^\-.]/g, '');
}

interface Piece {
  kind: 'text' | 'punct' | 'ipa';
  value: string;
}

const HAN = /\p{Script=Han}/gu;

/** Keeps the spaces around a text segment that normalisation would trim. */
function normalizeKeepingEdges(text: string, language: TtsLanguage): string {
  const core = normalizeText(text, language);
  if (!core) return /\s/.test(text) ? ' ' : '';
  return (/^\s/.test(text) ? ' ' : '') + core + (/\s$/.test(text) ? ' ' : '');
}

/**
 * Phonemes of each text (a sentence or less), in one espeak-ng batch. Lexicon phonemes are kept verbatim;
 * respellings are read instead of their words.
 */
export async function phonemizeTexts(
  texts: readonly string[],
  language: TtsLanguage,
  opts: PhonemizeOptions = {},
): Promise<Phonemized[]> {
  const entries = entriesFor(opts.lexicon ?? [], opts.voiceId);
  const skipped = texts.map(() => 0);
  const plans: Piece[][] = texts.map((text, t) =>
    applyLexicon(text, entries).flatMap((seg): Piece[] => {
      if ('ipa' in seg) return [{ kind: 'ipa', value: ` ${seg.ipa} ` }];
      let norm = normalizeKeepingEdges(seg.text, language);
      if (language === 'ja')
        norm = norm.replace(HAN, () => {
          skipped[t]!++;
          return ' ';
        });
      const pieces: Piece[] = [];
      let last = 0;
      for (const m of norm.matchAll(PUNCTUATION_RUN)) {
        // "3,5", "1.234", "12:30" are numbers for espeak to read, not punctuation.
        if (/^[.,:]$/.test(m[0]) && /\d/.test(norm[m.index - 1] ?? '') && /\d/.test(norm[m.index + 1] ?? ''))
          continue;
        if (m.index > last) pieces.push({ kind: 'text', value: norm.slice(last, m.index) });
        pieces.push({ kind: 'punct', value: kokoroPunctuation(m[0]) });
        last = m.index + m[0].length;
      }
      if (last < norm.length) pieces.push({ kind: 'text', value: norm.slice(last) });
      return pieces;
    }),
  );

  const sections = plans.flatMap((p) => p.filter((x) => x.kind === 'text').map((x) => x.value));
  const espeak = opts.espeak ?? (isEnglish(language) ? englishEspeak : fullEspeak);
  const phonemes = sections.length ? await espeak(sections, ESPEAK_VOICE[language]) : [];
  let k = 0;
  return plans.map((plan, t) => {
    let ps = '';
    for (const piece of plan) {
      if (piece.kind !== 'text') ps += piece.value;
      else {
        const raw = phonemes[k++] ?? '';
        // A section's edges: espeak drops the spaces that separate it from its neighbours.
        const lead = /^\s/.test(piece.value) && ps && !/\s$/.test(ps) ? ' ' : '';
        ps += lead + cleanEspeak(raw, language) + (/\s$/.test(piece.value) ? ' ' : '');
      }
    }
    if (isEnglish(language)) ps = ps.replace(/ z(?=[;:,.!?¡¿—…"«»“” ]|$)/g, 'z');
    ps = ps.replace(/\s+/g, ' ').replace(/ ([;:,.!?…])/g, '$1');
    return { phonemes: ps.trim(), skipped: skipped[t]! };
  });
}

/** Phonemes of one text. */
export async function phonemize(
  text: string,
  language: TtsLanguage,
  opts: PhonemizeOptions = {},
): Promise<string> {
  return (await phonemizeTexts([text], language, opts))[0]!.phonemes;
}
