// The Transcribe view's helpers and its transcript store: live merging, line edits that the exports and
// the stored copy keep, the playing line, clocks, and the store (fake-indexeddb) with delete and undo.
import 'fake-indexeddb/auto';
import { describe, expect, it } from 'vitest';
import type { Segment } from '../../src/lib/documents/transcript';
import {
  editLine,
  EmptyLineError,
  exportTranscript,
  fileStem,
  isEmptyTranscript,
  lineAt,
  lineClock,
  mergeSegments,
  transcriptText,
  UnknownLineError,
  type EditableTranscript,
} from '../../src/lib/asr/transcript-edit';
import { openTimbreDB } from '../../src/lib/storage/db';
import { TRANSCRIPTS_MAX_ITEMS, TranscriptStore } from '../../src/lib/storage/transcripts';
import { type TranscriptRecord } from '../../src/lib/storage/records';
import { parseSrt, parseVtt } from './asr-subtitles';

const seg = (id: number, start: number, end: number, text: string): Segment => ({
  id,
  start,
  end,
  text,
  tokens: [],
  temperature: 0,
  avg_logprob: -0.2,
  compression_ratio: 1.2,
  no_speech_prob: 0.01,
});

const transcript = (): EditableTranscript => ({
  language: 'en',
  task: 'transcribe',
  duration: 9,
  segments: [
    seg(0, 0.4, 2.5, ' The museum opens at nine.'),
    seg(1, 3, 5.2, ' It closes late.'),
    seg(2, 6, 8.8, ' Come early.'),
  ],
  edited: [],
});

describe('live segments', () => {
  it('appends a window’s new segments in time order and lets a re-decoded id replace its text', () => {
    const first = mergeSegments([], [seg(1, 3, 5, ' b'), seg(0, 0, 2, ' a')]);
    expect(first.map((s) => s.id)).toEqual([0, 1]);
    const second = mergeSegments(first, [seg(2, 6, 8, ' c'), seg(1, 3, 5, ' b again')]);
    expect(second.map((s) => s.text)).toEqual([' a', ' b again', ' c']);
    expect(first).toHaveLength(2); // the old array is not changed
  });
});

describe('editing a line', () => {
  it('changes only that line, tidies the white space and records the edit once', () => {
    const t = transcript();
    const e = editLine(t, 1, '  It   closes at ten.  ');
    expect(e.segments[1]!.text.trim()).toBe('It closes at ten.');
    expect(e.segments[0]).toEqual(t.segments[0]);
    expect(e.segments[1]!.start).toBe(3);
    expect(e.edited).toEqual([1]);
    expect(editLine(e, 1, 'It closes at eleven.').edited).toEqual([1]);
    expect(t.segments[1]!.text).toBe(' It closes late.'); // the original is untouched
  });

  it('keeps the transcript as it is when the text did not change', () => {
    const t = transcript();
    expect(editLine(t, 0, 'The museum opens at nine.')).toBe(t);
  });

  it('refuses an empty line and an unknown one', () => {
    expect(() => editLine(transcript(), 0, '   ')).toThrow(EmptyLineError);
    expect(() => editLine(transcript(), 7, 'x')).toThrow(UnknownLineError);
  });

  it('exports carry the edit: text, SRT, VTT and JSON', () => {
    const t = editLine(transcript(), 1, 'It closes at ten.');
    const text = exportTranscript(t, 'text', 'talk.wav');
    expect(text.body).toBe('The museum opens at nine. It closes at ten. Come early.\n');
    expect(text.filename).toBe('talk.txt');
    const srt = exportTranscript(t, 'srt', 'talk.wav');
    expect(srt.filename).toBe('talk.srt');
    const cues = parseSrt(srt.body);
    expect(cues.map((c) => c.text)).toEqual([
      'The museum opens at nine.',
      'It closes at ten.',
      'Come early.',
    ]);
    expect(cues[1]).toMatchObject({ start: 3, end: 5.2 });
    const vtt = exportTranscript(t, 'vtt', 'talk');
    expect(vtt.body.startsWith('WEBVTT')).toBe(true);
    expect(parseVtt(vtt.body)[1]!.text).toBe('It closes at ten.');
    const json = JSON.parse(exportTranscript(t, 'json', 'talk').body) as {
      text: string;
      segments: { text: string; start: number }[];
      language: string;
    };
    expect(json.text).toContain('It closes at ten.');
    expect(json.segments[1]).toMatchObject({ text: ' It closes at ten.', start: 3 });
    expect(json.language).toBe('english');
  });
});

