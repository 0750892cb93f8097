// Text normalisation per language, before phonemisation. English is thorough (normalize-en.ts). The other
// languages leave numbers to espeak-ng, which reads digits, decimals, thousands and percentages in each of
// them, and only rewrite what espeak misreads: currency symbols (read after the amount, in the plural),
// URLs and e-mail addresses, & + = @, and for Japanese and Chinese the marks espeak reads in English.
import { isEnglish, type TtsLanguage } from '../voices/languages';
import { normalizeEnglish } from './normalize-en';

/** Punctuation every language shares, as the Kokoro vocabulary writes it (kokoro-js does the same). */
export function normalizePunctuation(text: string): string {
  return text
    .normalize('NFC')
    .replace(/[‘’‚‛]/g, "'")
    .replace(/[«“„‟”»「」『』]/g, '"')
    .replace(/、/g, ', ')
    .replace(/。/g, '. ')
    .replace(/！/g, '! ')
    .replace(/，/g, ', ')
    .replace(/：/g, ': ')
    .replace(/；/g, '; ')
    .replace(/？/g, '? ')
    .replace(/\s*[।॥]/g, '. ')
    .replace(/（/g, ' (')
    .replace(/）/g, ') ')
    .replace(/\.{3,}/g, '…')
    .replace(/\s*--+\s*/g, ' — ')
    .replace(/\s+[–-]\s+/g, ' — ')
    .replace(/[^\S\n]+/g, ' ')
    .replace(/ ?\n ?/g, '\n')
    .trim();
}

interface LangWords {
  dot: string;
  at: string;
  slash: string;
  and: string;
  plus: string;
  equals: string;
  /** Written after the number ("50 por ciento"); null: espeak reads "%" itself in this language. */
  percent: string | null;
  /** Currency words [one, many], by symbol. */
  money: Record<string, [string, string]>;
}

const WORDS: Record<Exclude<TtsLanguage, 'en-us' | 'en-gb'>, LangWords> = {
  es: {
    dot: 'punto',
    at: 'arroba',
    slash: 'barra',
    and: 'y',
    plus: 'más',
    equals: 'igual a',
    percent: null,
    money: {
      $: ['dólar', 'dólares'],
      '€': ['euro', 'euros'],
      '£': ['libra', 'libras'],
      '¥': ['yen', 'yenes'],
    },
  },
  'fr-fr': {
    dot: 'point',
    at: 'arobase',
    slash: 'barre oblique',
    and: 'et',
    plus: 'plus',
    equals: 'égale',
    percent: null,
    money: {
      $: ['dollar', 'dollars'],
      '€': ['euro', 'euros'],
      '£': ['livre', 'livres'],
      '¥': ['yen', 'yens'],
    },
  },
  it: {
    dot: 'punto',
    at: 'chiocciola',
    slash: 'barra',
    and: 'e',
    plus: 'più',
    equals: 'uguale a',
    percent: null,
    money: {
      $: ['dollaro', 'dollari'],
      '€': ['euro', 'euro'],
      '£': ['sterlina', 'sterline'],
      '¥': ['yen', 'yen'],
    },
  },
  'pt-br': {
    dot: 'ponto',
    at: 'arroba',
    slash: 'barra',
    and: 'e',
    plus: 'mais',
    equals: 'igual a',
    percent: null,
    money: {
      R$: ['real', 'reais'],
      $: ['dólar', 'dólares'],
      '€': ['euro', 'euros'],
      '£': ['libra', 'libras'],
      '¥': ['iene', 'ienes'],
    },
  },
  hi: {
    dot: 'डॉट',
    at: 'ऐट',
    slash: 'स्लैश',
    and: 'और',
    plus: 'प्लस',
    equals: 'बराबर',
    percent: null,
    money: { '₹': ['रुपया', 'रुपये'], $: ['डॉलर', 'डॉलर'], '€': ['यूरो', 'यूरो'], '£': ['पाउंड', 'पाउंड'] },
  },
  // espeak-ng reads Japanese kana, not kanji: the words here are kana.
  ja: {
    dot: 'ドット',
    at: 'アット',
    slash: 'スラッシュ',
    and: 'アンド',
    plus: 'プラス',
    equals: 'イコール',
    percent: 'パーセント',
    money: {
      $: ['ドル', 'ドル'],
      '€': ['ユーロ', 'ユーロ'],
      '£': ['ポンド', 'ポンド'],
      '¥': ['えん', 'えん'],
      円: ['えん', 'えん'],
    },
  },
  zh: {
    dot: '点',
    at: '艾特',
    slash: '斜杠',
    and: '和',
    plus: '加',
    equals: '等于',
    percent: '%', // handled apart: 百分之 comes before the number
    money: {
      $: ['美元', '美元'],
      '€': ['欧元', '欧元'],
      '£': ['英镑', '英镑'],
      '¥': ['元', '元'],
      '₹': ['卢比', '卢比'],
    },
  },
};

