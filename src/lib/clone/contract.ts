// The engine operations of voice cloning (OpenVoice tone-colour converter): names, arguments, results and
// progress stages. The Clone view and the API handlers build against these; src/lib/clone implements them.
import type { Progress } from '../core/run';

export const CONVERTER_MODEL_IDS = {
  v2: 'openvoice-v2-converter',
  v1: 'openvoice-v1-converter',
} as const;
export type ConverterVersion = keyof typeof CONVERTER_MODEL_IDS;

/** The converter's audio rate (read from config.json; the released configs say 22050). */
export { OPENVOICE_SAMPLE_RATE as CLONE_SAMPLE_RATE, TONE_DIMENSION } from '../openvoice/contract';
export const DEFAULT_TAU = 0.3;
/** Less speech than this (after VAD) cannot make a voice: a 400. */
export const MIN_SPEECH_SECONDS = 3;

/** Where config.json and checkpoint.pth come from, as the release lays them out. */
export const RELEASE_PATHS: Record<ConverterVersion, { config: string; checkpoint: string }> = {
  v2: { config: 'converter/config.json', checkpoint: 'converter/checkpoint.pth' },
  v1: { config: 'checkpoints/converter/config.json', checkpoint: 'checkpoints/converter/checkpoint.pth' },
};

/** Audio handed to an op: file bytes in any format (decoded in the engine) or mono samples at a rate. */
export type CloneAudio = { bytes: Uint8Array; mimeType?: string } | MonoAudio;

export type CloneInstallSource =
  /** The release by URL: `base` is the repository root (…/resolve/main/); files at RELEASE_PATHS. */
  | { kind: 'url'; base: string }
  /** The two files of the release, imported (config.json as text or bytes). */
  | { kind: 'files'; config: string | Uint8Array; checkpoint: Uint8Array }
  /** A ready ONNX pair; checked against the expected inputs/outputs. `config` is config.json. */
  | { kind: 'onnx'; config: string | Uint8Array; extractor: Uint8Array; converter: Uint8Array };

export interface CloneInstallArgs {
  /** Which catalogue entry to install into; default: v2, or what config.json says (`_version_`). */
  version?: ConverterVersion;
  source: CloneInstallSource;
}

/**
 * Progress stages of clone.install: 'download' (bytes), 'read' (checkpoint), 'build', 'store', 'tune' (the
 * int8 variant), 'done'.
 */
export type CloneInstallStage = 'download' | 'read' | 'build' | 'store' | 'tune' | 'done';

/** Which converter graph a conversion runs: float32, or the int8 variant made on this device. */
export type { ConverterPrecision } from '../openvoice/contract';
import type { ConverterPrecision } from '../openvoice/contract';
import type { MonoAudio } from '../dsp/audio';

/**
 * The int8 variant's outputs under this SNR (dB) from the float32 graph's are not used by default. Measured
 * on the v2 parity fixture: 32 dB against upstream's output; enc_q made int8 too gave 24 dB and was dropped.
 */
export const FAST_MIN_SNR_DB = 25;

/** The int8 variant is the default only when measured at least this much faster than float32 here. */
export const FAST_MIN_SPEEDUP = 1.15;
/**
 * Two timings of one graph further apart than this (relative to the faster) mean the machine was busy
 * during the measurement: its speed-up is not trusted, and it is measured again when the studio is idle.
 */
export const BUSY_SPREAD = 0.2;

/** The converter's int8 variant, as measured on this device when it was made (converter-int8.json). */
export interface FastConverterInfo {
  /** SNR (dB) of its output against the float32 graph's, on held-out speech. */
  snr_db: number;
  /** The float32 graph's run time over the int8 one's on that speech, on this device. */
  speedup: number;
  /**
   * False when the timings disagreed (the machine was busy); missing in variants measured before the
   * check (treated as busy). Such a variant is measured again when the studio is idle (clone.tune).
   */
  steady?: boolean;
  /** Used when a call does not ask for a precision: `fastIsDefault`. */
  recommended: boolean;
  /** Convolutions made int8 (the decoder's residual blocks and the flows' WaveNet convs). */
  convs: number;
  /** Seconds of speech (Kokoro's, two voices) the activation ranges were calibrated on. */
  calibration_seconds: number;
  made_at: number;
  /** When its speed was last measured, if measured again since it was made (clone.tune). */
  measured_at?: number;
}

/**
 * What clone.tune did at idle time: made the int8 variant (there was none), measured it again (its last
 * measurement was taken while the device was busy), or nothing (already measured steadily, or it cannot be
 * made: `fastUnavailable`, with `retry` when it may be made later, e.g. once Kokoro is installed).
 */
export interface CloneTuneResult {
  done: 'made' | 'measured' | 'none';
  fast?: FastConverterInfo;
  fastUnavailable?: string;
  retry?: boolean;
}

/** Progress stages of clone.tune: 'tune' (done of the steps: 6 to make the variant, 3 to measure it again). */
export type CloneTuneStage = 'tune';

