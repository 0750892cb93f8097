import { measureCompute, type ComputeResult } from './compute';
import type { RunOptions } from '../core/run';
import type { EngineContext } from './context';
import type { AudioConvertArgs, AudioEncodeArgs } from '../audio/contract';
import type { EncodedAudio } from '../codec/transcoder';
import type { AudioAnalyzeArgs, AudioAnalyzeResult } from '../audio/contract';
import type { ToolDeps } from '../audio/enhance-op';
import type {
  AudioEnhanceArgs,
  AudioEnhanceResult,
  AudioSilenceArgs,
  AudioSilenceResult,
} from '../audio/contract';
import { gatherSystemFacts, type SystemFacts } from '../system/info';
import type {
  BenchArgs,
  BenchResult,
  RooflineArgs,
  RooflineResult,
  SettingsArgs,
  SettingsResult,
  SelftestArgs,
  SelftestResult,
} from './runtime-ops';
import type {
  TtsAheadArgs,
  TtsAheadResult,
  TtsGenerateArgs,
  TtsGenerateResult,
  TtsPrepareArgs,
  TtsPrepareResult,
} from '../tts/contract';
import type { AsrDeps } from '../asr/operation';
import type {
  AsrPrepareArgs,
  AsrPrepareResult,
  AsrTranscribeArgs,
  AsrTranscribeResult,
} from '../asr/contract';
import type {
  CloneConvertArgs,
  CloneConvertResult,
  CloneExtractArgs,
  CloneExtractResult,
  CloneInstallArgs,
  CloneInstallResult,
  CloneSpeakArgs,
  CloneSpeakResult,
  CloneStatusResult,
  CloneTuneResult,
} from '../clone/contract';

/**
 * Every operation the engine worker can run, with its argument and result types. Each engine issue adds
 * its operations here; `queue` names the queue that serialises it (one job at a time per queue: a model's
 * session, or a resource such as the ffmpeg core).
 */
export interface EngineOps {
  'system.compute': { args: { seconds: number; size: number }; result: ComputeResult };
  'system.facts': { args: Record<string, never>; result: SystemFacts };
  /** The tiny built-in model on one EP with a fixed input (WebGPU falls back to WASM with a notice). */
  'runtime.selftest': { args: SelftestArgs; result: SelftestResult };
  /** onnxruntime's WASM MatMul throughput: the roofline model run times are compared with. */
  'runtime.roofline': { args: RooflineArgs; result: RooflineResult };
  /** Create, first-run and steady-state times of model files on given inputs (npm run bench:runtime). */
  'runtime.bench': { args: BenchArgs; result: BenchResult };
  /** The execution-provider choice (auto, or force WebGPU or WASM), threads, and fallback notices. */
  'runtime.settings': { args: SettingsArgs; result: SettingsResult };
  /**
   * Speech with Kokoro (src/lib/tts/kokoro.ts). Each run's audio arrives early as a progress event with
   * stage 'chunk' and `data: TtsChunkData` ({index, total, samples, sampleRate, text}); the result holds
   * the whole audio. Throws ModelNotInstalledError when Kokoro is not installed.
   */
  'tts.generate': { args: TtsGenerateArgs; result: TtsGenerateResult };
  'tts.prepare': { args: TtsPrepareArgs; result: TtsPrepareResult };
  /** One run of the first sentence spoken ahead, kept in the engine for the tts.generate of that text. */
  'tts.ahead': { args: TtsAheadArgs; result: TtsAheadResult };
  /** Encodes audio to a compressed format (mp3, opus, aac, flac, …) on the ffmpeg.wasm core. */
  'audio.encode': { args: AudioEncodeArgs; result: EncodedAudio };
  /** Converts a file of any format ffmpeg reads to another format, rate or channel count. */
  'audio.convert': { args: AudioConvertArgs; result: EncodedAudio };
  /** Tempo, metre and key of an audio file (src/lib/dsp/analyze.ts). */
  'audio.analyze': { args: AudioAnalyzeArgs; result: AudioAnalyzeResult };
  /** Denoise (RNNoise), clarity, loudness; before/after loudness and estimated SNR (audio/enhance-op.ts). */
  'audio.enhance': { args: AudioEnhanceArgs; result: AudioEnhanceResult };
  /** Trim leading/trailing silence (and shorten long pauses), or split on pauses, by VAD. */
  'audio.silence': { args: AudioSilenceArgs; result: AudioSilenceResult };
  /**
   * Transcription with Whisper (src/lib/asr): file bytes in; each window's new segments arrive early as
   * progress events with stage 'segment' and `data: AsrSegmentData` ({segments, language}); while a window
   * decodes, its text so far comes as stage 'partial' with `data: AsrPartialData` ({start, text}).
   */
  'asr.transcribe': { args: AsrTranscribeArgs; result: AsrTranscribeResult };
  /** Creates (and keeps) a Whisper model's sessions ahead of a transcription, so its first text comes fast. */
  'asr.prepare': { args: AsrPrepareArgs; result: AsrPrepareResult };
  /**
   * Voice cloning (src/lib/clone, types in clone/contract.ts). clone.install builds the OpenVoice graphs from
   * the release (URL or imported files) or takes an ONNX pair, and stores them; clone.extract turns
   * recordings into a tone embedding with quality checks; clone.convert and clone.speak stream their
   * audio as 'chunk' progress events with `data: CloneChunkData`.
   */
  'clone.install': { args: CloneInstallArgs; result: CloneInstallResult };
  'clone.status': { args: Record<string, never>; result: CloneStatusResult };
  'clone.extract': { args: CloneExtractArgs; result: CloneExtractResult };
  'clone.convert': { args: CloneConvertArgs; result: CloneConvertResult };
  'clone.speak': { args: CloneSpeakArgs; result: CloneSpeakResult };
  /**
   * The converter's int8 variant made, or timed again after a busy measurement, for the page to run when
   * the studio is idle (EngineBridge.runWhileIdle: any other job stops it); conversions never do this.
   */
  'clone.tune': { args: Record<string, never>; result: CloneTuneResult };
}

