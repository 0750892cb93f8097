// Strict SRT and WebVTT readers for the transcription tests (unit and browser).
import { expect } from 'vitest';

export interface Cue {
  index?: number;
  start: number;
  end: number;
  text: string;
}

/** A strict SRT reader: numbered cues from 1, HH:MM:SS,mmm --> HH:MM:SS,mmm, text, blank line. */
export function parseSrt(s: string): Cue[] {
  const blocks = s.replace(/\r\n/g, '\n').trim().split(/\n\n/);
  return blocks.map((b, i) => {
    const lines = b.split('\n');
    expect(lines[0]).toBe(String(i + 1));
    const m = /^(\d{2}):(\d{2}):(\d{2}),(\d{3}) --> (\d{2}):(\d{2}):(\d{2}),(\d{3})$/.exec(lines[1]!);
    expect(m, `cue ${i + 1} time line "${lines[1]}"`).not.toBeNull();
    const t = (k: number) => +m![k]! * 3600 + +m![k + 1]! * 60 + +m![k + 2]! + +m![k + 3]! / 1000;
    const text = lines.slice(2).join('\n');
    expect(text.trim().length).toBeGreaterThan(0);
    return { index: i + 1, start: t(1), end: t(5), text };
  });
}

/** A strict WebVTT reader: the WEBVTT header, then cues HH:MM:SS.mmm --> HH:MM:SS.mmm with text. */
export function parseVtt(s: string): Cue[] {
  const blocks = s.replace(/\r\n/g, '\n').trim().split(/\n\n/);
  expect(blocks[0]).toBe('WEBVTT');
  return blocks.slice(1).map((b) => {
    const lines = b.split('\n');
    const m = /^(\d{2}):(\d{2}):(\d{2})\.(\d{3}) --> (\d{2}):(\d{2}):(\d{2})\.(\d{3})$/.exec(lines[0]!);
    expect(m, `time line "${lines[0]}"`).not.toBeNull();
    const t = (k: number) => +m![k]! * 3600 + +m![k + 1]! * 60 + +m![k + 2]! + +m![k + 3]! / 1000;
    const text = lines.slice(1).join('\n');
    expect(text).not.toContain('-->');
    return { start: t(1), end: t(5), text };
  });
}

/** Cues in order, each ending after it starts and not before the previous one ends. */
export function expectOrdered(cues: Cue[]) {
  cues.forEach((c, i) => {
    expect(c.end).toBeGreaterThanOrEqual(c.start);
    if (i) expect(c.start).toBeGreaterThanOrEqual(cues[i - 1]!.end);
  });
}
