// Named errors of the speech pipeline. Only name and message cross a worker boundary, so every message
// says on its own what went wrong and what to do.

/** A language the Kokoro voices do not cover (or a code that names none). */
export class UnsupportedLanguageError extends Error {
  override name = 'UnsupportedLanguageError';
}

/** espeak-ng failed to start or to phonemise. */
export class PhonemizerError extends Error {
  override name = 'PhonemizerError';
}

/** A pronunciation lexicon entry that cannot be used. */
export class LexiconError extends Error {
  override name = 'LexiconError';
}

/** The model's tokenizer.json has no usable vocabulary. */
export class VocabularyError extends Error {
  override name = 'VocabularyError';
}

/** A voice file that is not a Float32 [510, 256] style table. */
export class VoiceFileError extends Error {
  override name = 'VoiceFileError';
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

/** A synthesis parameter out of range (`field` names it). */
export class TtsParamError extends Error {
  override name = 'TtsParamError';
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(message);
  }
}

/** The model ran but gave no usable audio. */
export class SynthesisError extends Error {
  override name = 'SynthesisError';
}

/** The model (or one of its files) is not installed on this device. */
export class ModelNotInstalledError extends Error {
  override name = 'ModelNotInstalledError';
}
