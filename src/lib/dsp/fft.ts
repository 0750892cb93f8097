// A radix-2 real FFT in float64: the n real inputs are packed as n/2 complex values, transformed with an
// iterative Cooley–Tukey FFT, then split into the one-sided spectrum (n/2 + 1 bins). Twiddles and the
// bit-reversal table are computed once per size.

export class RealFFT {
  readonly bins: number;
  private readonly half: number;
  private readonly rev: Uint32Array;
  /** exp(-2πi k / half), k < half/2. */
  private readonly twRe: Float64Array;
  private readonly twIm: Float64Array;
  /** exp(-2πi k / n), k ≤ n/2, for the final split. */
  private readonly splitRe: Float64Array;
  private readonly splitIm: Float64Array;
  private readonly re: Float64Array;
  private readonly im: Float64Array;

  constructor(readonly size: number) {
    if (size < 2 || size & (size - 1)) throw new RangeError(`FFT size ${size} is not a power of two ≥ 2.`);
    const half = size / 2;
    this.half = half;
    this.bins = half + 1;
    const bits = Math.log2(half);
    this.rev = new Uint32Array(half);
    for (let i = 0; i < half; i++) {
      let r = 0;
      for (let b = 0; b < bits; b++) r |= ((i >> b) & 1) << (bits - 1 - b);
      this.rev[i] = r;
    }
    this.twRe = new Float64Array(Math.max(1, half / 2));
    this.twIm = new Float64Array(Math.max(1, half / 2));
    for (let k = 0; k < half / 2; k++) {
      this.twRe[k] = Math.cos((-2 * Math.PI * k) / half);
      this.twIm[k] = Math.sin((-2 * Math.PI * k) / half);
    }
    this.splitRe = new Float64Array(half + 1);
    this.splitIm = new Float64Array(half + 1);
    for (let k = 0; k <= half; k++) {
      this.splitRe[k] = Math.cos((-2 * Math.PI * k) / size);
      this.splitIm[k] = Math.sin((-2 * Math.PI * k) / size);
    }
    this.re = new Float64Array(half);
    this.im = new Float64Array(half);
  }

  /**
   * Forward transform of `input` (length `size`) into `outRe`/`outIm` (length `bins`):
   * X[k] = Σ x[t] · exp(-2πi k t / n).
   */
  forward(input: ArrayLike<number>, outRe: Float64Array, outIm: Float64Array): void {
    const { half, rev, re, im } = this;
    for (let i = 0; i < half; i++) {
      const j = rev[i]!;
      re[j] = input[2 * i]!;
      im[j] = input[2 * i + 1]!;
    }
    for (let len = 2; len <= half; len <<= 1) {
      const h = len >> 1;
      const step = half / len;
      for (let s = 0; s < half; s += len)
        for (let k = 0; k < h; k++) {
          const wr = this.twRe[k * step]!;
          const wi = this.twIm[k * step]!;
          const a = s + k;
          const b = a + h;
          const xr = re[b]! * wr - im[b]! * wi;
          const xi = re[b]! * wi + im[b]! * wr;
          re[b] = re[a]! - xr;
          im[b] = im[a]! - xi;
          re[a] = re[a]! + xr;
          im[a] = im[a]! + xi;
        }
    }
    // Z = FFT(even + i·odd); X[k] = E[k] + W^k O[k], with E, O recovered from Z[k] and conj(Z[half−k]).
    for (let k = 0; k <= half; k++) {
      const a = k % half;
      const b = (half - k) % half;
      const zr = re[a]!;
      const zi = im[a]!;
      const cr = re[b]!;
      const ci = -im[b]!;
      const er = 0.5 * (zr + cr);
      const ei = 0.5 * (zi + ci);
      const or = 0.5 * (zi - ci);
      const oi = -0.5 * (zr - cr);
      const wr = this.splitRe[k]!;
      const wi = this.splitIm[k]!;
      outRe[k] = er + or * wr - oi * wi;
      outIm[k] = ei + or * wi + oi * wr;
    }
  }
}
