// The tuned runtime in the real engine worker: the tiny model on WebGPU (SwiftShader's software adapter)
// and on WASM gives the same numbers, and onnxruntime loads only its self-hosted files from /ort/.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { BASE, launch, openStudio } from './browser';

/** Chromium's software WebGPU adapter (no GPU on the test machines). */
const WEBGPU_FLAGS = [
  '--enable-unsafe-webgpu',
  '--use-webgpu-adapter=swiftshader',
  '--enable-features=Vulkan',
];

interface Selftest {
  ep_used: 'webgpu' | 'wasm';
  output: number[];
  ms: number;
  threads: number;
  reason: string;
  fallback: string | null;
}

let browser: Browser;
let context: BrowserContext;
let page: Page;
const requests: string[] = [];

beforeAll(async () => {
  browser = await launch(WEBGPU_FLAGS);
  context = await browser.newContext();
  // Not the first-start copy of the bundled models: this test needs none of them.
  await context.addInitScript(() => localStorage.setItem('timbre:auto-install', 'off'));
  // Every request of the page, its workers (the engine worker and onnxruntime's thread workers) and the
  // Service Worker.
  context.on('request', (r) => requests.push(r.url()));
  page = await openStudio(context);
  page.on('request', (r) => requests.push(r.url()));
});
afterAll(async () => {
  await browser?.close();
});

const selftest = (ep: 'webgpu' | 'wasm', on: Page = page) =>
  on.evaluate(
    (ep) =>
      (
        globalThis as unknown as {
          __timbre: { engine: { run(op: string, args: unknown): Promise<unknown> } };
        }
      ).__timbre.engine.run('runtime.selftest', { ep }),
    ep,
  ) as Promise<Selftest>;

describe('runtime', () => {
  it('runs the tiny model on WebGPU (SwiftShader) and on WASM with the same output', async () => {
    const adapter = await page.evaluate(async () => {
      const gpu = (
        navigator as { gpu?: { requestAdapter(): Promise<{ info?: { architecture?: string } } | null> } }
      ).gpu;
      if (!gpu) return 'navigator.gpu is missing';
      const a = await gpu.requestAdapter();
      return a ? `adapter ${a.info?.architecture ?? ''}` : 'requestAdapter() returned null';
    });
    if (!adapter.startsWith('adapter'))
      throw new Error(
        `This Chromium gives no WebGPU adapter with ${WEBGPU_FLAGS.join(' ')} (${adapter}): the WebGPU half of the runtime cannot be tested here.`,
      );

    const gpu = await selftest('webgpu');
    if (gpu.ep_used !== 'webgpu')
      throw new Error(
        `WebGPU was asked for, but the self-test ran on ${gpu.ep_used}: ${gpu.fallback ?? gpu.reason}`,
      );
    expect(gpu.fallback).toBeNull();

    const cpu = await selftest('wasm');
    expect(cpu.ep_used).toBe('wasm');
    expect(cpu.threads).toBe(await page.evaluate(() => navigator.hardwareConcurrency));

    expect(gpu.output).toHaveLength(8 * 16);
    expect(cpu.output).toHaveLength(8 * 16);
    let worst = 0;
    gpu.output.forEach((v, i) => (worst = Math.max(worst, Math.abs(v - cpu.output[i]!))));
    expect(worst).toBeLessThan(1e-4);
    expect(cpu.output.some((v) => Math.abs(v) > 0.5)).toBe(true);
  });

  it('fetched nothing from other origins, and onnxruntime from /ort/ only', async () => {
    const origin = new URL(BASE).origin;
    const http = requests.filter((u) => /^https?:/.test(u));
    expect(http.filter((u) => new URL(u).origin !== origin)).toEqual([]);
    const paths = new Set(http.map((u) => new URL(u).pathname));
    expect(paths).toContain('/ort/ort-wasm-simd-threaded.jsep.mjs');
    expect(paths).toContain('/ort/ort-wasm-simd-threaded.jsep.wasm');
    // No other copy of the runtime's wasm or glue (other wasm, e.g. the precached ffmpeg core, is not ORT's).
    expect([...paths].filter((p) => /ort-wasm/.test(p) && !p.startsWith('/ort/'))).toEqual([]);
  });

  it('answers on WASM with a notice, not an error, where WebGPU has no adapter', async () => {
    const plain = await launch(); // no WebGPU flags: requestAdapter() gives null in headless Chromium
    try {
      const ctx = await plain.newContext();
      await ctx.addInitScript(() => localStorage.setItem('timbre:auto-install', 'off'));
      const p = await openStudio(ctx);
      const r = await selftest('webgpu', p);
      expect(r.ep_used).toBe('wasm');
      expect(r.fallback).toMatch(/no WebGPU adapter/);
      expect(r.output).toHaveLength(8 * 16);
    } finally {
      await plain.close();
    }
  });

  it('lets the user force an execution provider, kept across reloads', async () => {
    await page.goto(`${BASE}/#/system`);
    await page.waitForFunction(() => '__timbre' in globalThis);
    await page.getByLabel('Execution provider for models').selectOption('wasm');
    await page.getByText('Models now run with: WASM').waitFor();
    const settings = () =>
      page.evaluate(() =>
        (
          globalThis as unknown as {
            __timbre: {
              engine: { run(op: string, a: unknown): Promise<{ preference: string; threads: number }> };
            };
          }
        ).__timbre.engine.run('runtime.settings', {}),
      );
    expect((await settings()).preference).toBe('wasm');
    expect((await settings()).threads).toBe(2);
    await page.reload();
    await page.waitForFunction(() => '__timbre' in globalThis);
    await page.waitForFunction(() => localStorage.getItem('timbre:ep') === 'wasm');
    // Applied to the new engine at start.
    await expect.poll(async () => (await settings()).preference, { timeout: 10_000 }).toBe('wasm');
    expect(await page.getByLabel('Execution provider for models').inputValue()).toBe('wasm');
    await page.getByLabel('Execution provider for models').selectOption('auto');
    await page.getByText('Models now run with: automatic choice').waitFor();
  });
});
