// Text normalisation: what espeak-ng is handed, per language.
import { describe, expect, it } from 'vitest';
import { normalizeText } from '../../src/lib/text/normalize';
import { cardinal, decimalWords, ordinal, yearWords } from '../../src/lib/text/numbers-en';

describe('English number words', () => {
  it.each([
    ['0', 'zero'],
    ['7', 'seven'],
    ['13', 'thirteen'],
    ['40', 'forty'],
    ['99', 'ninety-nine'],
    ['100', 'one hundred'],
    ['101', 'one hundred one'],
    ['1000', 'one thousand'],
    ['1001', 'one thousand one'],
    ['123456', 'one hundred twenty-three thousand four hundred fifty-six'],
    ['1000000', 'one million'],
    ['2000000001', 'two billion one'],
    ['007', 'seven'],
  ])('cardinal %s → %s', (n, words) => expect(cardinal(n)).toBe(words));

  it('British cardinals say "and"', () => {
    expect(cardinal('105', { british: true })).toBe('one hundred and five');
    expect(cardinal('1005', { british: true })).toBe('one thousand and five');
    expect(cardinal('2350', { british: true })).toBe('two thousand three hundred and fifty');
  });

  it.each([
    ['1', 'first'],
    ['2', 'second'],
    ['3', 'third'],
    ['4', 'fourth'],
    ['5', 'fifth'],
    ['8', 'eighth'],
    ['9', 'ninth'],
    ['12', 'twelfth'],
    ['20', 'twentieth'],
    ['21', 'twenty-first'],
    ['100', 'one hundredth'],
    ['111', 'one hundred eleventh'],
  ])('ordinal %s → %s', (n, words) => expect(ordinal(n)).toBe(words));

  it.each([
    ['1984', 'nineteen eighty-four'],
    ['1900', 'nineteen hundred'],
    ['1905', 'nineteen oh five'],
    ['2000', 'two thousand'],
    ['2005', 'two thousand five'],
    ['2010', 'twenty ten'],
    ['2024', 'twenty twenty-four'],
    ['1066', 'ten sixty-six'],
  ])('year %s → %s', (n, words) => expect(yearWords(n)).toBe(words));

  it('decimals read their digits one by one', () => {
    expect(decimalWords('3.14')).toBe('three point one four');
    expect(decimalWords('.5')).toBe('point five');
    expect(decimalWords('0.05')).toBe('zero point zero five');
  });

  it('reads very long numbers digit by digit instead of failing', () => {
    expect(cardinal('1234567890123456789012')).toBe(
      'one two three four five six seven eight nine zero one two three four five six seven eight nine zero one two',
    );
  });
});

const us = (t: string) => normalizeText(t, 'en-us');
const gb = (t: string) => normalizeText(t, 'en-gb');

