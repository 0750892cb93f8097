// The ONNX builder's models load in onnxruntime-web (its WASM backend, in Node) and compute what plain
// TypeScript computes; the runtime files come from node_modules, never the network.
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import * as ort from 'onnxruntime-web';
import { GraphBuilder, OnnxBuildError, attr, buildModel, rawBytes } from '../../src/lib/runtime/onnx-builder';
import {
  TINY,
  matmulFlops,
  matmulModel,
  tinyTestInput,
  tinyTestModel,
} from '../../src/lib/runtime/test-models';
import { seededFloats } from '../../src/lib/core/random';
import { maxAbsDiff, tinyReference } from './runtime-reference';

const fetched: string[] = [];
const realFetch = globalThis.fetch;

beforeAll(() => {
  // Record every fetch onnxruntime makes while it initialises: none may leave the machine.
  vi.stubGlobal('fetch', (input: string | URL | Request, init?: RequestInit) => {
    const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
    fetched.push(url);
    if (/^https?:/i.test(url)) return Promise.reject(new Error(`network access in a unit test: ${url}`));
    return realFetch(input, init);
  });
});
afterAll(() => {
  vi.unstubAllGlobals();
});

async function run(bytes: Uint8Array, feeds: Record<string, ort.Tensor>) {
  const s = await ort.InferenceSession.create(bytes, { executionProviders: ['wasm'] });
  try {
    return await s.run(feeds);
  } finally {
    await s.release();
  }
}

describe('onnx-builder', () => {
  it('builds the tiny model that onnxruntime-web loads and runs like the plain-TS reference', async () => {
    const bytes = tinyTestModel();
    expect(bytes).toBeInstanceOf(Uint8Array);
    expect(bytes.byteLength).toBeGreaterThan(4 * (8 * 8 * 3 + 64 * 16));
    const x = tinyTestInput();
    const out = await run(bytes, { x: new ort.Tensor('float32', x, [1, TINY.channels, TINY.length]) });
    const y = out.y!;
    expect(y.type).toBe('float32');
    expect(y.dims).toEqual([1, TINY.channels, TINY.hidden]);
    const ref = tinyReference(x);
    expect(maxAbsDiff(y.data as Float32Array, ref)).toBeLessThan(1e-4);
    // The output is not trivially small: LeakyRelu's negative side and the bias both matter.
    expect(Math.max(...ref.map(Math.abs))).toBeGreaterThan(0.5);
    expect(ref.some((v) => v < 0)).toBe(true);
  });

  it('is deterministic: the same model, byte for byte, every time', () => {
    expect(Buffer.from(tinyTestModel()).equals(Buffer.from(tinyTestModel()))).toBe(true);
  });

  it('builds a MatMul whose product matches a plain-TS product', async () => {
    const [n, k, m] = [5, 3, 4];
    const bytes = matmulModel(n, k, m);
    const a = seededFloats(n * k, 99);
    const b = seededFloats(k * m, 7); // the initializer's seed
    const out = await run(bytes, { a: new ort.Tensor('float32', a, [n, k]) });
    expect(out.c!.dims).toEqual([n, m]);
    const ref: number[] = [];
    for (let i = 0; i < n; i++)
      for (let j = 0; j < m; j++) {
        let v = 0;
        for (let q = 0; q < k; q++) v += a[i * k + q]! * b[q * m + j]!;
        ref.push(v);
      }
    expect(maxAbsDiff(out.c!.data as Float32Array, ref)).toBeLessThan(1e-5);
    expect(matmulFlops(512)).toBe(2 * 512 ** 3);
  });

  it('encodes int64 initializers, symbolic dims and typed attributes', async () => {
    const g = new GraphBuilder('reshape-scale');
    const x = g.input('x', 'float32', ['batch', 6]);
    const shape = g.init('shape', new BigInt64Array([-1n, 2n, 3n]), [3]);
    const r = g.op('Reshape', [x, shape]);
    const t = g.op('Transpose', [r], { perm: attr.ints([0, 2, 1]) });
    g.op('LeakyRelu', [t], { alpha: attr.float(0.5) }, 'y');
    g.output('y', 'float32', ['batch', 3, 2]);
    const data = Float32Array.from([1, -2, 3, -4, 5, -6, 7, 8, 9, 10, 11, 12]);
    const out = await run(g.build(), { x: new ort.Tensor('float32', data, [2, 6]) });
    expect(out.y!.dims).toEqual([2, 3, 2]);
    expect(Array.from(out.y!.data as Float32Array)).toEqual([1, -2, -1, 5, 3, -3, 7, 10, 8, 11, 9, 12]);
  });

  it('refuses graphs that use a value before defining it, or mis-sized initializers', () => {
    expect(() =>
      buildModel({
        name: 'bad',
        inputs: [{ name: 'x', type: 'float32', dims: [1] }],
        outputs: [{ name: 'y', type: 'float32', dims: [1] }],
        nodes: [{ op: 'Add', inputs: ['x', 'nope'], outputs: ['y'] }],
      }),
    ).toThrow(OnnxBuildError);
    expect(() =>
      buildModel({
        name: 'bad',
        inputs: [],
        outputs: [{ name: 'w', type: 'float32', dims: [2] }],
        initializers: [{ name: 'w', type: 'float32', dims: [3], data: [1, 2] }],
        nodes: [],
      }),
    ).toThrow(/2 values for dims \[3\]/);
    expect(() =>
      buildModel({ name: 'bad', inputs: [], outputs: [{ name: 'y', type: 'float32', dims: [] }], nodes: [] }),
    ).toThrow(/never produced/);
  });

  it('writes raw data little-endian', () => {
    expect(Array.from(rawBytes('float32', [1]))).toEqual([0, 0, 0x80, 0x3f]);
    expect(Array.from(rawBytes('int64', [258]))).toEqual([2, 1, 0, 0, 0, 0, 0, 0]);
  });

  it('loaded the WASM runtime from node_modules, with no network request', () => {
    expect(fetched.filter((u) => /^https?:/i.test(u))).toEqual([]);
  });
});