const ADDRESS_RE =
  /\b[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}\b|\b(?:https?:\/\/|www\.)[^\s<>"]*[^\s<>".,;:!?)\]'"]/gi;

function readAddress(addr: string, w: LangWords): string {
  return addr
    .replace(/^https?:\/\//i, '')
    .replace(/\/+$/, '')
    .split(/([./@:])/)
    .filter(Boolean)
    .map((p) => (p === '.' ? w.dot : p === '/' ? w.slash : p === '@' ? w.at : p === ':' ? '' : p))
    .join(' ');
}

const escapeRe = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

function readMoney(t: string, w: LangWords): string {
  const syms = Object.keys(w.money)
    .sort((a, b) => b.length - a.length)
    .map(escapeRe)
    .join('|');
  const amount = '(\\d[\\d.,\\s]*\\d|\\d)';
  const word = (sym: string, n: string) => {
    const [one, many] = w.money[sym]!;
    return /^0*1$/.test(n.trim()) ? one : many;
  };
  return t
    .replace(
      new RegExp(`(${syms})\\s?${amount}`, 'g'),
      (_m, sym: string, n: string) => `${n} ${word(sym, n)}`,
    )
    .replace(
      new RegExp(`${amount}\\s?(${syms})(?!\\p{L})`, 'gu'),
      (_m, n: string, sym: string) => `${n} ${word(sym, n)}`,
    );
}

/** Japanese and Chinese numbers: espeak skips the decimal point and reads "12:30" poorly. */
function readCjkNumbers(t: string, lang: 'ja' | 'zh'): string {
  if (lang === 'zh')
    return t
      .replace(/(\d+(?:\.\d+)?)\s?%/g, '百分之$1')
      .replace(/\b([01]?\d|2[0-3]):([0-5]\d)\b/g, '$1点$2分')
      .replace(/(\d)\.(\d)/g, '$1点$2');
  return t
    .replace(/(\d+(?:\.\d+)?)\s?%/g, '$1パーセント')
    .replace(/\b([01]?\d|2[0-3]):([0-5]\d)\b/g, '$1じ$2ふん')
    .replace(/(\d)\.(\d)/g, '$1てん$2');
}

function normalizeOther(text: string, lang: keyof typeof WORDS): string {
  const w = WORDS[lang];
  let t = text.replace(ADDRESS_RE, (m) => readAddress(m, w));
  t = readMoney(t, w);
  if (lang === 'ja' || lang === 'zh') t = readCjkNumbers(t, lang);
  else if (w.percent) t = t.replace(/\s?%/g, ` ${w.percent}`);
  return t
    .replace(/\s*&\s*/g, ` ${w.and} `)
    .replace(/\s*\+\s*/g, ` ${w.plus} `)
    .replace(/\s*=\s*/g, ` ${w.equals} `)
    .replace(/\s*@\s*/g, ` ${w.at} `)
    .replace(/[*_^|\\`~<>{}[\]#]/g, ' ');
}

/**
 * The text a reader would say, for one sentence (or any text: paragraphs are kept). Pure; the same input
 * gives the same output.
 */
export function normalizeText(text: string, language: TtsLanguage): string {
  const t = normalizePunctuation(text);
  const out = isEnglish(language) ? normalizeEnglish(t, language === 'en-gb') : normalizeOther(t, language);
  return out
    .replace(/[^\S\n]+/g, ' ')
    .replace(/ ([,.;:!?…)])/g, '$1')
    .replace(/\( /g, '(')
    .trim();
}
