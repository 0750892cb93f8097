// The FFTs, side by side (all float64):
// - RealFFT: radix-2 real FFT; the n real inputs are packed as n/2 complex values, transformed with an
//   iterative Cooley–Tukey FFT, then split into the one-sided spectrum (n/2 + 1 bins). Twiddles and the
//   bit-reversal table are computed once per size. Spectrograms, the speech finder's tone check, analysis.
// - MixedFFT: complex DFT of any size (Whisper's 400-point frames), mixed radix.
// - fft: in-place complex radix-2, twiddles computed on the fly (pitch's brightness measure).

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

/** Complex DFT of any size by recursive mixed-radix Cooley–Tukey (400 = 2⁴·5²), float64. */
export class MixedFFT {
  private readonly cos: Float64Array;
  private readonly sin: Float64Array;
  private readonly factors: number[];
  // Butterfly scratch: each level finishes its recursion before its butterflies, so one pair serves all.
  private readonly tRe = new Float64Array(64);
  private readonly tIm = new Float64Array(64);
  constructor(readonly n: number) {
    this.cos = new Float64Array(n);
    this.sin = new Float64Array(n);
    for (let k = 0; k < n; k++) {
      this.cos[k] = Math.cos((-2 * Math.PI * k) / n);
      this.sin[k] = Math.sin((-2 * Math.PI * k) / n);
    }
    this.factors = [];
    let m = n;
    for (const p of [4, 2, 3, 5])
      while (m % p === 0) {
        this.factors.push(p);
        m /= p;
      }
    for (let p = 7; m > 1; p += 2)
      while (m % p === 0) {
        this.factors.push(p);
        m /= p;
      }
  }

  /** X[k] = Σ x[t]·exp(−2πi·k·t/n) of (re, im) into (outRe, outIm). */
  transform(re: Float64Array, im: Float64Array, outRe: Float64Array, outIm: Float64Array): void {
    this.rec(re, im, 0, 1, outRe, outIm, 0, this.n, 0);
  }

  private rec(
    re: Float64Array,
    im: Float64Array,
    inOff: number,
    stride: number,
    oRe: Float64Array,
    oIm: Float64Array,
    oOff: number,
    n: number,
    fi: number,
  ): void {
    if (n === 1) {
      oRe[oOff] = re[inOff]!;
      oIm[oOff] = im[inOff]!;
      return;
    }
    const p = this.factors[fi]!;
    const m = n / p;
    // p sub-transforms of length m on the decimated inputs, written to consecutive blocks of the output.
    for (let q = 0; q < p; q++)
      this.rec(re, im, inOff + q * stride, stride * p, oRe, oIm, oOff + q * m, m, fi + 1);
    // Butterflies: X[k + j·m] = Σ_q W_n^{q·(k + j·m)} · Y_q[k].
    const tw = this.n / n; // twiddle step in the full-size tables
    const { tRe, tIm } = this;
    for (let k = 0; k < m; k++) {
      for (let q = 0; q < p; q++) {
        const a = oOff + q * m + k;
        const w = ((q * k) % n) * tw;
        const c = this.cos[w]!;
        const s = this.sin[w]!;
        tRe[q] = oRe[a]! * c - oIm[a]! * s;
        tIm[q] = oRe[a]! * s + oIm[a]! * c;
      }
      for (let j = 0; j < p; j++) {
        let sr = 0;
        let si = 0;
        for (let q = 0; q < p; q++) {
          const w = ((q * j * m) % n) * tw;
          const c = this.cos[w]!;
          const s = this.sin[w]!;
          sr += tRe[q]! * c - tIm[q]! * s;
          si += tRe[q]! * s + tIm[q]! * c;
        }
        oRe[oOff + k + j * m] = sr;
        oIm[oOff + k + j * m] = si;
      }
    }
  }
}

/** In-place iterative radix-2 FFT (re, im of a power-of-two length). */
export function fft(re: Float64Array, im: Float64Array): void {
  const n = re.length;
  for (let i = 1, j = 0; i < n; i++) {
    let bit = n >> 1;
    for (; j & bit; bit >>= 1) j ^= bit;
    j ^= bit;
    if (i < j) {
      [re[i], re[j]] = [re[j]!, re[i]!];
      [im[i], im[j]] = [im[j]!, im[i]!];
    }
  }
  for (let len = 2; len <= n; len <<= 1) {
    const ang = (-2 * Math.PI) / len;
    for (let i = 0; i < n; i += len) {
      for (let k = 0; k < len / 2; k++) {
        const wr = Math.cos(ang * k);
        const wi = Math.sin(ang * k);
        const a = i + k;
        const b = a + len / 2;
        const tr = re[b]! * wr - im[b]! * wi;
        const ti = re[b]! * wi + im[b]! * wr;
        re[b] = re[a]! - tr;
        im[b] = im[a]! - ti;
        re[a] = re[a]! + tr;
        im[a] = im[a]! + ti;
      }
    }
  }
}
