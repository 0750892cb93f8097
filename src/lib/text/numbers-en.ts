// English number words: cardinals, ordinals, years, decimals and digit strings. Pure functions over digit
// strings, so numbers of any length are exact (past the quadrillions they are read digit by digit).

const ONES = [
  'zero', 'one', 'two', 'three', 'four', 'five', 'six', 'seven', 'eight', 'nine', 'ten', 'eleven', 'twelve',
  'thirteen', 'fourteen', 'fifteen', 'sixteen', 'seventeen', 'eighteen', 'nineteen',
]; // prettier-ignore
const TENS = ['', '', 'twenty', 'thirty', 'forty', 'fifty', 'sixty', 'seventy', 'eighty', 'ninety'];
const SCALES = ['', 'thousand', 'million', 'billion', 'trillion', 'quadrillion'];

export interface NumberStyle {
  /** British English says "one hundred and five". */
  british?: boolean;
}

function below100(n: number): string {
  if (n < 20) return ONES[n]!;
  const t = TENS[Math.floor(n / 10)]!;
  return n % 10 ? `${t}-${ONES[n % 10]}` : t;
}

function below1000(n: number, style: NumberStyle): string {
  const h = Math.floor(n / 100);
  const r = n % 100;
  const parts: string[] = [];
  if (h) parts.push(`${ONES[h]} hundred`);
  if (r) parts.push(h && style.british ? `and ${below100(r)}` : below100(r));
  return parts.join(' ');
}

/** Each digit as a word: "2048" → "two zero four eight". */
export function digitWords(digits: string): string {
  return [...digits].map((d) => ONES[Number(d)] ?? d).join(' ');
}

/** "1234" → "one thousand two hundred thirty-four" (British: "… two hundred and thirty-four"). */
export function cardinal(digits: string, style: NumberStyle = {}): string {
  const clean = digits.replace(/^0+(?=\d)/, '');
  if (!/^\d+$/.test(clean)) throw new RangeError(`Not a digit string: "${digits}"`);
  if (clean.length > SCALES.length * 3) return digitWords(clean);
  if (clean === '0') return 'zero';
  const groups: number[] = [];
  for (let end = clean.length; end > 0; end -= 3)
    groups.unshift(Number(clean.slice(Math.max(0, end - 3), end)));
  const words: string[] = [];
  groups.forEach((g, i) => {
    if (!g) return;
    const scale = SCALES[groups.length - 1 - i]!;
    const isLast = i === groups.length - 1;
    // British "one thousand and five": an "and" before a last group under 100.
    const text =
      style.british && isLast && groups.length > 1 && g < 100 ? `and ${below100(g)}` : below1000(g, style);
    words.push(scale ? `${text} ${scale}` : text);
  });
  return words.join(' ');
}

const IRREGULAR: Record<string, string> = {
  one: 'first',
  two: 'second',
  three: 'third',
  five: 'fifth',
  eight: 'eighth',
  nine: 'ninth',
  twelve: 'twelfth',
};

/** Turns the last word of a cardinal into its ordinal: "twenty-one" → "twenty-first". */
export function ordinalOf(words: string): string {
  const m = /([a-z]+)$/.exec(words);
  if (!m) return words;
  const w = m[1]!;
  const ord = IRREGULAR[w] ?? (w.endsWith('y') ? `${w.slice(0, -1)}ieth` : `${w}th`);
  return words.slice(0, m.index) + ord;
}

/** "21" → "twenty-first". */
export function ordinal(digits: string, style: NumberStyle = {}): string {
  return ordinalOf(cardinal(digits, style));
}

/**
 * A year as people say it: 1984 → "nineteen eighty-four", 1900 → "nineteen hundred", 1905 → "nineteen oh
 * five", 2005 → "two thousand five", 2024 → "twenty twenty-four". Outside 1000–2099: the cardinal.
 */
export function yearWords(digits: string, style: NumberStyle = {}): string {
  const y = Number(digits);
  if (!/^\d{4}$/.test(digits) || y < 1000 || y > 2099) return cardinal(digits, style);
  if (y >= 2000 && y < 2010) return cardinal(digits, style);
  if (y % 1000 === 0) return cardinal(digits, style);
  const hi = Math.floor(y / 100);
  const lo = y % 100;
  if (lo === 0) return `${below100(hi)} hundred`;
  if (lo < 10) return `${below100(hi)} oh ${ONES[lo]}`;
  return `${below100(hi)} ${below100(lo)}`;
}

/** Plural of a number word, as in "the 1990s" → "the nineteen nineties". */
export function pluralWords(words: string): string {
  if (words.endsWith('y')) return `${words.slice(0, -1)}ies`;
  if (words.endsWith('x')) return `${words}es`;
  return `${words}s`;
}

/** "3.14" → "three point one four"; ".5" → "point five"; "-2.5" → "minus two point five". */
export function decimalWords(text: string, style: NumberStyle = {}): string {
  const m = /^(-)?(\d*)\.(\d+)$/.exec(text.replace(/,/g, ''));
  if (!m) return cardinal(text.replace(/[^\d]/g, '') || '0', style);
  const int = m[2] ? `${cardinal(m[2], style)} ` : '';
  return `${m[1] ? 'minus ' : ''}${int}point ${digitWords(m[3]!)}`;
}
