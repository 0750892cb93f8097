// Voice activity, the studio's one speech finder (SpeechFinder, findSpeech, speechSource): Silero VAD v5
// (one ONNX session: 512-sample frames at 16 kHz with 64 samples of context from the frame before, plus its
// recurrent state) gives a speech probability per 32 ms frame; speech regions follow Silero's own rules
// (hysteresis, minimum speech and silence, padding). An energy detector runs beside it: without the Silero
// model it stands in, and where Silero misses most of the loud frames around a frame (it hears no speech in
// some real recordings, e.g. dense, limited speech), the two are joined, since leaving speech out is the
// worse error for every caller (trimming, splitting, transcription windows). The result says which was used.
import { throwIfAborted, type ProgressFn, yieldToEvents } from '../core/run';
import { runtimeHost } from '../runtime/host';
import type { OrtSession, OrtTensor } from '../runtime/ort-session';
import { installedModelFiles, type ModelFileDeps } from '../models/files';
import { GrowingAudio } from '../codec/stream';
import { SPEECH_RATE as SAMPLE_RATE } from '../dsp/resample';
import { RealFFT } from '../dsp/fft';
import { frameLevelDb } from '../dsp/levels';

export const VAD_MODEL_ID = 'silero-vad-v5';

/** A reader of Silero VAD's model file when it is installed, else null (the energy detector stands in). */
export async function sileroModel(d: ModelFileDeps): Promise<(() => Promise<Uint8Array>) | null> {
  if (!(await d.registry.get(VAD_MODEL_ID))) return null;
  const read = await installedModelFiles(VAD_MODEL_ID, 'Silero VAD v5', d);
  return () => read('silero_vad_v5.onnx');
}
/** The rate Silero (and so the speech finder) reads. */
export const VAD_RATE = SAMPLE_RATE;
export const VAD_FRAME = 512;
const CONTEXT = 64;
export const FRAME_SECONDS = VAD_FRAME / SAMPLE_RATE;

export interface SpeechRegion {
  /** Seconds. */
  start: number;
  end: number;
}

/** Which detector found the speech: Silero, the energy detector alone, or both joined (see above). */
export type VadMethod = 'silero-vad-v5' | 'energy' | 'silero-vad-v5+energy';

export interface VadResult {
  /** Speech probability per 512-sample frame. */
  probs: Float32Array;
  regions: SpeechRegion[];
  method: VadMethod;
}

export interface RegionOptions {
  threshold?: number;
  minSpeechMs?: number;
  minSilenceMs?: number;
  padMs?: number;
}

/** Silero's get_speech_timestamps over per-frame probabilities (seconds, padded, non-overlapping). */
export function speechRegions(
  probs: Float32Array,
  totalSeconds: number,
  o: RegionOptions = {},
): SpeechRegion[] {
  const threshold = o.threshold ?? 0.5;
  const neg = Math.max(threshold - 0.15, 0.01);
  const minSpeech = (o.minSpeechMs ?? 250) / 1000;
  const minSilence = (o.minSilenceMs ?? 300) / 1000;
  const pad = (o.padMs ?? 200) / 1000;
  const raw: SpeechRegion[] = [];
  let inSpeech = false;
  let start = 0;
  let silenceFrom = -1;
  for (let i = 0; i < probs.length; i++) {
    const p = probs[i]!;
    const t = i * FRAME_SECONDS;
    if (p >= threshold) {
      silenceFrom = -1;
      if (!inSpeech) {
        inSpeech = true;
        start = t;
      }
    } else if (inSpeech && p < neg) {
      if (silenceFrom < 0) silenceFrom = t;
      if (t + FRAME_SECONDS - silenceFrom >= minSilence) {
        if (silenceFrom - start >= minSpeech) raw.push({ start, end: silenceFrom });
        inSpeech = false;
        silenceFrom = -1;
      }
    }
  }
  if (inSpeech && totalSeconds - start >= minSpeech) raw.push({ start, end: totalSeconds });
  // Pad, and join regions whose padding meets.
  const out: SpeechRegion[] = [];
  for (const r of raw) {
    const s = Math.max(0, r.start - pad);
    const e = Math.min(totalSeconds, r.end + pad);
    const last = out[out.length - 1];
    if (last && s <= last.end) last.end = Math.max(last.end, e);
    else out.push({ start: s, end: e });
  }
  return out;
}

