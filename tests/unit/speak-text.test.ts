import { describe, expect, it } from 'vitest';
import {
  fileStem,
  formatClock,
  PREVIEW_TEXT,
  sentenceOfRun,
  sentencesDone,
  speakSentences,
  SPEED_RANGE,
} from '../../src/lib/ui/speak-text';
import { planUnits, sentenceUnits } from '../../src/lib/tts/kokoro';
import { MAX_SPEED, MIN_SPEED } from '../../src/lib/tts/contract';
import { TTS_LANGUAGES } from '../../src/lib/voices/languages';

describe('the Speak view splits text as the engine does', () => {
  const texts = [
    'Hello world. This is Timbre.',
    'Dr. Smith paid $3.50 at example.com. Then he left!\n\nA new paragraph? Yes.',
    '“Is it raining?” she asked. “No.” He smiled…',
    `${'A very long clause, '.repeat(30)}end. Short one.`,
    '  \n\n  ',
    '今日は晴れです。明日は雨でしょう。',
  ];
  it.each(texts)('%j', (text) => {
    const mine = speakSentences(text);
    const engine = sentenceUnits(text);
    expect(mine.map((s) => s.text)).toEqual(engine.map((u) => u.text));
    expect(mine.map((s) => s.paragraph)).toEqual(engine.map((u) => u.kind === 'paragraph'));
  });

  it('marks paragraphs and keeps every sentence', () => {
    const s = speakSentences('One. Two.\n\nThree.');
    expect(s).toEqual([
      { text: 'One.', paragraph: false },
      { text: 'Two.', paragraph: false },
      { text: 'Three.', paragraph: true },
    ]);
  });

  it('uses the engine speed range', () => {
    expect(SPEED_RANGE).toEqual({ min: MIN_SPEED, max: MAX_SPEED });
  });
});

describe('sentenceOfRun', () => {
  it('follows runs in order, including repeated sentences', () => {
    const s = ['A.', 'B.', 'A.'];
    let at = -1;
    const seen = ['A.', 'B.', 'A.'].map((t) => (at = sentenceOfRun(s, at, t)));
    expect(seen).toEqual([0, 1, 2]);
  });
  it('keeps a sentence cut into several runs on the same index', () => {
    const s = ['Long.', 'Next.'];
    let at = -1;
    const seen = ['Long.', 'Long.', 'Next.'].map((t) => (at = sentenceOfRun(s, at, t)));
    expect(seen).toEqual([0, 0, 1]);
  });
  it('maps the runs the engine plans (first sentence cut short) to their sentences', () => {
    const texts = [
      'When the morning light came through the window, everyone woke up. Then breakfast.',
      'A rather long first sentence without any commas in it at all for sure. Second one here.',
      'Short. Then a second, longer sentence follows it.\n\nAnd a paragraph.',
    ];
    for (const text of texts) {
      const units = planUnits(text);
      const sentences = speakSentences(text).map((s) => s.text);
      let at = -1;
      const seen = units.map((u) => (at = sentenceOfRun(sentences, at, u.text)));
      expect(seen).toEqual(units.map((u) => u.sentence));
    }
    // The first of these really is cut, so the test covers parts.
    expect(planUnits(texts[0]!).length).toBeGreaterThan(speakSentences(texts[0]!).length);
  });
  it('skips a sentence that gave no run', () => {
    expect(sentenceOfRun(['A.', '...', 'C.'], 0, 'C.')).toBe(2);
  });
});

describe('helpers', () => {
  it('has a preview sentence for every language', () => {
    for (const l of TTS_LANGUAGES) expect(PREVIEW_TEXT[l].length).toBeGreaterThan(10);
  });
  it('formats clock times', () => {
    expect(formatClock(3.25)).toBe('0:03.3');
    expect(formatClock(75)).toBe('1:15.0');
    expect(formatClock(-2)).toBe('0:00.0');
  });
  it('names files after the first words', () => {
    expect(fileStem('Hello, World! This is Timbre speaking today.')).toBe('hello-world-this-is-timbre');
    expect(fileStem('¿Qué tal?')).toBe('que-tal');
    expect(fileStem('!!!')).toBe('speech');
  });
});

describe('sentencesDone', () => {
  it('counts in page sentences: the first sentence cut in two runs neither grows the total nor goes back', () => {
    // 4 sentences, 5 engine runs (the first sentence in two): runs map to sentences 0, 0, 1, 2, 3.
    const runs = [0, 0, 1, 2, 3];
    let done = 0;
    const seen: number[] = [];
    runs.forEach((sentence, i) => {
      done = sentencesDone(done, sentence, 4, i === runs.length - 1);
      seen.push(done);
    });
    expect(seen).toEqual([1, 1, 2, 3, 4]);
  });
  it('is full only on the last run, even when the last sentence comes in several runs', () => {
    expect(sentencesDone(2, 2, 3, false)).toBe(2);
    expect(sentencesDone(2, 2, 3, true)).toBe(3);
    expect(sentencesDone(3, 1, 5, false)).toBe(3);
  });
});
