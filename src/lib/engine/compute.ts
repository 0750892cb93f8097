import { throwIfAborted, type RunOptions } from '../core/run';

export interface ComputeResult {
  /** Measured single-thread float32 matrix-multiply throughput. */
  gflops: number;
  size: number;
  repeats: number;
  seconds: number;
}

/**
 * A float32 matrix-multiply microbenchmark: the compute roofline that model run times are compared with.
 * Runs in slices so progress is reported and cancellation is honoured between slices.
 */
export async function measureCompute(
  args: { seconds: number; size: number },
  opts: RunOptions = {},
): Promise<ComputeResult> {
  const n = args.size;
  const a = new Float32Array(n * n);
  const b = new Float32Array(n * n);
  const c = new Float32Array(n * n);
  for (let i = 0; i < a.length; i++) {
    a[i] = ((i * 7919) % 1000) / 1000;
    b[i] = ((i * 104729) % 1000) / 1000;
  }
  const budgetMs = args.seconds * 1000;
  let repeats = 0;
  let busy = 0; // time spent multiplying; yields are not counted
  let lastYield = performance.now();
  while (busy < budgetMs) {
    throwIfAborted(opts.signal);
    const t = performance.now();
    matmul(a, b, c, n);
    busy += performance.now() - t;
    repeats++;
    if (performance.now() - lastYield > 50) {
      opts.onProgress?.({
        stage: 'compute',
        done: Math.min(busy, budgetMs),
        total: budgetMs,
        message: `Measuring compute speed (${repeats} runs)`,
      });
      // Yield so cancel messages and progress get through.
      await new Promise((r) => setTimeout(r, 0));
      lastYield = performance.now();
    }
  }
  opts.onProgress?.({
    stage: 'compute',
    done: budgetMs,
    total: budgetMs,
    message: `Measured ${repeats} runs`,
  });
  const elapsed = busy;
  const flops = 2 * n * n * n * repeats;
  return { gflops: flops / (elapsed / 1000) / 1e9, size: n, repeats, seconds: elapsed / 1000 };
}

/** i-k-j loop order: the inner loop streams rows, which is what lets the JIT vectorise it. */
function matmul(a: Float32Array, b: Float32Array, c: Float32Array, n: number) {
  c.fill(0);
  for (let i = 0; i < n; i++) {
    const ci = i * n;
    for (let k = 0; k < n; k++) {
      const aik = a[ci + k]!;
      const bk = k * n;
      for (let j = 0; j < n; j++) c[ci + j] = c[ci + j]! + aik * b[bk + j]!;
    }
  }
}
