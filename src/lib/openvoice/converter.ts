// The converter pipeline over onnxruntime: load config.json + checkpoint.pth, build both graphs, then
// audio → spectrogram → tone embedding, and (spectrogram, noise, embeddings, tau) → converted audio.
// onnxruntime is handed in (web in the app and tests, node in benchmarks), never imported here.
import type * as Ort from 'onnxruntime-web';
import { readCheckpoint } from './checkpoint';
import { parseConfig, type OpenVoiceConfig } from './config';
import { buildOpenVoiceGraphs, type GraphOptions } from './graphs';
import { spectrogram, transposeSpec, type Spectrogram } from './spectrogram';
import type { OrtLike } from '../runtime/ort-session';
import type { ConverterPrecision } from './contract';

export interface ConverterGraphs {
  config: OpenVoiceConfig;
  extractor: Uint8Array;
  converter: Uint8Array;
  /** What the checkpoint held (built from one): its tensors and their values, to tell the published weights. */
  weights?: CheckpointShape;
}

/** A checkpoint's size in tensors and parameters. */
export interface CheckpointShape {
  tensors: number;
  parameters: number;
}

/** The published OpenVoice V2 converter checkpoint (docs/models.md): 486 tensors, 32,792,226 parameters. */
export const PUBLISHED_V2_SHAPE: CheckpointShape = { tensors: 486, parameters: 32_792_226 };

/** Whether a checkpoint has the published V2 weights' shapes (a test fixture or another model has not). */
export const isPublishedV2Shape = (w: CheckpointShape) =>
  w.tensors === PUBLISHED_V2_SHAPE.tensors && w.parameters === PUBLISHED_V2_SHAPE.parameters;

/** config.json (text) + checkpoint.pth (bytes) → both ONNX graphs. */
export async function graphsFromCheckpoint(
  configJson: string,
  checkpoint: Uint8Array,
  opts: GraphOptions = {},
): Promise<ConverterGraphs> {
  const config = parseConfig(configJson);
  const tensors = await readCheckpoint(checkpoint);
  let parameters = 0;
  for (const t of tensors.values()) parameters += t.data.length;
  return {
    config,
    ...buildOpenVoiceGraphs(config, tensors, opts),
    weights: { tensors: tensors.size, parameters },
  };
}

/** A graph's bytes, or how to read them when its session is first needed. */
export type GraphBytes = Uint8Array | (() => Promise<Uint8Array>);

/** What OpenVoiceConverter loads: ConverterGraphs, with the converter (and its int8 variant) read lazily. */
export interface ConverterSource {
  config: OpenVoiceConfig;
  extractor: Uint8Array;
  converter: GraphBytes;
  int8?: GraphBytes;
}

export class OpenVoiceConverter {
  private readonly sessions = new Map<ConverterPrecision, Promise<Ort.InferenceSession>>();

  private constructor(
    readonly config: OpenVoiceConfig,
    private readonly ort: OrtLike,
    private readonly extractor: Ort.InferenceSession,
    private readonly graphs: Partial<Record<ConverterPrecision, GraphBytes>>,
    private readonly options: Ort.InferenceSession.SessionOptions,
  ) {}

  /**
   * Loads the extractor and the `preload` converter session (default fp32); the other precision loads on
   * its first convert, so a device that runs int8 does not hold the float graph's session too.
   */
  static async create(
    ort: OrtLike,
    graphs: ConverterSource,
    options: Ort.InferenceSession.SessionOptions = { executionProviders: ['wasm'] },
    preload: ConverterPrecision = 'fp32',
  ): Promise<OpenVoiceConverter> {
    const opts = { graphOptimizationLevel: 'all' as const, ...options };
    const extractor = await ort.InferenceSession.create(graphs.extractor, opts);
    const m = new OpenVoiceConverter(
      graphs.config,
      ort,
      extractor,
      { fp32: graphs.converter, int8: graphs.int8 },
      opts,
    );
    try {
      await m.session(preload);
    } catch (e) {
      await extractor.release();
      throw e;
    }
    return m;
  }

  /** Whether this converter has the given precision's graph. */
  has(precision: ConverterPrecision): boolean {
    return this.graphs[precision] !== undefined;
  }

  private session(precision: ConverterPrecision): Promise<Ort.InferenceSession> {
    let s = this.sessions.get(precision);
    if (!s) {
      const g = this.graphs[precision];
      if (!g) throw new RangeError(`This converter has no ${precision} graph.`);
      s = (async () =>
        this.ort.InferenceSession.create(typeof g === 'function' ? await g() : g, this.options))();
      // A failed load is not kept: the next call tries again.
      s.catch(() => this.sessions.delete(precision));
      this.sessions.set(precision, s);
    }
    return s;
  }

  /** The converter's spectrogram of mono audio at the config's sampling rate: [bins, frames]. */
  spectrogram(samples: Float32Array): Spectrogram {
    return spectrogram(samples, { nFft: this.config.filterLength, hop: this.config.hopLength });
  }

  /** Tone embedding [gin] of a spectrogram (the whole clip; segmenting and averaging is the caller's). */
  async embed(spec: Spectrogram): Promise<Float32Array> {
    const x = new this.ort.Tensor('float32', transposeSpec(spec), [1, spec.frames, spec.bins]);
    const out = await this.extractor.run({ spec: x });
    return Float32Array.from(out.se!.data as Float32Array);
  }

  /** Converts a spectrogram from the source's tone to the target's: frames · hop samples. */
  async convert(
    spec: Spectrogram,
    noise: Float32Array,
    srcSe: Float32Array,
    tgtSe: Float32Array,
    tau: number,
    precision: ConverterPrecision = 'fp32',
  ): Promise<Float32Array> {
    const { Tensor } = this.ort;
    const { interChannels: inter, ginChannels: gin } = this.config;
    if (noise.length !== inter * spec.frames)
      throw new RangeError(
        `noise has ${noise.length} values; the converter needs ${inter} × ${spec.frames}.`,
      );
    const session = await this.session(precision);
    const out = await session.run({
      spec: new Tensor('float32', spec.data, [1, spec.bins, spec.frames]),
      noise: new Tensor('float32', noise, [1, inter, spec.frames]),
      src_se: new Tensor('float32', srcSe, [1, gin, 1]),
      tgt_se: new Tensor('float32', tgtSe, [1, gin, 1]),
      tau: new Tensor('float32', new Float32Array([tau]), [1]),
    });
    return Float32Array.from(out.audio!.data as Float32Array);
  }

  async release(): Promise<void> {
    await this.extractor.release();
    const loaded = [...this.sessions.values()];
    this.sessions.clear();
    for (const s of await Promise.allSettled(loaded)) if (s.status === 'fulfilled') await s.value.release();
  }
}
