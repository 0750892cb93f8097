// What the clone ops run on: the registry, the model store, the runtime, a transcoder, speech and the VAD.
// Tests pass their own; the engine's come from its context (src/lib/engine/context.ts).
import type { Transcoder } from '../codec/transcoder';
import type { ModelFileStore } from '../models/store';
import type { InstalledModel } from '../storage/records';
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
