// The OpenVoice graphs on WebGPU (issue #6 §6 d): the v2 tiny parity fixture's tone extractor and converter,
// built in TypeScript from its checkpoint, run in the engine worker ('runtime.bench' with values) on WebGPU —
// Chromium's SwiftShader adapter, no GPU here — and on WASM, on the same short input; they must agree.
// SwiftShader is ~200× slower than WASM, hence the tiny model and a fraction of a second of audio.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { launch, openStudio } from './browser';
import { graphsFromCheckpoint, type ConverterGraphs } from '../../src/lib/openvoice/converter';

const WEBGPU_FLAGS = [
  '--enable-unsafe-webgpu',
  '--use-webgpu-adapter=swiftshader',
  '--enable-features=Vulkan',
];
const DIR = join(import.meta.dirname, '..', 'fixtures', 'openvoice-v2-tiny');
/** Frames of the fixture's spectrograms used (256 samples each: 0.37 s). */
const FRAMES = 32;
/** WebGPU vs WASM: float32 on both, different summation orders (and the GPU's own exp/tanh). */
const BOUND = { se: 1e-3, audio: 1e-2 };

interface Input {
  name: string;
  type: 'float32';
  dims: number[];
  data: string;
}
interface BenchOut {
  ep: string;
  models: { id: string; ep: string; values: Record<string, number[]> }[];
}

const floats = async (name: string) => {
  const b = new Uint8Array(await readFile(join(DIR, name)));
  return new Float32Array(b.buffer, b.byteOffset, b.byteLength / 4);
};
const b64 = (x: Float32Array | Uint8Array) =>
  Buffer.from(x.buffer, x.byteOffset, x.byteLength).toString('base64');
const input = (name: string, dims: number[], data: Float32Array): Input => ({
  name,
  type: 'float32',
  dims,
  data: b64(data),
});

/** The first `frames` frames of a [bins, total] row-major spectrogram. */
function firstFrames(spec: Float32Array, bins: number, frames: number): Float32Array {
  const total = spec.length / bins;
  const out = new Float32Array(bins * frames);
  for (let k = 0; k < bins; k++) out.set(spec.subarray(k * total, k * total + frames), k * frames);
  return out;
}
function transpose(x: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(x.length);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = x[r * cols + c]!;
  return out;
}

/** op and EP of each node event in onnxruntime's profile JSON lines. */
function nodeProviders(ls: string[]): { op: string; provider: string }[] {
  const out: { op: string; provider: string }[] = [];
  for (const raw of ls) {
    const line = raw.trim().replace(/,$/, '');
    if (!line.startsWith('{')) continue;
    try {
      const e = JSON.parse(line) as {
        cat?: string;
        name?: string;
        args?: { op_name?: string; provider?: string };
      };
      if (e.cat === 'Node' && e.name?.endsWith('_kernel_time'))
        out.push({ op: e.args?.op_name ?? '?', provider: e.args?.provider ?? '?' });
    } catch {
      // another console line
    }
  }
  return out;
}
const count = (xs: string[]) => {
  const m = new Map<string, number>();
  for (const x of xs) m.set(x, (m.get(x) ?? 0) + 1);
  return m;
};

let lines: string[] = [];
let browser: Browser;
let page: Page;
let graphs: ConverterGraphs;
let extractorInputs: Input[];
let converterInputs: Input[];

beforeAll(async () => {
  graphs = await graphsFromCheckpoint(
    await readFile(join(DIR, 'config.json'), 'utf8'),
    new Uint8Array(await readFile(join(DIR, 'checkpoint.pth'))),
  );
  const bins = graphs.config.specChannels;
  const inter = graphs.config.interChannels;
  const gin = graphs.config.ginChannels;
  const ref = firstFrames(await floats('ref_spec.f32'), bins, FRAMES);
  const src = firstFrames(await floats('src_spec.f32'), bins, FRAMES);
  const noise = firstFrames(await floats('noise.f32'), inter, FRAMES);
  extractorInputs = [input('spec', [1, FRAMES, bins], transpose(ref, bins, FRAMES))];
  converterInputs = [
    input('spec', [1, bins, FRAMES], src),
    input('noise', [1, inter, FRAMES], noise),
    input('src_se', [1, gin, 1], await floats('src_se.f32')),
    input('tgt_se', [1, gin, 1], await floats('tgt_se.f32')),
    input('tau', [1], Float32Array.from([0.3])),
  ];
  browser = await launch(WEBGPU_FLAGS);
  page = await openStudio(await browser.newContext());
  page.on('console', (m) => {
    const t = m.text();
    if (t.includes('"cat"')) lines.push(...t.split('\n'));
  });
});
afterAll(async () => {
  await browser?.close();
});

