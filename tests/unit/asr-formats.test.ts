// Transcript formats (SRT, VTT, verbose_json, json, text) and the window planning, segment splitting and
// repetition guards of the transcriber, without a model.
import { describe, expect, it } from 'vitest';
import {
  formatTranscript,
  timecode,
  toSrt,
  toVerboseJson,
  toVtt,
} from '../../src/lib/documents/transcript-formats';
import { compressionRatio, nextWindow, splitSegments } from '../../src/lib/asr/transcribe';
import { type Segment } from '../../src/lib/documents/transcript';
import { energyProbabilities, speechRegions, speechWithin, FRAME_SECONDS } from '../../src/lib/vad/vad';
import { repeatingTail } from '../../src/lib/asr/whisper';
import { dtwFirstColumns } from '../../src/lib/asr/words';
import { expectOrdered, parseSrt, parseVtt } from './asr-subtitles';

const seg = (id: number, start: number, end: number, text: string): Segment => ({
  id,
  start,
  end,
  text,
  tokens: [1, 2],
  temperature: 0,
  avg_logprob: -0.2,
  compression_ratio: 1.3,
  no_speech_prob: 0.01,
});

const SEGMENTS = [
  seg(0, 0.5, 2.25, 'Hello there.'),
  seg(1, 2.25, 65.004, 'A long line\n\nwith a blank line --> and an arrow.'),
  seg(2, 3661.5, 3663, 'An hour later.'),
];

describe('subtitle formats', () => {
  it('writes time codes as HH:MM:SS,mmm and HH:MM:SS.mmm', () => {
    expect(timecode(0, ',')).toBe('00:00:00,000');
    expect(timecode(3661.5, ',')).toBe('01:01:01,500');
    expect(timecode(65.0044, '.')).toBe('00:01:05.004');
    expect(timecode(59.9996, '.')).toBe('00:01:00.000');
  });

  it('SRT: numbered cues that a strict reader accepts, in order, with the segment times', () => {
    const cues = parseSrt(toSrt(SEGMENTS));
    expect(cues.map((c) => c.index)).toEqual([1, 2, 3]);
    expect(cues.map((c) => [c.start, c.end])).toEqual([
      [0.5, 2.25],
      [2.25, 65.004],
      [3661.5, 3663],
    ]);
    expect(cues[1]!.text).toBe('A long line\nwith a blank line --> and an arrow.');
    expectOrdered(cues);
  });

  it('VTT: a WEBVTT file whose cues hold no blank lines or arrows', () => {
    const cues = parseVtt(toVtt(SEGMENTS));
    expect(cues.length).toBe(3);
    expect(cues[2]).toEqual({ start: 3661.5, end: 3663, text: 'An hour later.' });
    expect(cues[1]!.text).toBe('A long line\nwith a blank line -> and an arrow.');
    expectOrdered(cues);
  });

  it('verbose_json in OpenAI’s shape (language name, segments, words only when asked)', () => {
    const t = { text: 'Hello there.', language: 'es', duration: 3663, segments: SEGMENTS };
    const v = toVerboseJson(t, 'transcribe');
    expect(v.task).toBe('transcribe');
    expect(v.language).toBe('spanish');
    expect(v.duration).toBe(3663);
    expect(v.segments!.map((s) => Object.keys(s).sort())).toEqual(
      SEGMENTS.map(() =>
        [
          'avg_logprob',
          'compression_ratio',
          'end',
          'id',
          'no_speech_prob',
          'seek',
          'start',
          'temperature',
          'text',
          'tokens',
        ].sort(),
      ),
    );
    expect('words' in v).toBe(false);
    const withWords = toVerboseJson(
      { ...t, segments: [{ ...SEGMENTS[0]!, words: [{ word: 'Hello', start: 0.5, end: 1 }] }] },
      'translate',
      { words: true },
    );
    expect(withWords.words).toEqual([{ word: 'Hello', start: 0.5, end: 1 }]);
  });

  it('json is {text}, text is the bare text, each with its Content-Type', () => {
    const t = { text: 'Hi.', language: 'en', duration: 1, segments: [seg(0, 0, 1, 'Hi.')] };
    const j = formatTranscript(t, 'json', 'transcribe');
    expect(JSON.parse(j.body).text).toBe('Hi.');
    expect(j.type).toBe('application/json');
    expect(formatTranscript(t, 'text', 'transcribe')).toEqual({
      body: 'Hi.\n',
      type: 'text/plain; charset=utf-8',
    });
    expect(formatTranscript(t, 'srt', 'transcribe').type).toMatch(/subrip/);
    expect(formatTranscript(t, 'vtt', 'transcribe').type).toMatch(/^text\/vtt/);
  });
});

