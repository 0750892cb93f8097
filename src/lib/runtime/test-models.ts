// Models built in code: a tiny network for self-tests (WebGPU vs WASM) and a MatMul for the compute
// roofline. Weights come from a seeded generator, so every build of a model is byte-identical.
import { GraphBuilder, attr } from './onnx-builder';
import { seededFloats, seededInt8 } from '../core/random';

/** Shape and weights of the tiny self-test model. */
export const TINY = {
  channels: 8,
  length: 64,
  kernel: 3,
  hidden: 16,
  slope: 0.1,
  inputName: 'x',
  outputName: 'y',
} as const;

export interface TinyWeights {
  /** Conv1d weight [C, C, K]. */
  convW: Float32Array;
  /** Conv1d bias [C]. */
  convB: Float32Array;
  /** MatMul weight [L, H]. */
  matW: Float32Array;
  /** Add bias [H]. */
  addB: Float32Array;
}

export function tinyWeights(): TinyWeights {
  const { channels: C, kernel: K, length: L, hidden: H } = TINY;
  return {
    convW: seededFloats(C * C * K, 1, 0.5),
    convB: seededFloats(C, 2, 0.1),
    matW: seededFloats(L * H, 3, 0.25),
    addB: seededFloats(H, 4, 0.1),
  };
}

/**
 * x [1, 8, 64] → Conv1d(8→8, k 3, pad 1) → LeakyRelu(0.1) → MatMul [64, 16] → Add [16] → y [1, 8, 16].
 */
export function tinyTestModel(): Uint8Array {
  const { channels: C, kernel: K, length: L, hidden: H, slope } = TINY;
  const w = tinyWeights();
  const g = new GraphBuilder('timbre-selftest');
  const x = g.input(TINY.inputName, 'float32', [1, C, L]);
  const conv = g.op('Conv', [x, g.init('conv_w', w.convW, [C, C, K]), g.init('conv_b', w.convB, [C])], {
    kernel_shape: attr.ints([K]),
    pads: attr.ints([1, 1]),
    strides: attr.ints([1]),
    dilations: attr.ints([1]),
  });
  const act = g.op('LeakyRelu', [conv], { alpha: attr.float(slope) });
  const mm = g.op('MatMul', [act, g.init('mat_w', w.matW, [L, H])]);
  g.op('Add', [mm, g.init('add_b', w.addB, [H])], undefined, TINY.outputName);
  g.output(TINY.outputName, 'float32', [1, C, H]);
  return g.build();
}

/** The fixed self-test input [1, 8, 64]. */
export function tinyTestInput(): Float32Array {
  const { channels: C, length: L } = TINY;
  const x = new Float32Array(C * L);
  for (let c = 0; c < C; c++)
    for (let t = 0; t < L; t++) x[c * L + t] = Math.sin(0.3 * t + c) * (1 + c / 8) - 0.2;
  return x;
}

/** A = input [N, K] times B = initializer [K, M]: 2·N·K·M floating-point operations per run. */
export function matmulModel(n: number, k = n, m = n): Uint8Array {
  const g = new GraphBuilder('timbre-roofline');
  const a = g.input('a', 'float32', [n, k]);
  g.op('MatMul', [a, g.init('b', seededFloats(k * m, 7), [k, m])], undefined, 'c');
  g.output('c', 'float32', [n, m]);
  return g.build();
}

export const matmulFlops = (n: number, k = n, m = n) => 2 * n * k * m;

/**
 * The int8 counterpart: uint8 A [N, K] times int8 B [K, M] by MatMulInteger (int32 out), the kernel the
 * int8-quantized models (Whisper q8, Kokoro q8) spend their MatMul time in; 2·N·K·M operations per run.
 */
export function matmulIntegerModel(n: number, k = n, m = n): Uint8Array {
  const g = new GraphBuilder('timbre-roofline-int8');
  const a = g.input('a', 'uint8', [n, k]);
  g.op('MatMulInteger', [a, g.init('b', seededInt8(k * m, 7), [k, m], 'int8')], undefined, 'c');
  g.output('c', 'int32', [n, m]);
  return g.build();
}