export interface CloneInstallResult {
  id: string;
  version: ConverterVersion;
  sampleRate: number;
  toneDimension: number;
  /** Bytes of the two ONNX graphs stored. */
  onnxBytes: number;
  /** True when the graphs were built from the checkpoint (false: an ONNX pair was imported). */
  built: boolean;
  /** The int8 variant made for this device, or why there is none (`fastUnavailable`). */
  fast?: FastConverterInfo;
  fastUnavailable?: string;
  /** Said when a built checkpoint is not the published V2 weights (NOT_PUBLISHED_NOTE). */
  weightsNote?: string;
}

export interface CloneStatusResult {
  installed: boolean;
  id?: string;
  version?: ConverterVersion;
  sampleRate?: number;
  toneDimension?: number;
  /** The spectrogram's FFT length (config.json data.filter_length): the document's `target_length`. */
  filterLength?: number;
  /** The int8 variant, when one has been made on this device. */
  fast?: FastConverterInfo;
}

export type CloneWarningCode = 'clipping' | 'noisy' | 'non_speech' | 'short' | 'music' | 'multiple_speakers';

export interface CloneWarning {
  code: CloneWarningCode;
  message: string;
}

/** Signs of music in one recording (see src/lib/clone/reference.ts measureMusic). */
export interface MusicMeasure {
  /** Periodicity of the onset envelope at its best tempo, 0–1 (speech ~0.1, a drum beat 0.35+). */
  beat_strength: number;
  bpm: number;
  /** Share of frames with a tonal peak held at one pitch for 0.3 s or more (notes; speech glides). */
  sustained_tone_fraction: number;
}

/** The speakers of one recording's speech (acoustic diarization). */
export interface SpeakerMeasure {
  speakers: number;
  /** Each speaker's share of the speech, largest first (sums to 1). */
  shares: number[];
}

/** What the quality checks measured; stored with the voice as `checks`. */
export interface CloneChecks {
  speech_seconds: number;
  total_seconds: number;
  /** Fraction of samples at or near full scale. */
  clipped_fraction: number;
  /** Estimated signal-to-noise ratio (speech energy over the quietest frames), dB. */
  snr_db: number;
  /** Fraction of the input VAD did not call speech. */
  non_speech_fraction: number;
  /** Embeddings averaged (pieces of ~10 s over all samples). */
  pieces: number;
  /** Signs of music, per recording (absent in voices saved before the check existed). */
  music?: MusicMeasure[];
  /** Speakers found in each recording's speech, with their shares (absent in older voices). */
  speakers?: SpeakerMeasure[];
  samples: number;
  warnings: CloneWarning[];
}

export interface CloneExtractArgs {
  /** One or more recordings of the same person (create-multi averages them). */
  audio: CloneAudio[];
  /** Return the trimmed 22.05 kHz speech too (for keeping samples with the voice). */
  keepSamples?: boolean;
}

/** Progress stages of clone.extract: 'decode', 'vad', 'embed' (done/total pieces). */
export type CloneExtractStage = 'decode' | 'vad' | 'embed';

export interface CloneExtractResult {
  /** TONE_DIMENSION floats, the average over pieces and samples. */
  embedding: Float32Array;
  checks: CloneChecks;
  speech_seconds: number;
  warnings: CloneWarning[];
  /** The speech VAD kept, per input, at CLONE_SAMPLE_RATE (only with keepSamples). */
  speech?: Float32Array[];
}

export interface CloneConvertArgs {
  source: CloneAudio;
  /** The target voice's embedding; or `targetPreset`. */
  target?: Float32Array | number[];
  /** A Kokoro preset id as the target (its tone measured once from Kokoro's speech and kept). */
  targetPreset?: string;
  /** 0–1, default DEFAULT_TAU. */
  tau?: number;
  /** Seeds the noise; the same seed gives the same output. Default 0. */
  seed?: number;
  /** The source's embedding if already known (otherwise extracted from the source itself). */
  sourceEmbedding?: Float32Array | number[];
  /** Default: int8 when the device's variant is recommended (FastConverterInfo), else fp32. */
  precision?: ConverterPrecision;
}

/** `Progress.data` of clone.convert / clone.speak 'chunk' events: final (crossfaded) audio in order. */
export interface CloneChunkData {
  index: number;
  /** Chunks planned (0 when unknown, e.g. speech still being synthesised). */
  total: number;
  samples: Float32Array;
  sampleRate: number;
  /** Where these samples start in the whole output, in samples. */
  offset: number;
}

export interface CloneChunkProgress extends Progress {
  stage: 'chunk';
  data: CloneChunkData;
}

export const isCloneChunk = (p: Progress): p is CloneChunkProgress =>
  p.stage === 'chunk' &&
  typeof p.data === 'object' &&
  p.data !== null &&
  'samples' in p.data &&
  'offset' in p.data;

