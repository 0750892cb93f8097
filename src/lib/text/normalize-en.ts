// English text normalisation: what espeak-ng would misread or spell out becomes the words a reader says.
// URLs and e-mail addresses, titles and abbreviations, dates, times, money, percentages, ordinals, years,
// decimals, phone numbers, ranges, signs and symbols. Pure string functions, applied in this order.
import {
  cardinal,
  decimalWords,
  digitWords,
  ordinal,
  pluralWords,
  yearWords,
  type NumberStyle,
} from './numbers-en';

const MONTHS = [
  'January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October',
  'November', 'December',
]; // prettier-ignore

/** Month number (1–12) of a full or abbreviated month name ("Sept." too), else 0. */
function monthOf(name: string): number {
  const n = name.replace(/\.$/, '').toLowerCase();
  if (n === 'sept') return 9;
  const i = MONTHS.findIndex(
    (m) => m.toLowerCase() === n || (n.length === 3 && m.toLowerCase().startsWith(n)),
  );
  return i + 1;
}

const MONTH_RE =
  '(?:Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?|Sept?(?:ember)?|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)\\.?';

/** "." kept when an expansion ends the sentence (the text handed in is one sentence). */
const endDot = (text: string, offset: number, match: string) =>
  /^\s*["')\]”’]*\s*$/.test(text.slice(offset + match.length)) ? '.' : '';

// ---------------------------------------------------------------------------------------------------------
// URLs and e-mail addresses

const SPOKEN_SYMBOL: Record<string, string> = {
  '.': 'dot',
  '/': 'slash',
  ':': 'colon',
  '@': 'at',
  '?': 'question mark',
  '=': 'equals',
  '&': 'and',
  '#': 'hash',
  _: 'underscore',
  '~': 'tilde',
  '-': 'dash',
  '+': 'plus',
  '%': 'percent',
};

function speakAddress(addr: string): string {
  const body = addr.replace(/^https?:\/\//i, '').replace(/\/+$/, '');
  return body
    .split(/([./:@?=&#_~+%-])/)
    .filter(Boolean)
    .map((part) => {
      if (SPOKEN_SYMBOL[part]) return SPOKEN_SYMBOL[part];
      if (/^www$/i.test(part)) return 'W-W-W';
      if (/^\d+$/.test(part)) return digitWords(part);
      return part;
    })
    .join(' ');
}

const TLD =
  'com|org|net|edu|gov|io|dev|app|ai|co|uk|us|de|fr|es|it|nl|eu|info|me|tv|ly|gg|xyz|tech|ca|au|in|jp';
const URL_RE = new RegExp(
  `\\b(?:https?:\\/\\/|www\\.)[^\\s<>"]*[^\\s<>".,;:!?)\\]'”’]|\\b[a-z0-9][a-z0-9-]*(?:\\.[a-z0-9-]+)*\\.(?:${TLD})\\b(?:\\/[^\\s<>"]*[^\\s<>".,;:!?)\\]'”’])?`,
  'gi',
);
const EMAIL_RE = /\b[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}\b/g;

export function readAddresses(t: string): string {
  return t.replace(EMAIL_RE, (m) => speakAddress(m)).replace(URL_RE, (m) => speakAddress(m));
}

// ---------------------------------------------------------------------------------------------------------
// Abbreviations

/** Titles, read as words before a capitalised name (with or without the dot). */
const TITLES: Record<string, string> = {
  Mr: 'Mister',
  Mrs: 'Missus',
  Ms: 'Miz',
  Dr: 'Doctor',
  Prof: 'Professor',
  St: 'Saint',
  Mt: 'Mount',
  Gen: 'General',
  Sgt: 'Sergeant',
  Capt: 'Captain',
  Lt: 'Lieutenant',
  Col: 'Colonel',
  Rev: 'Reverend',
  Gov: 'Governor',
  Sen: 'Senator',
  Rep: 'Representative',
};

/** Abbreviations with a dot, read the same anywhere (the dot stays when they end the sentence). */
const ABBREVIATIONS: Record<string, string> = {
  'etc.': 'et cetera',
  'e.g.': 'for example',
  'i.e.': 'that is',
  'vs.': 'versus',
  'approx.': 'approximately',
  'Jr.': 'Junior',
  'Sr.': 'Senior',
  'Inc.': 'Incorporated',
  'Ltd.': 'Limited',
  'Corp.': 'Corporation',
  'Ave.': 'Avenue',
  'Rd.': 'Road',
  'Blvd.': 'Boulevard',
  'Dept.': 'Department',
  'St.': 'Street',
  'Dr.': 'Drive',
  'Mt.': 'Mount',
};

const escapeRe = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

export function expandAbbreviations(t: string): string {
  let out = t
    .replace(
      new RegExp(`\\b(${Object.keys(TITLES).join('|')})\\.(?=\\s+[A-Z])`, 'g'),
      (_m, k: string) => TITLES[k]!,
    )
    .replace(/\b(Mr|Mrs|Ms|Dr|St)\b(?=\s+[A-Z])/g, (_m, k: string) => TITLES[k]!);
  out = out.replace(/\b(No|Nos|Vol|Fig|Ch|pp?)\.\s*(?=\d)/g, (_m, k: string) => {
    const w: Record<string, string> = {
      No: 'number ',
      Nos: 'numbers ',
      Vol: 'volume ',
      Fig: 'figure ',
      Ch: 'chapter ',
      p: 'page ',
      pp: 'pages ',
    };
    return w[k]!;
  });
  const keys = Object.keys(ABBREVIATIONS).map(escapeRe).join('|');
  out = out.replace(
    new RegExp(`(?<![\\w.])(${keys})(?![\\w])`, 'gi'),
    (m: string, _k: string, offset: number, whole: string) => {
      const key = Object.keys(ABBREVIATIONS).find((k) => k.toLowerCase() === m.toLowerCase())!;
      // Title-case-only abbreviations ("St.", "Dr.") must match their case; "etc." may be "ETC.".
      if (/^[A-Z]/.test(key) && m !== key) return m;
      return ABBREVIATIONS[key]! + endDot(whole, offset, m);
    },
  );
  // Initialisms with dots: "U.S.A." → "U-S-A" (espeak reads each letter).
  out = out.replace(
    /\b(?:[A-Za-z]\.){2,}(?=\s|$|[,;:!?)"'])/g,
    (m: string, offset: number, whole: string) => {
      const letters = m.replace(/\.$/, '').split('.').join('-');
      return letters + endDot(whole, offset, m);
    },
  );
  return out;
}

// ---------------------------------------------------------------------------------------------------------
// Dates and times

function dateWords(month: number, day: number, year: string | undefined, british: boolean): string {
  const st: NumberStyle = { british };
  const m = MONTHS[month - 1]!;
  const d = ordinal(String(day), st);
  const y = year ? yearWords(year.length === 2 ? `20${year}` : year, st) : '';
  if (british) return `the ${d} of ${m}${y ? ` ${y}` : ''}`;
  return `${m} ${d}${y ? `, ${y}` : ''}`;
}

const validDate = (m: number, d: number) => m >= 1 && m <= 12 && d >= 1 && d <= 31;

export function readDates(t: string, british: boolean): string {
  let out = t.replace(/\b(\d{4})-(\d{2})-(\d{2})\b/g, (m, y: string, mo: string, d: string) =>
    validDate(Number(mo), Number(d)) ? dateWords(Number(mo), Number(d), y, british) : m,
  );
  out = out.replace(/\b(\d{1,2})\/(\d{1,2})\/(\d{4}|\d{2})\b/g, (m, a: string, b: string, y: string) => {
    const [mo, d] = british ? [Number(b), Number(a)] : [Number(a), Number(b)];
    return validDate(mo, d) ? dateWords(mo, d, y, british) : m;
  });
  out = out.replace(
    new RegExp(`\\b(${MONTH_RE})\\s+(\\d{1,2})(?:st|nd|rd|th)?\\b(?:,?\\s+(\\d{4})\\b)?`, 'g'),
    (m, mon: string, d: string, y: string | undefined) =>
      validDate(monthOf(mon), Number(d)) ? dateWords(monthOf(mon), Number(d), y, british) : m,
  );
  out = out.replace(
    new RegExp(
      // A "the" already before the day is kept once ("the 3rd of March" → "the third of March").
      `\\b(?:([Tt]he)\\s+)?(\\d{1,2})(?:st|nd|rd|th)?\\s+(?:of\\s+)?(${MONTH_RE})(?![\\w])(?:,?\\s+(\\d{4})\\b)?`,
      'g',
    ),
    (
      m: string,
      the: string | undefined,
      d: string,
      mon: string,
      y: string | undefined,
      offset: number,
      text: string,
    ) => {
      if (!validDate(monthOf(mon), Number(d))) return m;
      const words = dateWords(monthOf(mon), Number(d), y, true);
      // The month pattern takes a trailing "." (Mar.); when it also ended the sentence, keep one.
      const dot = mon.endsWith('.') && !y ? endDot(text, offset, m) : '';
      return (the ? `${the}${words.slice(3)}` : words) + dot;
    },
  );
  return out;
}

const MERIDIEM = '(?:\\s*([AaPp])\\.?\\s?[Mm]\\b\\.?)';

export function readTimes(t: string, st: NumberStyle): string {
  const meridiem = (x: string | undefined) => (x ? ` ${x.toUpperCase()}-M` : '');
  let out = t.replace(
    new RegExp(`\\b([01]?\\d|2[0-3]):([0-5]\\d)(?::([0-5]\\d))?(?![\\d:])${MERIDIEM}?`, 'g'),
    (
      m: string,
      h: string,
      mm: string,
      ss: string | undefined,
      ap: string | undefined,
      offset: number,
      whole: string,
    ) => {
      const hour = Number(h);
      const min = Number(mm);
      let words: string;
      if (min === 0 && ap) words = cardinal(h, st);
      else if (min === 0 && hour > 12) words = `${cardinal(h, st)} hundred`;
      else if (min === 0 && hour === 0) words = 'midnight';
      else if (min === 0) words = `${cardinal(h, st)} o'clock`;
      else if (min < 10) words = `${cardinal(h, st)} oh ${cardinal(mm, st)}`;
      else words = `${cardinal(h, st)} ${cardinal(mm, st)}`;
      if (ss) words += ` and ${cardinal(ss, st)} seconds`;
      return words + meridiem(ap) + (ap && m.endsWith('.') ? endDot(whole, offset, m) : '');
    },
  );
  out = out.replace(
    new RegExp(`\\b(1[0-2]|0?[1-9])${MERIDIEM}`, 'g'),
    (m: string, h: string, ap: string, offset: number, whole: string) =>
      cardinal(h, st) + meridiem(ap) + (m.endsWith('.') ? endDot(whole, offset, m) : ''),
  );
  return out;
}

// ---------------------------------------------------------------------------------------------------------
// Money and percentages

interface Currency {
  one: string;
  many: string;
  cent?: string;
  cents?: string;
}

const CURRENCIES: Record<string, Currency> = {
  $: { one: 'dollar', many: 'dollars', cent: 'cent', cents: 'cents' },
  USD: { one: 'dollar', many: 'dollars', cent: 'cent', cents: 'cents' },
  '£': { one: 'pound', many: 'pounds', cent: 'penny', cents: 'pence' },
  GBP: { one: 'pound', many: 'pounds', cent: 'penny', cents: 'pence' },
  '€': { one: 'euro', many: 'euros', cent: 'cent', cents: 'cents' },
  EUR: { one: 'euro', many: 'euros', cent: 'cent', cents: 'cents' },
  '¥': { one: 'yen', many: 'yen' },
  JPY: { one: 'yen', many: 'yen' },
  '₹': { one: 'rupee', many: 'rupees', cent: 'paisa', cents: 'paise' },
  INR: { one: 'rupee', many: 'rupees', cent: 'paisa', cents: 'paise' },
};

const SCALE_WORDS: Record<string, string> = {
  k: 'thousand',
  thousand: 'thousand',
  m: 'million',
  mn: 'million',
  million: 'million',
  b: 'billion',
  bn: 'billion',
  billion: 'billion',
  t: 'trillion',
  tn: 'trillion',
  trillion: 'trillion',
};

export function moneyWords(
  cur: Currency,
  whole: string,
  frac: string | undefined,
  scale: string | undefined,
  st: NumberStyle,
): string {
  const w = whole.replace(/,/g, '');
  if (scale) {
    const amount = frac ? decimalWords(`${w}.${frac}`, st) : cardinal(w, st);
    return `${amount} ${SCALE_WORDS[scale.toLowerCase()]} ${cur.many}`;
  }
  if (frac !== undefined && (frac.length > 2 || !cur.cent))
    return `${decimalWords(`${w}.${frac}`, st)} ${cur.many}`;
  const units = Number(w);
  const cents = frac ? Number(frac.padEnd(2, '0')) : 0;
  const main = `${cardinal(w, st)} ${units === 1 ? cur.one : cur.many}`;
  if (!cents) return main;
  const small = `${cardinal(String(cents), st)} ${cents === 1 ? cur.cent : cur.cents}`;
  return units ? `${main} and ${small}` : small;
}

const AMOUNT = '(\\d{1,3}(?:,\\d{3})+|\\d+)(?:\\.(\\d+))?';
const SCALE = '(?:\\s?(thousand|million|billion|trillion|[kKmMbBtT]n?)\\b)?';

export function readMoney(t: string, st: NumberStyle): string {
  const sym = '([$£€¥₹])';
  let out = t.replace(new RegExp(`${sym}\\s?${AMOUNT}${SCALE}`, 'g'), (_m, c: string, w: string, f, s) =>
    moneyWords(CURRENCIES[c]!, w, f as string | undefined, s as string | undefined, st),
  );
  out = out.replace(
    new RegExp(`\\b${AMOUNT}${SCALE}\\s?(?:([€£¥₹$])|\\b(USD|EUR|GBP|JPY|INR)\\b)`, 'g'),
    (_m, w: string, f, s, c1: string | undefined, c2: string | undefined) =>
      moneyWords(CURRENCIES[(c1 ?? c2)!]!, w, f as string | undefined, s as string | undefined, st),
  );
  return out;
}

export function readPercent(t: string, st: NumberStyle): string {
  return t.replace(
    /(^|[^\d.,])(-)?(\d{1,3}(?:,\d{3})+|\d+)(?:\.(\d+))?\s?%/g,
    (_m, pre: string, neg, w: string, f) => {
      const n = f
        ? decimalWords(`${w.replace(/,/g, '')}.${f as string}`, st)
        : cardinal(w.replace(/,/g, ''), st);
      return `${pre}${neg ? 'minus ' : ''}${n} percent`;
    },
  );
}

// ---------------------------------------------------------------------------------------------------------
// Numbers

function fractionWords(num: string, den: string, st: NumberStyle): string {
  const n = Number(num);
  const d = Number(den);
  if (d === 0 || d === 1) return `${cardinal(num, st)} over ${cardinal(den, st)}`;
  const unit = d === 2 ? 'half' : d === 4 ? 'quarter' : ordinal(den, st);
  const plural = n === 1 ? unit : unit === 'half' ? 'halves' : `${unit}s`;
  return `${cardinal(num, st)} ${plural}`;
}

export function readNumbers(t: string, st: NumberStyle): string {
  let out = t;
  // Phone numbers: digit groups, read digit by digit with a pause between groups.
  out = out.replace(
    /(?<![\d-])(?:\+?1[\s.-])?\(?\d{3}\)?[\s.-]\d{3}[\s.-]\d{4}(?![\d-])|(?<![\d-])\d{3}-\d{4}(?![\d-])/g,
    (m) => m.split(/\D+/).filter(Boolean).map(digitWords).join(', '),
  );
  out = out.replace(/#\s?(?=\d)/g, 'number ');
  out = out.replace(/\b(\d{1,3}(?:,\d{3})+|\d+)(st|nd|rd|th)\b/gi, (_m, n: string) =>
    ordinal(n.replace(/,/g, ''), st),
  );
  // Fractions: "1/2" → "one half", "3/4" → "three quarters", "2/3" → "two thirds".
  out = out.replace(/(?<![\d/])(\d{1,2})\/(\d{1,2})(?![\d/])/g, (_m, a: string, b: string) =>
    fractionWords(a, b, st),
  );
  // Ranges and scores: "5-10" → "5 to 10".
  out = out.replace(/(\d)\s?[-–]\s?(?=\d)/g, '$1 to ');
  // Signs: "-5" at a word start → "minus 5"; "+5" → "plus 5".
  out = out.replace(/(^|[\s(])[-−](?=\d)/g, '$1minus ').replace(/(^|[\s(])\+(?=\d)/g, '$1plus ');
  // Years and decades: 1100–2099 without a group comma.
  out = out.replace(
    /(?<![\d.,])(1[1-9]\d\d|20\d\d)(s)?(?![\d]|[.,]\d)/g,
    (_m, y: string, s: string | undefined) => (s ? pluralWords(yearWords(y, st)) : yearWords(y, st)),
  );
  // Decimals, then grouped and plain integers.
  out = out.replace(/(\d{1,3}(?:,\d{3})+|\d*)\.(\d+)/g, (_m, w: string, f: string) =>
    decimalWords(`${w.replace(/,/g, '')}.${f}`, st),
  );
  out = out.replace(/\d{1,3}(?:,\d{3})+(?!\d)/g, (m) => cardinal(m.replace(/,/g, ''), st));
  out = out.replace(/\d+/g, (m, offset: number, whole: string) => {
    const before = whole[offset - 1] ?? ' ';
    const after = whole[offset + m.length] ?? ' ';
    const words = cardinal(m, st);
    return `${/[A-Za-z]/.test(before) ? ' ' : ''}${words}${/[A-Za-z]/.test(after) ? ' ' : ''}`;
  });
  return out;
}

// ---------------------------------------------------------------------------------------------------------
// Symbols

export function readSymbols(t: string): string {
  return t
    .replace(/°\s?C\b/g, ' degrees Celsius')
    .replace(/°\s?F\b/g, ' degrees Fahrenheit')
    .replace(/°/g, ' degrees')
    .replace(/\s*&\s*/g, ' and ')
    .replace(/\s*\+\s*/g, ' plus ')
    .replace(/\s*=\s*/g, ' equals ')
    .replace(/\s*@\s*/g, ' at ')
    .replace(/\s*%/g, ' percent')
    .replace(/\s*[×✕]\s*/g, ' times ')
    .replace(/\s*÷\s*/g, ' divided by ')
    .replace(/#(?=\p{L})/gu, 'hashtag ')
    .replace(/(\p{L})\/(?=\p{L})/gu, '$1 ')
    .replace(/[*_^|\\`~<>{}[\]#/]/g, ' ');
}

/** The whole English pass (the text is one sentence or less). */
export function normalizeEnglish(text: string, british: boolean): string {
  const st: NumberStyle = { british };
  let t = readAddresses(text);
  t = readTimes(t, st);
  t = expandAbbreviations(t);
  t = readDates(t, british);
  t = readMoney(t, st);
  t = readPercent(t, st);
  t = readNumbers(t, st);
  t = readSymbols(t);
  return t;
}
