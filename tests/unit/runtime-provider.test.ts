import { describe, expect, it } from 'vitest';
import { chooseProvider, probeWebGpu, wasmThreads } from '../../src/lib/runtime/provider';
import { configureOrt, ortConfig } from '../../src/lib/runtime/config';
import { nonFiniteOutputs } from '../../src/lib/runtime/tensors';

const base = { hasAdapter: true, isolated: true, cores: 2 } as const;

describe('chooseProvider', () => {
  it('auto: WebGPU when a hardware adapter exists', () => {
    expect(chooseProvider({ ...base, preference: 'auto' })).toEqual({
      ep: 'webgpu',
      threads: 2,
      reason: 'a WebGPU adapter is available',
    });
  });

  it('auto: WASM on every core when isolated and there is no adapter', () => {
    const c = chooseProvider({ preference: 'auto', hasAdapter: false, isolated: true, cores: 8 });
    expect(c.ep).toBe('wasm');
    expect(c.threads).toBe(8);
    expect(c.reason).toMatch(/no WebGPU adapter.*8 threads \(cross-origin isolated\)/);
  });

  it('auto: single-threaded WASM when not cross-origin isolated', () => {
    const c = chooseProvider({ preference: 'auto', hasAdapter: false, isolated: false, cores: 8 });
    expect(c).toMatchObject({ ep: 'wasm', threads: 1 });
    expect(c.reason).toMatch(/single-threaded \(not cross-origin isolated\)/);
  });

  it('auto: WASM when the only adapter is a software fallback, or WebGPU failed before', () => {
    expect(chooseProvider({ ...base, preference: 'auto', fallbackAdapter: true })).toMatchObject({
      ep: 'wasm',
      reason: expect.stringMatching(/software fallback/),
    });
    expect(
      chooseProvider({ ...base, preference: 'auto', webgpuUnusable: 'the WebGPU device was lost (x)' }),
    ).toMatchObject({ ep: 'wasm', reason: expect.stringMatching(/device was lost/) });
  });

  it('the user can force either provider', () => {
    expect(chooseProvider({ ...base, preference: 'wasm' })).toMatchObject({ ep: 'wasm', threads: 2 });
    // Forced WebGPU uses even a software adapter.
    expect(chooseProvider({ ...base, preference: 'webgpu', fallbackAdapter: true })).toMatchObject({
      ep: 'webgpu',
    });
    // …but cannot have it without an adapter: WASM, saying why.
    expect(chooseProvider({ ...base, preference: 'webgpu', hasAdapter: false })).toMatchObject({
      ep: 'wasm',
      reason: expect.stringMatching(/WebGPU was chosen, but no WebGPU adapter/),
    });
  });

  it('wasmThreads never goes below one', () => {
    expect(wasmThreads(true, 0)).toBe(1);
    expect(wasmThreads(true, 4)).toBe(4);
    expect(wasmThreads(false, 4)).toBe(1);
  });
});

describe('configureOrt', () => {
  it('sets wasmPaths (absolute where there is a location), threads and proxy once', () => {
    const ort = { env: { wasm: {} as Record<string, unknown> } };
    const g = { location: { href: 'http://127.0.0.1:4310/assets/engine.worker-x.js' } };
    const cfg = configureOrt(ort, { wasmPaths: '/ort/', threads: 2 }, g);
    expect(cfg).toEqual({ wasmPaths: '/ort/', threads: 2 });
    expect(ort.env.wasm).toEqual({ wasmPaths: 'http://127.0.0.1:4310/ort/', numThreads: 2, proxy: false });
    // Later calls change nothing.
    expect(configureOrt(ort, { wasmPaths: '/elsewhere/', threads: 8, simd: false }, g)).toBe(cfg);
    expect(ort.env.wasm.numThreads).toBe(2);
    expect(ortConfig(ort)).toBe(cfg);
  });

  it('leaves wasmPaths alone in Node and passes simd through', () => {
    const ort = { env: { wasm: {} as Record<string, unknown> } };
    configureOrt(ort, { threads: 1, simd: true }, {});
    expect(ort.env.wasm).toEqual({ numThreads: 1, proxy: false, simd: true });
  });
});

describe('probeWebGpu', () => {
  it('is null without navigator.gpu (Node) or without an adapter', async () => {
    expect(await probeWebGpu({})).toBeNull();
    expect(await probeWebGpu({ navigator: { gpu: { requestAdapter: async () => null } } })).toBeNull();
    expect(
      await probeWebGpu({
        navigator: {
          gpu: {
            requestAdapter: async () => {
              throw new Error('blocked');
            },
          },
        },
      }),
    ).toBeNull();
  });

  it('reports a software adapter as fallback', async () => {
    const g = {
      navigator: {
        gpu: {
          requestAdapter: async () => ({
            info: { vendor: 'google', architecture: 'swiftshader', isFallbackAdapter: true },
          }),
        },
      },
    };
    expect(await probeWebGpu(g)).toEqual({ fallback: true, description: 'google swiftshader' });
  });
});

describe('nonFiniteOutputs', () => {
  it('checks every float output, including float16 bit patterns, and skips integers', () => {
    const t = (type: string, data: unknown) => ({ type, dims: [1], data });
    expect(
      nonFiniteOutputs({
        a: t('float32', Float32Array.from([1, 2])),
        b: t('float32', Float32Array.from([1, NaN])),
        c: t('float64', Float64Array.from([Infinity])),
        d: t('float16', Uint16Array.from([0x3c00, 0x7e00])), // 1.0, NaN
        e: t('float16', Uint16Array.from([0x3c00])),
        f: t('int64', BigInt64Array.from([1n])),
      }),
    ).toEqual(['b', 'c', 'd']);
  });
});