/** Progress stages of clone.convert: 'decode', 'embed' (source embedding), 'chunk' (audio). */
export type CloneConvertStage = 'decode' | 'embed' | 'chunk';

export interface CloneConvertResult {
  samples: Float32Array;
  sampleRate: number;
  chunks: number;
  /** Seconds spent extracting the source embedding and converting. */
  extractSeconds: number;
  convertSeconds: number;
  precision: ConverterPrecision;
}

export interface CloneSpeakArgs {
  text: string;
  /** The target voice's embedding. */
  embedding: Float32Array | number[];
  /** Chooses the Kokoro base voice when `baseVoice` is not given. */
  language?: string;
  gender?: 'female' | 'male' | 'neutral' | 'unknown';
  /** A Kokoro preset id. */
  baseVoice?: string;
  speed?: number;
  tau?: number;
  seed?: number;
  /** As in CloneConvertArgs. */
  precision?: ConverterPrecision;
}

/** Progress stages of clone.speak: 'base' (src_se of the base voice), 'chunk' (converted audio). */
export type CloneSpeakStage = 'base' | 'chunk';

export interface CloneSpeakResult {
  samples: Float32Array;
  sampleRate: number;
  baseVoice: string;
  /**
   * Each sentence's span in the converted audio, in seconds (the base voice's spans: the conversion keeps
   * the timing), so a player can follow the sentence being spoken; one span of the whole text when the
   * speech engine gives none.
   */
  chunks: { text: string; start: number; end: number }[];
  precision: ConverterPrecision;
}

/** The official OpenVoice V2 release, and its files as published (also pinned in public/models/catalog.json). */
export const PUBLISHED_V2 = {
  base: 'https://huggingface.co/myshell-ai/OpenVoiceV2/resolve/main/',
  files: {
    'converter/config.json': {
      bytes: 838,
      sha256: '9dfff60350b8c63f2c664efd92a61b2516efb22671466960f0e5dfebd881fa47',
    },
    'converter/checkpoint.pth': {
      bytes: 131_320_490,
      sha256: '9652c27e92b6b2a91632590ac9962ef7ae2b712e5c5b7f4c34ec55ee2b37ab9e',
    },
  } as Record<string, { bytes: number; sha256: string }>,
};

/** The note of a converter built from a checkpoint whose shapes are not the published V2 weights'. */
export const NOT_PUBLISHED_NOTE =
  'Built from a checkpoint that is not the published weights (its tensors differ from OpenVoice V2’s 486 tensors and 32,792,226 parameters): a test fixture or another model, not the released voice converter.';

/** How to install the converter (the 503 model_not_installed message of every clone route and op). */
export const CONVERTER_NOT_INSTALLED =
  'The voice converter (OpenVoice) is not installed on this device. Install "OpenVoice V2 tone colour converter" in the Models view (from the release URL, or by importing converter/config.json and converter/checkpoint.pth), or run the engine op clone.install; it works offline once installed.';

/**
 * The speed-up of int8 over float32 from alternating timings of each (ms, two or more runs each): their
 * fastest runs (the least disturbed), and whether the machine was steady: each graph's runs within
 * BUSY_SPREAD of each other.
 */
export function speedMeasurement(fp32Ms: number[], int8Ms: number[]): { speedup: number; steady: boolean } {
  const spread = (xs: number[]) => (Math.max(...xs) - Math.min(...xs)) / Math.min(...xs);
  const speedup = Math.round((Math.min(...fp32Ms) / Math.min(...int8Ms)) * 100) / 100;
  const steady =
    fp32Ms.length > 1 && int8Ms.length > 1 && spread(fp32Ms) <= BUSY_SPREAD && spread(int8Ms) <= BUSY_SPREAD;
  return { speedup, steady };
}

/**
 * Whether the int8 variant runs by default: close enough to float32 (FAST_MIN_SNR_DB) and measured at
 * least FAST_MIN_SPEEDUP× faster on a steady measurement.
 */
export function fastIsDefault(
  f: Pick<FastConverterInfo, 'snr_db' | 'speedup' | 'steady'> | undefined,
): boolean {
  return !!f && f.steady === true && f.snr_db >= FAST_MIN_SNR_DB && f.speedup >= FAST_MIN_SPEEDUP;
}

/** The variant's label, worded from its figures ("1.6× faster", "slower here: not used", …). */
export function fastLabel(f: Pick<FastConverterInfo, 'snr_db' | 'speedup' | 'steady'>): string {
  if (f.steady !== true) return 'measured while the device was busy: not used until measured again';
  if (f.snr_db < FAST_MIN_SNR_DB) return `${f.snr_db.toFixed(1)} dB from full precision: not used`;
  if (f.speedup < 1) return 'slower here: not used';
  if (f.speedup < FAST_MIN_SPEEDUP) return `only ${f.speedup.toFixed(2)}× faster here: not used`;
  return `${f.speedup.toFixed(1)}× faster`;
}
