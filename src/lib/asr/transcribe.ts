// Long audio → segments. The file is cut into windows of at most 30 s that start where speech starts (VAD)
// and end at a pause where there is one; each window is decoded with timestamps, and the next window starts
// where the last complete segment ended (openai/whisper's seek), so a word cut by a forced window edge is
// decoded again in the next window instead of being lost or written twice. Long silences are skipped.
// Guards: a decode that loops or is unlikely is redone at higher temperatures (openai/whisper's fallback;
// when every temperature fails, the greedy attempt is kept unless it looped, not the last and noisiest
// one); a window that sounds like no speech, and text where VAD hears no speech, are dropped.
// Without `timestamps`, a window that ends in a pause is decoded with <|notimestamps|>, which is what
// Whisper (and transformers.js) decode when no timing is asked for; its text is one segment.
// Early text: the VAD runs only a window ahead of the decoding, and the first window ends at the first
// pause after FIRST_WINDOW seconds, so the first line costs a short decode instead of a full 30 s one.
import { throwIfAborted, type ProgressFn } from '../core/run';
import { mulberry32 } from '../core/random';
import type { OrtTensor } from '../runtime/ort-session';
import { GrowingAudio } from '../codec/stream';
import { SAMPLE_RATE, WINDOW_SAMPLES } from './mel';
import { fixedRegions, speechWithin, type RegionSource, type SpeechRegion } from '../vad/vad';
import { repeatingTail, type DecodeResult, type WhisperRunner } from './whisper';
import { alignWords } from './words';
import type { Segment } from '../documents/transcript';

export interface TranscribeOptions {
  /** ISO 639-1 code, or undefined to detect. */
  language?: string;
  task: 'transcribe' | 'translate';
  prompt?: string;
  /** First temperature (0 = greedy); the fallback goes up from there. */
  temperature?: number;
  /**
   * Redo a decode that loops or is unlikely at higher temperatures (default true). False decodes each
   * window once, at `temperature`, as transformers.js (the reference) does: eval:asr compares the two so.
   */
  fallback?: boolean;
  words?: boolean;
  signal?: AbortSignal;
  onProgress?: ProgressFn;
  /** Each window's new segments, as soon as it is decoded. */
  onSegments?: (segments: Segment[], info: { done: number; total: number; language: string }) => void;
  /**
   * The text of the window being decoded so far (from `start` seconds), while it decodes: provisional,
   * replaced by that window's segments (a fallback decode may write it differently).
   */
  onPartial?: (partial: { start: number; text: string }) => void;
  /** Seed of the fallback's sampling (reproducible runs). */
  seed?: number;
  /**
   * Segment timing wanted (default true). When false, windows that end in a pause are decoded without
   * timestamp tokens (one segment each, spanning the window); a window cut inside speech still needs them
   * to find where its last complete segment ends.
   */
  timestamps?: boolean;
}

export interface TranscribeResult {
  language: string;
  /**
   * The detected language's probability (softmax over the language tokens, like openai/whisper's
   * detect_language); null when the caller gave the language, or when no window was decoded.
   */
  language_probability: number | null;
  duration: number;
  text: string;
  segments: Segment[];
  windows: number;
}

const TEMPERATURES = [0, 0.2, 0.4, 0.6, 0.8, 1];
const LOGPROB_THRESHOLD = -1;
const NO_SPEECH_THRESHOLD = 0.6;
const COMPRESSION_THRESHOLD = 2.4;
/** A window ends early at a pause longer than this (the next one starts at the next speech). */
const LONG_PAUSE = 4;
/** A pause must be at least this long to cut a window at. */
const MIN_PAUSE = 0.3;
/** Windows shorter than this at a forced edge are not cut (keeps the encoder's 30 s of context useful). */
const MIN_WINDOW = 10;
/** The first window ends at the first pause after this many seconds of it: its text comes sooner. */
export const FIRST_WINDOW = 4;
/** Seconds of VAD past a window's end before it is planned (more than LONG_PAUSE, and region padding). */
const VAD_LOOKAHEAD = LONG_PAUSE + 1;

/**
 * How repetitive a text is, like openai/whisper's gzip compression ratio: bytes of the text over bytes of
 * an LZ77 parse of it (each back-reference counted as 3 bytes). Ordinary speech stays under 2.4.
 */
