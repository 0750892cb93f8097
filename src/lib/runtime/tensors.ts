// Checks on output tensors, shared by the session pool and the engine operations.

export interface TensorLike {
  readonly type: string;
  readonly dims: readonly number[];
  readonly data: unknown;
}

export type OutputsLike = Readonly<Record<string, TensorLike>>;

const FLOAT_TYPES = new Set(['float32', 'float64', 'float16']);

/** True when a float16 bit pattern is NaN or ±Infinity (exponent all ones). */
const f16NonFinite = (bits: number) => (bits & 0x7c00) === 0x7c00;

/** Names of the float outputs holding a NaN or an Infinity (every float output is checked). */
export function nonFiniteOutputs(outputs: OutputsLike): string[] {
  const bad: string[] = [];
  for (const [name, t] of Object.entries(outputs)) {
    if (!FLOAT_TYPES.has(t.type)) continue;
    const d = t.data;
    if (d instanceof Float32Array || d instanceof Float64Array) {
      for (let i = 0; i < d.length; i++)
        if (!Number.isFinite(d[i]!)) {
          bad.push(name);
          break;
        }
    } else if (d instanceof Uint16Array) {
      for (let i = 0; i < d.length; i++)
        if (f16NonFinite(d[i]!)) {
          bad.push(name);
          break;
        }
    } else if (ArrayBuffer.isView(d) && 'length' in d) {
      // Float16Array where the platform has it.
      const arr = d as unknown as ArrayLike<number>;
      for (let i = 0; i < arr.length; i++)
        if (!Number.isFinite(arr[i]!)) {
          bad.push(name);
          break;
        }
    }
  }
  return bad;
}
