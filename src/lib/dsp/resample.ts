// Sample-rate conversion, the studio's one resampler: a polyphase windowed-sinc (Kaiser) resampler, DOM-free.
// The filter's cutoff sits just under the lower of the two Nyquist rates, so downsampling (44.1/48 kHz →
// 16 kHz) removes everything that would alias instead of folding it into the speech band.
import { CancelledError } from '../core/run';
import { concatAudio } from './join';

/** Stopband attenuation the Kaiser window is designed for (dB). */
const ATTENUATION_DB = 100;
/** The pass band ends at this share of the lower Nyquist rate; the stop band begins at the Nyquist rate. */
const PASS_EDGE = 0.85;
/** Above this many phases the table would be large: coefficients are computed per output sample instead. */
const MAX_PHASES = 4096;

function gcd(a: number, b: number): number {
  while (b) [a, b] = [b, a % b];
  return a;
}

/** Modified Bessel function of the first kind, order 0 (series; converges fast for the β used here). */
function besselI0(x: number): number {
  let sum = 1;
  let term = 1;
  const q = (x * x) / 4;
  for (let k = 1; k < 64; k++) {
    term *= q / (k * k);
    sum += term;
    if (term < sum * 1e-16) break;
  }
  return sum;
}

/** Kaiser's β for a stopband attenuation in dB. */
function kaiserBeta(a: number): number {
  if (a > 50) return 0.1102 * (a - 8.7);
  if (a >= 21) return 0.5842 * (a - 21) ** 0.4 + 0.07886 * (a - 21);
  return 0;
}

export interface ResamplerDesign {
  /** Output samples per `down` input samples: out/in = up/down (reduced). */
  up: number;
  down: number;
  /** Cutoff in cycles per input sample. */
  cutoff: number;
  /** Half-width of the filter in input samples. */
  halfWidth: number;
}

export function designResampler(inRate: number, outRate: number): ResamplerDesign {
  if (!(inRate > 0 && outRate > 0) || !Number.isInteger(inRate) || !Number.isInteger(outRate))
    throw new RangeError(`Sample rates must be positive integers (got ${inRate} → ${outRate}).`);
  const g = gcd(inRate, outRate);
  const nyq = Math.min(inRate, outRate) / 2;
  // Transition band [PASS_EDGE·nyq, nyq]; the sinc's cutoff in its middle.
  const cutoffHz = ((1 + PASS_EDGE) / 2) * nyq;
  const transition = ((1 - PASS_EDGE) * nyq) / inRate; // cycles per input sample
  const taps = (ATTENUATION_DB - 7.95) / (14.36 * transition);
  return { up: outRate / g, down: inRate / g, cutoff: cutoffHz / inRate, halfWidth: Math.ceil(taps / 2) };
}

/**
 * Coefficient tables by rate pair: resampling in blocks (resampleTo16k, StreamResampler) calls resample()
 * once a block, and building a table (44.1 → 16 kHz: 160 phases × 236 taps, a Bessel function each) costs
 * about 2 ms, 8 % of a 4 s block's resampling.
 */
const tables = new Map<string, Float32Array>();

function phaseTable(key: string, up: number, width: number, hw: number, g: (tau: number) => number) {
  let t = tables.get(key);
  if (!t) {
    t = new Float32Array(up * width);
    for (let p = 0; p < up; p++) {
      const frac = p / up;
      for (let j = 0; j < width; j++) t[p * width + j] = g(frac - (j - hw + 1));
    }
    if (tables.size >= 8) tables.clear();
    tables.set(key, t);
  }
  return t;
}

/**
 * Resamples mono audio from `inRate` to `outRate`. Output length is round(n · out / in); the signal is
 * taken as zero outside the input.
 */
export function resample(input: Float32Array, inRate: number, outRate: number): Float32Array {
  if (inRate === outRate) return input.slice();
  const d = designResampler(inRate, outRate);
  const { up, down, cutoff, halfWidth: hw } = d;
  const outLen = Math.round((input.length * up) / down);
  const out = new Float32Array(outLen);
  const beta = kaiserBeta(ATTENUATION_DB);
  const i0b = besselI0(beta);
  const width = 2 * hw;
  // Filter value at distance τ (input samples) from the output instant.
  const g = (tau: number) => {
    const r = tau / hw;
    if (r <= -1 || r >= 1) return 0;
    const x = 2 * cutoff * tau;
    const sinc = x === 0 ? 1 : Math.sin(Math.PI * x) / (Math.PI * x);
    return 2 * cutoff * sinc * (besselI0(beta * Math.sqrt(1 - r * r)) / i0b);
  };
  // Output n sits at input time t = n·down/up = base + phase/up. Taps k = base−hw+1 … base+hw.
  const table = up <= MAX_PHASES ? phaseTable(`${inRate}/${outRate}`, up, width, hw, g) : null;
  const coeffs = new Float32Array(width);
  const n = input.length;
  for (let o = 0; o < outLen; o++) {
    const pos = o * down;
    const base = Math.floor(pos / up);
    const phase = pos - base * up;
    let c: Float32Array;
    let off = 0;
    if (table) {
      c = table;
      off = phase * width;
    } else {
      const frac = phase / up;
      for (let j = 0; j < width; j++) coeffs[j] = g(frac - (j - hw + 1));
      c = coeffs;
    }
    const first = base - hw + 1;
    let acc = 0;
    const jLo = Math.max(0, -first);
    const jHi = Math.min(width, n - first);
    for (let j = jLo; j < jHi; j++) acc += input[first + j]! * c[off + j]!;
    out[o] = acc;
  }
  return out;
}

