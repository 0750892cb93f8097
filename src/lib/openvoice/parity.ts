// Parity against the upstream reference: from a fixture folder's config.json + checkpoint.pth + wavs
// (+ noise.f32), our own pipeline must reproduce the reference spectrograms and embeddings within 1e-4
// and the converted audio within 1e-3 (layout: ../shared/fixtures/README.md). File access is handed in,
// so the same check runs in tests, in `npm run parity` and in a browser.
import { decodeWav } from '../dsp/wav';
import { OpenVoiceConverter, graphsFromCheckpoint } from './converter';
import { type OrtLike } from '../runtime/ort-session';
import type { GraphOptions } from './graphs';

export const PARITY_TOLERANCE = { spec: 1e-4, se: 1e-4, audio: 1e-3 } as const;

export interface ParityResult {
  spec_max_abs: number;
  se_max_abs: number;
  audio_max_abs: number;
  pass: boolean;
}

export interface ParityOptions {
  /** Deliberate faults, to show the check can fail. */
  graph?: GraphOptions;
  swapEmbeddings?: boolean;
  tau?: number;
}

export class ParityFixtureError extends Error {
  override name = 'ParityFixtureError';
}

function floats(bytes: Uint8Array, name: string): Float32Array {
  if (bytes.byteLength % 4)
    throw new ParityFixtureError(`${name} is not a float32 file (${bytes.byteLength} bytes).`);
  const copy = bytes.slice();
  return new Float32Array(copy.buffer, 0, copy.byteLength / 4);
}

function maxAbs(a: Float32Array, b: Float32Array, what: string): number {
  if (a.length !== b.length)
    throw new ParityFixtureError(`${what}: ours has ${a.length} values, the reference ${b.length}.`);
  let m = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i]! - b[i]!);
    if (!(d <= m)) m = Number.isNaN(d) ? Infinity : d;
  }
  return m;
}

/** Runs the whole pipeline on one fixture and measures the largest deviations from the reference. */
export async function runParity(
  read: (name: string) => Promise<Uint8Array>,
  ort: OrtLike,
  opts: ParityOptions = {},
): Promise<ParityResult> {
  const text = (b: Uint8Array) => new TextDecoder().decode(b);
  const expected = JSON.parse(text(await read('expected.json'))) as { tau?: number };
  const graphs = await graphsFromCheckpoint(
    text(await read('config.json')),
    await read('checkpoint.pth'),
    opts.graph,
  );
  const model = await OpenVoiceConverter.create(ort, graphs);
  try {
    const audioOf = async (name: string) => {
      const wav = decodeWav(await read(name));
      if (wav.sampleRate !== graphs.config.samplingRate)
        throw new ParityFixtureError(
          `${name} is ${wav.sampleRate} Hz; the converter runs at ${graphs.config.samplingRate} Hz.`,
        );
      return wav.samples;
    };
    const refSpec = model.spectrogram(await audioOf('reference.wav'));
    const srcSpec = model.spectrogram(await audioOf('source.wav'));
    const specMax = Math.max(
      maxAbs(refSpec.data, floats(await read('ref_spec.f32'), 'ref_spec.f32'), 'ref_spec'),
      maxAbs(srcSpec.data, floats(await read('src_spec.f32'), 'src_spec.f32'), 'src_spec'),
    );
    const tgtSe = await model.embed(refSpec);
    const srcSe = await model.embed(srcSpec);
    const seMax = Math.max(
      maxAbs(tgtSe, floats(await read('tgt_se.f32'), 'tgt_se.f32'), 'tgt_se'),
      maxAbs(srcSe, floats(await read('src_se.f32'), 'src_se.f32'), 'src_se'),
    );
    const noise = floats(await read('noise.f32'), 'noise.f32');
    const tau = opts.tau ?? expected.tau ?? 0.3;
    const audio = opts.swapEmbeddings
      ? await model.convert(srcSpec, noise, tgtSe, srcSe, tau)
      : await model.convert(srcSpec, noise, srcSe, tgtSe, tau);
    const audioMax = maxAbs(audio, floats(await read('converted.f32'), 'converted.f32'), 'converted');
    return {
      spec_max_abs: specMax,
      se_max_abs: seMax,
      audio_max_abs: audioMax,
      pass:
        specMax <= PARITY_TOLERANCE.spec &&
        seMax <= PARITY_TOLERANCE.se &&
        audioMax <= PARITY_TOLERANCE.audio,
    };
  } finally {
    await model.release();
  }
}
