// clone.speak: text in a cloned voice, Kokoro's speech in a base voice converted to the voice's tone as
// it is made (the base voice's own tone measured once and kept).
import { throwIfAborted, type RunOptions } from '../core/run';
import { ModelNotInstalledError } from '../models/types';
import { resample } from '../dsp/resample';
import { frameNoise, StreamedConversion } from './chunks';
import { baseVoiceFor } from '../voices/base-voice';
import type { CloneDeps } from './deps';
import { CloneParamError } from './errors';
import { converter, precisionFor } from './converter';
import { checkEmbedding, checkTau, converting, type Conversion } from './conversion';
import { presetTone } from './preset-tone';
import type { CloneSpeakArgs, CloneSpeakResult } from './contract';

export async function runCloneSpeak(
  args: CloneSpeakArgs,
  opts: RunOptions = {},
  d: CloneDeps,
): Promise<CloneSpeakResult> {
  if (!args.text?.trim()) throw new CloneParamError('No text to speak.');
  const tau = checkTau(args.tau);
  const l = await converter(d, opts);
  const { model } = l;
  const precision = precisionFor(l, args.precision);
  const cfg = model.config;
  const rate = cfg.samplingRate;
  const tgtSe = checkEmbedding(args.embedding, cfg.ginChannels, 'The voice embedding');
  if (!d.speak) throw new ModelNotInstalledError('No speech engine here for cloned speech.');
  const base = args.baseVoice ?? baseVoiceFor(args.language, args.gender);
  const srcSe = await presetTone(d, l, base, opts);
  throwIfAborted(opts.signal);
  const r = await speakStreamed(
    d,
    { model, srcSe, tgtSe, tau, precision },
    { text: args.text, voice: base, speed: args.speed },
    args.seed ?? 0,
    opts,
  );
  const duration = r.samples.length / rate;
  const chunks = r.chunks.length
    ? r.chunks.map((c) => ({
        text: c.text,
        start: Math.min(c.start, duration),
        end: Math.min(c.end, duration),
      }))
    : [{ text: args.text, start: 0, end: duration }];
  return { samples: r.samples, sampleRate: rate, baseVoice: base, chunks, precision };
}

/** Leading samples of a piece under this level are its pause (where a cut may fall). */
const PAUSE_LEVEL = 1e-3;

/**
 * Kokoro's pieces converted as they come: each piece's leading pause is a place to cut, and a chunk is
 * converted once the speech reaches a second past its end (the context), so the first sentence plays while
 * later ones are made. The speech so far is resampled whole each time (a prefix resamples to a prefix of
 * the whole, bar the last few samples, which the conversion waits past), so the output is the same as
 * converting the finished speech with the same cuts; the noise is drawn frame by frame for the same reason.
 */
async function speakStreamed(
  d: CloneDeps,
  c: Conversion,
  a: { text: string; voice: string; speed?: number },
  seed: number,
  opts: RunOptions,
): Promise<{ samples: Float32Array; chunks: { text: string; start: number; end: number }[] }> {
  const rate = c.model.config.samplingRate;
  const { convert, options } = converting(c, opts);
  const stream = new StreamedConversion(convert, frameNoise(seed, c.model.config.interChannels), {
    ...options,
    // A chunk may end at any pause a second or more after the last cut.
    firstSeconds: 1,
  });
  const parts: Float32Array[] = [];
  let srcRate = 0;
  let length = 0;
  const atRate = () => {
    const all = new Float32Array(length);
    let at = 0;
    for (const p of parts) {
      all.set(p, at);
      at += p.length;
    }
    return srcRate === rate ? all : resample(all, srcRate, rate);
  };
  // Pieces arrive while the speech engine runs; their conversions run one after another.
  let work: Promise<void> = Promise.resolve();
  let failed: unknown = null;
  const s = await d.speak!(
    a,
    (samples, sampleRate) => {
      if (failed || opts.signal?.aborted) return;
      srcRate = sampleRate;
      let lead = 0;
      while (lead < samples.length && Math.abs(samples[lead]!) < PAUSE_LEVEL) lead++;
      const cut = parts.length ? ((length + lead / 2) * rate) / sampleRate : null;
      parts.push(samples);
      length += samples.length;
      work = work.then(() => stream.add(atRate(), cut)).catch((e: unknown) => void (failed ??= e));
    },
    opts.signal,
  );
  await work;
  if (failed) throw failed;
  throwIfAborted(opts.signal);
  // A speech engine that hands over no pieces: the whole speech at once.
  const whole = s.sampleRate === rate ? s.samples : resample(s.samples, s.sampleRate, rate);
  const out = await stream.finish(whole);
  return { samples: out.samples, chunks: s.chunks ?? [] };
}
