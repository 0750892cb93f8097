// clone.convert: a recording in another voice's tone (the source's own tone measured from its speech); the
// target is a voice's embedding or a Kokoro preset (its tone measured from Kokoro's speech, once).
import type { RunOptions } from '../core/run';
import type { CloneDeps } from './deps';
import { CloneParamError } from './errors';
import { converter, precisionFor } from './converter';
import { decodeAudio, embedSpeech, regionsOf, to } from './audio';
import { checkEmbedding, checkTau, convertSamples } from './conversion';
import { averageEmbeddings, speechOnly } from './reference';
import { presetTone } from './preset-tone';
import type { CloneConvertArgs, CloneConvertResult } from './contract';

export async function runCloneConvert(
  args: CloneConvertArgs,
  opts: RunOptions = {},
  d: CloneDeps,
): Promise<CloneConvertResult> {
  const tau = checkTau(args.tau);
  const l = await converter(d, opts);
  const { model } = l;
  const precision = precisionFor(l, args.precision);
  const cfg = model.config;
  const rate = cfg.samplingRate;
  if ((args.target === undefined) === (args.targetPreset === undefined))
    throw new CloneParamError('Give the target as an embedding or as a preset voice, one of the two.');
  const tgtSe =
    args.targetPreset !== undefined
      ? await presetTone(d, l, args.targetPreset, opts)
      : checkEmbedding(args.target!, cfg.ginChannels, 'The target embedding');
  const t0 = performance.now();
  opts.onProgress?.({ stage: 'decode', done: 0, total: 1 });
  const x = await decodeAudio(args.source, d, opts);
  const samples = to(x, rate);
  if (samples.length < cfg.hopLength * 4)
    throw new CloneParamError('The source audio is too short to convert.');
  const regions = await regionsOf(x, d, opts);
  let srcSe: Float32Array;
  if (args.sourceEmbedding)
    srcSe = checkEmbedding(args.sourceEmbedding, cfg.ginChannels, 'The source embedding');
  else {
    opts.onProgress?.({ stage: 'embed', done: 0, total: 1, message: "The source's own tone" });
    const speech = speechOnly(samples, rate, regions);
    // Too little speech for VAD: the whole source stands for itself.
    const e = await embedSpeech(model, speech.length >= rate ? speech : samples, rate);
    srcSe = averageEmbeddings(e.list, e.weights);
  }
  const t1 = performance.now();
  const r = await convertSamples(
    { model, srcSe, tgtSe, tau, precision },
    samples,
    args.seed ?? 0,
    opts,
    regions,
  );
  return {
    samples: r.samples,
    sampleRate: rate,
    chunks: r.chunks,
    extractSeconds: (t1 - t0) / 1000,
    convertSeconds: (performance.now() - t1) / 1000,
    precision,
  };
}