/** Seconds of speech (by the regions) inside [a, b]. */
export function speechWithin(regions: readonly SpeechRegion[], a: number, b: number): number {
  let s = 0;
  for (const r of regions) {
    const lo = Math.max(a, r.start);
    const hi = Math.min(b, r.end);
    if (hi > lo) s += hi - lo;
  }
  return s;
}

/** Level (dBFS) of frame `f`: mean power of its 512 samples (zeros past the end). */
const frameDb = (audio: Float32Array, f: number) => frameLevelDb(audio, f * VAD_FRAME, VAD_FRAME);

/** The level above which a frame counts as loud: a third of the range above the floor, ≥ 12 dB, ≥ −55 dBFS. */
function loudAt(floor: number, top: number): number {
  return Math.max(floor + Math.max(12, (top - floor) / 3), -55);
}

const energyProb = (db: number, at: number) => Math.min(1, Math.max(0, 0.5 + (db - at) / 6));

/**
 * Frame energies mapped to a pseudo-probability: 1 well above the noise floor, 0 near it. The floor and
 * top are the whole file's (10th and 95th percentile of frame levels).
 */
export function energyProbabilities(audio: Float32Array): Float32Array {
  const n = Math.floor(audio.length / VAD_FRAME);
  const db = new Float32Array(n);
  for (let f = 0; f < n; f++) db[f] = frameDb(audio, f);
  const sorted = Float32Array.from(db).sort();
  const at = loudAt(
    sorted[Math.floor(sorted.length * 0.1)] ?? -120,
    sorted[Math.floor(sorted.length * 0.95)] ?? 0,
  );
  const out = new Float32Array(n);
  for (let f = 0; f < n; f++) out[f] = energyProb(db[f]!, at);
  return out;
}

/** Speech probabilities by Silero VAD v5 on the shared runtime (session kept by the pool). */
export async function sileroProbabilities(
  audio: Float32Array,
  loadModel: () => Promise<Uint8Array>,
  opts: { signal?: AbortSignal; onProgress?: ProgressFn } = {},
): Promise<Float32Array> {
  const stream = new SileroStream(audio, loadModel, opts);
  await stream.advance(Infinity);
  return stream.probs;
}

/**
 * Silero VAD run on demand: frames are computed only as far as asked (`advance`), with the recurrent
 * state carried over, so the probabilities are the same as one pass over the whole file. Transcription
 * asks for a window's worth ahead, so its first text does not wait for the VAD of an hour of audio, and
 * over audio that is still decoding (GrowingAudio) it waits for the samples a frame needs.
 */
export class SileroStream {
  private buf = new Float32Array(1024);
  /** Frames computed so far. */
  done = 0;
  private state: OrtTensor | null = null;
  private readonly input = new Float32Array(CONTEXT + VAD_FRAME);
  private readonly audio: GrowingAudio;

  constructor(
    audio: Float32Array | GrowingAudio,
    private readonly loadModel: () => Promise<Uint8Array>,
    private readonly opts: { signal?: AbortSignal; onProgress?: ProgressFn } = {},
  ) {
    this.audio = audio instanceof GrowingAudio ? audio : GrowingAudio.whole(audio);
  }

  /** Frames in the whole file, once it has all arrived (else null). */
  get frames(): number | null {
    return this.audio.complete ? Math.ceil(this.audio.length / VAD_FRAME) : null;
  }

  /** Seconds of audio (exact once it has all arrived). */
  get total(): number {
    return this.audio.total;
  }

  /** Probabilities of the frames computed so far. */
  get probs(): Float32Array {
    return this.buf.subarray(0, this.done);
  }

