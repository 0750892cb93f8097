/** Facts about the device, gathered where the APIs exist (page, worker or Service Worker). */
export interface SystemFacts {
  cores: number | null;
  device_memory_gb: number | null;
  storage: { usage: number | null; quota: number | null };
  webgpu: { available: boolean; adapter: string | null };
  cross_origin_isolated: boolean;
  threads_available: boolean;
  user_agent: string | null;
  /** Bytes of the JS heap, where the browser tells (Chromium's performance.memory). */
  js_heap_bytes: number | null;
  model_cache_bytes: number | null;
}

interface NavigatorLike {
  hardwareConcurrency?: number;
  deviceMemory?: number;
  userAgent?: string;
  storage?: {
    estimate?: () => Promise<{ usage?: number; quota?: number }>;
    getDirectory?: () => Promise<DirLike>;
  };
  gpu?: {
    requestAdapter?: () => Promise<{
      info?: { vendor?: string; architecture?: string; description?: string };
    } | null>;
  };
}

interface DirLike {
  kind: 'directory';
  getDirectoryHandle(name: string): Promise<DirLike>;
  values(): AsyncIterable<DirLike | { kind: 'file'; getFile(): Promise<{ size: number }> }>;
}

/** Bytes of files below `dir` (the model cache lives in OPFS under `models/`). */
async function dirBytes(dir: DirLike): Promise<number> {
  let total = 0;
  for await (const entry of dir.values())
    total += entry.kind === 'file' ? (await entry.getFile()).size : await dirBytes(entry);
  return total;
}

/** Reads what this global scope can tell. Works in window, worker and Service Worker scopes and in Node. */
export async function gatherSystemFacts(g: object = globalThis): Promise<SystemFacts> {
  const nav = (g as { navigator?: NavigatorLike }).navigator;
  let usage: number | null = null;
  let quota: number | null = null;
  try {
    const est = await nav?.storage?.estimate?.();
    usage = est?.usage ?? null;
    quota = est?.quota ?? null;
  } catch {
    // Storage estimate can be refused (e.g. opaque origins); report unknown.
  }
  let adapter: string | null = null;
  let gpu = false;
  try {
    const a = await nav?.gpu?.requestAdapter?.();
    if (a) {
      gpu = true;
      const info = a.info;
      adapter = [info?.vendor, info?.architecture, info?.description].filter(Boolean).join(' ') || 'unknown';
    }
  } catch {
    gpu = false;
  }
  let modelBytes: number | null = null;
  try {
    const root = await nav?.storage?.getDirectory?.();
    if (root) modelBytes = await root.getDirectoryHandle('models').then(dirBytes, () => 0);
  } catch {
    // OPFS is missing or refused here.
  }
  const isolated = Boolean((g as { crossOriginIsolated?: boolean }).crossOriginIsolated);
  const mem = (g as { performance?: { memory?: { usedJSHeapSize?: number } } }).performance?.memory;
  return {
    cores: nav?.hardwareConcurrency ?? null,
    device_memory_gb: nav?.deviceMemory ?? null,
    storage: { usage, quota },
    webgpu: { available: gpu, adapter },
    cross_origin_isolated: isolated,
    threads_available: isolated && typeof SharedArrayBuffer !== 'undefined',
    user_agent: nav?.userAgent ?? null,
    js_heap_bytes: mem?.usedJSHeapSize ?? null,
    model_cache_bytes: modelBytes,
  };
}
