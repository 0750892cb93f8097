// Named errors of the speech pipeline. Only name and message cross a worker boundary, so every message
// says on its own what went wrong and what to do.

/** espeak-ng failed to start or to phonemise. */
export class PhonemizerError extends Error {
  override name = 'PhonemizerError';
}

/** The model's tokenizer.json has no usable vocabulary. */
export class VocabularyError extends Error {
  override name = 'VocabularyError';
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
