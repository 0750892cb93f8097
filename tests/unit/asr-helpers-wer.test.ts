// The WER the speech tests judge by: edit distance over words, compounds counted once.
import { describe, expect, it } from 'vitest';
import { wer } from './asr-helpers';

describe('wer', () => {
  it('counts substitutions, deletions and insertions over the reference length', () => {
    expect(wer('the keeper climbed the stairs', 'the keeper climbed the stairs')).toBe(0);
    expect(wer('the keeper climbed the stairs', 'a keeper climbed stairs')).toBeCloseTo(2 / 5);
    expect(wer('the keeper climbed', 'the keeper climbed up there')).toBeCloseTo(2 / 3);
  });

  it('takes a compound written apart or together as one word, and nothing else', () => {
    expect(
      wer('The lighthouse keeper climbed the stairs.', 'The light house keeper climbed the stairs.'),
    ).toBe(0);
    expect(wer('the light house keeper', 'the lighthouse keeper')).toBe(0);
    // one half alone is still an error, and words that do not make a reference word are not joined
    expect(wer('the lighthouse keeper', 'the light keeper')).toBeCloseTo(1 / 3);
    expect(wer('the green house', 'the greenhouse')).toBe(0);
    expect(wer('a big house', 'a bighouse')).toBe(0);
    expect(wer('a big house', 'a big mouse')).toBeCloseTo(1 / 3);
  });
});
