// Real inputs for the audio input path: the recordings in ../shared/audio (not committed here) and a matrix
// of files made from them at test time with the app's own ffmpeg.wasm encoder (containers, rates, channel
// counts, lengths), and the invariants every feature that takes audio must keep on them. Used by
// tests/unit/real-inputs.test.ts and by `npm run eval:inputs` (scripts/eval-inputs.mjs).
import { readdirSync, readFileSync } from 'node:fs';
import {
  openAsrAudio,
  transcoderStreamDecoder,
  workerStreamDecoder,
  type AsrStreamDecoder,
  type AsrStreamStart,
} from '../../src/lib/codec/stream';
import { runAsrTranscribe, type AsrDeps } from '../../src/lib/asr/operation';
import { resample } from '../../src/lib/dsp/resample';
import { findSpeech, VAD_RATE, type SpeechRegion } from '../../src/lib/vad/vad';
import { decodeInput } from '../../src/lib/codec/decode';
import { runAudioEnhance, runAudioSilence, type ToolDeps } from '../../src/lib/audio/enhance-op';
import type { FormatId } from '../../src/lib/codec/formats';
import type { Transcoder } from '../../src/lib/codec/transcoder';
import { HAVE_SHARED, SHARED_AUDIO } from './asr-helpers';

/** The real recordings: path (relative to ../shared/audio) → bytes; null where the folder is absent. */
export function realFiles(): { name: string; bytes: Uint8Array }[] | null {
  if (!HAVE_SHARED) return null;
  const names: string[] = [];
  for (const f of readdirSync(`${SHARED_AUDIO}/librispeech`).sort())
    if (f.endsWith('.flac')) names.push(`librispeech/${f}`);
  for (const f of readdirSync(SHARED_AUDIO).sort()) if (f.endsWith('.mp3')) names.push(f);
  return names.map((name) => ({ name, bytes: new Uint8Array(readFileSync(`${SHARED_AUDIO}/${name}`)) }));
}

export interface Cell {
  format: Extract<FormatId, 'wav' | 'flac' | 'mp3' | 'ogg' | 'opus' | 'm4a' | 'webm'>;
  rate: number;
  channels: 1 | 2;
  seconds: number;
}

export const CONTAINERS: Cell['format'][] = ['wav', 'flac', 'mp3', 'ogg', 'opus', 'm4a', 'webm'];
export const RATES = [8000, 16000, 22050, 24000, 32000, 44100, 48000];

/**
 * Every container at every rate, mono and stereo alternating, lengths from 1 s to `longest` (a Latin
 * square, so each container meets each rate and each length). `quick` keeps one rate per container.
 */
export function matrix(o: { quick?: boolean; lengths?: number[] } = {}): Cell[] {
  const lengths = o.lengths ?? [1, 7, 19, 45, 91, 240, 600];
  const cells: Cell[] = [];
  CONTAINERS.forEach((format, i) =>
    RATES.forEach((rate, j) => {
      if (o.quick && j !== (2 * i + 1) % RATES.length) return;
      cells.push({
        format,
        rate,
        channels: (i + j) % 2 ? 2 : 1,
        seconds: lengths[(i + j) % lengths.length]!,
      });
    }),
  );
  return cells;
}

export const cellName = (c: Cell) => `${c.seconds}s-${c.rate / 1000}k-${c.channels}ch.${c.format}`;

/**
 * Real speech laid end to end (the recordings in order, looped) cut to `seconds` at `rate`; a second channel
 * is the same speech 0.4 ms later and 3 dB down, so a mix to mono is not a plain copy.
 */
export function speechOf(sources: { samples: Float32Array; rate: number }[], seconds: number, rate: number) {
  const n = Math.round(seconds * rate);
  const out = new Float32Array(n);
  let at = 0;
  for (let k = 0; at < n; k++) {
    const s = sources[k % sources.length]!;
    const x = s.rate === rate ? s.samples : resample(s.samples, s.rate, rate);
    out.set(x.subarray(0, Math.min(x.length, n - at)), at);
    at += x.length;
  }
  return out;
}

