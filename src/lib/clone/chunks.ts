// Long audio through the converter in overlapping chunks. Cuts fall in pauses (the quietest 20 ms near
// each target length, preferring gaps between VAD speech regions); each chunk is converted with a second
// of context on both sides, and neighbours are crossfaded over a short window centred on the cut. The
// context is wider than the converter's receptive field, so both chunks agree around the cut and the
// crossfade leaves no seam. The noise comes from one seeded draw over the whole file's frames (each chunk
// takes its frames), so chunked output matches a whole-file conversion and a seed reproduces it.
import { throwIfAborted } from '../core/run';
import { seededNormals } from '../core/random';
import type { SpeechRegion } from '../vad/vad';

export interface ChunkPlanOptions {
  hop: number;
  sampleRate: number;
  /** Length of the first chunk (short, so the first audio comes early), seconds. */
  firstSeconds?: number;
  /** Length of later chunks, seconds. */
  chunkSeconds?: number;
  /** How far from the target a cut may move to find a pause, seconds. */
  searchSeconds?: number;
  /** Speech regions (seconds) from VAD: cuts prefer the gaps. */
  speech?: readonly SpeechRegion[];
}

/** Cut points in samples: [0, c1, …, n], every inner cut a multiple of `hop`. */
export function planCuts(audio: Float32Array, o: ChunkPlanOptions): number[] {
  const { hop, sampleRate: sr } = o;
  const n = audio.length;
  const first = Math.round((o.firstSeconds ?? 4) * sr);
  const step = Math.round((o.chunkSeconds ?? 10) * sr);
  const search = Math.round((o.searchSeconds ?? 2) * sr);
  const half = Math.max(hop, Math.round(0.02 * sr)) >> 1;
  const cuts = [0];
  let target = first;
  while (n - cuts[cuts.length - 1]! > target - cuts[cuts.length - 1]! + step / 2) {
    const lo = Math.max(cuts[cuts.length - 1]! + step / 4, target - search);
    const hi = Math.min(n - step / 4, target + search);
    let best = Math.round(target / hop) * hop;
    let bestCost = Infinity;
    for (let c = Math.ceil(lo / hop) * hop; c <= hi; c += hop) {
      let e = 0;
      for (let i = Math.max(0, c - half); i < Math.min(n, c + half); i++) e += audio[i]! * audio[i]!;
      // Inside speech costs more than any pause, so a gap VAD found wins over a quiet consonant.
      const t = c / sr;
      const inSpeech = o.speech?.some((r) => t > r.start && t < r.end) ?? false;
      const cost = e + (inSpeech ? 1e6 : 0) + (Math.abs(c - target) / search) * 1e-9;
      if (cost < bestCost) {
        bestCost = cost;
        best = c;
      }
    }
    cuts.push(best);
    target = best + step;
  }
  cuts.push(n);
  return cuts;
}

/** Frames [f0, f0 + frames) of a [channels, total] noise array. */
export function noiseFrames(noise: Float32Array, channels: number, f0: number, frames: number): Float32Array {
  const total = noise.length / channels;
  const out = new Float32Array(channels * frames);
  for (let c = 0; c < channels; c++)
    out.set(noise.subarray(c * total + f0, c * total + f0 + frames), c * frames);
  return out;
}

export interface ChunkedConvertOptions extends ChunkPlanOptions {
  /** Noise channels of the converter (inter_channels). */
  channels: number;
  seed?: number;
  /** Context converted on each side of a chunk (dropped, bar the crossfade), seconds. */
  contextSeconds?: number;
  /** Crossfade length centred on each cut, seconds. */
  crossfadeSeconds?: number;
  signal?: AbortSignal;
  /** Final audio in order, as soon as it cannot change any more. */
  onChunk?: (c: { index: number; total: number; samples: Float32Array; offset: number }) => void;
}

/** Noise frames [f0, f0 + frames) as a [channels, frames] array. */
export type NoiseAt = (f0: number, frames: number) => Float32Array;

/**
 * Noise drawn frame after frame (frame-major), so a frame's values do not depend on how long the audio
 * turns out to be: what streamed conversion needs, as the length is unknown while speech is still made.
 */
export function frameNoise(seed: number, channels: number): NoiseAt {
  let buf: Float32Array = new Float32Array(0);
  return (f0, frames) => {
    const need = (f0 + frames) * channels;
    // seededNormals of an even count is a prefix of any longer draw: regrow by doubling.
    if (buf.length < need) {
      const count = Math.max(need, 2 * buf.length);
      buf = seededNormals(count + (count % 2), seed);
    }
    const out = new Float32Array(channels * frames);
    for (let f = 0; f < frames; f++)
      for (let c = 0; c < channels; c++) out[c * frames + f] = buf[(f0 + f) * channels + c]!;
    return out;
  };
}

type Convert = (span: Float32Array, noise: Float32Array, frames: number) => Promise<Float32Array>;

/** Chunk after chunk: converts with context, crossfades onto the previous chunk, emits final audio. */
class Joiner {
  out: Float32Array = new Float32Array(0);
  emitted = 0;
  private prev: { s0: number; audio: Float32Array } | null = null;
  private k = 0;

  constructor(
    private readonly convert: Convert,
    private readonly noise: NoiseAt,
    readonly o: ChunkedConvertOptions,
    readonly ctx: number,
    readonly xf: number,
  ) {}

