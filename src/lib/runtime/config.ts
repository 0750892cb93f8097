// onnxruntime-web's global settings, applied once before the first session is created (the runtime reads
// them when it initialises and ignores later changes).

export interface OrtEnvLike {
  env: {
    wasm: {
      wasmPaths?: unknown;
      numThreads?: number;
      proxy?: boolean;
      simd?: boolean | 'fixed' | 'relaxed';
    };
  };
}

export interface OrtConfig {
  /** URL prefix of the self-hosted runtime files ('/ort/'); unset in Node, where they load from node_modules. */
  wasmPaths?: string;
  /** WASM threads: navigator.hardwareConcurrency when cross-origin isolated, else 1. */
  threads: number;
  /** Leave unset to let onnxruntime detect SIMD. */
  simd?: boolean;
}

const applied = new WeakMap<object, Readonly<OrtConfig>>();

/** Absolute form of a path prefix, where this scope has a location (ort resolves relative paths oddly). */
function absolute(prefix: string, g: object): string {
  const href = (g as { location?: { href?: string } }).location?.href;
  if (!href || /^[a-z][a-z0-9+.-]*:/i.test(prefix)) return prefix;
  try {
    return new URL(prefix, href).href;
  } catch {
    return prefix;
  }
}

/**
 * Sets `ort.env.wasm.{wasmPaths, numThreads, proxy = false, simd}` once per onnxruntime module; later calls
 * change nothing and return the settings that were applied first.
 */
export function configureOrt(ort: OrtEnvLike, cfg: OrtConfig, g: object = globalThis): Readonly<OrtConfig> {
  const prev = applied.get(ort);
  if (prev) return prev;
  const w = ort.env.wasm;
  const done: OrtConfig = { threads: Math.max(1, Math.floor(cfg.threads) || 1) };
  if (cfg.wasmPaths !== undefined) {
    w.wasmPaths = absolute(cfg.wasmPaths, g);
    done.wasmPaths = cfg.wasmPaths;
  }
  w.numThreads = done.threads;
  w.proxy = false;
  if (cfg.simd !== undefined) {
    w.simd = cfg.simd;
    done.simd = cfg.simd;
  }
  const frozen = Object.freeze(done);
  applied.set(ort, frozen);
  return frozen;
}

/** The settings `configureOrt` applied to this module, if any. */
export function ortConfig(ort: object): Readonly<OrtConfig> | undefined {
  return applied.get(ort);
}
