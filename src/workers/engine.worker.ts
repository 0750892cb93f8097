/// <reference lib="webworker" />
// The engine worker: wires the operations in src/lib/engine/ops.ts to comlink. Nothing else lives here.
import { expose, proxy, releaseProxy, transfer, wrap } from 'comlink';
import { DecodeWorkerError, workerStreamDecoder } from '../lib/codec/stream';
import { createEngineContext } from '../lib/engine/context';
import { openModelFiles, type OpenedModelFiles } from '../lib/models/files';
import { modelFilesFrom, type ModelFilesSource } from '../lib/models/source';
import { installRuntime } from '../lib/runtime/host';
import type { DecodeWorkerApi } from './decode.worker';
import { opRunner } from './op-runner';

// onnxruntime-web, self-hosted under /ort/ (never a CDN), loaded when the first model runs; WASM threads on
// every core when the page is cross-origin isolated, else one.
installRuntime({
  loadOrt: () => import('onnxruntime-web'),
  wasmPaths: '/ort/',
  isolated: self.crossOriginIsolated,
  cores: navigator.hardwareConcurrency,
  threads: self.crossOriginIsolated ? navigator.hardwareConcurrency : 1,
});

// Installed models from the page instead of this worker's own storage (an embed on another site: only its
// page holds the Storage Access handle to the studio's storage).
let supplied: Promise<OpenedModelFiles> | null = null;

// What the operations share, built once: models, one ffmpeg core, and a worker of its own that decodes
// transcription uploads, so their first windows run while the rest decodes.
const context = createEngineContext({
  base: new URL('/', self.location.href).href,
  files: () => supplied ?? openModelFiles(),
  decodeWorker: workerStreamDecoder(() => {
    const worker = new Worker(new URL('./decode.worker.ts', import.meta.url), { type: 'module' });
    const remote = wrap<DecodeWorkerApi>(worker);
    // A worker that does not load (or crashes) says so with an error event, not through comlink.
    const failed = new Promise<never>((_, reject) =>
      worker.addEventListener(
        'error',
        (e) =>
          reject(new DecodeWorkerError(`The decode worker failed (${e.message || 'it did not start'}).`)),
        { once: true },
      ),
    );
    failed.catch(() => undefined);
    return {
      decode: (bytes, onStart, onBlock) =>
        Promise.race([remote.decode(bytes, proxy(onStart), proxy(onBlock)), failed]),
      terminate: () => {
        remote[releaseProxy]();
        worker.terminate();
      },
    };
  }),
});

// The page's heartbeat is answered by a nested worker (sentinel.worker.ts) on this port. A nested worker
// cannot start while its parent is in a synchronous step, so the first op waits for it (a moment, once).
const lifeline = new MessageChannel();
const sentinel = new Worker(new URL('./sentinel.worker.ts', import.meta.url), {
  type: 'module',
  name: 'timbre-engine-sentinel',
});
sentinel.postMessage(null, [lifeline.port2]);
const sentinelUp = new Promise<void>((resolve) => {
  sentinel.onmessage = () => resolve();
  // A sentinel that cannot start must not hold the engine up: the page then waits longer for an answer.
  setTimeout(resolve, 3000);
});

// The engine's operations (encodes run in the encoder worker instead), once the sentinel is up.
const ops = opRunner(context, { worker: 'engine', ready: sentinelUp });

const api = {
  run: ops.run,
  cancel: ops.cancel,
  /** Test hook: an uncaught error, as a real crash would raise. */
  crash(): void {
    setTimeout(() => {
      throw new Error('Simulated engine crash');
    }, 0);
  },
  /** The heartbeat's port (once per worker): the page pings the sentinel on it. */
  lifeline(): MessagePort {
    return transfer(lifeline.port1, [lifeline.port1]);
  },
  ping(): string {
    return 'pong';
  },
  /** Reads installed models through `source` (a comlink proxy from the page) from now on. */
  useFiles(source: ModelFilesSource): void {
    supplied = source.kind().then((kind) => modelFilesFrom(source, kind));
    supplied.catch(() => undefined);
  },
};

export type EngineWorkerApi = typeof api;

expose(api);
