// The progress events of 'asr.transcribe' that carry text, and their guards: a module with no runtime
// imports, so the page reads them without bundling Whisper or the VAD.
import type { Progress } from '../core/run';
import type { Segment } from '../documents/transcript';

/** `Progress.data` of the 'segment' events. */
export interface AsrSegmentData {
  segments: Segment[];
  language: string;
}

export const isAsrSegment = (p: Progress): p is Progress & { data: AsrSegmentData } =>
  p.stage === 'segment' && typeof p.data === 'object' && p.data !== null && 'segments' in p.data;

/** `Progress.data` of the 'partial' events: the text of the window decoding now, provisional. */
export interface AsrPartialData {
  start: number;
  text: string;
}

export const isAsrPartial = (p: Progress): p is Progress & { data: AsrPartialData } =>
  p.stage === 'partial' && typeof p.data === 'object' && p.data !== null && 'text' in p.data;
