/**
 * Sentence splitting that does not break inside abbreviations, decimals, URLs, e-mail addresses,
 * ellipses followed by lower case, or quotations; long sentences are cut further at clause marks so no
 * piece passes `maxChars` (never truncated: every character of the input lands in some piece).
 */
const ABBREVIATIONS = new Set(
  [
    'mr', 'mrs', 'ms', 'dr', 'prof', 'sr', 'jr', 'st', 'mt', 'vs', 'etc', 'e.g', 'i.e', 'cf', 'fig', 'no', 'vol',
    'approx', 'dept', 'est', 'inc', 'ltd', 'co', 'corp', 'jan', 'feb', 'mar', 'apr', 'jun', 'jul', 'aug', 'sep',
    'sept', 'oct', 'nov', 'dec', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun', 'a.m', 'p.m', 'u.s', 'u.k',
    'gen', 'gov', 'sgt', 'capt', 'lt', 'col', 'rev', 'ave', 'blvd', 'rd', 'p', 'pp', 'ch', 'sec', 'min', 'max',
  ],
); // prettier-ignore

const CLOSERS = `"'”’»)]}」』`;
const OPENERS = `"'“‘«([{「『`;

export interface SplitOptions {
  /** Longest piece, in characters (default 400). */
  maxChars?: number;
}

export function splitSentences(text: string, opts: SplitOptions = {}): string[] {
  const maxChars = opts.maxChars ?? 400;
  const out: string[] = [];
  for (const para of text.split(/\n\s*\n/)) {
    for (const s of splitParagraph(para)) out.push(...splitLong(s, maxChars));
  }
  return out.filter((s) => s.length > 0);
}

function splitParagraph(para: string): string[] {
  const text = para.replace(/\s+/g, ' ').trim();
  if (!text) return [];
  const pieces: string[] = [];
  let start = 0;
  let quoteDepth = 0;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (ch === '“' || ch === '«' || ch === '「' || ch === '『') quoteDepth++;
    else if (ch === '”' || ch === '»' || ch === '」' || ch === '』') quoteDepth = Math.max(0, quoteDepth - 1);
    else if (ch === '"') quoteDepth = quoteDepth > 0 ? quoteDepth - 1 : 1;
    if (!'.!?。！？'.includes(ch)) continue;
    // Take the whole run of terminal marks and closing quotes/brackets.
    let end = i + 1;
    while (end < text.length && ('.!?。！？'.includes(text[end]!) || CLOSERS.includes(text[end]!))) {
      if (text[end] === '"' || text[end] === '”' || text[end] === '»')
        quoteDepth = Math.max(0, quoteDepth - 1);
      end++;
    }
    const cjk = '。！？'.includes(ch);
    const next = text[end];
    if (!cjk && next !== undefined && next !== ' ') {
      i = end - 1;
      continue; // "3.14", "example.com", "e.g.x" — no space after the mark, not a sentence end
    }
    if (quoteDepth > 0 && !CLOSERS.includes(text[end - 1]!)) {
      i = end - 1;
      continue; // inside an open quotation
    }
    if (ch === '.' && !isSentenceDot(text, i, end)) {
      i = end - 1;
      continue;
    }
    pieces.push(text.slice(start, end).trim());
    start = end;
    i = end - 1;
  }
  if (start < text.length) pieces.push(text.slice(start).trim());
  return pieces.filter(Boolean);
}

function isSentenceDot(text: string, dot: number, end: number): boolean {
  const before = /([\p{L}.]+)$/u.exec(text.slice(0, dot))?.[1] ?? '';
  const word = before.toLowerCase();
  if (ABBREVIATIONS.has(word)) return false;
  if (/^\p{Lu}$/u.test(before)) return false; // an initial: "J. R. R. Tolkien"
  // An ellipsis followed by a lower-case word continues the sentence.
  const rest = text.slice(end).trimStart();
  const first = rest[0] ?? '';
  if (text.slice(dot, end).startsWith('...') && /\p{Ll}/u.test(first)) return false;
  if (OPENERS.includes(first) || /[\p{Lu}\p{N}\p{Lo}]/u.test(first) || first === '') return true;
  return !/\p{Ll}/u.test(first);
}

/** Cuts a too-long sentence at ; : then , — then spaces, so every piece fits. */
function splitLong(s: string, maxChars: number): string[] {
  if (s.length <= maxChars) return [s];
  for (const marks of [/[;:]\s/g, /[,—–]\s/g, /\s/g]) {
    const cuts = [...s.matchAll(marks)].map((m) => (m.index ?? 0) + m[0].length);
    if (cuts.length === 0) continue;
    const out: string[] = [];
    let start = 0;
    let last = 0;
    for (const c of [...cuts, s.length]) {
      if (c - start > maxChars && last > start) {
        out.push(s.slice(start, last).trim());
        start = last;
      }
      last = c;
    }
    out.push(s.slice(start).trim());
    if (out.every((p) => p.length <= maxChars)) return out.filter(Boolean);
    return out.flatMap((p) => splitLong(p, maxChars));
  }
  // One unbroken run of characters: cut it hard rather than drop anything.
  const out: string[] = [];
  for (let i = 0; i < s.length; i += maxChars) out.push(s.slice(i, i + maxChars));
  return out;
}
