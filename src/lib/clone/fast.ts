// The converter's int8 variant, made on the device that runs it, once, right after the float graphs are
// built: its activation ranges come from running the float graph on speech, and the only speech the
// studio has before any user recording is its own (Kokoro). Two voices calibrate (each converted into the
// other's tone, as a clone would); a third, held out, measures what the variant costs: its SNR against
// the float graph's output and how much faster it ran here. Those figures decide whether it is the default.
// A variant timed while the device was busy is timed again later (remeasureFastConverter) on the same
// held-out speech, by the same code.
import type * as Ort from 'onnxruntime-web';
import { throwIfAborted, type RunOptions } from '../core/run';
import { resample } from '../dsp/resample';
import {
  calibrate,
  converterFeeds,
  deviation,
  QuantizeError,
  quantizeGraph,
  RESBLOCKS_AND_FLOWS,
  type OpenVoiceConverter,
  type OrtLike,
  type Spectrogram,
} from '../openvoice';
import { frameNoise } from './chunks';
import { fastIsDefault, speedMeasurement, type FastConverterInfo } from './contract';
import type { MonoAudio } from '../dsp/audio';

/** The variant's files, next to the float graphs in the converter's model record. */
export const FAST_FILES = { graph: 'converter-int8.onnx', info: 'converter-int8.json' } as const;

/** Speech the variant is made from: the first two calibrate, the last is held out to measure it. */
const TUNING_SPEECH = [
  { voice: 'af_heart', text: 'Every voice has a colour of its own, shaped by the speaker and the room.' },
  { voice: 'am_michael', text: 'We read these words slowly and clearly, so that each sound has its turn.' },
  { voice: 'bf_emma', text: 'A quiet morning by the river, with rain on the way and nobody in a hurry.' },
] as const;

export type TuningSpeak = (
  a: { text: string; voice: string },
  onChunk: undefined,
  signal?: AbortSignal,
) => Promise<MonoAudio>;

/**
 * Why no variant could be made: no speech to calibrate on (`retry`: the speech model may be installed
 * later), or a graph without the convs it quantizes (an imported ONNX pair with other names).
 */
export class FastConverterError extends Error {
  override name = 'FastConverterError';
  constructor(
    message: string,
    readonly retry = false,
  ) {
    super(message);
  }
}

const TAU = 0.3;
/** TUNING_SPEECH's held-out clip, which measures the variant (and seeds its noise). */
const HELD = 2;

/** The first `frames` frames of a [bins, frames] spectrogram. */
function head(spec: Spectrogram, frames: number): Spectrogram {
  const n = Math.min(spec.frames, frames);
  const data = new Float32Array(spec.bins * n);
  for (let b = 0; b < spec.bins; b++)
    data.set(spec.data.subarray(b * spec.frames, b * spec.frames + n), b * n);
  return { ...spec, frames: n, data };
}

type Clip = { spec: Spectrogram; se: Float32Array; seconds: number };

/** Kokoro's speech of TUNING_SPEECH[which] at the converter's rate, with each clip's tone. */
async function tuningClips(
  model: OpenVoiceConverter,
  speak: TuningSpeak | undefined,
  which: readonly number[],
  opts: RunOptions,
): Promise<Clip[]> {
  if (!speak) throw new FastConverterError('No speech engine to calibrate the fast converter on.', true);
  const rate = model.config.samplingRate;
  const clips: Clip[] = [];
  for (const i of which) {
    const s = TUNING_SPEECH[i]!;
    throwIfAborted(opts.signal);
    let r: Awaited<ReturnType<TuningSpeak>>;
    try {
      r = await speak({ text: s.text, voice: s.voice }, undefined, opts.signal);
    } catch (e) {
      if (opts.signal?.aborted) throw e;
      throw new FastConverterError(
        `No speech to calibrate the fast converter on (${(e as Error).message}); it is made when the studio is idle once Kokoro is installed.`,
        true,
      );
    }
    const samples = r.sampleRate === rate ? r.samples : resample(r.samples, r.sampleRate, rate);
    const spec = model.spectrogram(samples);
    clips.push({ spec, se: await model.embed(spec), seconds: samples.length / rate });
  }
  return clips;
}

/** One graph's run: converted audio of a spectrogram with its noise. */
type GraphRun = (spec: Spectrogram, noise: Float32Array) => Promise<Float32Array>;

/**
 * How the int8 graph compares with the float one on held-out speech (`held`, TUNING_SPEECH[HELD]): its SNR
 * against the float output and its speed-up, from runs of each graph timed twice, alternating, after each
 * is warmed on a short piece (a session's first run is slower than its next).
 */
async function compareGraphs(
  fp32: GraphRun,
  int8: GraphRun,
  held: Spectrogram,
  inter: number,
  signal: AbortSignal | undefined,
): Promise<{ snr_db: number; speedup: number; steady: boolean }> {
  const noise = frameNoise(HELD, inter);
  const warm = head(held, 40);
  await fp32(warm, noise(0, warm.frames));
  throwIfAborted(signal);
  await int8(warm, noise(0, warm.frames));
  // Runs of one graph that disagree mean the machine was busy.
  const fp32Ms: number[] = [];
  const int8Ms: number[] = [];
  let ref: Float32Array = new Float32Array(0);
  let test: Float32Array = new Float32Array(0);
  for (let round = 0; round < 2; round++) {
    throwIfAborted(signal);
    let t = performance.now();
    ref = await fp32(held, noise(0, held.frames));
    fp32Ms.push(performance.now() - t);
    throwIfAborted(signal);
    t = performance.now();
    test = await int8(held, noise(0, held.frames));
    int8Ms.push(performance.now() - t);
  }
  const { speedup, steady } = speedMeasurement(fp32Ms, int8Ms);
  const dev = deviation(ref, test.length === ref.length ? test : test.subarray(0, ref.length));
  // Identical outputs (a graph with nothing to quantize in practice) would be +∞, which JSON cannot hold.
  const snr_db = Math.round(Math.min(dev.snr_db, 99) * 10) / 10;
  return { snr_db, speedup, steady };
}

