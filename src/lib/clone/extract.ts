// clone.extract: a voice's tone from one or more recordings (their speech only), with the quality checks.
import { throwIfAborted, type RunOptions } from '../core/run';
import type { CloneDeps } from './deps';
import { CloneParamError } from './errors';
import { converter } from './converter';
import { decodeAudio, embedSpeech, regions16, to } from './audio';
import {
  averageEmbeddings,
  measureMusic,
  measureSpeakers,
  qualityChecks,
  requireSpeech,
  speechOnly,
} from './reference';
import type { CloneExtractArgs, CloneExtractResult, MusicMeasure, SpeakerMeasure } from './contract';

export async function runCloneExtract(
  args: CloneExtractArgs,
  opts: RunOptions = {},
  d: CloneDeps,
): Promise<CloneExtractResult> {
  if (!args.audio?.length) throw new CloneParamError('No recording given.');
  const { model } = await converter(d, opts);
  const rate = model.config.samplingRate;
  const inputs: { samples: Float32Array; speech: Float32Array }[] = [];
  const content = { music: [] as MusicMeasure[], speakers: [] as SpeakerMeasure[] };
  for (const [i, a] of args.audio.entries()) {
    opts.onProgress?.({ stage: 'decode', done: i, total: args.audio.length });
    const x = await decodeAudio(a, d, opts);
    opts.onProgress?.({ stage: 'vad', done: i, total: args.audio.length });
    const { a16, regions } = await regions16(x, d, opts);
    const samples = to(x, rate);
    inputs.push({ samples, speech: speechOnly(samples, rate, regions) });
    content.music.push(measureMusic(a16, 16000));
    content.speakers.push(await measureSpeakers(a16, regions, opts.signal));
  }
  const speechSeconds = inputs.reduce((s, i) => s + i.speech.length, 0) / rate;
  requireSpeech(speechSeconds);
  const all: Float32Array[] = [];
  const weights: number[] = [];
  for (const inp of inputs) {
    throwIfAborted(opts.signal);
    const e = await embedSpeech(model, inp.speech, rate);
    all.push(...e.list);
    weights.push(...e.weights);
    opts.onProgress?.({ stage: 'embed', done: all.length, total: 0 });
  }
  const checks = qualityChecks(inputs, rate, all.length, content);
  const out: CloneExtractResult = {
    embedding: averageEmbeddings(all, weights),
    checks,
    speech_seconds: speechSeconds,
    warnings: checks.warnings,
  };
  if (args.keepSamples) out.speech = inputs.map((i) => i.speech);
  return out;
}
