// The studio's one audio input path: any file ffmpeg.wasm reads (WAV read here, without ffmpeg) → mono
// float32 at the rate asked for, through the one resampler (src/lib/dsp/resample.ts). Transcription,
// speech-translate, the tools, cloning, analysis and the page's views all decode through here; the streamed
// variant for transcription (src/lib/codec/stream.ts) uses the same WAV reader, the same ffmpeg decode
// and the same resampler, so a file gives the same samples either way.
import { throwIfAborted, type RunOptions } from '../core/run';
import { decodeWav, isWav, type DecodedWav } from '../dsp/wav';
import { resampleBlocks, StreamResampler } from '../dsp/resample';
import { concatAudio } from '../dsp/join';
import type { MonoAudio } from '../dsp/audio';
import { DecodeError } from './formats';
import type { StreamStart, Transcoder } from './transcoder';

/**
 * A WAV file's samples, mixed to mono (decodeWav mixes; `channels` is the file's own count), or a
 * DecodeError saying why it cannot be read.
 */
export function readWav(bytes: Uint8Array): DecodedWav {
  let w: DecodedWav;
  try {
    w = decodeWav(bytes);
  } catch (e) {
    throw new DecodeError(`The WAV file could not be read: ${(e as Error).message}`);
  }
  if (!w.samples.length) throw new DecodeError('The WAV file holds no samples.');
  return w;
}

/** Mono samples at `sampleRate`, and what the file was. */
export interface DecodedInput extends MonoAudio {
  /** The file's own rate and channel count. */
  sourceRate: number;
  channels: number;
  /** Seconds of audio the file holds (its every sample, at its own rate). */
  duration: number;
  decoder: 'wav' | 'ffmpeg';
}

export interface DecodeInputOptions extends RunOptions {
  /** The rate wanted; default: the file's own, capped at `maxRate`. */
  rate?: number;
  /** With no `rate`: files above this rate are brought down to it (default 48 kHz). */
  maxRate?: number;
}

/**
 * Any audio file → mono float32 at the rate asked for. WAV is read here; anything else is decoded by the
 * ffmpeg core at its own rate and mixed to mono; the one resampler brings it to the rate (in blocks, so a
 * cancel is seen between them). `duration` counts every sample the file gave. A file that holds no samples
 * is a DecodeError.
 */
export async function decodeInput(
  bytes: Uint8Array,
  transcoder: () => Transcoder | Promise<Transcoder>,
  o: DecodeInputOptions = {},
): Promise<DecodedInput> {
  throwIfAborted(o.signal);
  const want = (source: number) => o.rate ?? Math.min(source, o.maxRate ?? 48000);
  if (isWav(bytes)) {
    const w = readWav(bytes);
    const rate = want(w.sampleRate);
    const samples = await resampleBlocks(w.samples, w.sampleRate, rate, o.signal);
    throwIfAborted(o.signal);
    const duration = w.samples.length / w.sampleRate;
    return {
      samples,
      sampleRate: rate,
      sourceRate: w.sampleRate,
      channels: w.channels,
      duration,
      decoder: 'wav',
    };
  }
  // Streamed even when wanted whole: the samples are resampled as ffmpeg makes them, so an hour at 48 kHz
  // never sits in memory (nor in the core's file system) at its own rate.
  let start: { facts: StreamStart; rs: StreamResampler } | null = null;
  let read = 0;
  const parts: Float32Array[] = [];
  const t = await transcoder();
  await t.decodeStream(
    bytes,
    { mono: true },
    {
      onStart: (facts) =>
        (start = { facts, rs: new StreamResampler(facts.sampleRate, want(facts.sampleRate)) }),
      onSamples: (x) => {
        read += x.length;
        const y = start!.rs.push(x);
        if (y.length) parts.push(y);
      },
    },
    {
      signal: o.signal,
      onProgress: o.onProgress ? (p) => o.onProgress!({ ...p, stage: 'decode' }) : undefined,
    },
  );
  const s = start as { facts: StreamStart; rs: StreamResampler } | null;
  if (!s || !read) throw new DecodeError('The file holds no audio samples.');
  parts.push(s.rs.end());
  throwIfAborted(o.signal);
  return {
    samples: concatAudio(parts),
    sampleRate: want(s.facts.sampleRate),
    sourceRate: s.facts.sampleRate,
    channels: s.facts.sourceChannels,
    duration: read / s.facts.sampleRate,
    decoder: 'ffmpeg',
  };
}