export type EngineOpName = keyof EngineOps;
export type OpArgs<K extends EngineOpName> = EngineOps[K]['args'];
export type OpResult<K extends EngineOpName> = EngineOps[K]['result'];

/**
 * Where an operation runs in the page: the engine worker (the default), or the encoder worker, a small
 * worker with an ffmpeg core of its own (src/workers/encoder.worker.ts). A model run holds the engine
 * worker's thread until it ends, so an encode asked for meanwhile (a streamed sentence's mp3) would wait
 * for the whole text to be spoken there.
 */
export type EngineWorkerKind = 'engine' | 'encoder';

type Impl = {
  [K in EngineOpName]: {
    queue: string;
    /** Default 'engine'. */
    worker?: EngineWorkerKind;
    run: (args: OpArgs<K>, opts: RunOptions, ctx: EngineContext) => Promise<OpResult<K>>;
  };
};

export const ENGINE_OPS: Impl = {
  'system.compute': { queue: 'cpu', run: measureCompute },
  // Read in the engine worker, which shares the page's isolation and sees WebGPU.
  'system.facts': { queue: 'facts', run: async () => gatherSystemFacts() },
  // The runtime (and onnxruntime-web, which the engine worker installs) loads on first use only.
  'runtime.selftest': { queue: 'runtime', run: async (a, o) => (await runtime()).runSelftest(a, o) },
  'runtime.roofline': { queue: 'runtime', run: async (a, o) => (await runtime()).runRoofline(a, o) },
  'runtime.bench': { queue: 'runtime', run: async (a, o) => (await runtime()).runBench(a, o) },
  // Its own queue: changing the setting must not wait behind a long model job.
  'runtime.settings': { queue: 'settings', run: async (a) => (await runtime()).runSettings(a) },
  // The speech pipeline (espeak-ng, the Kokoro session) loads on first use only.
  'tts.generate': {
    queue: 'kokoro',
    run: async (a, o, c) => (await tts()).runTtsGenerate(a, o, await c.files()),
  },
  'tts.prepare': {
    queue: 'kokoro',
    run: async (a, o, c) => (await tts()).runTtsPrepare(a, o, await c.files()),
  },
  'tts.ahead': {
    queue: 'kokoro',
    run: async (a, o, c) => (await tts()).runTtsAhead(a, o, await c.files()),
  },
  // In the encoder worker, beside a model run: its own core, so its own queue.
  'audio.encode': {
    queue: 'encode',
    worker: 'encoder',
    run: async (a, o, c) => (await import('../audio/encode-op')).runAudioEncode(a, o, await c.transcoder()),
  },
  'audio.convert': {
    queue: 'ffmpeg',
    run: async (a, o, c) => (await import('../audio/encode-op')).runAudioConvert(a, o, await c.transcoder()),
  },
  'audio.analyze': {
    queue: 'ffmpeg',
    run: async (a, o, c) => {
      const t = await c.transcoder();
      return (await import('../audio/analyze-op')).runAudioAnalyze(a, o, () => t);
    },
  },
  // Its own queue, so a long denoise does not hold up conversions.
  'audio.enhance': {
    queue: 'enhance',
    run: async (a, o, c) => (await import('../audio/enhance-op')).runAudioEnhance(a, o, await toolDeps(c)),
  },
  'audio.silence': {
    queue: 'enhance',
    run: async (a, o, c) => (await import('../audio/enhance-op')).runAudioSilence(a, o, await toolDeps(c)),
  },
  // Whisper, Silero and the decoder load on first use only.
  'asr.transcribe': {
    queue: 'whisper',
    run: async (a, o, c) => (await import('../asr/operation')).runAsrTranscribe(a, o, await asrDeps(c)),
  },
  'asr.prepare': {
    queue: 'whisper',
    run: async (a, o, c) => {
      // The decode worker loads its ffmpeg core meanwhile (in a thread of its own).
      c.warmDecoder();
      return (await import('../asr/operation')).runAsrPrepare(a, o, await c.files());
    },
  },
  // The converter's sessions load on first use only; all clone ops share one queue.
  'clone.install': {
    queue: 'openvoice',
    run: async (a, o, c) => (await cloneOps()).runCloneInstall(a, o, await c.clone()),
  },
  'clone.status': {
    queue: 'openvoice',
    run: async (_a, _o, c) => (await cloneOps()).runCloneStatus(await c.files()),
  },
  'clone.extract': {
    queue: 'openvoice',
    run: async (a, o, c) => (await cloneOps()).runCloneExtract(a, o, await c.clone()),
  },
  'clone.convert': {
    queue: 'openvoice',
    run: async (a, o, c) => (await cloneOps()).runCloneConvert(a, o, await c.clone()),
  },
  'clone.speak': {
    queue: 'openvoice',
    run: async (a, o, c) => (await cloneOps()).runCloneSpeak(a, o, await c.clone()),
  },
  'clone.tune': {
    queue: 'openvoice',
    run: async (a, o, c) => (await cloneOps()).runCloneTune(a, o, await c.clone()),
  },
};

const runtime = () => import('./runtime-ops');
const tts = () => import('../tts/operation');
const cloneOps = () => import('../clone/operations');
/** What the audio tools take from the engine: its ffmpeg core and Silero when installed. */
async function toolDeps(c: EngineContext): Promise<ToolDeps> {
  const [t, files, { sileroModel }] = await Promise.all([c.transcoder(), c.files(), import('../vad/vad')]);
  return { transcoder: () => t, vadModel: () => sileroModel(files) };
}

/** What transcription takes from the engine: models, its ffmpeg core, the upload decoder, tone colour. */
async function asrDeps(c: EngineContext): Promise<AsrDeps> {
  const [files, t, streamDecoder] = await Promise.all([c.files(), c.transcoder(), c.streamDecoder()]);
  return { ...files, transcoder: () => t, streamDecoder, toneColour: c.toneColour };
}

export function isEngineOp(op: string): op is EngineOpName {
  return Object.prototype.hasOwnProperty.call(ENGINE_OPS, op);
}

/** The worker that runs `op` in the page. */
export function workerOf(op: EngineOpName): EngineWorkerKind {
  return ENGINE_OPS[op].worker ?? 'engine';
}