/** A file of the cell made with the app's encoder, and the samples that went in (per channel). */
export async function makeCell(
  cell: Cell,
  sources: { samples: Float32Array; rate: number }[],
  transcoder: Transcoder,
): Promise<{ bytes: Uint8Array; inSeconds: number; rate: number }> {
  const a = speechOf(sources, cell.seconds, cell.rate);
  let chans: Float32Array[] = [a];
  if (cell.channels === 2) {
    const lag = Math.max(1, Math.round(cell.rate * 0.0004));
    const b = new Float32Array(a.length);
    for (let i = lag; i < a.length; i++) b[i] = a[i - lag]! * 0.708;
    chans = [a, b];
  }
  const enc = await transcoder.encode(chans, cell.rate, {
    format: cell.format,
    channels: cell.channels,
    ...(cell.format === 'wav' ? { sampleFormat: 's16' as const } : {}),
  });
  return { bytes: enc.bytes, inSeconds: a.length / cell.rate, rate: enc.sampleRate };
}

/**
 * The engine's decode worker as the engine sees it, in this thread: ffmpeg and the resampler run here, but
 * the start and each block travel on MessageChannels of their own (as comlink's callback proxies do), so
 * the worker's answer can overtake its last blocks, as it does in the browser.
 */
export function channelDecoder(transcoder: () => Transcoder): AsrStreamDecoder {
  const inThread = transcoderStreamDecoder(transcoder);
  return workerStreamDecoder(() => ({
    decode: async (bytes, onStart, onBlock) => {
      const starts = new MessageChannel();
      const blocks = new MessageChannel();
      starts.port2.onmessage = (e: MessageEvent<AsrStreamStart>) => onStart(e.data);
      blocks.port2.onmessage = (e: MessageEvent<Float32Array>) => onBlock(e.data);
      let posted = 0;
      await inThread(
        bytes,
        {
          onStart: (f) => starts.port1.postMessage(f),
          onBlock: (b) => {
            posted++;
            blocks.port1.postMessage(b, [b.buffer as ArrayBuffer]);
          },
        },
        {},
      );
      // (the ports close once their last message is read)
      setTimeout(() => [starts, blocks].forEach((c) => (c.port1.close(), c.port2.close())), 60_000).unref?.();
      return posted;
    },
    terminate: () => undefined,
  }));
}

const r3 = (v: number) => Math.round(v * 1000) / 1000;

/** Seconds of `regions` inside the union of `cover`. */
function covered(regions: readonly SpeechRegion[], cover: readonly SpeechRegion[]): number {
  let s = 0;
  for (const r of regions)
    for (const c of cover) {
      const lo = Math.max(r.start, c.start);
      const hi = Math.min(r.end, c.end);
      if (hi > lo) s += hi - lo;
    }
  return s;
}

const total = (rs: readonly SpeechRegion[]) => rs.reduce((s, r) => s + r.end - r.start, 0);

/** The regions with gaps shorter than `gap` seconds filled (pauses a Whisper segment may span). */
function bridged(rs: readonly SpeechRegion[], gap: number): SpeechRegion[] {
  const out: SpeechRegion[] = [];
  for (const r of rs) {
    const last = out[out.length - 1];
    if (last && r.start - last.end < gap) last.end = Math.max(last.end, r.end);
    else out.push({ ...r });
  }
  return out;
}

export interface InputDeps {
  transcoder: () => Transcoder;
  vad: (() => Promise<Uint8Array>) | null;
  /** Transcription's deps (Whisper tiny and Silero); without them transcription is not checked. */
  asr?: AsrDeps;
}

/** Seconds one codec frame can add or take (opus 20 ms at 48 kHz, vorbis up to 2048 samples). */
export const FRAME_TOLERANCE = 2048 / 8000;

/**
 * Every figure the invariants speak of, for one file: its length by ffmpeg's own whole decode and by
 * the studio's input path (whole and streamed through a worker-like channel), transcription's duration and
 * last segment against the speech, trim, split and enhance.
 */
