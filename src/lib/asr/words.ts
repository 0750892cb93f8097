// Word timestamps from the decoder's cross-attention (openai/whisper timing.py): the alignment heads'
// attention of each text token over the audio frames, normalised per head across tokens, median-filtered
// (width 7) along time, averaged over heads; dynamic time warping over its negative gives each token's first
// frame; words are runs of tokens starting at a space. Frames are 20 ms.
import type { WhisperTokenizer } from './tokenizer';
import type { Word } from '../documents/transcript';

const FRAMES = 1500;
const FRAME_S = 0.02;
const MEDIAN = 7;

function medianFilter(x: Float64Array, width: number): Float64Array {
  const n = x.length;
  const half = Math.floor(width / 2);
  if (n <= half) return x;
  const out = new Float64Array(n);
  const buf: number[] = [];
  for (let i = 0; i < n; i++) {
    buf.length = 0;
    for (let k = -half; k <= half; k++) {
      let j = i + k;
      // reflect at the edges, as upstream pads
      if (j < 0) j = -j;
      if (j >= n) j = 2 * (n - 1) - j;
      buf.push(x[Math.min(n - 1, Math.max(0, j))]!);
    }
    buf.sort((a, b) => a - b);
    out[i] = buf[half]!;
  }
  return out;
}

/** DTW path over a cost matrix [n][m]: for each row, the first column the path reaches in it. */
export function dtwFirstColumns(cost: Float64Array[], m: number): number[] {
  const n = cost.length;
  const W = m + 1;
  const acc = new Float64Array((n + 1) * W).fill(Infinity);
  const trace = new Int8Array((n + 1) * W);
  acc[0] = 0;
  for (let j = 1; j <= m; j++)
    for (let i = 1; i <= n; i++) {
      const c0 = acc[(i - 1) * W + j - 1]!;
      const c1 = acc[(i - 1) * W + j]!;
      const c2 = acc[i * W + j - 1]!;
      // Ties go to the horizontal move, as upstream's dtw_cpu does.
      const t = c0 < c1 && c0 < c2 ? 0 : c1 < c0 && c1 < c2 ? 1 : 2;
      const c = t === 0 ? c0 : t === 1 ? c1 : c2;
      acc[i * W + j] = cost[i - 1]![j - 1]! + c;
      trace[i * W + j] = t;
    }
  const first = new Array<number>(n).fill(0);
  let i = n;
  let j = m;
  while (i > 0 && j > 0) {
    first[i - 1] = j - 1;
    const t = trace[i * W + j];
    if (t === 0) {
      i--;
      j--;
    } else if (t === 1) i--;
    else j--;
  }
  return first;
}

/**
 * Words of one segment. `att[t]` holds token t's attention (alignment heads × 1500 frames); `offset` is
 * the window's start in the file, `start`/`end` the segment's span in the file (seconds).
 */
export function alignWords(
  tok: WhisperTokenizer,
  tokens: readonly number[],
  att: readonly Float32Array[],
  heads: number,
  span: { offset: number; start: number; end: number },
): Word[] {
  const T = Math.min(tokens.length, att.length);
  if (!T) return [];
  const f0 = Math.max(0, Math.min(FRAMES - 1, Math.floor((span.start - span.offset) / FRAME_S)));
  const f1 = Math.max(f0 + 1, Math.min(FRAMES, Math.ceil((span.end - span.offset) / FRAME_S)));
  const m = f1 - f0;
  const avg = Array.from({ length: T }, () => new Float64Array(m));
  for (let h = 0; h < heads; h++) {
    const rows = Array.from({ length: T }, (_, t) => {
      const r = new Float64Array(m);
      for (let f = 0; f < m; f++) r[f] = att[t]![h * FRAMES + f0 + f]!;
      return r;
    });
    if (T > 1)
      for (let f = 0; f < m; f++) {
        let mean = 0;
        for (let t = 0; t < T; t++) mean += rows[t]![f]!;
        mean /= T;
        let v = 0;
        for (let t = 0; t < T; t++) v += (rows[t]![f]! - mean) ** 2;
        const sd = Math.sqrt(v / (T - 1)) || 1;
        for (let t = 0; t < T; t++) rows[t]![f] = (rows[t]![f]! - mean) / sd;
      }
    for (let t = 0; t < T; t++) {
      const r = medianFilter(rows[t]!, MEDIAN);
      for (let f = 0; f < m; f++) avg[t]![f] = avg[t]![f]! + r[f]! / heads;
    }
  }
  const cost = avg.map((r) => r.map((x) => -x));
  const first = dtwFirstColumns(cost, m);
  const startOf = (t: number) => span.offset + (f0 + first[t]!) * FRAME_S;
  // Words: a token whose text starts with a space (or the first) begins a word; punctuation stays attached.
  const words: { text: string; from: number }[] = [];
  for (let t = 0; t < T; t++) {
    const piece = tok.decode([tokens[t]!]);
    const startsWord = words.length === 0 || (/^\s/.test(piece) && /\S/.test(piece));
    if (startsWord) words.push({ text: piece, from: t });
    else words[words.length - 1]!.text += piece;
  }
  const out: Word[] = [];
  let prevEnd = span.start;
  words.forEach((w, k) => {
    const next = words[k + 1];
    let s = Math.max(prevEnd, Math.min(span.end, startOf(w.from)));
    let e = next ? Math.min(span.end, startOf(next.from)) : span.end;
    if (k === 0) s = Math.max(span.start, s);
    e = Math.max(e, s);
    out.push({ word: w.text.trim(), start: Math.round(s * 1000) / 1000, end: Math.round(e * 1000) / 1000 });
    prevEnd = e;
  });
  return out.filter((w) => w.word.length > 0);
}