export function compressionRatio(text: string): number {
  const b = new TextEncoder().encode(text);
  if (b.length === 0) return 0;
  let cost = 0;
  let i = 0;
  const MIN = 4;
  const WIN = 4096;
  const table = new Map<number, number[]>();
  const key = (k: number) => (b[k]! << 24) | (b[k + 1]! << 16) | (b[k + 2]! << 8) | b[k + 3]!;
  while (i < b.length) {
    let best = 0;
    if (i + MIN <= b.length) {
      for (const j of table.get(key(i)) ?? []) {
        if (i - j > WIN) continue;
        let l = 0;
        while (i + l < b.length && b[j + l] === b[i + l] && l < 258) l++;
        if (l > best) best = l;
      }
    }
    const step = best >= MIN ? best : 1;
    cost += best >= MIN ? 3 : 1;
    for (let k = i; k < i + step && k + MIN <= b.length; k++) {
      const h = key(k);
      const list = table.get(h);
      if (list) {
        list.push(k);
        if (list.length > 32) list.shift();
      } else table.set(h, [k]);
    }
    i += step;
  }
  return b.length / cost;
}

interface Window {
  start: number;
  end: number;
  /** The end falls in a pause (or the end of the file): a last unclosed segment is complete. */
  endsInPause: boolean;
}

/**
 * The next window from `seek` (seconds), or null when no speech is left. With `early`, the window ends
 * at the first pause after FIRST_WINDOW seconds (the first window of a transcription).
 */
export function nextWindow(
  seek: number,
  total: number,
  regions: readonly SpeechRegion[],
  early = false,
): Window | null {
  const maxLen = WINDOW_SAMPLES / SAMPLE_RATE;
  const first = regions.find((r) => r.end > seek + 0.05);
  if (!first) return null;
  const start = Math.max(seek, first.start);
  const end = Math.min(total, start + maxLen);
  // Pauses inside the window: gaps between regions.
  const inside = regions.filter((r) => r.end > start && r.start < end);
  for (let i = 0; i + 1 < inside.length; i++) {
    const a = inside[i]!.end;
    const gap = inside[i + 1]!.start - a;
    if (gap >= LONG_PAUSE) return { start, end: a, endsInPause: true };
    if (early && gap >= MIN_PAUSE && a - start >= FIRST_WINDOW)
      return { start, end: a + Math.min(gap / 2, 0.5), endsInPause: true };
  }
  const last = inside[inside.length - 1]!;
  // Speech ends inside the window (or the file ends): no silence after it is decoded.
  if (last.end <= end || end >= total) return { start, end: Math.min(end, last.end), endsInPause: true };
  // The end is inside speech: cut at the latest pause after MIN_WINDOW.
  for (let i = inside.length - 2; i >= 0; i--) {
    const a = inside[i]!.end;
    const b = inside[i + 1]!.start;
    if (b - a >= MIN_PAUSE && a - start >= MIN_WINDOW) return { start, end: (a + b) / 2, endsInPause: true };
  }
  return { start, end, endsInPause: false };
}

interface Piece {
  start: number;
  end: number | null;
  tokens: number[];
}

/** Splits timestamped tokens into segments (times relative to the window); the last may be unclosed. */
export function splitSegments(
  tokens: readonly number[],
  isTs: (t: number) => boolean,
  timeOf: (t: number) => number,
) {
  const pieces: Piece[] = [];
  let start: number | null = null;
  let text: number[] = [];
  let lastEnd = 0;
  for (const t of tokens) {
    if (isTs(t)) {
      const time = timeOf(t);
      if (start === null) start = time;
      else if (text.length) {
        pieces.push({ start, end: time, tokens: text });
        lastEnd = time;
        text = [];
        start = null;
      } else start = time;
    } else {
      start ??= lastEnd;
      text.push(t);
    }
  }
  if (text.length) pieces.push({ start: start ?? lastEnd, end: null, tokens: text });
  return pieces;
}

/**
 * The regions a window from `seek` needs: VAD far enough past the next speech to plan the window whole
 * (regions inside it final), however long the silence before it.
 */
export async function windowRegions(src: RegionSource, seek: number): Promise<readonly SpeechRegion[]> {
  const span = WINDOW_SAMPLES / SAMPLE_RATE + VAD_LOOKAHEAD;
  let until = seek + span;
  for (;;) {
    const { regions, covered } = await src.upTo(until);
    if (covered >= src.total) return regions;
    const next = regions.find((r) => r.end > seek + 0.05);
    const start = next ? Math.max(seek, next.start) : covered;
    if (next && start + span <= covered) return regions;
    until = start + span;
  }
}

/** Seconds of VAD past the speech's start that the first window is first planned from. */
const FIRST_LOOK = FIRST_WINDOW + 3;

/**
 * The first window planned from a short look at the VAD: as soon as a pause after FIRST_WINDOW seconds
 * of speech is known (speech heard after it, so the pause is final), without the VAD of a whole window
 * ahead. Null when no such pause turns up in the first 30 s of speech (plan it as any other window).
 */
