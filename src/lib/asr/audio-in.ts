// Audio for transcription: any file → mono 16 kHz float samples. WAV is read here; everything else is
// decoded by the ffmpeg.wasm core at its own rate and mixed to mono; then our anti-aliasing resampler brings
// it to 16 kHz (in blocks, checking the abort signal). Very long inputs are resampled by ffmpeg itself while
// decoding, so an hour at 48 kHz never sits in memory at its own rate.
import { CancelledError, throwIfAborted, type RunOptions } from '../engine/types';
import { DecodeError } from '../audio/formats';
import type { Transcoder } from '../audio/transcoder';
import { decodeWav, type DecodedWav } from '../tts/wav';
import { SAMPLE_RATE } from './mel';
import { designResampler, mixToMono, resampleSpan } from './resample';

export interface AsrAudio {
  samples: Float32Array;
  /** The file's own rate and channels (before mixing and resampling). */
  sourceRate: number;
  channels: number;
  decoder: 'wav' | 'ffmpeg';
}

/** Samples at the file's rate above which ffmpeg resamples while decoding (≈ 35 min at 48 kHz). */
const MAX_NATIVE_SAMPLES = 100_000_000;

export const isWav = (b: Uint8Array) =>
  b.length >= 12 &&
  String.fromCharCode(b[0]!, b[1]!, b[2]!, b[3]!) === 'RIFF' &&
  String.fromCharCode(b[8]!, b[9]!, b[10]!, b[11]!) === 'WAVE';

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

/** Resamples in blocks of about 10 s of output, yielding between them so a cancel is seen. */
export async function resampleTo16k(
  samples: Float32Array,
  rate: number,
  signal?: AbortSignal,
): Promise<Float32Array> {
  if (rate === SAMPLE_RATE) return samples;
  const d = designResampler(rate, SAMPLE_RATE);
  const outLen = Math.round((samples.length * d.up) / d.down);
  const out = new Float32Array(outLen);
  const block = 10 * SAMPLE_RATE;
  for (let o = 0; o < outLen; o += block) {
    throwIfAborted(signal);
    const o1 = Math.min(outLen, o + block);
    // Input span of this block of outputs, with the filter's reach on both sides.
    const i0 = Math.max(0, Math.floor((o * d.down) / d.up) - d.halfWidth - 2);
    const i1 = Math.min(samples.length, Math.ceil((o1 * d.down) / d.up) + d.halfWidth + 2);
    // Resample the span; block output starts where output o falls (aligned on the up/down lattice).
    const part = resampleSpan(samples.subarray(i0, i1), rate, i0, o, o1, d);
    out.set(part, o);
    if (o1 < outLen) await new Promise((r) => setTimeout(r, 0));
  }
  return out;
}

export async function decodeForAsr(
  bytes: Uint8Array,
  transcoder: () => Transcoder,
  opts: RunOptions & { durationHint?: number; rateHint?: number } = {},
): Promise<AsrAudio> {
  const { signal } = opts;
  throwIfAborted(signal);
  if (isWav(bytes)) {
    const w = readWav(bytes);
    const samples = await resampleTo16k(w.samples, w.sampleRate, signal);
    return { samples, sourceRate: w.sampleRate, channels: w.channels, decoder: 'wav' };
  }
  const big =
    opts.durationHint !== undefined && opts.durationHint * (opts.rateHint ?? 48000) > MAX_NATIVE_SAMPLES;
  const dec = await transcoder().decode(
    bytes,
    big ? { mono: true, sampleRate: SAMPLE_RATE } : { mono: true },
    {
      signal,
      onProgress: opts.onProgress ? (p) => opts.onProgress!({ ...p, stage: 'decode' }) : undefined,
    },
  );
  if (signal?.aborted) throw new CancelledError();
  if (!dec.samples.length) throw new DecodeError('The file holds no audio samples.');
  const mono = dec.channels > 1 ? mixToMono(dec.samples, dec.channels) : dec.samples;
  const samples = await resampleTo16k(mono, dec.sampleRate, signal);
  return { samples, sourceRate: dec.sampleRate, channels: dec.channels, decoder: 'ffmpeg' };
}