export async function checkInput(bytes: Uint8Array, deps: InputDeps, inSeconds?: number) {
  const t = deps.transcoder();
  const ref = await t.decode(bytes, { mono: true });
  const refSeconds = ref.samples.length / ref.sampleRate;
  const whole = await decodeInput(bytes, deps.transcoder, { rate: VAD_RATE });
  const opened = await openAsrAudio(bytes, channelDecoder(deps.transcoder));
  const streamed = await opened.audio.whole();
  const speech = await findSpeech(whole.samples, deps.vad);
  const speechEnd = speech.regions.length ? speech.regions[speech.regions.length - 1]!.end : 0;
  const tools: ToolDeps = { transcoder: deps.transcoder, vadModel: async () => deps.vad };
  const trim = (await runAudioSilence({ audio: bytes, mode: 'trim' }, {}, tools)).trimmed!;
  const split = (await runAudioSilence({ audio: bytes, mode: 'split' }, {}, tools)).pieces!;
  const enh = await runAudioEnhance({ audio: bytes }, {}, tools);
  const pieces = split.map((p) => ({ start: p.start, end: p.end }));
  const kept = [{ start: trim.start, end: trim.end }];
  let asr: { duration: number; last_segment_end: number; segments: SpeechRegion[]; text: string } | null =
    null;
  if (deps.asr) {
    const r = await runAsrTranscribe(
      { audio: bytes },
      {},
      { ...deps.asr, streamDecoder: channelDecoder(deps.transcoder) },
    );
    const segs = r.segments.map((s) => ({ start: s.start, end: s.end }));
    asr = {
      duration: r.duration,
      last_segment_end: segs.length ? segs[segs.length - 1]!.end : 0,
      segments: segs,
      text: r.text,
    };
  }
  const speechSeconds = total(speech.regions);
  const tol = FRAME_TOLERANCE;
  const figures = {
    source_seconds: inSeconds === undefined ? null : r3(inSeconds),
    ffmpeg_seconds: r3(refSeconds),
    decoded_seconds: r3(whole.duration),
    streamed_seconds: r3(streamed.length / VAD_RATE),
    source_rate: whole.sourceRate,
    channels: whole.channels,
    vad: speech.method,
    speech_seconds: r3(speechSeconds),
    speech_end: r3(speechEnd),
    transcription: asr && {
      duration: asr.duration,
      last_segment_end: r3(asr.last_segment_end),
      text: asr.text,
    },
    trim: {
      start: trim.start,
      end: trim.end,
      kept_seconds: trim.duration,
      speech_kept: r3(covered(speech.regions, kept)),
    },
    split: {
      pieces: split.length,
      seconds: r3(total(pieces)),
      speech_covered: r3(covered(speech.regions, pieces)),
    },
    enhance: {
      snr_before: enh.snr_before.snr_db,
      snr_after: enh.snr_after.snr_db,
      in_seconds: enh.duration,
      out_seconds: enh.audio.duration === null ? null : r3(enh.audio.duration),
    },
  };
  const whisperSpeech = asr ? total(asr.segments) : 0;
  const pass = {
    decoded_length:
      Math.abs(whole.duration - refSeconds) <= tol &&
      (inSeconds === undefined || Math.abs(whole.duration - inSeconds) <= tol),
    streamed_length: Math.abs(streamed.length / VAD_RATE - whole.samples.length / VAD_RATE) < 1e-3,
    transcription_duration: asr ? Math.abs(asr.duration - whole.duration) <= 0.1 : null,
    last_segment_end: asr ? asr.last_segment_end >= speechEnd - 2 : null,
    trim_keeps_speech:
      covered(speech.regions, kept) >= speechSeconds - 0.01 &&
      trim.duration >= 0.95 * Math.min(speechSeconds, whole.duration),
    // Whisper, a detector of its own, hears its words inside the kept span and the pieces (its segments
    // may span the pauses a split cuts at, up to about two seconds).
    trim_keeps_whisper_speech: asr ? covered(asr.segments, kept) >= 0.95 * whisperSpeech : null,
    split_covers_speech: covered(speech.regions, pieces) >= 0.95 * speechSeconds,
    split_covers_whisper_speech: asr
      ? covered(asr.segments, bridged(pieces, 2)) >= 0.95 * whisperSpeech
      : null,
    enhance_snr: enh.snr_before.snr_db !== null && enh.snr_before.snr_db > 0 && enh.snr_before.snr_db < 80,
    enhance_length:
      enh.audio.duration !== null &&
      Math.abs(enh.audio.duration - enh.duration) < 1e-3 &&
      Math.abs(enh.duration - whole.duration) <= 1e-3,
  };
  return { figures, pass, ok: Object.values(pass).every((v) => v !== false) };
}