  /** Chunk [a, b) of `audio` (which holds at least b + ctx samples, or is whole when `last`). */
  async chunk(audio: Float32Array, a: number, b: number, last: boolean, total: number): Promise<void> {
    const { hop } = this.o;
    const { ctx, xf } = this;
    throwIfAborted(this.o.signal);
    const k = this.k++;
    const n = audio.length;
    const s0 = Math.max(0, a - ctx);
    const s1 = Math.min(n, b + ctx);
    const frames = Math.floor((s1 - s0) / hop);
    const y = await this.convert(audio.subarray(s0, s1), this.noise(s0 / hop, frames), frames);
    const end = last ? Math.floor(n / hop) * hop : Math.min(Math.floor(n / hop) * hop, b);
    if (this.out.length < end) {
      const grown = new Float32Array(Math.max(end, 2 * this.out.length));
      grown.set(this.out);
      this.out = grown;
    }
    const out = this.out;
    const prev = this.prev;
    // This chunk owns [a + xf/2, b − xf/2) alone; around a it fades in over prev.
    const fadeStart = k === 0 ? a : a - xf / 2;
    for (let t = fadeStart; t < end; t++) {
      const v = y[t - s0] ?? 0;
      if (k > 0 && t < a + xf / 2 && prev) {
        const w = 0.5 - 0.5 * Math.cos((Math.PI * (t - fadeStart + 0.5)) / xf);
        out[t] = (1 - w) * (prev.audio[t - prev.s0] ?? 0) + w * v;
      } else out[t] = v;
    }
    // The part before the next crossfade is final now.
    const ready = last ? end : Math.min(end, b - xf / 2);
    if (ready > this.emitted) {
      this.o.onChunk?.({ index: k, total, samples: out.slice(this.emitted, ready), offset: this.emitted });
      this.emitted = ready;
    }
    this.prev = { s0, audio: y };
  }

  get chunks(): number {
    return this.k;
  }
}

const joinerFor = (convert: Convert, noise: NoiseAt, o: ChunkedConvertOptions) => {
  const ctx = Math.round(((o.contextSeconds ?? 1) * o.sampleRate) / o.hop) * o.hop;
  const xf = Math.min(ctx, Math.round(((o.crossfadeSeconds ?? 0.1) * o.sampleRate) / 2) * 2);
  return new Joiner(convert, noise, o, ctx, xf);
};

/**
 * Converts `audio` through `convert(span, noise)` — which must return frames·hop samples for a span of
 * frames·hop (+ remainder) samples — chunk by chunk, and returns the whole output (frames·hop samples of
 * the whole file, as one conversion would give). `noise` defaults to one seeded draw over the whole file.
 */
export async function convertChunked(
  audio: Float32Array,
  convert: Convert,
  o: ChunkedConvertOptions & { noise?: NoiseAt },
): Promise<{ samples: Float32Array; chunks: number; cuts: number[] }> {
  const { hop, channels } = o;
  const totalFrames = Math.floor(audio.length / hop);
  let noise = o.noise;
  if (!noise) {
    const all = seededNormals(channels * totalFrames, o.seed ?? 0);
    noise = (f0, frames) => noiseFrames(all, channels, f0, frames);
  }
  const cuts = planCuts(audio, o);
  const total = cuts.length - 1;
  const j = joinerFor(convert, noise, o);
  for (let k = 0; k < total; k++) await j.chunk(audio, cuts[k]!, cuts[k + 1]!, k === total - 1, total);
  return { samples: j.out.subarray(0, totalFrames * hop), chunks: total, cuts };
}

/**
 * Conversion of audio that is still being made (speech sentence by sentence): `add` the audio as it grows
 * with where a cut may fall (a pause), `finish` when it is whole. A chunk is converted as soon as the audio
 * reaches its end plus the context, so the first sentence is heard while later ones are being made; the
 * output equals convertChunked's with the same cuts and noise.
 */
export class StreamedConversion {
  private readonly j: Joiner;
  private readonly cuts = [0];
  private done = 0;
  /** Lead over a chunk's end before it is converted (the resampler's edge, beyond the context). */
  private readonly margin: number;

  constructor(convert: Convert, noise: NoiseAt, o: ChunkedConvertOptions) {
    this.j = joinerFor(convert, noise, o);
    this.margin = Math.round(0.05 * o.sampleRate);
  }

  /** `audio` is everything so far; `cut` a pause in it (samples) where a chunk may end. */
  async add(audio: Float32Array, cut: number | null): Promise<void> {
    const { hop, sampleRate } = this.j.o;
    const min = Math.round((this.j.o.firstSeconds ?? 1) * sampleRate);
    if (cut !== null) {
      const c = Math.round(cut / hop) * hop;
      if (c - this.cuts[this.cuts.length - 1]! >= min) this.cuts.push(c);
    }
    while (this.done < this.cuts.length - 1) {
      const a = this.cuts[this.done]!;
      const b = this.cuts[this.done + 1]!;
      if (audio.length < b + this.j.ctx + this.margin) break;
      await this.j.chunk(audio, a, b, false, 0);
      this.done++;
    }
  }

  /** The whole audio: converts what is left and returns the output. */
  async finish(audio: Float32Array): Promise<{ samples: Float32Array; chunks: number; cuts: number[] }> {
    const { hop } = this.j.o;
    const n = audio.length;
    while (this.cuts.length > 1 && this.cuts[this.cuts.length - 1]! > n - hop) this.cuts.pop();
    const cuts = [...this.cuts, n];
    for (let k = this.done; k < cuts.length - 1; k++)
      await this.j.chunk(audio, cuts[k]!, cuts[k + 1]!, k === cuts.length - 2, cuts.length - 1);
    return { samples: this.j.out.subarray(0, Math.floor(n / hop) * hop), chunks: cuts.length - 1, cuts };
  }
}
