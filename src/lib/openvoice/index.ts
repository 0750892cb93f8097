// The OpenVoice tone-colour converter: checkpoint → ONNX graphs → extraction and conversion.
export {
  OPENVOICE_SAMPLE_RATE,
  TONE_DIMENSION,
  CONVERTER_PRECISIONS,
  isConverterPrecision,
  type ConverterPrecision,
} from './contract';
export { CheckpointError, OpenVoiceConfigError, OpenVoiceWeightsError } from './errors';
export { readCheckpoint, type CheckpointTensor } from './checkpoint';
export { parseConfig, type OpenVoiceConfig } from './config';
export { foldWeightNorm, OpenVoiceWeights } from './weights';
export { spectrogram, transposeSpec, frameCount, type Spectrogram } from './spectrogram';
export { buildOpenVoiceGraphs, buildConverterGraph, buildExtractorGraph, type GraphOptions } from './graphs';
export {
  OpenVoiceConverter,
  graphsFromCheckpoint,
  isPublishedV2Shape,
  PUBLISHED_V2_SHAPE,
  type CheckpointShape,
  type ConverterGraphs,
  type ConverterSource,
  type GraphBytes,
} from './converter';
export { type OrtLike } from '../runtime/ort-session';
export { RELEASED_V2_CONFIG, randomConverterGraphs, randomConverterTensors } from './random';
export { runParity, PARITY_TOLERANCE, ParityFixtureError, type ParityResult } from './parity';
export {
  quantizeConverter,
  quantizeGraph,
  calibrate,
  converterFeeds,
  deviation,
  QuantizeError,
  DECODER_RESBLOCKS,
  RESBLOCKS_AND_FLOWS,
  type QuantizeResult,
} from '../runtime/quantize';
