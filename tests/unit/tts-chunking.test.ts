// The run planner of Kokoro synthesis: the first sentence cut short at a natural break (so the first audio
// comes early), later sentences whole, every run within 510 tokens, nothing dropped.
import { describe, expect, it } from 'vitest';
import {
  FIRST_CUT,
  firstCut,
  planRuns,
  planUnits,
  sentenceUnits,
  type PlannedUnit,
} from '../../src/lib/tts/kokoro';
import { normalizePunctuation } from '../../src/lib/text/normalize';
import { MAX_TOKENS, parseVocab } from '../../src/lib/tts/tokenize';

const nonSpace = (s: string) => s.replace(/\s+/g, '');
const parts = (text: string) => planUnits(text).map((u) => u.text);

/** Head and tail of a sentence at its cut, checking that they are the sentence. */
function cutOf(sentence: string) {
  const c = firstCut(sentence);
  if (!c) return null;
  const head = sentence.slice(0, c.at).trimEnd();
  const tail = sentence.slice(c.at).trimStart();
  // the parts joined are the sentence (CJK commas take no space after them)
  expect(/[、，；：]$/u.test(head) ? head + tail : `${head} ${tail}`).toBe(sentence);
  return { ...c, head, tail };
}

describe('firstCut: where the first sentence is cut', () => {
  it('keeps a short sentence whole', () => {
    expect(firstCut('Hello world.')).toBeNull();
    expect(firstCut('This is Timbre, briefly.')).toBeNull(); // within maxChars
    expect(firstCut('x'.repeat(FIRST_CUT.maxChars))).toBeNull();
  });

  it('cuts at a clause mark when there is one, even past the word budget', () => {
    const c = cutOf('Timbre runs everything on this device, and nothing you record leaves it.')!;
    expect(c).toMatchObject({ kind: 'clause', head: 'Timbre runs everything on this device,' });
    expect(c.head.length).toBeGreaterThan(FIRST_CUT.maxChars);
    expect(c.head.length).toBeLessThanOrEqual(FIRST_CUT.punctMaxChars);
    // the last clause mark within the budget wins over an earlier one
    expect(cutOf('Yes, well, I think so: the rest of it can wait until the morning.')!.head).toBe(
      'Yes, well, I think so:',
    );
    expect(cutOf('Ready; the studio loads the model and starts speaking right away.')!.head).toBe(
      'Ready; the studio loads',
    ); // "Ready;" is shorter than minChars: a word cut instead, and not after "the"
  });

  it('cuts between words after a few words when there is no clause mark, never after "the" or "of"', () => {
    const s = 'The quick brown fox jumps over the lazy dog near the old river bank today.';
    const c = cutOf(s)!;
    expect(c.kind).toBe('word');
    expect(c.head.length).toBeLessThanOrEqual(FIRST_CUT.maxChars);
    expect(c.head.length).toBeGreaterThanOrEqual(FIRST_CUT.minChars);
    expect(c.head.split(' ').at(-1)).not.toMatch(/^(the|over|a|of)$/i);
    expect(c.head).toBe('The quick brown fox jumps'); // before "over", a phrase start
    // a clause mark too late for the head: still a word cut, within the budget
    const late = cutOf('Every voice in the library has a short preview that you can play, here or there.')!;
    expect(late.kind).toBe('word');
    expect(late.head.length).toBeLessThanOrEqual(FIRST_CUT.maxChars);
  });

  it('never cuts next to a number, a symbol or an initial (the normaliser reads them with their neighbours)', () => {
    const cases = [
      'On 12 March 2024 we shipped 3 new voices and 2 faster models for everyone.',
      'It costs $5 million or 20 % more than the one we bought in 1999 last spring.',
      'J. R. R. Tolkien wrote most of it by hand at his desk in Oxford.',
    ];
    for (const s of cases) {
      const c = cutOf(s);
      if (!c) continue;
      const before = c.head.split(' ').at(-1)!;
      const after = c.tail.split(' ')[0]!;
      expect(before).not.toMatch(/[\d$%]|^\p{Lu}\.?$/u);
      expect(after).not.toMatch(/[\d$%]|^\p{Lu}\.?$/u);
    }
    expect(cutOf(cases[0]!)).toBeNull(); // "12 March 2024 we" then "shipped 3": no allowed boundary
    expect(cutOf(cases[1]!)!.head).toBe('It costs $5 million'); // "$5 million" stays together
    expect(cutOf(cases[2]!)!.head).toBe('J. R. R. Tolkien wrote most');
  });

  it('does not cut inside a quotation, and leaves an unbreakable sentence whole', () => {
    // every boundary inside the quotation is out: only the one before it is left
    expect(cutOf('She said "we will all be there soon with food" and then she left the room.')!.head).toBe(
      'She said',
    );
    expect(firstCut('Supercalifragilisticexpialidocious!!')).toBeNull();
    expect(firstCut('1234 5678 9012 3456 7890 1234 5678.')).toBeNull();
  });

  it('cuts Japanese and Chinese at their commas, which need no space', () => {
    const ja = '今日はとてもいい天気なので、みんなで公園まで散歩に行きましょう。そうしましょう。';
    expect(cutOf(ja.slice(0, ja.indexOf('。') + 1))).toMatchObject({
      kind: 'clause',
      head: '今日はとてもいい天気なので、',
      tail: 'みんなで公園まで散歩に行きましょう。',
    });
    expect(firstCut('今日はとてもいい天気なのでみんなで公園まで散歩に行きましょう。')).toBeNull(); // no word cut without spaces
  });
});

