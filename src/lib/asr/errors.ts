// Named errors of transcription. Only name and message cross a worker boundary, so each message says on
// its own what went wrong and what to do.

/** Word timestamps were asked of a model that cannot give them. */
export class WordTimestampsUnavailableError extends Error {
  override name = 'WordTimestampsUnavailableError';
}

/** A transcription parameter out of range or of the wrong kind. */
export class AsrParamError extends Error {
  override name = 'AsrParamError';
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(message);
  }
}

/** A model name that names no Whisper model (installed or in the catalogue). */
export class UnknownAsrModelError extends Error {
  override name = 'UnknownAsrModelError';
}

/** The model files are not a Whisper export this engine can run. */
export class WhisperModelError extends Error {
  override name = 'WhisperModelError';
}
