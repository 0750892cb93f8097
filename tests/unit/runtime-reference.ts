// Plain-TypeScript (float64) references for the runtime's built-in models.
import { TINY, tinyTestInput, tinyWeights } from '../../src/lib/runtime/test-models';

/** y of the tiny self-test model on its fixed input, computed without onnxruntime. */
export function tinyReference(x: Float32Array = tinyTestInput()): number[] {
  const { channels: C, length: L, kernel: K, hidden: H, slope } = TINY;
  const w = tinyWeights();
  const act = new Float64Array(C * L);
  for (let o = 0; o < C; o++)
    for (let t = 0; t < L; t++) {
      let v = w.convB[o]!;
      for (let i = 0; i < C; i++)
        for (let k = 0; k < K; k++) {
          const s = t + k - 1; // pad 1
          if (s >= 0 && s < L) v += w.convW[(o * C + i) * K + k]! * x[i * L + s]!;
        }
      act[o * L + t] = v >= 0 ? v : slope * v;
    }
  const y: number[] = [];
  for (let c = 0; c < C; c++)
    for (let h = 0; h < H; h++) {
      let v = w.addB[h]!;
      for (let t = 0; t < L; t++) v += act[c * L + t]! * w.matW[t * H + h]!;
      y.push(v);
    }
  return y;
}

/** Largest absolute difference of two equally long sequences. */
export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`lengths differ: ${a.length} vs ${b.length}`);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}
