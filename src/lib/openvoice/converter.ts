// The converter pipeline over onnxruntime: load config.json + checkpoint.pth, build both graphs, then
// audio → spectrogram → tone embedding, and (spectrogram, noise, embeddings, tau) → converted audio.
// onnxruntime is handed in (web in the app and tests, node in benchmarks), never imported here.
import type * as Ort from 'onnxruntime-web';
import { readCheckpoint } from './checkpoint';
import { parseConfig, type OpenVoiceConfig } from './config';
import { buildOpenVoiceGraphs, type GraphOptions } from './graphs';
import { spectrogram, transposeSpec, type Spectrogram } from './spectrogram';

/** The part of onnxruntime's module the pipeline uses (onnxruntime-web and onnxruntime-node both fit). */
export interface OrtLike {
  Tensor: typeof Ort.Tensor;
  InferenceSession: {
    create(bytes: Uint8Array, options?: Ort.InferenceSession.SessionOptions): Promise<Ort.InferenceSession>;
  };
}

export interface ConverterGraphs {
  config: OpenVoiceConfig;
  extractor: Uint8Array;
  converter: Uint8Array;
}

/** config.json (text) + checkpoint.pth (bytes) → both ONNX graphs. */
export async function graphsFromCheckpoint(
  configJson: string,
  checkpoint: Uint8Array,
  opts: GraphOptions = {},
): Promise<ConverterGraphs> {
  const config = parseConfig(configJson);
  const tensors = await readCheckpoint(checkpoint);
  return { config, ...buildOpenVoiceGraphs(config, tensors, opts) };
}

export class OpenVoiceConverter {
  private constructor(
    readonly config: OpenVoiceConfig,
    private readonly ort: OrtLike,
    private readonly extractor: Ort.InferenceSession,
    private readonly converter: Ort.InferenceSession,
  ) {}

  static async create(
    ort: OrtLike,
    graphs: ConverterGraphs,
    options: Ort.InferenceSession.SessionOptions = { executionProviders: ['wasm'] },
  ): Promise<OpenVoiceConverter> {
    const opts = { graphOptimizationLevel: 'all' as const, ...options };
    const extractor = await ort.InferenceSession.create(graphs.extractor, opts);
    const converter = await ort.InferenceSession.create(graphs.converter, opts);
    return new OpenVoiceConverter(graphs.config, ort, extractor, converter);
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
  ): Promise<Float32Array> {
    const { Tensor } = this.ort;
    const { interChannels: inter, ginChannels: gin } = this.config;
    if (noise.length !== inter * spec.frames)
      throw new RangeError(
        `noise has ${noise.length} values; the converter needs ${inter} × ${spec.frames}.`,
      );
    const out = await this.converter.run({
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
    await this.converter.release();
  }
}