export async function firstWindow(src: RegionSource, seek: number): Promise<Window | null> {
  const maxLen = WINDOW_SAMPLES / SAMPLE_RATE;
  let until = seek + FIRST_LOOK;
  for (;;) {
    const { regions, covered } = await src.upTo(until);
    if (covered >= src.total) return null;
    const next = regions.find((r) => r.end > seek + 0.05);
    const start = next ? Math.max(seek, next.start) : covered;
    if (covered - start >= maxLen) return null;
    const w = next ? nextWindow(seek, src.total, regions, true) : null;
    // Only a cut at a gap between two regions heard is final; a cut at the covered edge is not.
    if (w && regions.some((r) => r.start >= w.end)) return w;
    until = next ? Math.max(covered, start + FIRST_LOOK) + 2 : covered + maxLen;
  }
}

export async function transcribe(
  w: WhisperRunner,
  input: Float32Array | GrowingAudio,
  speech: readonly SpeechRegion[] | RegionSource,
  o: TranscribeOptions,
): Promise<TranscribeResult> {
  const audio = input instanceof GrowingAudio ? input : GrowingAudio.whole(input);
  const source: RegionSource = Array.isArray(speech)
    ? fixedRegions(speech as readonly SpeechRegion[], audio.total)
    : (speech as RegionSource);
  const tok = w.tokenizer;
  const prompt = o.prompt?.trim() ? tok.encode(' ' + o.prompt.trim()) : undefined;
  const segments: Segment[] = [];
  let language = o.language;
  let languageProb: number | null = null;
  let seek = 0;
  let windows = 0;
  // Reproducible sampling for the fallback temperatures.
  const random = mulberry32(o.seed ?? 1);
  const temps = o.fallback === false ? [] : TEMPERATURES.filter((t) => t >= (o.temperature ?? 0));
  if (!temps.length) temps.push(o.temperature ?? 0);

  return w.use({ signal: o.signal, onProgress: o.onProgress }, async () => {
    for (;;) {
      throwIfAborted(o.signal);
      // The first window from a short look at the VAD, so its text does not wait for 35 s of VAD.
      const early = windows === 0 ? await firstWindow(source, seek) : null;
      const regions = early ? (await source.upTo(early.end)).regions : await windowRegions(source, seek);
      const total = audio.total;
      const win = early ?? nextWindow(seek, total, regions, windows === 0);
      if (!win) break;
      o.onProgress?.({
        stage: 'transcribe',
        done: Math.round(win.start * 1000) / 1000,
        total: Math.round(total * 1000) / 1000,
        message: `Window ${windows + 1} at ${win.start.toFixed(1)} s`,
      });
      windows++;
      await audio.until(win.end, o.signal);
      const a = Math.floor(win.start * SAMPLE_RATE);
      const b = Math.min(audio.length, Math.ceil(win.end * SAMPLE_RATE));
      const hidden: OrtTensor = await w.encode(audio.samples.subarray(a, b), o.signal);
      if (!language) {
        const langs = await w.detectLanguage(hidden, o.signal);
        language = langs[0]!.code;
        languageProb = langs[0]!.prob;
        o.onProgress?.({ stage: 'language', done: 1, total: 1, message: language });
      }
      const seconds = (b - a) / SAMPLE_RATE;
      let lastPartial = -Infinity;
      const stamped = o.timestamps !== false || Boolean(o.words) || !win.endsInPause;
      let res: DecodeResult | null = null;
      let ratio = 0;
      const tried: { res: DecodeResult; ratio: number }[] = [];
      for (const temperature of temps) {
        res = await w.decode(hidden, {
          language,
          task: o.task,
          timestamps: stamped,
          prompt,
          temperature,
          windowSeconds: seconds,
          attention: o.words,
          random,
          signal: o.signal,
          onToken: o.onPartial
            ? (ids) => {
                // A few times a second is enough for the eye, and keeps the decoding fast and the event
                // stream and job records quiet (a step takes 15–25 ms).
                if (ids.length % 2) return;
                const now = clock();
                if (now - lastPartial < PARTIAL_EVERY_MS) return;
                const text = tok.decode(ids.filter((t) => !tok.isTimestamp(t))).trim();
                if (!text) return;
                lastPartial = now;
                o.onPartial!({ start: round(win.start), text });
              }
            : undefined,
        });
        ratio = compressionRatio(tok.decode(res.tokens));
        tried.push({ res, ratio });
        const silent = res.noSpeechProb > NO_SPEECH_THRESHOLD && res.avgLogprob < LOGPROB_THRESHOLD;
        if (silent) break;
        if (!res.looped && ratio <= COMPRESSION_THRESHOLD && res.avgLogprob >= LOGPROB_THRESHOLD) break;
        if (temperature === temps[temps.length - 1]) ({ res, ratio } = keepOf(tried));
      }
      const r = res!;
      let advance = win.end;
      const added: Segment[] = [];
      const silent = r.noSpeechProb > NO_SPEECH_THRESHOLD && r.avgLogprob < LOGPROB_THRESHOLD;
      if (!silent) {
        const pieces = stamped
          ? splitSegments(
              r.tokens,
              (t) => tok.isTimestamp(t),
              (t) => tok.timeOf(t),
            )
          : [{ start: 0, end: seconds, tokens: r.tokens }];
        const closed = pieces.filter((p) => p.end !== null);
        const open = pieces.find((p) => p.end === null);
        const keep = pieces.slice();
        if (open && !win.endsInPause && !r.looped && closed.length) {
          // Cut in speech: the unfinished segment is decoded again from its start in the next window.
          keep.pop();
          advance = win.start + open.start;
        } else if (open) open.end = seconds;
        if (!open && closed.length) {
          // The model stopped early though VAD hears more speech later in the window: go on from there.
          const lastEnd = win.start + closed[closed.length - 1]!.end!;
          if (speechWithin(regions, lastEnd + 0.5, win.end) > 0.5) advance = lastEnd;
        }
        let tokenAt = 0;
        for (const p of keep) {
          let start = win.start + p.start;
          let end = win.start + (p.end ?? seconds);
          const floor = added.length
            ? added[added.length - 1]!.end
            : (segments[segments.length - 1]?.end ?? 0);
          start = Math.max(start, floor);
          end = Math.min(Math.max(end, start + 0.02), total);
          const text = tok.decode(p.tokens).trim();
          // Position of this piece's tokens in the decode (for the word alignment).
          const idx = r.tokens.indexOf(p.tokens[0]!, tokenAt);
          if (idx >= 0) tokenAt = idx + p.tokens.length;
          if (!text) continue;
          // Text where VAD hears (almost) no speech is what Whisper makes up in silence.
          if (speechWithin(regions, start, end) < Math.min(0.2, (end - start) / 4)) continue;
          const seg: Segment = {
            id: 0,
            start: round(start),
            end: round(end),
            text,
            tokens: p.tokens,
            temperature: r.temperature,
            avg_logprob: round(r.avgLogprob, 4),
            compression_ratio: round(ratio, 4),
            no_speech_prob: round(r.noSpeechProb, 4),
          };
          if (o.words && r.attention && idx >= 0)
            seg.words = alignWords(
              tok,
              p.tokens,
              r.attention.slice(idx, idx + p.tokens.length),
              w.cfg.alignmentHeads.length,
              { offset: win.start, start: seg.start, end: seg.end },
            );
          added.push(seg);
        }
      }
      for (const s of added) s.id = segments.length + added.indexOf(s);
      segments.push(...added);
      if (added.length) o.onSegments?.(added, { done: Math.min(advance, total), total, language: language! });
      // Always move forward (at least a second), never past the end.
      seek = Math.max(advance, Math.min(win.end, win.start + 1));
      if (seek >= audio.total - 0.05) break;
    }
    const total = audio.total;
    o.onProgress?.({
      stage: 'transcribe',
      done: Math.round(total * 1000) / 1000,
      total: Math.round(total * 1000) / 1000,
      message: 'Done',
    });
    return {
      language: language ?? 'en',
      language_probability: languageProb === null ? null : round(languageProb, 4),
      duration: round(total),
      text: segments.map((s) => s.text).join(NO_SPACES.has(language ?? '') ? '' : ' '),
      segments,
      windows,
    };
  });
}

