// The engine operations 'audio.enhance' (denoise, clarity, loudness, with before/after loudness and SNR)
// and 'audio.silence' (trim silence, or split on pauses). Both read any file ffmpeg reads (WAV directly),
// work on mono, and find speech with the one speech finder (vad/vad.ts: Silero where installed, energy beside it).
import { throwIfAborted, type RunOptions } from '../core/run';
import type { EncodeOptions } from '../codec/formats';
import type { EncodedAudio, Transcoder } from '../codec/transcoder';
import { encodeWav } from '../dsp/wav';
import { resampleBlocks } from '../dsp/resample';
import { findSpeech, VAD_RATE } from '../vad/vad';
import { decodeInput } from '../codec/decode';
import { denoise, DENOISE_RATE } from './denoise';
import { enhanceClarity } from './clarity';
import { integratedLoudness, normalizeLoudness, truePeakDb } from '../dsp/loudness';
import { estimateSnr } from './snr';
import { splitOnPauses, trimSilence } from './silence';
import type { AudioEnhanceArgs, AudioEnhanceResult, AudioSilenceArgs, AudioSilenceResult } from './contract';

export interface ToolDeps {
  transcoder: () => Transcoder;
  /** A reader of Silero VAD's model file, or null when it is not installed (energy VAD then). */
  vadModel: () => Promise<(() => Promise<Uint8Array>) | null>;
}

/** Speech regions (seconds) of mono audio by the one speech finder, and which detector found them. */
async function speechOf(x: Float32Array, rate: number, deps: ToolDeps, opts: RunOptions) {
  const a16 = await resampleBlocks(x, rate, VAD_RATE, opts.signal);
  const load = await deps.vadModel().catch(() => null);
  opts.onProgress?.({ stage: 'vad', done: 0, total: 0, message: 'Finding speech' });
  const { regions, method } = await findSpeech(a16, load, {
    signal: opts.signal,
    onProgress: opts.onProgress,
  });
  return { regions, vad: method };
}

const finite = (v: number) => (Number.isFinite(v) ? Math.round(v * 100) / 100 : null);

function wavResult(samples: Float32Array, rate: number): EncodedAudio {
  return {
    bytes: encodeWav(samples, rate, 's16'),
    mime: 'audio/wav',
    extension: 'wav',
    format: 'wav',
    sampleRate: rate,
    channels: 1,
    bitrate: null,
    duration: samples.length / rate,
  };
}

/** WAV at its own rate without ffmpeg; anything else (or other rates and channels) through the encoder. */
async function encodeOut(
  samples: Float32Array,
  rate: number,
  options: EncodeOptions,
  deps: ToolDeps,
  opts: RunOptions,
): Promise<EncodedAudio> {
  const plainWav =
    options.format === 'wav' &&
    (options.sampleRate === undefined || options.sampleRate === rate) &&
    (options.channels ?? 1) === 1 &&
    options.sampleFormat !== 'f32';
  if (plainWav) return wavResult(samples, rate);
  opts.onProgress?.({ stage: 'encode', done: 0, total: 0, message: 'Encoding' });
  return deps.transcoder().encode(samples, rate, options, { signal: opts.signal });
}

export async function runAudioEnhance(
  args: AudioEnhanceArgs,
  opts: RunOptions = {},
  deps: ToolDeps,
): Promise<AudioEnhanceResult> {
  const { samples: x, sampleRate: rate } = await decodeInput(args.audio, deps.transcoder, {
    ...opts,
    rate: DENOISE_RATE,
  });
  const { regions, vad } = await speechOf(x, rate, deps, opts);
  const steps: string[] = [];
  let y = x;
  if (args.denoise ?? true) {
    y = await denoise(y, { strength: args.strength ?? 2, signal: opts.signal, onProgress: opts.onProgress });
    steps.push(`denoise (RNNoise, strength ${args.strength ?? 2})`);
  }
  if (args.clarity) {
    throwIfAborted(opts.signal);
    opts.onProgress?.({ stage: 'clarity', done: 0, total: 0, message: 'De-essing and presence EQ' });
    y = enhanceClarity(y, rate);
    steps.push('clarity (presence EQ, de-esser)');
  }
  throwIfAborted(opts.signal);
  opts.onProgress?.({ stage: 'loudness', done: 0, total: 0, message: 'Measuring loudness' });
  let peak: number;
  if (args.target_lufs !== undefined) {
    const n = normalizeLoudness(y, rate, args.target_lufs, -1);
    y = n.samples;
    peak = n.truePeakDb;
    steps.push(`loudness ${args.target_lufs} LUFS (true-peak ceiling −1 dBFS)`);
  } else peak = truePeakDb(y, rate);
  const result: Omit<AudioEnhanceResult, 'audio'> = {
    loudness_before: finite(integratedLoudness(x, rate)),
    loudness_after: finite(integratedLoudness(y, rate)),
    true_peak_after: finite(peak),
    snr_before: estimateSnr(x, rate, regions),
    snr_after: estimateSnr(y, rate, regions),
    vad,
    duration: Math.round((x.length / rate) * 1000) / 1000,
    steps,
  };
  const audio = await encodeOut(y, rate, args.options ?? { format: 'wav' }, deps, opts);
  return { ...result, audio };
}

export async function runAudioSilence(
  args: AudioSilenceArgs,
  opts: RunOptions = {},
  deps: ToolDeps,
): Promise<AudioSilenceResult> {
  const { samples: x, sampleRate: rate } = await decodeInput(args.audio, deps.transcoder, opts);
  const { regions, vad } = await speechOf(x, rate, deps, opts);
  throwIfAborted(opts.signal);
  const base = { vad, duration: Math.round((x.length / rate) * 1000) / 1000, sample_rate: rate };
  if (args.mode === 'trim') {
    const t = trimSilence(x, rate, regions, args.max_pause);
    return {
      ...base,
      trimmed: {
        wav: encodeWav(t.samples, rate, 's16'),
        start: t.start,
        end: t.end,
        duration: Math.round((t.samples.length / rate) * 1000) / 1000,
        pauses_shortened: t.pauses_shortened,
        removed_seconds: t.removed_seconds,
      },
    };
  }
  const pieces = splitOnPauses(x, rate, regions, args.min_pause ?? 0.5);
  return {
    ...base,
    pieces: pieces.map((p) => ({ start: p.start, end: p.end, wav: encodeWav(p.samples, rate, 's16') })),
  };
}
