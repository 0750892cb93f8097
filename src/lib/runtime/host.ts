// The runtime of one engine: onnxruntime configured once, and the session pool. The engine worker installs
// it (with the onnxruntime-web module loaded lazily); Node tests install it with the same module.
import { configureOrt, type OrtConfig } from './config';
import { RuntimeUnavailableError } from './errors';
import { ortSessionFactory, type OrtModule, type OrtSession } from './ort-session';
import { SessionPool, type RuntimeNotice } from './pool';
import { probeWebGpu, wasmThreads, type AdapterProbe, type ProviderPreference } from './provider';
import { Emitter } from '../core/emitter';

export type { ProviderPreference };

export interface RuntimeSetup {
  /** Loads onnxruntime-web (a dynamic import, so it is fetched only when a model runs). */
  loadOrt: () => Promise<OrtModule>;
  /** '/ort/' in the app; unset in Node. */
  wasmPaths?: string;
  isolated: boolean;
  cores: number;
  /** WASM threads; default: `cores` when isolated, else 1. */
  threads?: number;
  budgetBytes?: number;
  probeAdapter?: () => Promise<AdapterProbe | null>;
}

export interface RuntimeHost {
  ort: OrtModule;
  pool: SessionPool<OrtSession>;
  config: Readonly<OrtConfig>;
  isolated: boolean;
  cores: number;
  /** The latest notices (WebGPU → WASM fallbacks), newest last. */
  notices: RuntimeNotice[];
}

let preference: ProviderPreference = 'auto';

/** The user's choice of execution provider for model sessions created from now on ("force either"). */
export function setProviderPreference(p: ProviderPreference): void {
  preference = p;
}

export function providerPreference(): ProviderPreference {
  return preference;
}

const MAX_NOTICES = 50;

let setup: RuntimeSetup | null = null;
let host: Promise<RuntimeHost> | null = null;
const heard = new Emitter<RuntimeNotice>();

/** Installs the runtime; called once by the engine worker (and by tests). */
export function installRuntime(s: RuntimeSetup): void {
  setup = s;
  host = null;
}

/** Hears every fallback notice of the installed runtime; returns its unsubscribe. */
export function onRuntimeNotice(fn: (n: RuntimeNotice) => void): () => void {
  return heard.subscribe(fn);
}

export function runtimeHost(): Promise<RuntimeHost> {
  if (!setup)
    return Promise.reject(new RuntimeUnavailableError('This engine has no model runtime installed.'));
  host ??= start(setup).catch((e: unknown) => {
    host = null;
    throw e;
  });
  return host;
}

async function start(s: RuntimeSetup): Promise<RuntimeHost> {
  const ort = await s.loadOrt();
  const config = configureOrt(ort, {
    wasmPaths: s.wasmPaths,
    threads: s.threads ?? wasmThreads(s.isolated, s.cores),
  });
  const notices: RuntimeNotice[] = [];
  const pool = new SessionPool<OrtSession>({
    factory: ortSessionFactory(ort),
    platform: { isolated: s.isolated, cores: s.cores, probeAdapter: s.probeAdapter ?? (() => probeWebGpu()) },
    budgetBytes: s.budgetBytes,
    defaultPreference: providerPreference,
    onNotice: (n) => {
      notices.push(n);
      if (notices.length > MAX_NOTICES) notices.shift();
      heard.emit(n);
    },
  });
  return { ort, pool, config, isolated: s.isolated, cores: s.cores, notices };
}
