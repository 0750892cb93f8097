// The clone ops' own errors (api/errors.ts maps them to 400 by name).
/** An ONNX pair whose inputs or outputs are not the converter's. */
export class ConverterGraphError extends Error {
  override name = 'ConverterGraphError';
}

/** A bad argument to a clone op (tau out of range, empty text, wrong embedding size). */
export class CloneParamError extends Error {
  override name = 'CloneParamError';
}