describe('helpers', () => {
  it('finds the line being heard, and none in the gaps', () => {
    const s = transcript().segments;
    expect(lineAt(s, 0.1)).toBe(-1);
    expect(lineAt(s, 0.4)).toBe(0);
    expect(lineAt(s, 2.7)).toBe(-1);
    expect(lineAt(s, 5.1)).toBe(1);
    expect(lineAt(s, 8.8)).toBe(-1);
  });

  it('writes clocks as m:ss.t, and h:mm:ss past an hour', () => {
    expect(lineClock(0)).toBe('0:00.0');
    expect(lineClock(3.05)).toBe('0:03.0');
    expect(lineClock(65.47)).toBe('1:05.4');
    expect(lineClock(3725.9)).toBe('1:02:05');
  });

  it('joins the text, knows an empty result, and makes safe file names', () => {
    expect(transcriptText(transcript().segments)).toBe(
      'The museum opens at nine. It closes late. Come early.',
    );
    expect(isEmptyTranscript([])).toBe(true);
    expect(isEmptyTranscript([seg(0, 0, 1, '  ')])).toBe(true);
    expect(isEmptyTranscript(transcript().segments)).toBe(false);
    expect(fileStem('My talk: part 1.mp3')).toBe('My-talk-part-1');
    expect(fileStem('...')).toBe('transcript');
  });
});

const record = (id: string, created_at: number): TranscriptRecord => ({
  id,
  name: `${id}.wav`,
  created_at,
  updated_at: created_at,
  model: 'whisper-tiny-q8',
  language: 'en',
  task: 'transcribe',
  duration: 9,
  segments: transcript().segments,
  edited: [],
  audio: new Uint8Array([1, 2, 3, 4]).buffer,
});

describe('transcript store', () => {
  it('keeps transcripts newest first, with an edited line, across a reopen', async () => {
    const name = `transcripts-${process.pid}-${Date.now()}`;
    const db = await openTimbreDB(name);
    const store = new TranscriptStore(db);
    await store.put(record('a', 1000));
    await store.put(record('b', 2000));
    const edited = await store.editLine('a', 1, ' It closes at ten.');
    expect(edited.edited).toEqual([1]);
    db.close();

    const again = new TranscriptStore(await openTimbreDB(name));
    const list = await again.list();
    expect(list.map((t) => t.id)).toEqual(['b', 'a']);
    expect(list[1]).toMatchObject({ lines: 3, bytes: 4 });
    expect(list[1]!.preview).toContain('It closes at ten.');
    expect('audio' in list[1]!).toBe(false);
    const a = (await again.get('a'))!;
    expect(a.segments[1]!.text).toBe(' It closes at ten.');
    expect(a.edited).toEqual([1]);
    expect([...new Uint8Array(a.audio!)]).toEqual([1, 2, 3, 4]);
    await expect(again.editLine('a', 9, 'x')).rejects.toThrow(/no line 9/);
  });

  it('deletes, and puts back the same transcript on undo', async () => {
    const store = new TranscriptStore(await openTimbreDB(`transcripts-del-${process.pid}-${Date.now()}`));
    await store.put(record('a', 1000));
    const gone = await store.delete('a');
    expect(await store.get('a')).toBeUndefined();
    expect(await store.list()).toEqual([]);
    await store.put(gone);
    expect(await store.get('a')).toEqual(gone);
    await expect(store.delete('missing')).rejects.toThrow(/No transcript/);
  });

  it('lets the oldest go past the limit, never the one being saved', async () => {
    const store = new TranscriptStore(await openTimbreDB(`transcripts-max-${process.pid}-${Date.now()}`));
    for (let i = 0; i < TRANSCRIPTS_MAX_ITEMS; i++)
      await store.put({ ...record(`t${i}`, 10 + i), audio: null });
    // Saved with an old date, the new one still stays; the oldest other one goes.
    await store.put({ ...record('new', 1), audio: null });
    const ids = (await store.list()).map((t) => t.id);
    expect(ids).toHaveLength(TRANSCRIPTS_MAX_ITEMS);
    expect(ids).toContain('new');
    expect(ids).not.toContain('t0');
    expect(ids).toContain('t1');
  });
});
