// Named errors of voices: languages, voice files and mix formulas. Only name and message cross a worker
// boundary, so every message says on its own what went wrong and what to do.

/** A language the Kokoro voices do not cover (or a code that names none). */
export class UnsupportedLanguageError extends Error {
  override name = 'UnsupportedLanguageError';
}

/** A voice mix formula that cannot be read (`term` is the offending part, when there is one). */
export class MixFormulaError extends Error {
  override name = 'MixFormulaError';
  constructor(
    message: string,
    readonly term?: string,
  ) {
    super(message);
  }
}

/** A voice id that names no Kokoro voice. */
export class UnknownVoiceError extends Error {
  override name = 'UnknownVoiceError';
  constructor(
    readonly voice: string,
    message = `There is no Kokoro voice "${voice}".`,
  ) {
    super(message);
  }
}

/** A voice file that is not a Float32 [510, 256] style table. */
export class VoiceFileError extends Error {
  override name = 'VoiceFileError';
}
