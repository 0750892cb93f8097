// What a view says while its job waits behind others in the engine: which job it waits for, in words.
import { ENGINE_OPS, type EngineOpName } from '../engine/ops';

/**
 * Jobs a person would not call a job: quick reads, head starts and idle-time work that never hold anything
 * up for long (clone.tune stops when another job comes).
 */
const QUIET = new Set<EngineOpName>(['system.facts', 'clone.status', 'runtime.settings', 'clone.tune']);

/** What a job behind these says it waits for. */
const WAITS: Record<string, string> = {
  'tts.generate': 'Waiting for a speech generation to finish…',
  'tts.prepare': 'Loading the voice model…',
  'tts.ahead': 'Waiting for the text being spoken ahead…',
  'asr.transcribe': 'Waiting for a transcription to finish…',
  'asr.prepare': 'Waiting for the transcription model to load…',
  'clone.speak': 'Waiting for speech in a cloned voice to finish…',
  'clone.convert': 'Waiting for a voice conversion to finish…',
  'clone.extract': 'Waiting for a voice extraction to finish…',
  'clone.install': 'Waiting for the voice converter install to finish…',
  'audio.enhance': 'Waiting for an audio clean-up to finish…',
  'audio.encode': 'Waiting for an audio export to finish…',
  'audio.convert': 'Waiting for an audio conversion to finish…',
  'audio.analyze': 'Waiting for an audio analysis to finish…',
  'audio.silence': 'Waiting for a silence search to finish…',
  'system.compute': 'Waiting for a speed measurement to finish…',
  'runtime.selftest': 'Waiting for the engine self-test to finish…',
  'runtime.roofline': 'Waiting for a speed measurement to finish…',
  'runtime.bench': 'Waiting for a benchmark to finish…',
};

/**
 * What a job of `op` waits for among `ops` (the engine's running and waiting jobs, oldest first): the first
 * one of its queue worth naming (jobs of other queues run beside it), e.g. "Waiting for a speech generation
 * to finish…"; null when none holds it up.
 */
export function waitingFor(ops: readonly EngineOpName[], op: EngineOpName): string | null {
  const queue = ENGINE_OPS[op].queue;
  const first = ops.find((o) => !QUIET.has(o) && ENGINE_OPS[o].queue === queue);
  if (!first) return null;
  return WAITS[first] ?? 'Waiting for another job to finish…';
}
