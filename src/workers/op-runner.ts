// Runs the engine's operations (src/lib/engine/ops.ts) behind a worker's comlink API: one abort controller
// per job id, and the audio of progress events and results transferred to the page, not copied. The engine
// worker and the encoder worker both serve their operations through it.
import { transfer } from 'comlink';
import type { EngineContext } from '../lib/engine/context';
import { ENGINE_OPS, isEngineOp, workerOf, type EngineWorkerKind } from '../lib/engine/ops';
import { UnknownOperationError, transferables, type Progress, type RunOptions } from '../lib/core/run';

export function opRunner(context: EngineContext, o: { worker: EngineWorkerKind; ready?: Promise<void> }) {
  const running = new Map<string, AbortController>();
  return {
    async run(
      jobId: string,
      op: string,
      args: unknown,
      onProgress?: (p: Progress) => void,
    ): Promise<unknown> {
      if (!isEngineOp(op)) throw new UnknownOperationError(`The engine has no operation "${op}".`);
      if (workerOf(op) !== o.worker)
        throw new UnknownOperationError(
          `"${op}" runs in the ${workerOf(op)} worker, not the ${o.worker} worker.`,
        );
      const ac = new AbortController();
      running.set(jobId, ac);
      try {
        await o.ready;
        const impl = ENGINE_OPS[op].run as (a: unknown, o: RunOptions, c: EngineContext) => Promise<unknown>;
        const result = await impl(
          args,
          {
            signal: ac.signal,
            onProgress: onProgress ? (p) => void onProgress(transfer(p, transferables(p.data))) : undefined,
          },
          context,
        );
        return transfer(result, transferables(result));
      } finally {
        running.delete(jobId);
      }
    },
    cancel(jobId: string): void {
      running.get(jobId)?.abort();
    },
  };
}
