// What rendering a project needs from the page: speech from the engine in the library's voices, and the
// clip library for sources and for the speech it makes; and the mixdown the view plays.
import type { Studio } from './studio.svelte';
import type { SpeakSession } from './speak.svelte';
import type { RenderDeps, RenderResult } from '../lib/projects/render';
import type { ClipStore } from '../lib/storage/clips';
import { encodeWav } from '../lib/dsp/wav';

export interface Mixdown {
  samples: Float32Array;
  sampleRate: number;
  duration: number;
  wav: Blob;
  /** The edit revision it was rendered from (older than the session's: out of date). */
  revision: number;
}

export function renderDeps(studio: Studio, voices: SpeakSession, clips: ClipStore): RenderDeps {
  return {
    speak: async (text, voice, speed, opts) => {
      const resolved = voices.resolve(voice);
      if (!resolved) throw new Error(`The voice ${voices.label(voice)} is not in the library any more.`);
      const r = await studio.engine.run(
        'tts.generate',
        { text, voice: resolved, speed, ...(resolved !== voice ? { voice_id: voice } : {}) },
        { signal: opts.signal, onProgress: opts.onProgress },
      );
      return { samples: r.samples, sampleRate: r.sampleRate };
    },
    loadClip: async (id) => {
      const rec = await clips.get(id);
      if (!rec) throw new Error('it is not in the clip library any more');
      return new Uint8Array(rec.audio);
    },
    saveGenerated: async (wav, info) => {
      const rec = await clips.add({
        name: info.name,
        source: 'generated',
        duration: info.duration,
        sample_rate: info.sample_rate,
        channels: 1,
        audio: wav.slice().buffer,
      });
      return rec.id;
    },
    dropGenerated: async (id) => {
      await clips.delete(id);
    },
  };
}

export function mixdownOf(r: RenderResult, revision: number): Mixdown {
  const wav = new Blob([encodeWav(r.samples, r.sampleRate, 's16') as Uint8Array<ArrayBuffer>], {
    type: 'audio/wav',
  });
  return { samples: r.samples, sampleRate: r.sampleRate, duration: r.duration, wav, revision };
}
