// What the OpenVoice converter says to the rest of the studio: the released converters' audio rate and
// tone-embedding size, and the precisions a conversion runs at. No runtime code, so clone's contract (and
// through it the page and the Service Worker) reads these without bundling the converter.

/** The released converters' audio rate (config.json `sampling_rate`; a loaded model's config decides). */
export const OPENVOICE_SAMPLE_RATE = 22050;
/** Floats in a tone embedding (`gin_channels` of the released configs). */
export const TONE_DIMENSION = 256;

/** Which converter graph runs: float32 (built from the checkpoint) or its int8 variant (made on this device). */
export const CONVERTER_PRECISIONS = ['fp32', 'int8'] as const;
export type ConverterPrecision = (typeof CONVERTER_PRECISIONS)[number];

export const isConverterPrecision = (v: unknown): v is ConverterPrecision =>
  (CONVERTER_PRECISIONS as readonly unknown[]).includes(v);
