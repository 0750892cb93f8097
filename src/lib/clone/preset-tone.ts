// The tone embedding of a Kokoro preset: Kokoro speaks a fixed passage in it and the converter's extractor
// measures that speech, once per converter and preset (kept beside the converter's files and in memory).
// clone.speak converts from it (the base voice's own tone); clone.convert can convert to it.
import { throwIfAborted, type RunOptions } from '../core/run';
import { ModelNotInstalledError } from '../models/types';
import { resample } from '../dsp/resample';
import { KOKORO_VOICE_IDS } from '../voices/presets';
import type { CloneDeps } from './deps';
import { CloneParamError } from './errors';
import { baseSeCache, type Loaded } from './converter';
import { embedSpeech } from './audio';
import { averageEmbeddings } from './reference';
import { readAll } from './files';

/** Text the presets say to take their tone (long enough for two embedding pieces). */
const BASE_TEXT =
  'The quick brown fox jumps over the lazy dog. A voice is more than its words: it carries the shape of the speaker, the room, and the moment. We read this passage slowly and clearly, so that every sound of the language has its turn.';

export const isPreset = (v: string) => (KOKORO_VOICE_IDS as readonly string[]).includes(v);

/** The preset's tone under the loaded converter `l`. */
export async function presetTone(
  d: CloneDeps,
  l: Loaded,
  preset: string,
  opts: RunOptions = {},
): Promise<Float32Array> {
  if (!isPreset(preset)) throw new CloneParamError(`"${preset}" is not a Kokoro preset voice.`);
  const { model, id } = l;
  const cfg = model.config;
  const rate = cfg.samplingRate;
  const key = `${id}:${preset}`;
  let se = baseSeCache.get(key);
  const sePath = `base-se/${preset}.f32`;
  if (!se) {
    try {
      const b = await readAll(d.store, id, sePath);
      if (b.byteLength === cfg.ginChannels * 4) se = new Float32Array(b.slice().buffer);
    } catch {
      // not cached yet
    }
  }
  if (!se) {
    if (!d.speak) throw new ModelNotInstalledError('No speech engine here to measure a preset voice.');
    opts.onProgress?.({ stage: 'base', done: 0, total: 1, message: `The tone of ${preset} (once)` });
    const s = await d.speak({ text: BASE_TEXT, voice: preset });
    throwIfAborted(opts.signal);
    const e = await embedSpeech(
      model,
      s.sampleRate === rate ? s.samples : resample(s.samples, s.sampleRate, rate),
      rate,
    );
    se = averageEmbeddings(e.list, e.weights);
    try {
      await d.store.append(id, sePath, new Uint8Array(se.buffer.slice(0)), 0);
      await d.store.commit(id, sePath);
    } catch {
      // The memory cache still holds it.
    }
  }
  baseSeCache.set(key, se);
  return se;
}
