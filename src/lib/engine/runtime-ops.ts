// The runtime's engine operations (listed in src/lib/engine/ops.ts): the WebGPU/WASM self-test, the
// MatMul roofline and the model benchmark. They run wherever a runtime is installed (engine worker, Node).
import { CancelledError, throwIfAborted, type RunOptions } from '../core/run';
import { SessionCreateError, describeError } from '../runtime/errors';
import {
  providerPreference,
  runtimeHost,
  setProviderPreference,
  type ProviderPreference,
} from '../runtime/host';
import type { RuntimeNotice } from '../runtime/pool';
import type { OrtModule, OrtSession } from '../runtime/ort-session';
import type { ExecutionProvider } from '../runtime/provider';
import {
  TINY,
  matmulFlops,
  matmulIntegerModel,
  matmulModel,
  tinyTestInput,
  tinyTestModel,
} from '../runtime/test-models';
import { seededFloats, seededInt8 } from '../core/random';

const now = () => globalThis.performance?.now() ?? Date.now();

export interface SelftestArgs {
  ep: ExecutionProvider;
}

export interface SelftestResult {
  /** The EP that ran: 'wasm' when WebGPU was asked for but fell back. */
  ep_used: ExecutionProvider;
  /** The tiny model's output y [1, 8, 16], flattened. */
  output: number[];
  /** Time of one run after warm-up. */
  ms: number;
  threads: number;
  reason: string;
  /** Why WebGPU was not used, when it was asked for; null otherwise. */
  fallback: string | null;
}

/** Runs the tiny model on a fixed input on the requested EP (falling back from WebGPU with a notice). */
export async function runSelftest(args: SelftestArgs, opts: RunOptions = {}): Promise<SelftestResult> {
  if (args.ep !== 'wasm' && args.ep !== 'webgpu') throw new TypeError('ep must be "wasm" or "webgpu".');
  const rt = await runtimeHost();
  const x = tinyTestInput();
  const feeds = () => ({
    [TINY.inputName]: new rt.ort.Tensor('float32', x, [1, TINY.channels, TINY.length]),
  });
  return rt.pool.use(
    `selftest@${args.ep}`,
    async () => tinyTestModel(),
    {
      preference: args.ep,
      onProgress: opts.onProgress,
      signal: opts.signal,
      warmup: (s) => s.run(feeds()),
    },
    async (ps) => {
      throwIfAborted(opts.signal);
      const t0 = now();
      const out = await ps.session.run(feeds());
      const ms = now() - t0;
      const y = out[TINY.outputName];
      if (!y) throw new Error(`The self-test model gave no "${TINY.outputName}" output.`);
      return {
        ep_used: ps.ep,
        output: Array.from(y.data as Float32Array),
        ms,
        threads: ps.threads,
        reason: ps.reason,
        fallback: ps.notice?.reason ?? null,
      };
    },
  );
}

export interface RooflineArgs {
  /** N = K = M of the MatMul (16…2048). */
  size: number;
  /** Measuring time (0.1…60 s). */
  seconds: number;
  /** float32 MatMul (default), or int8 MatMulInteger (uint8 × int8 → int32), the quantized models' kernel. */
  dtype?: 'float32' | 'int8';
}

export interface RooflineResult {
  /** Giga-operations per second (multiply and add counted apart, as for FLOPs). */
  gflops: number;
  dtype: 'float32' | 'int8';
  ep: ExecutionProvider;
  threads: number;
  size: number;
  runs: number;
  seconds: number;
}

/**
 * The WASM compute roofline: GFLOP/s of onnxruntime's float32 MatMul [N,N]×[N,N] (2·N³ FLOPs a run),
 * after one warm-up run.
 */
