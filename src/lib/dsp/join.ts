// Joining synthesised runs without clicks: raised-cosine fades at every run's edges, and silence between
// runs sized by the kind of break.

export type BreakKind = 'clause' | 'sentence' | 'paragraph';

/** Pause after a sentence when none is asked for (ms). */
export const DEFAULT_PAUSE_MS = 250;
/** Each run fades in and out over this long (ms): inaudible on speech, removes any step at its edges. */
export const FADE_MS = 5;

const SCALE: Record<BreakKind, number> = { clause: 0.3, sentence: 1, paragraph: 2.5 };

/** Silence before a run: `pauseMs` between sentences, 2.5× between paragraphs, 0.3× inside a sentence. */
export function pauseSamples(kind: BreakKind, pauseMs: number, sampleRate: number): number {
  return Math.round((pauseMs * SCALE[kind] * sampleRate) / 1000);
}

/** Raised-cosine fade-in over the first `n` samples and fade-out over the last `n`, in place. */
export function fadeEdges(samples: Float32Array, n: number): Float32Array {
  const len = Math.min(n, Math.floor(samples.length / 2));
  for (let i = 0; i < len; i++) {
    const g = 0.5 - 0.5 * Math.cos((Math.PI * (i + 0.5)) / len);
    samples[i]! *= g;
    samples[samples.length - 1 - i]! *= g;
  }
  return samples;
}

/** `gap` samples of silence followed by `audio`. */
export function withLeadingSilence(audio: Float32Array, gap: number): Float32Array {
  if (gap <= 0) return audio;
  const out = new Float32Array(gap + audio.length);
  out.set(audio, gap);
  return out;
}

export function concatAudio(parts: readonly Float32Array[]): Float32Array {
  const out = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
