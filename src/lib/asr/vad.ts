// Voice activity: Silero VAD v5 (one ONNX session: 512-sample frames at 16 kHz with 64 samples of context
// from the frame before, plus its recurrent state) gives a speech probability per 32 ms frame; speech
// regions follow Silero's own rules (hysteresis, minimum speech and silence, padding). Without the Silero
// model an energy detector stands in, and the result says which one was used.
import { throwIfAborted, type ProgressFn } from '../engine/types';
import { runtimeHost } from '../runtime/host';
import type { OrtSession, OrtTensor } from '../runtime/ort-session';
import { defaultModelFileDeps, installedModelFiles, type ModelFileDeps } from '../tts/model-files';
import { GrowingAudio } from './audio-stream';
import { SAMPLE_RATE } from './mel';
import { yieldToEvents } from './whisper';

export const VAD_MODEL_ID = 'silero-vad-v5';

/** A reader of Silero VAD's model file when it is installed, else null (the energy detector stands in). */
export async function sileroModel(deps?: ModelFileDeps): Promise<(() => Promise<Uint8Array>) | null> {
  const d = deps ?? (await defaultModelFileDeps());
  if (!(await d.registry.get(VAD_MODEL_ID))) return null;
  const read = await installedModelFiles(VAD_MODEL_ID, 'Silero VAD v5', d);
  return () => read('silero_vad_v5.onnx');
}
export const VAD_FRAME = 512;
const CONTEXT = 64;
export const FRAME_SECONDS = VAD_FRAME / SAMPLE_RATE;

export interface SpeechRegion {
  /** Seconds. */
  start: number;
  end: number;
}

export interface VadResult {
  /** Speech probability per 512-sample frame. */
  probs: Float32Array;
  regions: SpeechRegion[];
  method: 'silero-vad-v5' | 'energy';
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

/** Frame energies mapped to a pseudo-probability: 1 well above the noise floor, 0 near it. */
export function energyProbabilities(audio: Float32Array): Float32Array {
  const n = Math.floor(audio.length / VAD_FRAME);
  const db = new Float32Array(n);
  for (let f = 0; f < n; f++) {
    let s = 0;
    for (let i = f * VAD_FRAME; i < (f + 1) * VAD_FRAME; i++) s += audio[i]! * audio[i]!;
    db[f] = 10 * Math.log10(s / VAD_FRAME + 1e-12);
  }
  const sorted = Float32Array.from(db).sort();
  const floor = sorted[Math.floor(sorted.length * 0.1)] ?? -120;
  const top = sorted[Math.floor(sorted.length * 0.95)] ?? 0;
  // Speech: above the floor by a third of the dynamic range and at least 12 dB, and not below −55 dBFS.
  const at = Math.max(floor + Math.max(12, (top - floor) / 3), -55);
  const out = new Float32Array(n);
  for (let f = 0; f < n; f++) out[f] = Math.min(1, Math.max(0, 0.5 + (db[f]! - at) / 6));
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

/** A RegionSource that runs Silero only as far as asked (and as far as the audio has arrived). */
export function sileroRegions(stream: SileroStream, o: RegionOptions = {}): RegionSource {
  let cache: { frames: number; regions: SpeechRegion[] } | null = null;
  return {
    get total() {
      return stream.total;
    },
    async upTo(t) {
      await stream.advance(Math.ceil(t / FRAME_SECONDS));
      const frames = stream.done;
      const covered = frames === stream.frames ? stream.total : frames * FRAME_SECONDS;
      if (cache?.frames !== frames)
        cache = { frames, regions: speechRegions(stream.probs.subarray(0, frames), covered, o) };
      return { regions: cache.regions, covered };
    },
  };
}
