// Synthetic music with known answers, for the analysis tests: a drum pattern at a given tempo with accents,
// and chord progressions of harmonic tones in a given key (16 kHz).
import { mulberry32 } from '../../src/lib/core/random';

export const SR = 16000;

/** A deterministic noise source in [-1, 1) (so the clips are the same every run). */
export function noise(seed: number) {
  const next = mulberry32(seed);
  return () => next() * 2 - 1;
}

/** Kick on every beat (louder on accented ones), a hat on the off-beats; `accentEvery` beats per bar. */
export function drums(bpm: number, seconds: number, accentEvery = 4, hats = true): Float32Array {
  const out = new Float32Array(Math.round(seconds * SR));
  const rnd = noise(bpm * 1000 + accentEvery);
  const beat = (60 / bpm) * SR;
  for (let b = 0; b * beat < out.length; b++) {
    const start = Math.round(b * beat);
    const gain = b % accentEvery === 0 ? 1 : 0.35;
    for (let i = 0; i < 0.15 * SR && start + i < out.length; i++) {
      const t = i / SR;
      const f = 50 + 100 * Math.exp(-t * 40);
      out[start + i]! += gain * 0.6 * Math.exp(-t * 25) * Math.sin(2 * Math.PI * f * t);
      out[start + i]! += gain * 0.2 * Math.exp(-t * 200) * rnd();
    }
    if (hats) {
      const off = Math.round(start + beat / 2);
      for (let i = 0; i < 0.04 * SR && off + i < out.length; i++)
        out[off + i]! += 0.08 * Math.exp((-i / SR) * 120) * rnd();
    }
  }
  return out;
}

export const midiHz = (m: number) => 440 * 2 ** ((m - 69) / 12);

/** Chords of harmonic tones (6 partials), each lasting `beats` at `bpm`, with a bass note on the root. */
export function chords(
  progression: number[][],
  bpm: number,
  seconds: number,
  beatsPerChord = 4,
): Float32Array {
  const out = new Float32Array(Math.round(seconds * SR));
  const len = Math.round((60 / bpm) * beatsPerChord * SR);
  let c = 0;
  for (let start = 0; start < out.length; start += len, c++) {
    const notes = progression[c % progression.length]!;
    const tones = [notes[0]! - 12, ...notes];
    for (const m of tones) {
      const f = midiHz(m);
      for (let i = 0; i < len && start + i < out.length; i++) {
        const t = i / SR;
        const env = Math.min(1, t / 0.01) * Math.exp(-t * 1.2);
        let s = 0;
        for (let k = 1; k <= 6; k++) s += Math.sin(2 * Math.PI * f * k * t) / k;
        out[start + i]! += 0.05 * env * s;
      }
    }
  }
  return out;
}

export const mix = (...parts: Float32Array[]) => {
  const out = new Float32Array(Math.max(...parts.map((p) => p.length)));
  for (const p of parts) for (let i = 0; i < p.length; i++) out[i]! += p[i]!;
  return out;
};

/** Triads (MIDI notes) on the degrees of a key whose tonic is `tonic` (MIDI, around middle C). */
export function triad(root: number, quality: 'maj' | 'min') {
  return [root, root + (quality === 'maj' ? 4 : 3), root + 7];
}
export const majorProgression = (t: number) => [
  triad(t, 'maj'),
  triad(t + 9, 'min'),
  triad(t + 5, 'maj'),
  triad(t + 7, 'maj'),
  triad(t, 'maj'),
];
// Harmonic minor: i – iv – V (raised seventh) – i.
export const minorProgression = (t: number) => [
  triad(t, 'min'),
  triad(t + 5, 'min'),
  triad(t + 7, 'maj'),
  triad(t, 'min'),
];
