import { measureCompute, type ComputeResult } from './compute';
import type { RunOptions } from './types';
import { gatherSystemFacts, type SystemFacts } from '../system/info';

/**
 * Every operation the engine worker can run, with its argument and result types. Each engine issue adds
 * its operations here; `model` names the session that serialises it (one job at a time per model).
 */
export interface EngineOps {
  'system.compute': { args: { seconds: number; size: number }; result: ComputeResult };
  'system.facts': { args: Record<string, never>; result: SystemFacts };
}

export type EngineOpName = keyof EngineOps;
export type OpArgs<K extends EngineOpName> = EngineOps[K]['args'];
export type OpResult<K extends EngineOpName> = EngineOps[K]['result'];

type Impl = {
  [K in EngineOpName]: { model: string; run: (args: OpArgs<K>, opts: RunOptions) => Promise<OpResult<K>> };
};

export const ENGINE_OPS: Impl = {
  'system.compute': { model: 'cpu', run: measureCompute },
  // Read in the engine worker, which shares the page's isolation and sees WebGPU.
  'system.facts': { model: 'facts', run: async () => gatherSystemFacts() },
};

export function isEngineOp(op: string): op is EngineOpName {
  return Object.prototype.hasOwnProperty.call(ENGINE_OPS, op);
}