describe('guards and planning', () => {
  it('compression ratio: ordinary speech stays under 2.4, a loop goes far over', () => {
    const normal =
      'The museum opens at nine in the morning and closes late on Fridays. My brother planted a small garden behind the old stone house.';
    expect(compressionRatio(normal)).toBeLessThan(2.4);
    expect(compressionRatio('I am going to the store. '.repeat(12))).toBeGreaterThan(2.4);
    expect(compressionRatio('')).toBe(0);
  });

  it('finds a repeating tail of tokens, and none in varied text', () => {
    const loop = [5, 6, ...Array.from({ length: 8 }, () => [10, 11, 12, 13]).flat()];
    expect(repeatingTail(loop)).toEqual({ period: 4, times: 8 });
    expect(repeatingTail(Array.from({ length: 60 }, (_, i) => i)).period).toBe(0);
    expect(repeatingTail([7, 7, 7]).period).toBe(0); // a short run is not a loop
  });

  it('splits timestamped tokens into segments; an unclosed last one has no end', () => {
    const TS = 1000;
    const ts = (s: number) => TS + Math.round(s / 0.02);
    const pieces = splitSegments(
      [ts(0), 1, 2, ts(2), ts(2), 3, ts(4.5), ts(5), 4, 5],
      (t) => t >= TS,
      (t) => (t - TS) * 0.02,
    );
    expect(pieces.map((p) => [p.start, p.end, p.tokens])).toEqual([
      [0, 2, [1, 2]],
      [2, 4.5, [3]],
      [5, null, [4, 5]],
    ]);
  });

  it('plans windows that start at speech, end at pauses, and skip long silences', () => {
    const regions = [
      { start: 1, end: 12 },
      { start: 12.6, end: 25 },
      { start: 25.5, end: 40 },
      { start: 70, end: 80 },
    ];
    const w1 = nextWindow(0, 90, regions)!;
    expect(w1.start).toBe(1);
    // 31 s would cut speech; the latest pause ≥ 10 s into the window is the one at 25–25.5.
    expect(w1.end).toBeCloseTo(25.25, 5);
    expect(w1.endsInPause).toBe(true);
    const w2 = nextWindow(w1.end, 90, regions)!;
    expect(w2.start).toBe(25.5); // the next speech, not the pause before it
    // The 30 s of silence after 40 s ends the window there.
    expect(w2.end).toBe(40);
    const w3 = nextWindow(40, 90, regions)!;
    expect(w3.start).toBe(70);
    expect(nextWindow(80, 90, regions)).toBeNull();
    // Speech with no pause: a forced 30 s window, flagged so the transcriber re-decodes its last segment.
    const forced = nextWindow(0, 100, [{ start: 0, end: 100 }])!;
    expect(forced).toEqual({ start: 0, end: 30, endsInPause: false });
  });

  it('turns frame probabilities into padded speech regions', () => {
    const probs = new Float32Array(Math.round(10 / FRAME_SECONDS));
    const frame = (s: number) => Math.round(s / FRAME_SECONDS);
    probs.fill(0.9, frame(2), frame(4));
    probs.fill(0.9, frame(4.1), frame(5)); // a 0.1 s dip: not a pause
    probs.fill(0.9, frame(7), frame(7.1)); // 0.1 s: too short to be speech
    const r = speechRegions(probs, 10);
    expect(r.length).toBe(1);
    expect(r[0]!.start).toBeCloseTo(1.8, 1);
    expect(r[0]!.end).toBeCloseTo(5.2, 1);
    expect(speechWithin(r, 0, 3)).toBeCloseTo(1.2, 1);
  });

  it('the energy detector hears a tone burst and not the silence around it', () => {
    const rate = 16000;
    const x = new Float32Array(rate * 6);
    for (let i = 2 * rate; i < 4 * rate; i++) x[i] = 0.3 * Math.sin(i * 0.1);
    for (let i = 0; i < x.length; i++) x[i] = x[i]! + 1e-4 * Math.sin(i * 1.7);
    const r = speechRegions(energyProbabilities(x), 6);
    expect(r.length).toBe(1);
    expect(r[0]!.start).toBeGreaterThan(1.6);
    expect(r[0]!.end).toBeLessThan(4.4);
  });

  it('DTW follows the cheapest monotonic path', () => {
    // Three tokens, attention peaks at frames 1, 4 and 7.
    const cost = [0, 1, 2].map((t) => Float64Array.from({ length: 9 }, (_, f) => (f === 1 + 3 * t ? -1 : 0)));
    const first = dtwFirstColumns(cost, 9);
    expect(first[0]).toBe(0);
    expect(first[1]).toBeGreaterThan(first[0]!);
    expect(first[2]).toBeGreaterThan(first[1]!);
    expect(first[2]).toBeLessThanOrEqual(7);
  });
});