describe('English normalisation', () => {
  it.each([
    // numbers
    ['I have 3 cats.', 'I have three cats.'],
    [
      'It costs 1,234,567 yen',
      'It costs one million two hundred thirty-four thousand five hundred sixty-seven yen',
    ],
    ['Pi is 3.14159.', 'Pi is three point one four one five nine.'],
    ['It was -5 degrees.', 'It was minus five degrees.'],
    ['Pages 10-20.', 'Pages ten to twenty.'],
    ['Add 1/2 cup and 3/4 cup.', 'Add one half cup and three quarters cup.'],
    ['the 21st century', 'the twenty-first century'],
    ['She came 2nd and he 3rd.', 'She came second and he third.'],
    ['In 1984 and 2024.', 'In nineteen eighty-four and twenty twenty-four.'],
    ['the 1990s', 'the nineteen nineties'],
    ['MP3 and 4K', 'MP three and four K'],
    ['Call 555-123-4567.', 'Call five five five, one two three, four five six seven.'],
    ['Room #5', 'Room number five'],
    // money
    ['It costs $5.', 'It costs five dollars.'],
    ['It costs $1.', 'It costs one dollar.'],
    ['Only $5.50 today.', 'Only five dollars and fifty cents today.'],
    ['$0.99', 'ninety-nine cents'],
    ['$1.01', 'one dollar and one cent'],
    ['£2.50', 'two pounds and fifty pence'],
    ['€3.01', 'three euros and one cent'],
    ['20 € each', 'twenty euros each'],
    ['$5 million', 'five million dollars'],
    ['$1.5bn', 'one point five billion dollars'],
    ['$2,500', 'two thousand five hundred dollars'],
    ['100 USD', 'one hundred dollars'],
    // percentages
    ['Up 50%.', 'Up fifty percent.'],
    ['A 2.5% rise', 'A two point five percent rise'],
    // dates and times
    ['On 2024-03-05 we met.', 'On March fifth, twenty twenty-four we met.'],
    ['Born 12/25/1990.', 'Born December twenty-fifth, nineteen ninety.'],
    ['March 5, 2024', 'March fifth, twenty twenty-four'],
    ['on Jan. 3rd', 'on January third'],
    ['5 March 2024', 'the fifth of March twenty twenty-four'],
    // a "the" before the day is not doubled, and the sentence's full stop after the month stays
    ['Meet me on the 3rd of March.', 'Meet me on the third of March.'],
    ['The 1st of May.', 'The first of May.'],
    ['on 3 Mar. we left', 'on the third of March we left'],
    ['At 3:30 p.m.', 'At three thirty P-M.'],
    ['At 3:05', 'At three oh five'],
    ['At 3:00', "At three o'clock"],
    ['At 15:00', 'At fifteen hundred'],
    ['at 7am', 'at seven A-M'],
    ['at 10 PM sharp', 'at ten P-M sharp'],
    // abbreviations
    ['Mr. Smith met Dr. Jones.', 'Mister Smith met Doctor Jones.'],
    ['Mrs. Brown and Ms. Green', 'Missus Brown and Miz Green'],
    ['St. Louis is on Main St.', 'Saint Louis is on Main Street.'],
    ['apples, pears, etc.', 'apples, pears, et cetera.'],
    ['fruit, e.g. apples', 'fruit, for example apples'],
    ['cats vs. dogs', 'cats versus dogs'],
    ['the U.S. army', 'the U-S army'],
    ['Acme Inc. is big', 'Acme Incorporated is big'],
    // URLs and e-mail
    ['See https://example.com/docs.', 'See example dot com slash docs.'],
    ['Visit www.timbre.app today', 'Visit W-W-W dot timbre dot app today'],
    ['Mail john.smith@example.org now', 'Mail john dot smith at example dot org now'],
    // symbols
    ['Tom & Jerry', 'Tom and Jerry'],
    ['2 + 2 = 4', 'two plus two equals four'],
    ['and/or', 'and or'],
    ['It is 20°C.', 'It is twenty degrees Celsius.'],
    ['#timbre rocks', 'hashtag timbre rocks'],
    // punctuation
    ['Wait... what?', 'Wait… what?'],
    ['“Hi,” she said — ‘ok’', `"Hi," she said — 'ok'`],
    ['yes -- no', 'yes — no'],
  ])('%s', (input, output) => expect(us(input)).toBe(output));

  it('British English reads dates day first and says "and" in numbers', () => {
    expect(gb('Born 25/12/1990.')).toBe('Born the twenty-fifth of December nineteen ninety.');
    expect(gb('On 2024-03-05.')).toBe('On the fifth of March twenty twenty-four.');
    expect(gb('It has 105 pages.')).toBe('It has one hundred and five pages.');
  });

  it('keeps paragraph breaks and is idempotent on plain words', () => {
    expect(us('One.\n\nTwo.')).toBe('One.\n\nTwo.');
    const plain = 'The quick brown fox jumps over the lazy dog.';
    expect(us(plain)).toBe(plain);
    expect(us(us('I paid $5.50 on 2024-03-05.'))).toBe(us('I paid $5.50 on 2024-03-05.'));
  });
});

describe('normalisation of the other languages', () => {
  it.each([
    ['es', 'Cuesta 5 €.', 'Cuesta 5 euros.'],
    ['es', 'Cuesta $1.', 'Cuesta 1 dólar.'],
    ['es', 'Tom & Jerry', 'Tom y Jerry'],
    ['es', 'Escribe a ana@correo.es', 'Escribe a ana arroba correo punto es'],
    ['fr-fr', 'Ça coûte 20 €.', 'Ça coûte 20 euros.'],
    ['fr-fr', '«Bonjour», dit-il.', '"Bonjour", dit-il.'],
    ['fr-fr', '2 + 2 = 4', '2 plus 2 égale 4'],
    ['it', 'Costa €3', 'Costa 3 euro'],
    ['it', 'a @ b', 'a chiocciola b'],
    ['pt-br', 'Custa R$ 10.', 'Custa 10 reais.'],
    ['pt-br', 'Custa $10.', 'Custa 10 dólares.'],
    ['hi', 'यह ₹50 का है।', 'यह 50 रुपये का है.'],
    ['ja', '50%です。', '50パーセントです.'],
    ['ja', '3.5キロ', '3てん5キロ'],
    ['zh', '增长了50%。', '增长了百分之50.'],
    ['zh', '价格是$5', '价格是5 美元'],
    ['zh', '3.5公斤', '3点5公斤'],
    ['zh', '12:30见', '12点30分见'],
  ] as const)('%s: %s', (lang, input, output) => expect(normalizeText(input, lang)).toBe(output));
});
