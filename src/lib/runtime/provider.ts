// Which execution provider a model session uses: WebGPU when there is a (hardware) adapter and the model
// works there, else WASM, threaded when the page is cross-origin isolated.

export type ExecutionProvider = 'webgpu' | 'wasm';
/** What the user asked for: `auto` decides from the device; the other two force an EP. */
export type ProviderPreference = 'auto' | ExecutionProvider;

export interface ProviderFacts {
  preference: ProviderPreference;
  /** A WebGPU adapter exists. */
  hasAdapter: boolean;
  /** The page (or worker) is cross-origin isolated, so SharedArrayBuffer and WASM threads work. */
  isolated: boolean;
  /** navigator.hardwareConcurrency. */
  cores: number;
  /** The adapter is a software fallback (SwiftShader): correct but far slower than WASM. */
  fallbackAdapter?: boolean;
  /** Why WebGPU cannot be used for this model (it failed before, or the device was lost). */
  webgpuUnusable?: string;
}

export interface ProviderChoice {
  ep: ExecutionProvider;
  /** WASM threads (also used by the CPU kernels of a WebGPU session). */
  threads: number;
  reason: string;
}

/** Threads the WASM backend may use: all cores when isolated, else one (no SharedArrayBuffer). */
export function wasmThreads(isolated: boolean, cores: number): number {
  return isolated ? Math.max(1, Math.floor(cores) || 1) : 1;
}

export function chooseProvider(f: ProviderFacts): ProviderChoice {
  const threads = wasmThreads(f.isolated, f.cores);
  const wasm = (why: string): ProviderChoice => ({
    ep: 'wasm',
    threads,
    reason: `${why}; WASM ${
      threads > 1
        ? `with ${threads} threads (cross-origin isolated)`
        : f.isolated
          ? 'on 1 thread'
          : 'single-threaded (not cross-origin isolated)'
    }`,
  });
  switch (f.preference) {
    case 'wasm':
      return wasm('WASM chosen by the user');
    case 'webgpu':
      if (f.webgpuUnusable) return wasm(`WebGPU was chosen, but ${f.webgpuUnusable}`);
      if (!f.hasAdapter) return wasm('WebGPU was chosen, but no WebGPU adapter is available');
      return { ep: 'webgpu', threads, reason: 'WebGPU chosen by the user' };
    case 'auto':
      if (!f.hasAdapter) return wasm('no WebGPU adapter');
      if (f.webgpuUnusable) return wasm(f.webgpuUnusable);
      if (f.fallbackAdapter) return wasm('the only WebGPU adapter is a software fallback, slower than WASM');
      return { ep: 'webgpu', threads, reason: 'a WebGPU adapter is available' };
  }
}

export interface AdapterProbe {
  /** Software adapter (e.g. SwiftShader). */
  fallback: boolean;
  description: string;
}

interface GpuLike {
  requestAdapter?: () => Promise<{
    isFallbackAdapter?: boolean;
    info?: { vendor?: string; architecture?: string; description?: string; isFallbackAdapter?: boolean };
  } | null>;
}

/** Asks this global scope for a WebGPU adapter (page, worker; null in Node or without WebGPU). */
export async function probeWebGpu(g: object = globalThis): Promise<AdapterProbe | null> {
  const gpu = (g as { navigator?: { gpu?: GpuLike } }).navigator?.gpu;
  if (!gpu?.requestAdapter) return null;
  try {
    const a = await gpu.requestAdapter();
    if (!a) return null;
    const info = a.info;
    return {
      fallback: Boolean(info?.isFallbackAdapter ?? a.isFallbackAdapter),
      description:
        [info?.vendor, info?.architecture, info?.description].filter(Boolean).join(' ') || 'unknown',
    };
  } catch {
    return null;
  }
}
