import 'fake-indexeddb/auto';
import { openTimbreDB } from '../../src/lib/storage/db';
import { createApiContext, type ApiContext } from '../../src/lib/api/context';
import { createRouter } from '../../src/lib/api/routes';
import { ENGINE_OPS, isEngineOp } from '../../src/lib/engine/ops';
import { createEngineContext, type EngineContext } from '../../src/lib/engine/context';
import { EngineUnavailableError, UnknownOperationError, type RunOptions } from '../../src/lib/core/run';
import type { Scope } from '../../src/lib/auth/scopes';
import type { SystemFacts } from '../../src/lib/system/info';
import { caller } from './test-utils';

let n = 0;

export const FACTS: SystemFacts = {
  cores: 2,
  device_memory_gb: 8,
  storage: { usage: 1000, quota: 10_000_000 },
  webgpu: { available: false, adapter: null },
  cross_origin_isolated: true,
  threads_available: true,
  user_agent: 'vitest',
  js_heap_bytes: null,
  model_cache_bytes: 0,
};

/** The engine context the in-process engine runs with: this process's (fake) IndexedDB and model store. */
export const engineContext: EngineContext = createEngineContext({ base: 'http://localhost/' });

/** A real engine that runs operations in-process (what the engine worker does), or none at all. */
export function localEngine(available = true): ApiContext['engine'] {
  return {
    hostCount: async () => (available ? 1 : 0),
    run: async (op: string, args: unknown, opts?: RunOptions) => {
      if (!available) throw new EngineUnavailableError('No studio tab is open: open the studio to run this.');
      if (!isEngineOp(op)) throw new UnknownOperationError(op);
      const run = ENGINE_OPS[op].run as (a: unknown, o: RunOptions, c: EngineContext) => Promise<unknown>;
      return run(args, opts ?? {}, engineContext);
    },
  } as ApiContext['engine'];
}

/** A fresh database, context and router; `clock` lets tests move time. */
export async function setup(opts: { engine?: boolean; callerOrigin?: string } = {}) {
  const db = await openTimbreDB(`test-${process.pid}-${++n}`);
  const clock = { t: 1_700_000_000_000 };
  const ctx = createApiContext({
    db,
    engine: localEngine(opts.engine ?? true),
    system: async () => FACTS,
    version: 'test',
    now: () => clock.t,
    callerOrigin: opts.callerOrigin,
  });
  const router = createRouter();
  const call = caller(router, ctx);
  const makeKey = async (
    o: { scopes?: Scope[]; limits?: Partial<Record<Scope, number>>; allowed_origins?: string[] } = {},
  ) => (await ctx.keys.create({ name: 'test', now: clock.t, ...o })).secret;
  return { db, ctx, router, call, clock, makeKey };
}