/** The average of interleaved channels. */
export function mixToMono(interleaved: Float32Array, channels: number): Float32Array {
  if (channels <= 1) return interleaved;
  const n = Math.floor(interleaved.length / channels);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let c = 0; c < channels; c++) s += interleaved[i * channels + c]!;
    out[i] = s / channels;
  }
  return out;
}

/**
 * Outputs [o0, o1) of the whole signal resampled by design `d` (to rate·up/down), computed from the span
 * starting at input index `i0`.
 */
export function resampleSpan(
  span: Float32Array,
  rate: number,
  i0: number,
  o0: number,
  o1: number,
  d: ResamplerDesign,
): Float32Array {
  // The whole-signal output o sits at input time o·down/up. Shift the span so the lattice lines up: when
  // i0 is a multiple of `down`/gcd… simplest exact route: resample a padded copy whose start is a lattice
  // point (input index multiple of `down`), then take the outputs we need.
  const start = Math.floor(i0 / d.down) * d.down;
  const pre = i0 - start;
  const padded = new Float32Array(pre + span.length);
  padded.set(span, pre);
  const firstOut = (start / d.down) * d.up; // output index of input `start`
  const full = resample(padded, rate, (rate * d.up) / d.down);
  return full.subarray(o0 - firstOut, o1 - firstOut);
}

/**
 * resample() in blocks of about ten seconds of output, yielding between them so a cancel is seen and a
 * long file does not hold the thread. The output equals resample(samples, from, to) sample for sample.
 */
export async function resampleBlocks(
  samples: Float32Array,
  from: number,
  to: number,
  signal?: AbortSignal,
): Promise<Float32Array> {
  if (from === to) return samples;
  const d = designResampler(from, to);
  const outLen = Math.round((samples.length * d.up) / d.down);
  const out = new Float32Array(outLen);
  const block = 10 * to;
  for (let o = 0; o < outLen; o += block) {
    if (signal?.aborted) throw new CancelledError();
    const o1 = Math.min(outLen, o + block);
    // Input span of this block of outputs, with the filter's reach on both sides.
    const i0 = Math.max(0, Math.floor((o * d.down) / d.up) - d.halfWidth - 2);
    const i1 = Math.min(samples.length, Math.ceil((o1 * d.down) / d.up) + d.halfWidth + 2);
    out.set(resampleSpan(samples.subarray(i0, i1), from, i0, o, o1, d), o);
    if (o1 < outLen) await new Promise((r) => setTimeout(r, 0));
  }
  return out;
}

/** Seconds of output per resampled block: the granularity at which audio reaches transcription. */
const BLOCK_SECONDS = 4;
/** The rate the speech models take (Whisper, Silero VAD): what speech is resampled to by default. */
export const SPEECH_RATE = 16000;

/**
 * A streaming version of resampleBlocks: push the input as it comes, get the output (16 kHz unless told)
 * that is ready; end() gives the rest. The concatenated output equals resampleBlocks(whole input) sample
 * for sample.
 */
export class StreamResampler {
  private readonly d: ResamplerDesign | null;
  private readonly block: number;
  /** Input kept for the filter's reach, from absolute index `base`. */
  private buf = new Float32Array(0);
  private base = 0;
  /** Input samples pushed in all. */
  private n = 0;
  /** Outputs made so far. */
  private o = 0;

  constructor(
    private readonly rate: number,
    to: number = SPEECH_RATE,
  ) {
    this.d = rate === to ? null : designResampler(rate, to);
    this.block = BLOCK_SECONDS * to;
  }

  push(x: Float32Array): Float32Array {
    if (!this.d) return x.slice();
    const held = this.n - this.base;
    if (held + x.length > this.buf.length) {
      const grown = new Float32Array(Math.max(2 * this.buf.length, held + x.length, 1 << 16));
      grown.set(this.buf.subarray(0, held));
      this.buf = grown;
    }
    this.buf.set(x, held);
    this.n += x.length;
    return this.drain(false);
  }

  end(): Float32Array {
    return this.d ? this.drain(true) : new Float32Array(0);
  }

  private drain(final: boolean): Float32Array {
    const d = this.d!;
    const outLen = Math.round((this.n * d.up) / d.down);
    const parts: Float32Array[] = [];
    for (;;) {
      const o1 = final ? Math.min(outLen, this.o + this.block) : this.o + this.block;
      if (this.o >= o1) break;
      // The same spans as resampleBlocks: the outputs' input reach, with the filter's half-width each side.
      const need = Math.ceil((o1 * d.down) / d.up) + d.halfWidth + 2;
      if (!final && need > this.n) break;
      const i0 = Math.max(0, Math.floor((this.o * d.down) / d.up) - d.halfWidth - 2);
      const i1 = Math.min(this.n, need);
      parts.push(
        resampleSpan(this.buf.subarray(i0 - this.base, i1 - this.base), this.rate, i0, this.o, o1, d).slice(),
      );
      this.o = o1;
      this.forget(Math.max(0, Math.floor((this.o * d.down) / d.up) - d.halfWidth - 2));
    }
    return parts.length === 1 ? parts[0]! : concatAudio(parts);
  }

  /** Drops the input before absolute index `i`. */
  private forget(i: number) {
    if (i <= this.base) return;
    this.buf.copyWithin(0, i - this.base, this.n - this.base);
    this.base = i;
  }
}
