// The recordings the clone ops take in: decoded, resampled, their speech found, and speech embedded as tones.
import type { RunOptions } from '../core/run';
import { resample } from '../dsp/resample';
import type { MonoAudio } from '../dsp/audio';
import { decodeInput } from '../codec/decode';
import { findSpeech, VAD_RATE } from '../vad/vad';
import type { OpenVoiceConverter } from '../openvoice';
import type { CloneDeps } from './deps';
import { CloneParamError } from './errors';
import { pieces } from './reference';
import type { CloneAudio } from './contract';

/** Any audio → mono samples at its own rate (≤ 48 kHz), through the one decoder (codec/decode.ts). */
export async function decodeAudio(a: CloneAudio, d: CloneDeps, opts: RunOptions): Promise<MonoAudio> {
  if ('samples' in a) return { samples: a.samples, sampleRate: a.sampleRate };
  const noCore = () => {
    throw new CloneParamError('Only WAV audio can be read here (no ffmpeg core).');
  };
  return decodeInput(a.bytes, d.transcoder ?? noCore, { signal: opts.signal });
}

export const to = (x: MonoAudio, rate: number) =>
  x.sampleRate === rate ? x.samples : resample(x.samples, x.sampleRate, rate);

/** Speech regions (seconds) by the one speech finder (vad/vad.ts). */
export async function regionsOf(x: MonoAudio, d: CloneDeps, opts: RunOptions) {
  return (await regions16(x, d, opts)).regions;
}

/** The 16 kHz audio and its speech regions (what VAD and diarization work on). */
export async function regions16(x: MonoAudio, d: CloneDeps, opts: RunOptions) {
  const a16 = to(x, VAD_RATE);
  const load = d.vadModel ? await d.vadModel() : null;
  return { a16, regions: (await findSpeech(a16, load, { signal: opts.signal })).regions };
}

export async function embedSpeech(model: OpenVoiceConverter, speech: Float32Array, rate: number) {
  const ps = pieces(speech, rate);
  const list: Float32Array[] = [];
  for (const p of ps) list.push(await model.embed(model.spectrogram(p)));
  return { list, weights: ps.map((p) => p.length) };
}