/**
 * Every temperature failed the checks. The sampled attempts exist to escape a loop; when the first
 * (greedy) decode did not loop it is kept: it is merely unsure (tiny translating), and sampling only adds
 * noise to it — what openai/whisper keeps, the attempt at temperature 1, is the noisiest of all, and
 * transformers.js, the reference, decodes greedily once. When it looped, the likeliest attempt that does
 * not repeat itself is kept (faster-whisper's rule), else the likeliest of all.
 */
function keepOf(tried: readonly { res: DecodeResult; ratio: number }[]) {
  const fluent = tried.filter((t) => !t.res.looped && t.ratio <= COMPRESSION_THRESHOLD);
  if (fluent[0] === tried[0]) return tried[0]!;
  return (fluent.length ? fluent : tried).reduce((a, b) => (b.res.avgLogprob > a.res.avgLogprob ? b : a));
}

/** Partial text of a window at most this often (ms). */
const PARTIAL_EVERY_MS = 150;
const clock = () => globalThis.performance?.now() ?? Date.now();

/** Languages written without spaces between words: their segments join directly. */
const NO_SPACES = new Set(['zh', 'ja', 'th', 'lo', 'my', 'yue']);

const round = (x: number, digits = 3) => Math.round(x * 10 ** digits) / 10 ** digits;

export { repeatingTail };
