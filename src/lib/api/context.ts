import { VoiceStore as VS } from '../storage/voices';
import { KeyStore as KS } from '../storage/keys';
import { RateLimiter as RL } from './ratelimit';
import { JobManager as JM } from './jobs';
import { EventBus as EB } from './events';
import type { TimbreDB } from '../storage/db';
import type { VoiceStore } from '../storage/voices';
import type { KeyStore } from '../storage/keys';
import type { RateLimiter } from './ratelimit';
import type { JobManager } from './jobs';
import type { EventBus } from './events';
import type { EngineGateway } from '../engine/remote';
import type { SystemFacts } from '../system/info';
import type { CatalogEntry } from '../models/types';
import type { InstallStatus } from '../models/installing';
import { fullCatalog } from '../models/catalog';

/** Everything a handler may use. The Service Worker, the embed page and unit tests each build one. */
export interface ApiContext {
  db: TimbreDB;
  voices: VoiceStore;
  keys: KeyStore;
  limiter: RateLimiter;
  jobs: JobManager;
  bus: EventBus;
  engine: EngineGateway & { hostCount(): Promise<number> };
  /** Facts only the environment knows (cores, memory, storage, WebGPU). */
  system(): Promise<SystemFacts>;
  now(): number;
  version: string;
  /** The model catalogue (built-in and user-added), for /v1/models. */
  catalog(): Promise<CatalogEntry[]>;
  /** Where the call came from when it did not come through fetch (the embed iframe's parent). */
  callerOrigin?: string;
  /** The install under way, as last announced (models/installing.ts), for `model_loading` answers. */
  installs?: () => InstallStatus | null;
}

/** Builds a context over one database; the environment supplies the engine and the system facts. */
export function createApiContext(opts: {
  db: TimbreDB;
  engine: ApiContext['engine'];
  system: ApiContext['system'];
  version: string;
  now?: () => number;
  callerOrigin?: string;
  bus?: EventBus;
  /** Where /models/… is served from; defaults to the built-in catalogue of this origin. */
  catalog?: ApiContext['catalog'];
  origin?: string;
  installs?: ApiContext['installs'];
}): ApiContext {
  const now = opts.now ?? Date.now;
  const bus = opts.bus ?? new EB();
  return {
    db: opts.db,
    voices: new VS(opts.db),
    keys: new KS(opts.db),
    limiter: new RL(opts.db),
    jobs: new JM(opts.db, opts.engine, bus, now),
    bus,
    engine: opts.engine,
    system: opts.system,
    now,
    version: opts.version,
    callerOrigin: opts.callerOrigin,
    installs: opts.installs,
    catalog:
      opts.catalog ??
      (() => {
        // The catalogue lives on the app's origin; where there is none (Node), there is nothing to fetch.
        const origin = opts.origin ?? globalThis.location?.origin;
        return origin
          ? fullCatalog(opts.db, origin)
          : Promise.reject(new Error('no app origin to load the catalogue from'));
      }),
  };
}