/** Both graphs on one EP in the engine worker; their outputs. */
function runOn(ep: 'webgpu' | 'wasm'): Promise<BenchOut> {
  return page.evaluate(
    async ({ ep, models }) => {
      const decode = async (s: string) =>
        new Uint8Array(await (await fetch(`data:application/octet-stream;base64,${s}`)).arrayBuffer());
      const ms = await Promise.all(
        models.map(async (m) => ({
          id: m.id,
          bytes: await decode(m.bytes),
          runs: 0,
          values: true,
          // The profiler's node events name the EP each node ran on (printed to the console).
          profile: true,
          inputs: await Promise.all(m.inputs.map(async (i) => ({ ...i, data: await decode(i.data) }))),
        })),
      );
      return (
        globalThis as unknown as { __timbre: { engine: { run(op: string, a: unknown): Promise<unknown> } } }
      ).__timbre.engine.run('runtime.bench', { ep, models: ms });
    },
    {
      ep,
      models: [
        { id: 'extractor', bytes: b64(graphs.extractor), inputs: extractorInputs },
        { id: 'converter', bytes: b64(graphs.converter), inputs: converterInputs },
      ],
    },
  ) as Promise<BenchOut>;
}

const maxAbs = (a: number[], b: number[]) => {
  expect(a).toHaveLength(b.length);
  return a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i]!)), 0);
};
const rms = (a: number[]) => Math.sqrt(a.reduce((s, v) => s + v * v, 0) / a.length);

describe('OpenVoice graphs on WebGPU', () => {
  it('extractor and converter agree with WASM on the fixture (SwiftShader adapter)', async () => {
    const adapter = await page.evaluate(async () => {
      const gpu = (navigator as { gpu?: { requestAdapter(): Promise<unknown> } }).gpu;
      return gpu ? ((await gpu.requestAdapter()) ? 'adapter' : 'no adapter') : 'no navigator.gpu';
    });
    if (adapter !== 'adapter')
      throw new Error(`This Chromium gives no WebGPU adapter with ${WEBGPU_FLAGS.join(' ')} (${adapter}).`);

    lines = [];
    const gpu = await runOn('webgpu');
    await new Promise((r) => setTimeout(r, 1000)); // the profile's last console lines
    const gpuNodes = nodeProviders(lines);
    const cpu = await runOn('wasm');
    expect(gpu.models.map((m) => m.ep)).toEqual(['webgpu', 'webgpu']);
    expect(cpu.models.map((m) => m.ep)).toEqual(['wasm', 'wasm']);

    const [gExt, gConv] = gpu.models;
    const [cExt, cConv] = cpu.models;
    const se = maxAbs(gExt!.values.se!, cExt!.values.se!);
    const audio = maxAbs(gConv!.values.audio!, cConv!.values.audio!);
    console.log(`WebGPU vs WASM: embedding max abs ${se}, audio max abs ${audio}`);
    expect(cExt!.values.se).toHaveLength(graphs.config.ginChannels);
    expect(cConv!.values.audio).toHaveLength(FRAMES * graphs.config.hopLength);
    // Not trivially equal: both outputs carry signal.
    expect(rms(cExt!.values.se!)).toBeGreaterThan(0.01);
    expect(rms(cConv!.values.audio!)).toBeGreaterThan(1e-3);
    // The convolutions really ran on WebGPU (not on its CPU fallback): compare a GPU, not the CPU twice.
    const convs = gpuNodes.filter((n) => /Conv/.test(n.op));
    console.log(
      'WebGPU session node placement:',
      JSON.stringify(Object.fromEntries(count(gpuNodes.map((n) => `${n.op}@${n.provider}`)))),
    );
    expect(convs.length).toBeGreaterThan(0);
    expect(convs.every((n) => /Js|WebGpu/i.test(n.provider))).toBe(true);
    expect(se).toBeLessThan(BOUND.se);
    expect(audio).toBeLessThan(BOUND.audio);
  }, 600_000);
});
