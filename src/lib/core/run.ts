import { errorKind } from './errors';

/** Typed progress of any long operation. `total` 0 means "unknown". */
export interface Progress {
  stage: string;
  done: number;
  total: number;
  message?: string;
  /**
   * What an operation streams along with its progress (tts.generate: each run's audio in 'chunk' events).
   * Typed arrays in it are transferred, not copied, across the engine worker's boundary.
   */
  data?: unknown;
}

export type ProgressFn = (p: Progress) => void;

export interface RunOptions {
  signal?: AbortSignal;
  onProgress?: ProgressFn;
}

/** No engine host is open (no studio tab, no embed iframe). */
export class EngineUnavailableError extends Error {
  override name = 'EngineUnavailableError';
}

/** The engine worker died during a job (crash, out of memory); it restarts for the next job. */
export class EngineCrashedError extends Error {
  override name = 'EngineCrashedError';
}

export class CancelledError extends Error {
  override name = 'CancelledError';
  constructor(message = 'The job was cancelled.') {
    super(message);
  }
}

export class UnknownOperationError extends Error {
  override name = 'UnknownOperationError';
}

/** The buffers of the typed arrays in `value` and its own fields (one level deep), to transfer them. */
export function transferables(value: unknown, depth = 2): ArrayBuffer[] {
  const out = new Set<ArrayBuffer>();
  const walk = (v: unknown, d: number) => {
    if (ArrayBuffer.isView(v)) {
      if (v.buffer instanceof ArrayBuffer) out.add(v.buffer);
    } else if (v instanceof ArrayBuffer) out.add(v);
    else if (d > 0 && v && typeof v === 'object' && !Array.isArray(v))
      for (const x of Object.values(v as Record<string, unknown>)) walk(x, d - 1);
  };
  walk(value, depth);
  return [...out];
}

export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new CancelledError();
}

/** Rebuilds a named error that crossed a worker or port boundary (only name and message survive). */
export function reviveError(e: { name?: string; message?: string }): Error {
  const message = e.message ?? 'Unknown engine error';
  // Every cancel-kind name (a DOM AbortError too) comes back as our CancelledError, for `instanceof`.
  if (errorKind(e) === 'cancelled') return new CancelledError(message);
  switch (e.name) {
    case 'EngineUnavailableError':
      return new EngineUnavailableError(message);
    case 'EngineCrashedError':
      return new EngineCrashedError(message);
    case 'UnknownOperationError':
      return new UnknownOperationError(message);
    default: {
      const err = new Error(message);
      err.name = e.name ?? 'Error';
      return err;
    }
  }
}

/**
 * Lets queued events run (a cancel message, an abort timer): onnxruntime's WASM runs can finish without ever
 * returning to the event loop, so a long decode would otherwise never see its abort. A MessageChannel turn
 * is not clamped like setTimeout.
 */
export function yieldToEvents(): Promise<void> {
  const MC = (globalThis as { MessageChannel?: typeof MessageChannel }).MessageChannel;
  if (!MC) return new Promise((r) => setTimeout(r, 0));
  return new Promise((resolve) => {
    const ch = new MC();
    ch.port1.onmessage = () => {
      ch.port1.close();
      resolve();
    };
    ch.port2.postMessage(null);
  });
}