describe('planUnits: the texts the runs speak', () => {
  const paragraph =
    'Timbre runs everything on this device, and nothing you record leaves it. It works offline. ' +
    'Voices can be mixed: af_heart with bf_emma, for example.\n\nA new paragraph starts here. It ends here.';

  it('cuts only the first sentence; the others are the splitter’s sentences with their breaks', () => {
    const plan = planUnits(paragraph);
    const sentences = sentenceUnits(paragraph);
    expect(plan[0]).toEqual({
      text: 'Timbre runs everything on this device,',
      kind: 'sentence',
      sentence: 0,
    });
    expect(plan[1]).toEqual({ text: 'and nothing you record leaves it.', kind: 'clause', sentence: 0 });
    expect(plan.slice(2)).toEqual(
      sentences.slice(1).map((u, i): PlannedUnit => ({ text: u.text, kind: u.kind, sentence: i + 1 })),
    );
    expect(plan.map((u) => u.kind)).toEqual([
      'sentence',
      'clause',
      'sentence',
      'sentence',
      'paragraph',
      'sentence',
    ]);
  });

  it('accounts for every character of the input, in order, in exactly one unit', () => {
    const long = `${'word, '.repeat(90)}end.`; // > 350 characters: the splitter cuts it as well
    const texts = [
      paragraph,
      'Hello world.',
      'The quick brown fox jumps over the lazy dog near the old river bank today. Then it sleeps.',
      long,
      '  Leading   spaces,   and    odd spacing   everywhere in this first sentence here.  ',
      '“Quoted speech, with a comma,” she said, “is kept together.” Then more.',
      'Dr. Smith paid $3.50 at 10:30 a.m. on 1 Jan. 2024, which was fine. OK.',
      'Pas de problème, on y va tout de suite ensemble. Merci.',
      '今日はとてもいい天気なので、みんなで公園まで散歩に行きましょう。そうしましょう。',
    ];
    for (const t of texts) {
      const plan = planUnits(t);
      expect(nonSpace(plan.map((u) => u.text).join(''))).toBe(nonSpace(normalizePunctuation(t)));
      // the parts of each sentence, joined, are that sentence
      const sentences = sentenceUnits(t).map((u) => u.text);
      const rebuilt = sentences.map((_, n) =>
        plan
          .filter((u) => u.sentence === n)
          .map((u) => u.text)
          .join(/[、，；：]$/u.test(plan.find((u) => u.sentence === n)!.text) ? '' : ' '),
      );
      expect(rebuilt).toEqual(sentences);
      expect(plan.every((u) => u.text.length > 0 && u.text === u.text.trim())).toBe(true);
      // at most the first sentence is in two parts, and its head is short
      expect(plan.length - sentences.length).toBeLessThanOrEqual(1);
      if (plan.length > sentences.length)
        expect(plan[0]!.text.length).toBeLessThanOrEqual(FIRST_CUT.punctMaxChars);
    }
    expect(parts(long)[0]).toBe('word, word, word, word,'); // the last comma within the budget
  });
});

describe('planRuns: token runs', () => {
  // A toy vocabulary: pad, marks, space and letters.
  const chars = ['$', ';', ':', ',', '.', '!', '?', '—', '…', ' ', ...'abcdefghijklmnopqrstuvwxyz'];
  const vocab = parseVocab({ model: { vocab: Object.fromEntries(chars.map((c, i) => [c, i])) } });
  const ids = (s: string) => [...s].map((c) => vocab.ids.get(c)!);

  it('keeps every run within 510 tokens and drops nothing, long sentences cut at marks then words', () => {
    const long = ids(`${'abcdefghi, '.repeat(60)}end.`); // 664 tokens, commas every 11
    const noMarks = ids(`${'abcdefghi '.repeat(70)}end`); // 703 tokens, spaces only
    const solid = ids('x'.repeat(1100)); // no break at all: cut hard, never truncated
    const short = ids('hi.');
    const units = [
      { kind: 'sentence' as const },
      { kind: 'word' as const },
      { kind: 'paragraph' as const },
      { kind: 'sentence' as const },
    ];
    const runs = planRuns(units, [long, noMarks, solid, short], vocab);
    for (const r of runs) expect(r.ids.length).toBeLessThanOrEqual(MAX_TOKENS);
    for (const [u, src] of [long, noMarks, solid, short].entries())
      expect(runs.filter((r) => r.unit === u).flatMap((r) => r.ids)).toEqual(src);
    // the first run of a unit carries its break, the rest of it joins as a clause
    expect(runs.map((r) => `${r.unit}:${r.kind}`)).toEqual([
      '0:sentence', '0:clause', '1:word', '1:clause', '2:paragraph', '2:clause', '2:clause', '3:sentence',
    ]); // prettier-ignore
    // cut after a comma (and its space), not inside a word
    expect(runs[0]!.ids.at(-1)).toBe(vocab.ids.get(' '));
    expect(runs[0]!.ids.at(-2)).toBe(vocab.ids.get(','));
  });
});
