// The engine operation 'tts.generate': Kokoro over the installed model files, with each run's audio sent
// as a 'chunk' progress event (its samples are a copy the receiver may take over: the engine worker
// transfers them rather than copying again).
import type { RunOptions } from '../core/run';
import { checkParams, KOKORO_MODEL_ID, prepareSynthesis, speakAhead, synthesize } from './kokoro';
import { installedModelFiles, type ModelFileDeps } from '../models/files';
import type {
  TtsAheadArgs,
  TtsAheadResult,
  TtsChunkData,
  TtsGenerateArgs,
  TtsGenerateResult,
  TtsPrepareArgs,
  TtsPrepareResult,
} from './contract';

export async function runTtsGenerate(
  args: TtsGenerateArgs,
  opts: RunOptions = {},
  deps: ModelFileDeps,
): Promise<TtsGenerateResult> {
  checkParams(args);
  const loadFile = await installedModelFiles(KOKORO_MODEL_ID, 'Kokoro-82M', deps);
  const progress = opts.onProgress;
  return synthesize(args, {
    loadFile,
    signal: opts.signal,
    onProgress: progress,
    onChunk: progress
      ? (c) =>
          progress({
            stage: 'chunk',
            done: c.index + 1,
            total: c.total,
            message: c.text,
            data: { ...c, samples: c.samples.slice() } satisfies TtsChunkData,
          })
      : undefined,
  });
}

/** Creates and warms Kokoro's session now (the Speak view opens), so the first Generate skips it. */
export async function runTtsPrepare(
  args: TtsPrepareArgs,
  opts: RunOptions = {},
  deps: ModelFileDeps,
): Promise<TtsPrepareResult> {
  const t0 = performance.now();
  const loadFile = await installedModelFiles(KOKORO_MODEL_ID, 'Kokoro-82M', deps);
  await prepareSynthesis({ loadFile, signal: opts.signal, onProgress: opts.onProgress }, args.voice);
  return { elapsed_ms: Math.round(performance.now() - t0) };
}

/** Speaks one run of the first sentence ahead (the Speak view, while the text is typed); see speakAhead. */
export async function runTtsAhead(
  args: TtsAheadArgs,
  opts: RunOptions = {},
  deps: ModelFileDeps,
): Promise<TtsAheadResult> {
  const { run = 0, ...params } = args;
  checkParams(params);
  const loadFile = await installedModelFiles(KOKORO_MODEL_ID, 'Kokoro-82M', deps);
  return speakAhead(params, { loadFile, signal: opts.signal }, run);
}
