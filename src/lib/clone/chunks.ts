// Long audio through the converter in overlapping chunks. Cuts fall in pauses (the quietest 20 ms near
// each target length, preferring gaps between VAD speech regions); each chunk is converted with a second
// of context on both sides, and neighbours are crossfaded over a short window centred on the cut. The
// context is wider than the converter's receptive field, so both chunks agree around the cut and the
// crossfade leaves no seam. The noise comes from one seeded draw over the whole file's frames (each chunk
// takes its frames), so chunked output matches a whole-file conversion and a seed reproduces it.
import { throwIfAborted } from '../engine/types';
import type { SpeechRegion } from '../asr/vad';

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

/** A 32-bit seeded PRNG (mulberry32) and standard normals from it (Box–Muller). */
export function seededNormals(count: number, seed: number): Float32Array {
  let a = seed >>> 0 || 0x9e3779b9;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const out = new Float32Array(count);
  for (let i = 0; i < count; i += 2) {
    const u = 1 - next();
    const v = next();
    const r = Math.sqrt(-2 * Math.log(u));
    out[i] = r * Math.cos(2 * Math.PI * v);
    if (i + 1 < count) out[i + 1] = r * Math.sin(2 * Math.PI * v);
  }
  return out;
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

/**
 * Converts `audio` through `convert(span, noise)` — which must return frames·hop samples for a span of
 * frames·hop (+ remainder) samples — chunk by chunk, and returns the whole output (frames·hop samples of
 * the whole file, as one conversion would give).
 */
export async function convertChunked(
  audio: Float32Array,
  convert: (span: Float32Array, noise: Float32Array, frames: number) => Promise<Float32Array>,
  o: ChunkedConvertOptions,
): Promise<{ samples: Float32Array; chunks: number; cuts: number[] }> {
  const { hop, sampleRate: sr, channels } = o;
  const n = audio.length;
  const totalFrames = Math.floor(n / hop);
  const outLen = totalFrames * hop;
  const noise = seededNormals(channels * totalFrames, o.seed ?? 0);
  const ctx = Math.round(((o.contextSeconds ?? 1) * sr) / hop) * hop;
  const xf = Math.min(ctx, Math.round(((o.crossfadeSeconds ?? 0.1) * sr) / 2) * 2);
  const cuts = planCuts(audio, o);
  const total = cuts.length - 1;
  const out = new Float32Array(outLen);
  let emitted = 0;
  let prev: { s0: number; audio: Float32Array } | null = null;
  for (let k = 0; k < total; k++) {
    throwIfAborted(o.signal);
    const s0 = Math.max(0, cuts[k]! - ctx);
    const s1 = Math.min(n, cuts[k + 1]! + ctx);
    const frames = Math.floor((s1 - s0) / hop);
    const y = await convert(audio.subarray(s0, s1), noiseFrames(noise, channels, s0 / hop, frames), frames);
    // This chunk owns [cut_k + xf/2, cut_{k+1} − xf/2) alone; around cut_k it fades in over prev.
    const a = cuts[k]!;
    const b = Math.min(outLen, cuts[k + 1]!);
    const fadeStart = k === 0 ? a : a - xf / 2;
    for (let t = fadeStart; t < b; t++) {
      const v = y[t - s0] ?? 0;
      if (k > 0 && t < a + xf / 2 && prev) {
        const w = 0.5 - 0.5 * Math.cos((Math.PI * (t - fadeStart + 0.5)) / xf);
        out[t] = (1 - w) * (prev.audio[t - prev.s0] ?? 0) + w * v;
      } else out[t] = v;
    }
    // The part before the next crossfade is final now.
    const ready = k === total - 1 ? outLen : Math.min(outLen, cuts[k + 1]! - xf / 2);
    if (ready > emitted) {
      o.onChunk?.({ index: k, total, samples: out.slice(emitted, ready), offset: emitted });
      emitted = ready;
    }
    prev = { s0, audio: y };
  }
  return { samples: out, chunks: total, cuts };
}
