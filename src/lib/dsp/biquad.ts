// Second-order IIR sections (the Audio EQ Cookbook's formulas, normalised so a0 = 1), run in place over a
// whole signal. Used by the loudness meter's K-weighting and the clarity EQ/de-esser.

export interface Biquad {
  b0: number;
  b1: number;
  b2: number;
  a1: number;
  a2: number;
}

const norm = (b0: number, b1: number, b2: number, a0: number, a1: number, a2: number): Biquad => ({
  b0: b0 / a0,
  b1: b1 / a0,
  b2: b2 / a0,
  a1: a1 / a0,
  a2: a2 / a0,
});

const omega = (f: number, rate: number) => (2 * Math.PI * f) / rate;

export function highPass(f: number, q: number, rate: number): Biquad {
  const w = omega(f, rate);
  const c = Math.cos(w);
  const alpha = Math.sin(w) / (2 * q);
  return norm((1 + c) / 2, -(1 + c), (1 + c) / 2, 1 + alpha, -2 * c, 1 - alpha);
}

export function highShelf(f: number, q: number, gainDb: number, rate: number): Biquad {
  const A = 10 ** (gainDb / 40);
  const w = omega(f, rate);
  const c = Math.cos(w);
  const s = 2 * Math.sqrt(A) * (Math.sin(w) / (2 * q));
  return norm(
    A * (A + 1 + (A - 1) * c + s),
    -2 * A * (A - 1 + (A + 1) * c),
    A * (A + 1 + (A - 1) * c - s),
    A + 1 - (A - 1) * c + s,
    2 * (A - 1 - (A + 1) * c),
    A + 1 - (A - 1) * c - s,
  );
}

export function peaking(f: number, q: number, gainDb: number, rate: number): Biquad {
  const A = 10 ** (gainDb / 40);
  const w = omega(f, rate);
  const c = Math.cos(w);
  const alpha = Math.sin(w) / (2 * q);
  return norm(1 + alpha * A, -2 * c, 1 - alpha * A, 1 + alpha / A, -2 * c, 1 - alpha / A);
}

/** Band-pass with 0 dB peak gain. */
export function bandPass(f: number, q: number, rate: number): Biquad {
  const w = omega(f, rate);
  const alpha = Math.sin(w) / (2 * q);
  return norm(alpha, 0, -alpha, 1 + alpha, -2 * Math.cos(w), 1 - alpha);
}

/** Filters `x` through the sections in order (direct form I, double-precision state) into a new array. */
export function filter(x: Float32Array, sections: readonly Biquad[]): Float32Array {
  const y = Float32Array.from(x);
  for (const s of sections) {
    let x1 = 0,
      x2 = 0,
      y1 = 0,
      y2 = 0;
    for (let i = 0; i < y.length; i++) {
      const x0 = y[i]!;
      const y0 = s.b0 * x0 + s.b1 * x1 + s.b2 * x2 - s.a1 * y1 - s.a2 * y2;
      x2 = x1;
      x1 = x0;
      y2 = y1;
      y1 = y0;
      y[i] = y0;
    }
  }
  return y;
}
