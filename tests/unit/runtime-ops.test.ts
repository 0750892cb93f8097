// The runtime's engine operations, run in Node on onnxruntime-web's WASM backend (what the engine worker
// does in the browser, minus WebGPU).
import { beforeAll, describe, expect, it, vi } from 'vitest';
import * as ort from 'onnxruntime-web';
import { ENGINE_OPS } from '../../src/lib/engine/ops';
import { engineContext } from './helpers';
import { installRuntime, onRuntimeNotice, runtimeHost } from '../../src/lib/runtime/host';
import { RuntimeUnavailableError } from '../../src/lib/runtime/errors';
import { median, runBench } from '../../src/lib/engine/runtime-ops';
import type { RuntimeNotice } from '../../src/lib/runtime/pool';
import { matmulIntegerModel, tinyTestInput, tinyTestModel } from '../../src/lib/runtime/test-models';
import { seededInt8 } from '../../src/lib/core/random';
import { CancelledError, type Progress } from '../../src/lib/core/run';
import { maxAbsDiff, tinyReference } from './runtime-reference';

const notices: RuntimeNotice[] = [];

beforeAll(() => {
  installRuntime({ loadOrt: async () => ort, isolated: true, cores: 2 });
  onRuntimeNotice((n) => notices.push(n));
});

describe('runtime operations', () => {
  it('runtime.selftest on WASM gives the reference output', async () => {
    const progress: Progress[] = [];
    const r = await ENGINE_OPS['runtime.selftest'].run(
      { ep: 'wasm' },
      { onProgress: (p) => progress.push(p) },
      engineContext,
    );
    expect(r.ep_used).toBe('wasm');
    expect(r.threads).toBe(2);
    expect(r.fallback).toBeNull();
    expect(r.output).toHaveLength(8 * 16);
    expect(maxAbsDiff(r.output, tinyReference())).toBeLessThan(1e-4);
    expect(r.ms).toBeGreaterThanOrEqual(0);
    expect(progress.map((p) => p.stage)).toEqual(expect.arrayContaining(['load', 'create', 'warmup']));
    // configured once: two threads, no proxy
    const rt = await runtimeHost();
    expect(rt.config).toEqual({ threads: 2 });
    expect(ort.env.wasm.numThreads).toBe(2);
    expect(ort.env.wasm.proxy).toBe(false);
  });

  it('runtime.selftest asked for WebGPU where there is none answers on WASM with a notice', async () => {
    const r = await ENGINE_OPS['runtime.selftest'].run({ ep: 'webgpu' }, {}, engineContext);
    expect(r.ep_used).toBe('wasm');
    expect(r.fallback).toMatch(/no WebGPU adapter/);
    expect(maxAbsDiff(r.output, tinyReference())).toBeLessThan(1e-4);
    expect(notices).toEqual([
      {
        model: 'selftest@webgpu',
        from: 'webgpu',
        to: 'wasm',
        reason: expect.stringMatching(/no WebGPU adapter/),
      },
    ]);
  });

  it('reuses the self-test session', async () => {
    const rt = await runtimeHost();
    const before = rt.pool.list().find((s) => s.key === 'selftest@wasm')!.session;
    await ENGINE_OPS['runtime.selftest'].run({ ep: 'wasm' }, {}, engineContext);
    expect(rt.pool.list().find((s) => s.key === 'selftest@wasm')!.session).toBe(before);
  });

  it('runtime.roofline measures onnxruntime MatMul GFLOP/s on WASM', async () => {
    const r = await ENGINE_OPS['runtime.roofline'].run({ size: 128, seconds: 0.2 }, {}, engineContext);
    expect(r.ep).toBe('wasm');
    expect(r.size).toBe(128);
    expect(r.runs).toBeGreaterThanOrEqual(2);
    expect(r.gflops).toBeGreaterThan(0.05);
    await expect(
      ENGINE_OPS['runtime.roofline'].run({ size: 5, seconds: 1 }, {}, engineContext),
    ).rejects.toThrow(RangeError);
    const ac = new AbortController();
    ac.abort();
    await expect(
      ENGINE_OPS['runtime.roofline'].run({ size: 128, seconds: 5 }, { signal: ac.signal }, engineContext),
    ).rejects.toBeInstanceOf(CancelledError);
  });

  it('runtime.roofline int8: MatMulInteger computes the exact integer product, and is timed the same way', async () => {
    // The graph does the real work: uint8 × int8 → int32 equals the product computed here.
    const n = 16;
    const session = await ort.InferenceSession.create(matmulIntegerModel(n));
    const a = Uint8Array.from({ length: n * n }, (_, i) => (i * 37) % 256);
    const b = seededInt8(n * n, 7);
    const c = (await session.run({ a: new ort.Tensor('uint8', a, [n, n]) })).c!.data as Int32Array;
    for (const [i, j] of [
      [0, 0],
      [3, 11],
      [15, 15],
    ] as const) {
      let want = 0;
      for (let k = 0; k < n; k++) want += a[i * n + k]! * b[k * n + j]!;
      expect(c[i * n + j]).toBe(want);
    }
    const r = await ENGINE_OPS['runtime.roofline'].run(
      { size: 128, seconds: 0.2, dtype: 'int8' },
      {},
      engineContext,
    );
    expect(r.dtype).toBe('int8');
    expect(r.runs).toBeGreaterThanOrEqual(2);
    expect(r.gflops).toBeGreaterThan(0.05);
    await expect(
      ENGINE_OPS['runtime.roofline'].run(
        { size: 128, seconds: 1, dtype: 'int4' as 'int8' },
        {},
        engineContext,
      ),
    ).rejects.toThrow(RangeError);
  });

  it('runtime.bench times create, first and steady-state runs of given bytes and inputs', async () => {
    const x = tinyTestInput();
    const r = await runBench({
      models: [
        {
          id: 'tiny',
          bytes: tinyTestModel(),
          inputs: [{ name: 'x', type: 'float32', dims: [1, 8, 64], data: new Uint8Array(x.buffer) }],
          runs: 3,
        },
      ],
    });
    expect(r.ep).toBe('wasm');
    const m = r.models[0]!;
    expect(m.id).toBe('tiny');
    expect(m.runs_ms).toHaveLength(3);
    expect(m.steady_ms).toBe(median(m.runs_ms));
    expect(m.create_ms).toBeGreaterThan(0);
    expect(m.outputs).toEqual({ y: [1, 8, 16] });
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 2, 3])).toBe(2.5);
  });

  it('says so when no runtime is installed', async () => {
    vi.resetModules();
    const fresh = await import('../../src/lib/runtime/host');
    await expect(fresh.runtimeHost()).rejects.toMatchObject({ name: RuntimeUnavailableError.name });
  });
});