const measuredMessage = (m: { snr_db: number; speedup: number; steady: boolean }) =>
  `Fast converter: ${m.snr_db} dB from the float graph, ${m.speedup.toFixed(1)}× the float graph's speed here${m.steady ? '' : ' (measured while busy)'}`;

/**
 * Makes the int8 variant of `fp32` (the converter graph `model` was loaded from) and measures it.
 * Progress: 'tune', done of 6 steps.
 */
export async function makeFastConverter(
  ort: OrtLike,
  model: OpenVoiceConverter,
  fp32: Uint8Array,
  speak: TuningSpeak | undefined,
  opts: RunOptions = {},
  sessionOptions: Ort.InferenceSession.SessionOptions = { executionProviders: ['wasm'] },
): Promise<{ graph: Uint8Array; info: FastConverterInfo }> {
  if (!speak) throw new FastConverterError('No speech engine to calibrate the fast converter on.', true);
  const total = 6;
  const step = (done: number, message: string) => opts.onProgress?.({ stage: 'tune', done, total, message });
  const inter = model.config.interChannels;
  step(0, 'Speech to tune the fast converter on');
  const clips = await tuningClips(model, speak, [0, 1, HELD], opts);
  const feedsOf = (i: number, target: number) =>
    converterFeeds(
      ort,
      clips[i]!.spec,
      frameNoise(i, inter)(0, clips[i]!.spec.frames),
      clips[i]!.se,
      clips[target]!.se,
      TAU,
    );
  step(1, 'Measuring the float graph’s activations');
  const ranges = await calibrate(ort, fp32, [feedsOf(0, 1), feedsOf(1, 0)], {
    filter: RESBLOCKS_AND_FLOWS,
    sessionOptions,
    signal: opts.signal,
  });
  throwIfAborted(opts.signal);
  step(2, 'Making the int8 graph');
  let q;
  try {
    q = quantizeGraph(fp32, ranges, RESBLOCKS_AND_FLOWS);
  } catch (e) {
    if (e instanceof QuantizeError)
      throw new FastConverterError(`The converter graph cannot be made int8: ${e.message}`);
    throw e;
  }
  step(3, 'Loading the int8 graph');
  const session = await ort.InferenceSession.create(q.model, {
    graphOptimizationLevel: 'all',
    ...sessionOptions,
  });
  try {
    // Held-out speech into the first voice's tone, by both graphs.
    const [first, held] = [clips[0]!, clips[2]!];
    step(4, 'Timing the float and int8 graphs');
    const m = await compareGraphs(
      (spec, noise) => model.convert(spec, noise, held.se, first.se, TAU, 'fp32'),
      async (spec, noise) =>
        (await session.run(converterFeeds(ort, spec, noise, held.se, first.se, TAU))).audio!
          .data as Float32Array,
      held.spec,
      inter,
      opts.signal,
    );
    step(5, 'Comparing the int8 graph with the float one');
    step(6, measuredMessage(m));
    return {
      graph: q.model,
      info: {
        ...m,
        recommended: fastIsDefault(m),
        convs: q.convs,
        calibration_seconds: Math.round((clips[0]!.seconds + clips[1]!.seconds) * 10) / 10,
        made_at: Date.now(),
      },
    };
  } finally {
    await session.release();
  }
}

/**
 * Times the int8 variant `model` holds (made earlier on this device, described by `info`) against its
 * float graph again, on the same held-out speech and by the same runs as when it was made: for a variant
 * whose measurement was taken while the device was busy. Returns its record with the new figures; writes
 * nothing. Progress: 'tune', done of 3 steps.
 */
export async function remeasureFastConverter(
  model: OpenVoiceConverter,
  speak: TuningSpeak | undefined,
  info: FastConverterInfo,
  opts: RunOptions = {},
): Promise<FastConverterInfo> {
  if (!model.has('int8')) throw new RangeError('This converter has no int8 graph to measure.');
  const step = (done: number, message: string) =>
    opts.onProgress?.({ stage: 'tune', done, total: 3, message });
  step(0, 'Speech to time the fast converter on');
  const [first, held] = await tuningClips(model, speak, [0, HELD], opts);
  step(1, 'Timing the float and int8 graphs');
  const run =
    (precision: 'fp32' | 'int8'): GraphRun =>
    (spec, noise) =>
      model.convert(spec, noise, held!.se, first!.se, TAU, precision);
  const m = await compareGraphs(
    run('fp32'),
    run('int8'),
    held!.spec,
    model.config.interChannels,
    opts.signal,
  );
  step(2, 'Comparing the int8 graph with the float one');
  step(3, measuredMessage(m));
  return { ...info, ...m, recommended: fastIsDefault(m), measured_at: Date.now() };
}
