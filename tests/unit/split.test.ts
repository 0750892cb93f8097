import { describe, expect, it } from 'vitest';
import { splitSentences } from '../../src/lib/text/split';
import { setup } from './helpers';
import { errorOf, mulberry32, okJson } from './test-utils';

const squash = (s: string) => s.replace(/\s+/g, '');

/** Every character lands in some piece, in order, and no piece is longer than maxChars. */
function expectLossless(text: string, pieces: string[], maxChars: number) {
  expect(squash(pieces.join('')), JSON.stringify(text).slice(0, 200)).toBe(squash(text));
  for (const p of pieces) {
    expect(p.length, JSON.stringify(p)).toBeLessThanOrEqual(maxChars);
    expect(p.length).toBeGreaterThan(0);
    expect(p).toBe(p.trim());
  }
}

describe('splitSentences', () => {
  it('splits plain sentences at . ? !', () => {
    expect(splitSentences('Hello world. How are you? Fine!')).toEqual([
      'Hello world.',
      'How are you?',
      'Fine!',
    ]);
  });

  it.each([
    ['Dr. Smith arrived late. He sat down.', ['Dr. Smith arrived late.', 'He sat down.']],
    ['Mr. and Mrs. Jones met Prof. Lee. They talked.', ['Mr. and Mrs. Jones met Prof. Lee.', 'They talked.']],
    ['Pi is about 3.14 today. It was 2.5 yesterday.', ['Pi is about 3.14 today.', 'It was 2.5 yesterday.']],
    ['Visit example.com for more. Then come back.', ['Visit example.com for more.', 'Then come back.']],
    [
      'See https://www.example.org/a.b?c=d.e now. Bye.',
      ['See https://www.example.org/a.b?c=d.e now.', 'Bye.'],
    ],
    ['Write to a.b@c.co.uk today. Thanks.', ['Write to a.b@c.co.uk today.', 'Thanks.']],
    ['Bring fruit, e.g. this apple. And bread.', ['Bring fruit, e.g. this apple.', 'And bread.']],
    ['Some tools, i.e. hammers, are heavy. Right.', ['Some tools, i.e. hammers, are heavy.', 'Right.']],
    ['J. R. R. Tolkien wrote books. Many.', ['J. R. R. Tolkien wrote books.', 'Many.']],
    ['Wait... what happened? Nothing.', ['Wait... what happened?', 'Nothing.']],
    ['It ended... Then silence.', ['It ended...', 'Then silence.']],
  ])('does not split inside abbreviations, numbers, URLs: %s', (text, want) => {
    expect(splitSentences(text)).toEqual(want);
  });

  it('keeps a quotation that the sentence continues after in one sentence', () => {
    // The sentence goes on after the closing quote ("and left"), so it is one sentence.
    expect(splitSentences('He said "Stop. Now." and left.')).toEqual(['He said "Stop. Now." and left.']);
    expect(splitSentences('He said “Stop. Now.” and left.')).toEqual(['He said “Stop. Now.” and left.']);
    // A quotation that ends its sentence closes it, with the quote mark kept on the sentence.
    expect(splitSentences('He said "Stop. Now." Then he left.')).toEqual([
      'He said "Stop. Now."',
      'Then he left.',
    ]);
    expect(splitSentences('She asked, "Why?" Nobody knew.')).toEqual(['She asked, "Why?"', 'Nobody knew.']);
  });

  it('splits at closing brackets and keeps them', () => {
    expect(splitSentences('It works (mostly.) Try it.')).toEqual(['It works (mostly.)', 'Try it.']);
  });

  it('splits CJK sentences without spaces', () => {
    expect(splitSentences('你好。今天很好！你呢？')).toEqual(['你好。', '今天很好！', '你呢？']);
  });

  it('paragraph breaks end a sentence even without a mark; line breaks inside a paragraph do not', () => {
    expect(splitSentences('A title\n\nThe body text.')).toEqual(['A title', 'The body text.']);
    expect(splitSentences('One line\ncontinues here. Next.')).toEqual(['One line continues here.', 'Next.']);
  });

  it('text without a mark is one sentence; empty or blank text is none', () => {
    expect(splitSentences('no mark at all')).toEqual(['no mark at all']);
    expect(splitSentences('')).toEqual([]);
    expect(splitSentences('  \n\n \t ')).toEqual([]);
  });

  it('a sentence longer than maxChars is cut at ; : then , then spaces, and nothing is lost', () => {
    const text =
      'First part of a long sentence; second part of it: third part, fourth part, and the fifth part goes here.';
    const pieces = splitSentences(text, { maxChars: 40 });
    expectLossless(text, pieces, 40);
    expect(pieces[0]).toBe('First part of a long sentence;');
    expect(pieces.length).toBeGreaterThan(2);
  });

  it('an unbroken run longer than maxChars is cut hard, not dropped', () => {
    const run = 'x'.repeat(95);
    const pieces = splitSentences(`Start. ${run} end.`, { maxChars: 20 });
    expectLossless(`Start. ${run} end.`, pieces, 20);
    expect(pieces.filter((p) => /^x+$/.test(p)).map((p) => p.length)).toEqual([20, 20, 20, 20, 15]);
  });

  it('maxChars defaults to 400', () => {
    const long = Array.from({ length: 120 }, (_, i) => `word${i}`).join(' ') + '.';
    const pieces = splitSentences(long);
    expectLossless(long, pieces, 400);
    expect(pieces.length).toBeGreaterThan(1);
  });

  it('property: random text of every kind, any maxChars — no piece too long, nothing lost (seeded)', () => {
    const seed = 0x5eed;
    const rand = mulberry32(seed);
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
    const words = [
      'a',
      'Dr.',
      'e.g.',
      '3.14',
      'example.com',
      'Hello',
      'world',
      '"Stop.',
      'Now."',
      '“Yes!”',
      'x'.repeat(70),
      'Mr.',
      'etc.',
      'ok,',
      'so;',
      'then:',
      '—',
      'J.',
      '...',
      '?',
      '!',
      '你好。',
      'end.',
      '(aside)',
      '«quoted»',
      'U.S.',
      'a.m.',
      '\n',
      '\n\n',
      '  ',
      '\t',
    ];
    for (let n = 0; n < 600; n++) {
      const len = 1 + Math.floor(rand() * 60);
      const text = Array.from({ length: len }, () => pick(words)).join(rand() < 0.8 ? ' ' : '');
      const maxChars = 20 + Math.floor(rand() * 200);
      try {
        expectLossless(text, splitSentences(text, { maxChars }), maxChars);
      } catch (e) {
        throw new Error(
          `seed ${seed}, case ${n}, maxChars ${maxChars}, text ${JSON.stringify(text)}: ${(e as Error).message}`,
          { cause: e },
        );
      }
    }
  });
});

describe('POST /api/text/split', () => {
  it('returns sentences and count, honouring max_chars', async () => {
    const { call, makeKey } = await setup();
    const key = await makeKey({ scopes: ['audio:process'] });
    expect(
      await okJson(
        await call('POST', '/api/text/split', { key, body: { text: 'Hello world. How are you? Fine!' } }),
      ),
    ).toEqual({ sentences: ['Hello world.', 'How are you?', 'Fine!'], count: 3 });
    const text =
      'A fairly long sentence, with a comma, and another comma, and then some more words to push it over.';
    const res = await okJson<{ sentences: string[]; count: number }>(
      await call('POST', '/api/text/split', { key, body: { text, max_chars: 30 } }),
    );
    expectLossless(text, res.sentences, 30);
    expect(res.count).toBe(res.sentences.length);
    await errorOf(await call('POST', '/api/text/split', { key, body: { text: '' } }), 400, 'bad_request');
  });
});