  /** Computes frames up to `frame` (exclusive; Infinity: all), waiting for their audio if need be. */
  async advance(frame: number): Promise<void> {
    const want = Math.ceil(frame);
    if (want <= this.done) return;
    const { audio, input, opts } = this;
    await audio.until((want * VAD_FRAME) / SAMPLE_RATE, opts.signal);
    // A last, partial frame only once the file is complete (it is zero-padded, as in one pass).
    const have = this.frames ?? Math.floor(audio.length / VAD_FRAME);
    const to = Math.min(have, want);
    if (to <= this.done) return;
    if (to > this.buf.length) {
      const grown = new Float32Array(Math.max(to, this.buf.length * 2));
      grown.set(this.probs);
      this.buf = grown;
    }
    const samples = audio.samples;
    const total = this.frames ?? Math.ceil(audio.total / FRAME_SECONDS);
    const rt = await runtimeHost();
    const ort = rt.ort;
    await rt.pool.use(VAD_MODEL_ID, this.loadModel, { signal: opts.signal }, async (ps) => {
      const session: OrtSession = ps.session;
      const sr = new ort.Tensor('int64', BigInt64Array.from([BigInt(SAMPLE_RATE)]), []);
      this.state ??= new ort.Tensor('float32', new Float32Array(2 * 128), [2, 1, 128]);
      for (let f = this.done; f < to; f++) {
        if (f % 64 === 0) {
          await yieldToEvents();
          throwIfAborted(opts.signal);
          opts.onProgress?.({ stage: 'vad', done: f, total, message: 'Finding speech' });
        }
        // Context: the last 64 samples of the previous frame (zeros before the first).
        input.copyWithin(0, VAD_FRAME, VAD_FRAME + CONTEXT);
        if (f === 0) input.fill(0, 0, CONTEXT);
        input.fill(0, CONTEXT);
        input.set(samples.subarray(f * VAD_FRAME, Math.min(samples.length, (f + 1) * VAD_FRAME)), CONTEXT);
        const out: Record<string, OrtTensor> = await session.run({
          input: new ort.Tensor('float32', input.slice(), [1, CONTEXT + VAD_FRAME]),
          state: this.state!,
          sr,
        });
        this.buf[f] = (out.output!.data as Float32Array)[0]!;
        this.state = out.stateN!;
        this.done = f + 1;
      }
    });
    if (this.done === this.frames)
      opts.onProgress?.({ stage: 'vad', done: this.done, total: this.done, message: 'Found speech' });
  }
}

/** Speech regions known up to a time: what transcription reads the VAD through. */
export interface RegionSource {
  /** Seconds of audio. */
  readonly total: number;
  /**
   * The regions over [0, t] at least (the whole file once t ≥ total). Regions that end more than a
   * second before the covered end are final; the last one may still grow.
   */
  upTo(t: number): Promise<{ regions: readonly SpeechRegion[]; covered: number }>;
}

/** A RegionSource over regions known in full. */
export function fixedRegions(regions: readonly SpeechRegion[], total: number): RegionSource {
  return { total, upTo: async () => ({ regions, covered: total }) };
}

/** Frames of look-ahead that the energy floor and the join decision take (10 s). */
const AHEAD = Math.round(10 / FRAME_SECONDS);
/**
 * Frames each side of a frame that the join decision looks over (5 s): local, so a deaf stretch of a few
 * seconds inside speech Silero hears (a file joined from two recordings) is still found.
 */
const AROUND = Math.round(5 / FRAME_SECONDS);
/** Silero must hear at least this share of the loud frames around a frame, or the energy detector joins. */
const MIN_AGREEMENT = 0.5;
/** With fewer loud frames than this around a frame (1 s) there is nothing to judge: Silero alone. */
const MIN_LOUD = Math.round(1 / FRAME_SECONDS);
/** The join decision is taken afresh every this many frames (0.5 s). */
const DECIDE_EVERY = 16;
/**
 * A frame whose strongest three FFT bins (62 Hz–4 kHz) hold more than this share of its power is tonal. Loud
 * frames of real speech are tonal 1–38 % of the time (per file: the ten LibriSpeech readers and the four
 * demo mp3s; 14 % in demo_speaker1); Chromium's fake microphone (a beep) 81 %: where most loud frames are
 * tonal it is a tone, not speech Silero missed, and the energy detector does not join.
 */
const TONAL_PEAK = 0.8;
const TONAL_MOST = 0.5;

/** Frame levels in 0.1 dB bins from −140 to +10 dBFS: running percentiles without sorting. */
class LevelHistogram {
  private readonly bins = new Uint32Array(1500);
  private count = 0;

