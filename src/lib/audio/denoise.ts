// Speech denoising with RNNoise (Valin's recurrent network, @echogarden/rnnoise-wasm, BSD-3): 48 kHz mono in
// 480-sample (10 ms) frames, streamed through one state so a long file never needs more than its own
// samples. The wasm ships in the npm package: read from node_modules in Node, and in the browser emitted
// by Vite as an asset of this origin (`?url`), so nothing is fetched from elsewhere.
import { throwIfAborted, type RunOptions } from '../core/run';

export const DENOISE_RATE = 48000;
export const DENOISE_FRAME = 480;
/** RNNoise's output lags its input by one frame (its analysis window is two frames long). */
const LATENCY = DENOISE_FRAME;
/** Frames of warm-up (2 s) before a pass. */
const WARMUP_FRAMES = 200;
/** RNNoise works on 16-bit-scaled floats. */
const SCALE = 32768;

export class DenoiserLoadError extends Error {
  override name = 'DenoiserLoadError';
}

interface RnnoiseModule {
  HEAPF32: Float32Array;
  _malloc(n: number): number;
  _free(p: number): void;
  _rnnoise_create(model: number): number;
  _rnnoise_destroy(st: number): void;
  _rnnoise_process_frame(st: number, out: number, inp: number): number;
}
type Factory = (m: {
  instantiateWasm: (
    imports: WebAssembly.Imports,
    receive: (i: WebAssembly.Instance) => void,
  ) => Record<string, never>;
}) => Promise<RnnoiseModule>;

const WASM_PATH = '@echogarden/rnnoise-wasm/rnnoise.wasm';
const isNode = () =>
  typeof process === 'object' &&
  typeof (process as { versions?: { node?: string } }).versions?.node === 'string';

let compiled: Promise<WebAssembly.Module> | null = null;

function wasmModule(): Promise<WebAssembly.Module> {
  compiled ??= (async () => {
    if (isNode()) {
      // Variable specifiers: the bundler must leave these Node-only imports alone.
      const fsName = 'node:fs/promises';
      const moduleName = 'node:module';
      const fs = (await import(/* @vite-ignore */ fsName)) as { readFile(p: string): Promise<Uint8Array> };
      const { createRequire } = (await import(/* @vite-ignore */ moduleName)) as {
        createRequire(from: string): { resolve(id: string): string };
      };
      const bytes = await fs.readFile(createRequire(import.meta.url).resolve(WASM_PATH));
      return WebAssembly.compile(bytes as Uint8Array<ArrayBuffer>);
    }
    const { default: url } = await import('@echogarden/rnnoise-wasm/rnnoise.wasm?url');
    const res = await fetch(url);
    if (!res.ok) throw new Error(`${url}: HTTP ${res.status}`);
    return WebAssembly.compile(await res.arrayBuffer());
  })().catch((e: unknown) => {
    compiled = null;
    throw new DenoiserLoadError(`Could not load the RNNoise denoiser: ${(e as Error).message}`);
  });
  return compiled;
}

/** A fresh module instance (each holds its own heap; instances are cheap once the wasm is compiled). */
async function instance(): Promise<RnnoiseModule> {
  const mod = await wasmModule();
  const factory = (await import('@echogarden/rnnoise-wasm')).default as unknown as Factory;
  return factory({
    // Hand the compiled module in, so the glue never looks for the file itself.
    instantiateWasm: (imports, receive) => {
      void WebAssembly.instantiate(mod, imports).then(receive);
      return {};
    },
  });
}

export interface DenoiseOptions extends RunOptions {
  /**
   * How hard to clean (default 2). RNNoise alone leaves stationary noise partly in place between words, so
   * its own voice-activity output also drives a gate there (held 200 ms after speech, opening 30 ms
   * before it); strength sets the gate's floor and the mix:
   * 1: ¾ denoised + ¼ original, gate −6 dB (keeps room tone); 2: denoised, gate −18 dB;
   * 3: two RNNoise passes, gate −30 dB.
   */
  strength?: 1 | 2 | 3;
}

const GATE_FLOOR_DB = { 1: -6, 2: -18, 3: -30 } as const;
/** Frames the gate stays open after speech, and opens before it. */
const HOLD = 20;
const LOOKAHEAD = 3;

