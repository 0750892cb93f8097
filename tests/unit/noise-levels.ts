// Speech and noise levels of a processed clip, measured against the clean clip it was made from: the
// mean power of 32 ms frames where the clean clip holds speech, and where it is silent. Shared by the
// enhancement tests in Node and in Chromium.
import { mulberry32 } from '../../src/lib/core/random';

export function levels(x: Float32Array, clean: Float32Array, rate: number) {
  const frame = Math.round(0.032 * rate);
  let sp = 0,
    ns = 0,
    nsp = 0,
    nns = 0;
  for (let f = 0; (f + 1) * frame <= Math.min(x.length, clean.length); f++) {
    let c = 0,
      p = 0;
    for (let i = f * frame; i < (f + 1) * frame; i++) {
      c += clean[i]! * clean[i]!;
      p += x[i]! * x[i]!;
    }
    c /= frame;
    p /= frame;
    if (c > 1e-4) {
      sp += p;
      nsp++;
    } else if (c < 1e-8) {
      ns += p;
      nns++;
    }
  }
  return { speech: 10 * Math.log10(sp / nsp), noise: 10 * Math.log10(ns / nns) };
}

/** `clean` plus uniform white noise whose power is `snrDb` below the speech frames' mean power. */
export function addNoise(clean: Float32Array, rate: number, snrDb: number, seed = 1): Float32Array {
  const sigma = Math.sqrt(10 ** ((levels(clean, clean, rate).speech - snrDb) / 10));
  const rnd = mulberry32(seed);
  return Float32Array.from(clean, (v) => v + sigma * Math.sqrt(3) * (2 * rnd() - 1));
}