  add(db: number): void {
    this.bins[Math.min(1499, Math.max(0, Math.floor((db + 140) * 10)))]!++;
    this.count++;
  }

  /** The level below which a share `q` of the frames lie (to 0.1 dB). */
  quantile(q: number): number {
    const k = Math.floor(this.count * q);
    let c = 0;
    for (let b = 0; b < this.bins.length; b++) {
      c += this.bins[b]!;
      if (c > k) return b / 10 - 140;
    }
    return 10;
  }
}

/**
 * The one speech finder: speech probability per 32 ms frame of 16 kHz audio (whole, or growing while it
 * decodes), computed only as far as asked (`advance`). Silero where installed, the energy detector beside
 * it (its floor and top from the frames so far and ten seconds ahead), joined per frame where Silero
 * hears under half of the loud frames in the 5 s before and after (see the top of this file).
 */
export class SpeechFinder {
  private readonly audio: GrowingAudio;
  private readonly silero: SileroStream | null;
  private db = new Float32Array(1024);
  /** Frames whose level is known, and how many of them are in the histogram. */
  private levels = 0;
  private counted = 0;
  private readonly hist = new LevelHistogram();
  private out = new Float32Array(1024);
  /** Frames decided so far. */
  done = 0;
  private join = false;
  private at = -55;
  private joined = false;
  /** Per frame: 0 not yet known, 1 not tonal, 2 tonal. */
  private tonal = new Uint8Array(1024);

  constructor(
    audio: Float32Array | GrowingAudio,
    model: (() => Promise<Uint8Array>) | null,
    private readonly opts: { signal?: AbortSignal; onProgress?: ProgressFn } = {},
  ) {
    this.audio = audio instanceof GrowingAudio ? audio : GrowingAudio.whole(audio);
    this.silero = model ? new SileroStream(this.audio, model, opts) : null;
  }

  /** Which detector the frames so far come from. */
  get method(): VadMethod {
    if (!this.silero) return 'energy';
    return this.joined ? 'silero-vad-v5+energy' : 'silero-vad-v5';
  }

  /** Frames in the whole file, once it has all arrived (else null). */
  get frames(): number | null {
    return this.audio.complete ? Math.ceil(this.audio.length / VAD_FRAME) : null;
  }

  /** Seconds of audio (exact once it has all arrived). */
  get total(): number {
    return this.audio.total;
  }

  /** Probabilities of the frames decided so far. */
  get probs(): Float32Array {
    return this.out.subarray(0, this.done);
  }

  /** Decides frames up to `frame` (exclusive; Infinity: all), waiting for their audio if need be. */
  async advance(frame: number): Promise<void> {
    const want = Math.ceil(frame);
    if (want <= this.done) return;
    const { audio, opts } = this;
    await audio.until(((want + AHEAD) * VAD_FRAME) / SAMPLE_RATE, opts.signal);
    const total = this.frames;
    const have = total ?? Math.floor(audio.length / VAD_FRAME);
    const upto = Math.min(have, want + AHEAD);
    this.measure(upto);
    if (this.silero) await this.silero.advance(upto);
    const to = Math.min(want, total ?? Math.max(0, upto - AHEAD));
    if (to <= this.done) return;
    this.out = grow(this.out, to);
    const sp = this.silero?.probs;
    for (let f = this.done; f < to; f++) {
      // The histogram holds the frames up to ten seconds past this one.
      for (const end = Math.min(this.levels, f + AHEAD); this.counted < end; this.counted++)
        this.hist.add(this.db[this.counted]!);
      // (on a fixed grid of frames, so a pass in pieces decides exactly as one pass does)
      if (f % DECIDE_EVERY === 0) {
        this.at = loudAt(this.hist.quantile(0.1), this.hist.quantile(0.95));
        if (sp) this.join = this.sileroDeaf(f, sp);
      }
      const e = energyProb(this.db[f]!, this.at);
      if (!sp) this.out[f] = e;
      else {
        const p = sp[f]!;
        this.out[f] = this.join ? Math.max(p, e) : p;
        if (this.join && e >= 0.5 && p < 0.5) this.joined = true;
      }
    }
    this.done = to;
  }