/** One RNNoise pass over 48 kHz mono samples; progress is `done` of `total` samples across all passes. */
async function pass(
  m: RnnoiseModule,
  x: Float32Array,
  o: RunOptions,
  report: (done: number) => void,
): Promise<{ y: Float32Array; vad: Float32Array }> {
  const st = m._rnnoise_create(0);
  const inp = m._malloc(DENOISE_FRAME * 4);
  const out = m._malloc(DENOISE_FRAME * 4);
  try {
    const y = new Float32Array(x.length);
    const frame = new Float32Array(DENOISE_FRAME);
    // Frames cover the input plus one frame of latency, whose output is dropped at the start.
    const frames = Math.ceil((x.length + LATENCY) / DENOISE_FRAME);
    // Speech probability of each output frame (output frame f covers y[(f-1)·480 …]).
    const vad = new Float32Array(Math.ceil(x.length / DENOISE_FRAME));
    // A fresh RNNoise state takes about a second to learn the noise, and would leave the start of every
    // file noisy: the state first hears the opening seconds once (output dropped), then the whole file.
    const warm = Math.min(Math.floor(x.length / DENOISE_FRAME), WARMUP_FRAMES);
    for (let f = 0; f < warm; f++) {
      m.HEAPF32.set(
        x.subarray(f * DENOISE_FRAME, (f + 1) * DENOISE_FRAME).map((v) => v * SCALE),
        inp >> 2,
      );
      m._rnnoise_process_frame(st, out, inp);
    }
    for (let f = 0; f < frames; f++) {
      if (f % 500 === 0) {
        throwIfAborted(o.signal);
        report(Math.min(x.length, f * DENOISE_FRAME));
        if (f > 0) await new Promise((r) => setTimeout(r, 0));
      }
      const at = f * DENOISE_FRAME;
      frame.fill(0);
      for (let i = 0; i < DENOISE_FRAME && at + i < x.length; i++) frame[i] = x[at + i]! * SCALE;
      m.HEAPF32.set(frame, inp >> 2);
      const p = m._rnnoise_process_frame(st, out, inp);
      if (f >= 1 && f - 1 < vad.length) vad[f - 1] = p;
      const res = m.HEAPF32.subarray(out >> 2, (out >> 2) + DENOISE_FRAME);
      for (let i = 0; i < DENOISE_FRAME; i++) {
        const j = at + i - LATENCY;
        if (j >= 0 && j < y.length) y[j] = res[i]! / SCALE;
      }
    }
    return { y, vad };
  } finally {
    m._free(inp);
    m._free(out);
    m._rnnoise_destroy(st);
  }
}

/** Per-sample gain: the floor outside speech, 1 within it and for HOLD frames after, eased between frames. */
function gate(vad: Float32Array, n: number, floorDb: number): Float32Array {
  const floor = 10 ** (floorDb / 20);
  const open = Float32Array.from(vad, (_, f) => {
    let p = 0;
    for (let k = Math.max(0, f - HOLD); k <= Math.min(vad.length - 1, f + LOOKAHEAD); k++)
      p = Math.max(p, vad[k]!);
    // Fully open from 0.6, closed below 0.2.
    return floor + (1 - floor) * Math.min(1, Math.max(0, (p - 0.2) / 0.4));
  });
  const g = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const t = i / DENOISE_FRAME - 0.5;
    const f0 = Math.max(0, Math.floor(t));
    const f1 = Math.min(open.length - 1, f0 + 1);
    const w = Math.min(1, Math.max(0, t - f0));
    g[i] = open[f0]! * (1 - w) + open[f1]! * w;
  }
  return g;
}

/** Denoises 48 kHz mono speech; the result is time-aligned with the input and of the same length. */
export async function denoise(x: Float32Array, o: DenoiseOptions = {}): Promise<Float32Array> {
  const strength = o.strength ?? 2;
  const m = await instance();
  const passes = strength === 3 ? 2 : 1;
  const total = x.length * passes;
  let y = x;
  let vad: Float32Array | null = null;
  for (let p = 0; p < passes; p++) {
    const r = await pass(m, y, o, (done) =>
      o.onProgress?.({ stage: 'denoise', done: p * x.length + done, total, message: 'Removing noise' }),
    );
    y = r.y;
    // The gate follows the first pass, which heard the speech in the original noise.
    vad ??= r.vad;
  }
  if (strength === 1) for (let i = 0; i < y.length; i++) y[i] = 0.75 * y[i]! + 0.25 * x[i]!;
  const g = gate(vad!, y.length, GATE_FLOOR_DB[strength]);
  for (let i = 0; i < y.length; i++) y[i] = y[i]! * g[i]!;
  o.onProgress?.({ stage: 'denoise', done: total, total, message: 'Removing noise' });
  return y;
}
