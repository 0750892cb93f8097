// Frame levels: the mean power of a run of samples in dB (re full scale), the one meter the speech finder
// and the reference checks share.

/** Level (dB) of `length` samples from `start`: mean power, samples past the end counting as zeros. */
export function frameLevelDb(x: Float32Array, start: number, length: number): number {
  let s = 0;
  const end = Math.min(x.length, start + length);
  for (let i = start; i < end; i++) s += x[i]! * x[i]!;
  return 10 * Math.log10(s / length + 1e-12);
}

/** Levels (dB) of the whole frames of `length` samples in `x`. */
export function frameLevels(x: Float32Array, length: number): Float32Array {
  const out = new Float32Array(Math.floor(x.length / length));
  for (let f = 0; f < out.length; f++) out[f] = frameLevelDb(x, f * length, length);
  return out;
}