  /** Levels of frames up to `upto`. */
  private measure(upto: number) {
    if (upto <= this.levels) return;
    this.db = grow(this.db, upto);
    const samples = this.audio.samples;
    for (let f = this.levels; f < upto; f++) this.db[f] = frameDb(samples, f);
    this.levels = upto;
  }

  /** Whether Silero hears under half of the loud frames around frame `f`, and they are not a tone. */
  private sileroDeaf(f: number, sp: Float32Array): boolean {
    let loud = 0;
    let heard = 0;
    let tonal = 0;
    const end = Math.min(this.levels, sp.length, f + AROUND);
    for (let k = Math.max(0, f - AROUND); k < end; k++)
      if (this.db[k]! > this.at) {
        loud++;
        if (sp[k]! >= 0.5) heard++;
        if (this.isTonal(k)) tonal++;
      }
    return loud >= MIN_LOUD && heard < MIN_AGREEMENT * loud && tonal <= TONAL_MOST * loud;
  }

  private isTonal(k: number): boolean {
    if (k >= this.tonal.length) {
      const t = new Uint8Array(Math.max(k + 1, this.tonal.length * 2));
      t.set(this.tonal);
      this.tonal = t;
    }
    this.tonal[k] ||= peakShare(this.audio.samples, k) > TONAL_PEAK ? 2 : 1;
    return this.tonal[k] === 2;
  }
}

const fft = new RealFFT(VAD_FRAME);
const spectrum = {
  re: new Float64Array(fft.bins),
  im: new Float64Array(fft.bins),
  x: new Float64Array(VAD_FRAME),
};
const HANN = Float64Array.from(
  { length: VAD_FRAME },
  (_, i) => 0.5 - 0.5 * Math.cos((2 * Math.PI * i) / VAD_FRAME),
);
/** Bins 2…127 at 16 kHz: 62 Hz to 4 kHz. */
const LOW_BIN = 2;
const HIGH_BIN = 128;

/** The share of frame `f`'s power (62 Hz–4 kHz, Hann window) in its strongest three adjacent FFT bins. */
function peakShare(audio: Float32Array, f: number): number {
  const { re, im, x } = spectrum;
  for (let i = 0; i < VAD_FRAME; i++) x[i] = (audio[f * VAD_FRAME + i] ?? 0) * HANN[i]!;
  fft.forward(x, re, im);
  let total = 0;
  let best = 0;
  let run = 0;
  const p = (k: number) => re[k]! * re[k]! + im[k]! * im[k]!;
  for (let k = LOW_BIN; k < HIGH_BIN; k++) {
    const v = p(k);
    total += v;
    run += v - (k - 3 >= LOW_BIN ? p(k - 3) : 0);
    if (run > best) best = run;
  }
  return total > 0 ? best / total : 0;
}

function grow(a: Float32Array<ArrayBuffer>, n: number): Float32Array<ArrayBuffer> {
  if (n <= a.length) return a;
  const b = new Float32Array(Math.max(n, a.length * 2));
  b.set(a);
  return b;
}

/** Speech in 16 kHz audio known in full: the finder's probabilities, regions and method. */
export async function findSpeech(
  audio: Float32Array,
  model: (() => Promise<Uint8Array>) | null,
  opts: { signal?: AbortSignal; onProgress?: ProgressFn } = {},
  o: RegionOptions = {},
): Promise<VadResult> {
  const finder = new SpeechFinder(audio, model, opts);
  await finder.advance(Infinity);
  return {
    probs: finder.probs,
    regions: speechRegions(finder.probs, audio.length / SAMPLE_RATE, o),
    method: finder.method,
  };
}

/** A RegionSource that finds speech only as far as asked (and as far as the audio has arrived). */
export function speechSource(finder: SpeechFinder, o: RegionOptions = {}): RegionSource {
  let cache: { frames: number; regions: SpeechRegion[] } | null = null;
  return {
    get total() {
      return finder.total;
    },
    async upTo(t) {
      await finder.advance(Math.ceil(t / FRAME_SECONDS));
      const frames = finder.done;
      const covered = frames === finder.frames ? finder.total : frames * FRAME_SECONDS;
      if (cache?.frames !== frames)
        cache = { frames, regions: speechRegions(finder.probs.subarray(0, frames), covered, o) };
      return { regions: cache.regions, covered };
    },
  };
}
