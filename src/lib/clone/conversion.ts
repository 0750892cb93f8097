// One conversion's parts, shared by clone.convert and clone.speak: the argument checks, and a span's
// conversion with the options both chunkers take.
import type { RunOptions } from '../core/run';
import type { ConverterPrecision, OpenVoiceConverter } from '../openvoice';
import { convertChunked } from './chunks';
import { CloneParamError } from './errors';
import { DEFAULT_TAU, type CloneChunkData } from './contract';

export function checkTau(tau: number | undefined): number {
  const t = tau ?? DEFAULT_TAU;
  if (!Number.isFinite(t) || t < 0 || t > 1)
    throw new CloneParamError(`tau must be between 0 and 1 (got ${tau}).`);
  return t;
}

export function checkEmbedding(e: Float32Array | number[], dim: number, what: string): Float32Array {
  if (e.length !== dim)
    throw new CloneParamError(`${what} has ${e.length} values; the converter needs ${dim}.`);
  return Float32Array.from(e);
}

/** What one conversion is: the model, the source's and the target's tones, tau and the precision. */
export interface Conversion {
  model: OpenVoiceConverter;
  srcSe: Float32Array;
  tgtSe: Float32Array;
  tau: number;
  precision: ConverterPrecision;
}

/** A span's conversion, and the options both chunkers take: the converter's sizes, chunks as progress. */
export function converting(c: Conversion, opts: RunOptions) {
  const cfg = c.model.config;
  const rate = cfg.samplingRate;
  return {
    convert: (span: Float32Array, noise: Float32Array) =>
      c.model.convert(c.model.spectrogram(span), noise, c.srcSe, c.tgtSe, c.tau, c.precision),
    options: {
      hop: cfg.hopLength,
      sampleRate: rate,
      channels: cfg.interChannels,
      signal: opts.signal,
      onChunk: (k: Omit<CloneChunkData, 'sampleRate'>) =>
        opts.onProgress?.({
          stage: 'chunk',
          done: k.index + 1,
          total: k.total,
          data: { ...k, sampleRate: rate } satisfies CloneChunkData,
        }),
    },
  };
}

/** Converts mono samples at the converter's rate, streaming chunks as progress. */
export async function convertSamples(
  c: Conversion,
  samples: Float32Array,
  seed: number,
  opts: RunOptions,
  speech?: { start: number; end: number }[],
) {
  const { convert, options } = converting(c, opts);
  return convertChunked(samples, convert, { ...options, seed, speech });
}