export async function runRoofline(args: RooflineArgs, opts: RunOptions = {}): Promise<RooflineResult> {
  const size = Math.round(args.size);
  if (!(size >= 16 && size <= 2048)) throw new RangeError('size must be between 16 and 2048.');
  if (!(args.seconds > 0 && args.seconds <= 60)) throw new RangeError('seconds must be in (0, 60].');
  const dtype = args.dtype ?? 'float32';
  if (dtype !== 'float32' && dtype !== 'int8') throw new RangeError('dtype must be "float32" or "int8".');
  const rt = await runtimeHost();
  const a =
    dtype === 'int8'
      ? new rt.ort.Tensor(
          'uint8',
          Uint8Array.from(seededInt8(size * size, 11), (x) => x + 128),
          [size, size],
        )
      : new rt.ort.Tensor('float32', seededFloats(size * size, 11), [size, size]);
  return rt.pool.use(
    dtype === 'int8' ? `roofline-int8@${size}` : `roofline@${size}`,
    async () => (dtype === 'int8' ? matmulIntegerModel(size) : matmulModel(size)),
    {
      preference: 'wasm',
      onProgress: opts.onProgress,
      signal: opts.signal,
      warmup: (s) => s.run({ a }),
    },
    async (ps) => {
      const budget = args.seconds * 1000;
      let busy = 0;
      let runs = 0;
      while (busy < budget || runs < 2) {
        throwIfAborted(opts.signal);
        const t0 = now();
        await ps.session.run({ a });
        busy += now() - t0;
        runs++;
        opts.onProgress?.({
          stage: 'compute',
          done: Math.min(busy, budget),
          total: budget,
          message: `${dtype === 'int8' ? 'MatMulInteger' : 'MatMul'} ${size}³: ${runs} runs`,
        });
      }
      return {
        gflops: (matmulFlops(size) * runs) / (busy / 1000) / 1e9,
        dtype,
        ep: ps.ep,
        threads: ps.threads,
        size,
        runs,
        seconds: busy / 1000,
      };
    },
  );
}

export type BenchElem = 'float32' | 'int64' | 'int32' | 'bool';

export interface BenchInput {
  name: string;
  type: BenchElem;
  dims: number[];
  /** Little-endian element bytes. */
  data: ArrayBuffer | Uint8Array;
}

export interface BenchModel {
  id: string;
  /** Where to fetch the .onnx file (same origin), or its bytes. */
  url?: string;
  bytes?: ArrayBuffer | Uint8Array;
  inputs: BenchInput[];
  /** Outputs to fetch (default: all). */
  outputs?: string[];
  /** Steady-state runs after the first (median reported). */
  runs: number;
  /**
   * onnxruntime's profiler on for this session: its per-node events (op, shapes, µs) are printed to the
   * console when the runs end (npm run bench:tts reads them there).
   */
  profile?: boolean;
  /** Also return the first run's output values (float32 outputs; correctness checks across EPs). */
  values?: boolean;
  /**
   * Rewrite the graph first, as the engine does when it loads the model ('kokoro': kokoro-graph.ts for the
   * EP; 'whisper-encoder': whisper.ts's encoderGraph).
   */
  prepare?: 'kokoro' | 'whisper-encoder';
}

export interface BenchArgs {
  models: BenchModel[];
  ep?: ExecutionProvider;
}

export interface BenchModelResult {
  id: string;
  ep: ExecutionProvider;
  bytes: number;
  create_ms: number;
  first_ms: number;
  steady_ms: number;
  runs_ms: number[];
  outputs: Record<string, number[]>;
  /** The first run's output values, when asked for. */
  values?: Record<string, number[]>;
}

export interface BenchResult {
  ep: ExecutionProvider;
  threads: number;
  models: BenchModelResult[];
}

export function median(xs: readonly number[]): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

function toBytes(b: ArrayBuffer | Uint8Array): Uint8Array {
  return b instanceof Uint8Array ? b : new Uint8Array(b);
}

/** An onnxruntime tensor from raw little-endian bytes. */
export function benchTensor(ort: OrtModule, input: BenchInput) {
  const raw = toBytes(input.data);
  // Copy into a fresh, aligned buffer.
  const buf = raw.slice().buffer;
  switch (input.type) {
    case 'float32':
      return new ort.Tensor('float32', new Float32Array(buf), input.dims);
    case 'int64':
      return new ort.Tensor('int64', new BigInt64Array(buf), input.dims);
    case 'int32':
      return new ort.Tensor('int32', new Int32Array(buf), input.dims);
    case 'bool':
      return new ort.Tensor('bool', new Uint8Array(buf), input.dims);
  }
}

