/** A model session could not be created (or warmed up) on any execution provider. */
export class SessionCreateError extends Error {
  override name = 'SessionCreateError';
  constructor(
    readonly model: string,
    readonly ep: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** An engine operation needs onnxruntime, but this engine was started without it. */
export class RuntimeUnavailableError extends Error {
  override name = 'RuntimeUnavailableError';
}

/** Short text of any thrown value, for notices and messages. */
export function describeError(e: unknown): string {
  if (e instanceof Error) return e.message || e.name;
  if (typeof e === 'string') return e;
  try {
    return JSON.stringify(e);
  } catch {
    return String(e);
  }
}
