// What the clone ops run on: the registry, the model store, the runtime, a transcoder, speech and the VAD.
// Tests pass their own; the engine worker's are made once here (the one cached set) on first use.
import type { Transcoder } from '../codec/transcoder';
import type { ModelFileStore } from '../models/store';
import type { InstalledModel } from '../storage/records';
import { sileroModel } from '../vad/vad';
import type { OrtLike } from '../openvoice';

export interface CloneDeps {
  registry: {
    get(id: string): Promise<InstalledModel | undefined>;
    put(r: InstalledModel): Promise<void>;
  };
  store: ModelFileStore;
  ort: OrtLike;
  fetch?: typeof fetch;
  transcoder?: () => Promise<Transcoder>;
  /**
   * Speech for clone.speak (Kokoro in the app): mono samples at `sampleRate`. With `onChunk`, each piece
   * (a sentence or part of one) is handed over as it is made, in order; together they are the samples.
   */
  speak?: (
    a: { text: string; voice: string; speed?: number },
    onChunk?: (samples: Float32Array, sampleRate: number) => void,
    signal?: AbortSignal,
  ) => Promise<{
    samples: Float32Array;
    sampleRate: number;
    /** Each sentence's span, in seconds. */
    chunks?: { text: string; start: number; end: number }[];
  }>;
  /** Silero VAD model bytes, or null when it is not installed (the energy detector stands in). */
  vadModel?: () => Promise<(() => Promise<Uint8Array>) | null>;
}

let depsPromise: Promise<CloneDeps> | null = null;
let ownTranscoder: Transcoder | null = null;

/** The engine worker's registry, store and runtime. */
export async function defaultDeps(): Promise<CloneDeps> {
  depsPromise ??= (async (): Promise<CloneDeps> => {
    const [{ openTimbreDB }, { ModelRegistry }, { pickModelStore }, { runtimeHost }] = await Promise.all([
      import('../storage/db'),
      import('../storage/models'),
      import('../models/store'),
      import('../runtime/host'),
    ]);
    const db = await openTimbreDB();
    const registry = new ModelRegistry(db);
    const rt = await runtimeHost();
    const store = await pickModelStore();
    return {
      registry,
      store,
      ort: rt.ort as unknown as OrtLike,
      transcoder: async () => {
        const { createTranscoder } = await import('../codec/core-loader');
        ownTranscoder ??= createTranscoder(
          new URL('/', globalThis.location.href).href,
          'st',
          false,
        ).transcoder;
        return ownTranscoder;
      },
      speak: async (a, onChunk, signal) => {
        const { runTtsGenerate, isTtsChunk } = await import('../tts/operation');
        const r = await runTtsGenerate(
          { text: a.text, voice: a.voice, speed: a.speed ?? 1 },
          {
            signal,
            onProgress: onChunk
              ? (p) => void (isTtsChunk(p) && onChunk(p.data.samples, p.data.sampleRate))
              : undefined,
          },
        );
        return { samples: r.samples, sampleRate: r.sampleRate, chunks: r.chunks };
      },
      vadModel: async () => sileroModel({ registry, store }),
    };
  })().catch((e: unknown) => {
    depsPromise = null;
    throw e;
  });
  return depsPromise;
}

/** What the status needs: the registry and the store, not the runtime (a host without one still answers). */
export async function statusDeps(): Promise<Pick<CloneDeps, 'registry' | 'store'>> {
  if (depsPromise) return depsPromise;
  const [{ openTimbreDB }, { ModelRegistry }, { pickModelStore }] = await Promise.all([
    import('../storage/db'),
    import('../storage/models'),
    import('../models/store'),
  ]);
  return { registry: new ModelRegistry(await openTimbreDB()), store: await pickModelStore() };
}