async function fetchBytes(url: string, signal?: AbortSignal): Promise<Uint8Array> {
  const r = await fetch(url, { signal });
  if (!r.ok) throw new Error(`${url}: HTTP ${r.status}`);
  return new Uint8Array(await r.arrayBuffer());
}

/**
 * Per model: session-create time, first run and the median of `runs` steady-state runs, each on a fresh
 * session (outside the pool, released afterwards) so creation is measured every time.
 */
export async function runBench(args: BenchArgs, opts: RunOptions = {}): Promise<BenchResult> {
  const ep = args.ep ?? 'wasm';
  const rt = await runtimeHost();
  const results: BenchModelResult[] = [];
  const total = args.models.length;
  for (const [i, m] of args.models.entries()) {
    throwIfAborted(opts.signal);
    opts.onProgress?.({ stage: 'bench', done: i, total, message: `Benchmarking ${m.id}` });
    const bytes = m.bytes ? toBytes(m.bytes) : m.url ? await fetchBytes(m.url, opts.signal) : null;
    if (!bytes) throw new TypeError(`${m.id}: give url or bytes.`);
    const graph =
      m.prepare === 'kokoro'
        ? (await import('../tts/kokoro-graph')).prepareKokoro(bytes, ep).model
        : m.prepare === 'whisper-encoder'
          ? (await import('../asr/whisper')).encoderGraph(bytes)
          : bytes;
    const feeds = Object.fromEntries(m.inputs.map((inp) => [inp.name, benchTensor(rt.ort, inp)]));
    let t0 = now();
    let session: OrtSession;
    try {
      session = await rt.ort.InferenceSession.create(graph, {
        executionProviders: [ep],
        graphOptimizationLevel: 'all',
        enableProfiling: m.profile === true,
      });
    } catch (e) {
      throw new SessionCreateError(m.id, ep, `Could not create ${m.id} on ${ep}: ${describeError(e)}`, {
        cause: e,
      });
    }
    const create_ms = now() - t0;
    const run = () => (m.outputs ? session.run(feeds, m.outputs) : session.run(feeds));
    try {
      t0 = now();
      const first = await run();
      const first_ms = now() - t0;
      const runs_ms: number[] = [];
      for (let r = 0; r < m.runs; r++) {
        if (opts.signal?.aborted) throw new CancelledError();
        t0 = now();
        await run();
        runs_ms.push(now() - t0);
      }
      if (m.profile) session.endProfiling();
      results.push({
        id: m.id,
        ep,
        bytes: graph.byteLength,
        create_ms,
        first_ms,
        steady_ms: median(runs_ms),
        runs_ms,
        outputs: Object.fromEntries(Object.entries(first).map(([k, t]) => [k, [...t.dims]])),
        ...(m.values
          ? {
              values: Object.fromEntries(
                Object.entries(first).map(([k, t]) => [k, Array.from(t.data as Float32Array)]),
              ),
            }
          : {}),
      });
    } finally {
      await session.release();
    }
  }
  opts.onProgress?.({ stage: 'bench', done: total, total, message: 'Benchmark done' });
  return { ep, threads: rt.config.threads, models: results };
}

export interface SettingsArgs {
  /** When given, becomes the execution provider choice for sessions created from now on. */
  preference?: ProviderPreference;
}

export interface SettingsResult {
  preference: ProviderPreference;
  threads: number;
  isolated: boolean;
  notices: RuntimeNotice[];
}

/** Reads (and optionally sets) the runtime's provider choice; reports threads and recent fallback notices. */
export async function runSettings(args: SettingsArgs): Promise<SettingsResult> {
  if (args.preference) setProviderPreference(args.preference);
  const host = await runtimeHost();
  return {
    preference: providerPreference(),
    threads: host.config.threads,
    isolated: host.isolated,
    notices: [...host.notices],
  };
}
