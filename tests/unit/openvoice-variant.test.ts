// The int8-decoder variant of the converter (src/lib/runtime/quantize.ts) on the v2 parity fixture:
// calibrated on the fixture's reference voice, it converts the fixture's source and stays within a stated
// bound of the upstream reference output — and a broken quantization (uncalibrated ranges) does not.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import * as ort from 'onnxruntime-web';
import onnxProto from 'onnx-proto';
import {
  OpenVoiceConverter,
  graphsFromCheckpoint,
  type ConverterGraphs,
} from '../../src/lib/openvoice/converter';
import {
  DECODER_RESBLOCKS,
  RESBLOCKS_AND_FLOWS,
  calibrationTensors,
  converterFeeds,
  deviation,
  quantizeConverter,
  quantizeGraph,
  type Range,
} from '../../src/lib/runtime/quantize';
import { decodeWav } from '../../src/lib/dsp/wav';
import { seededFloats } from '../../src/lib/core/random';

const dir = join(import.meta.dirname, '..', 'fixtures', 'openvoice-v2-tiny');
const read = async (name: string) => new Uint8Array(await readFile(join(dir, name)));
const floats = async (name: string) => {
  const b = (await read(name)).slice();
  return new Float32Array(b.buffer, 0, b.byteLength / 4);
};

/** Stated bound on the fixture: int8 decoder vs the upstream float reference (converted.f32). */
export const VARIANT_BOUND = { snr_db: 20, max_abs: 0.05 };

let graphs: ConverterGraphs;
let fp32: OpenVoiceConverter;
let srcFeeds: Record<string, ort.Tensor>;
let calFeeds: Record<string, ort.Tensor>;
let reference: Float32Array;

async function convertWith(model: Uint8Array): Promise<Float32Array> {
  const s = await ort.InferenceSession.create(model, { graphOptimizationLevel: 'all' });
  try {
    const out = await s.run(srcFeeds);
    return Float32Array.from(out.audio!.data as Float32Array);
  } finally {
    await s.release();
  }
}

beforeAll(async () => {
  const text = new TextDecoder();
  graphs = await graphsFromCheckpoint(text.decode(await read('config.json')), await read('checkpoint.pth'));
  fp32 = await OpenVoiceConverter.create(ort, graphs);
  const refSpec = fp32.spectrogram(decodeWav(await read('reference.wav')).samples);
  const srcSpec = fp32.spectrogram(decodeWav(await read('source.wav')).samples);
  const tgtSe = await fp32.embed(refSpec);
  const srcSe = await fp32.embed(srcSpec);
  const expected = JSON.parse(text.decode(await read('expected.json'))) as { tau: number };
  srcFeeds = converterFeeds(ort, srcSpec, await floats('noise.f32'), srcSe, tgtSe, expected.tau);
  // Calibration never sees the source: the reference voice converted towards the source's tone.
  const inter = graphs.config.interChannels;
  calFeeds = converterFeeds(
    ort,
    refSpec,
    seededFloats(inter * refSpec.frames, 7, Math.sqrt(3)),
    tgtSe,
    srcSe,
    expected.tau,
  );
  reference = await floats('converted.f32');
}, 120_000);

describe('int8-decoder converter variant', () => {
  it('quantizes every residual-block conv of the decoder and nothing else', async () => {
    const names = calibrationTensors(graphs.converter);
    const q = await quantizeConverter(ort, graphs.converter, [calFeeds]);
    const blocks = graphs.config.upsampleRates.length * graphs.config.resblockKernelSizes.length;
    const perBlock = graphs.config.resblockDilationSizes[0]!.length * 2;
    expect(q.convs).toBe(blocks * perBlock);
    const after = onnxProto.onnx.ModelProto.decode(q.model).graph!.node!;
    expect(after.filter((n) => n.opType === 'QLinearConv')).toHaveLength(q.convs);
    // No residual-block conv is left float; the upsamplers, enc_q and the flows are.
    const floatLeft = after.filter((n) => n.opType === 'Conv').map((n) => n.input![1]!);
    expect(floatLeft.some((w) => w.startsWith('dec.resblocks.'))).toBe(false);
    for (const part of ['dec.ups.', 'enc_q.', 'flow.', 'dec.conv_post'])
      expect(floatLeft.some((w) => w.startsWith(part))).toBe(true);
    expect(names.length).toBeGreaterThan(q.convs);
    // The decoder's blocks hold few of the weights (most FLOPs, as they run at the upsampled rates).
    expect(q.weightShare).toBeGreaterThan(0);
    expect(q.weightShare).toBeLessThan(1);
    // The float weights of those convs are gone: the variant is smaller.
    expect(q.model.byteLength).toBeLessThan(graphs.converter.byteLength);
  }, 120_000);

  it(`stays within ${VARIANT_BOUND.snr_db} dB SNR and ${VARIANT_BOUND.max_abs} max abs of the reference output`, async () => {
    const ours = await convertWith(graphs.converter);
    const float = deviation(reference, ours);
    expect(float.max_abs).toBeLessThan(1e-3); // the float graph is the parity one
    const q = await quantizeConverter(ort, graphs.converter, [calFeeds]);
    const audio = await convertWith(q.model);
    const d = deviation(reference, audio);
    console.log('int8 variant vs converted.f32:', d);
    expect(d.snr_db).toBeGreaterThan(VARIANT_BOUND.snr_db);
    expect(d.max_abs).toBeLessThan(VARIANT_BOUND.max_abs);
    // …and it is really quantized: not bit-identical to the float output.
    expect(d.max_abs).toBeGreaterThan(float.max_abs);
  }, 120_000);

  it('the wider variant (also the flows’ WaveNet convs) stays as close to the reference', async () => {
    const q = await quantizeConverter(ort, graphs.converter, [calFeeds], { filter: RESBLOCKS_AND_FLOWS });
    const m = onnxProto.onnx.ModelProto.decode(q.model).graph!;
    const floatLeft = m.node!.filter((n) => n.opType === 'Conv').map((n) => n.input![1]!);
    const flowWaveNet = (w: string) => /^flow\..*\.(in_layers|res_skip_layers)\./.test(w);
    expect(floatLeft.some(flowWaveNet)).toBe(false);
    // enc_q's WaveNet (8 dB worse when int8), the upsamplers and the flows' pre/post stay float.
    for (const part of ['enc_q.enc.in_layers.', 'dec.ups.', 'flow.flows.0.pre', 'dec.conv_post'])
      expect(floatLeft.some((w) => w.startsWith(part))).toBe(true);
    // The flows run forward and in reverse on the same weights: each int8 weight is stored once.
    const inits = m.initializer!.map((t) => t.name!);
    expect(new Set(inits).size).toBe(inits.length);
    const narrow = await quantizeConverter(ort, graphs.converter, [calFeeds]);
    expect(q.convs).toBeGreaterThan(narrow.convs);
    const d = deviation(reference, await convertWith(q.model));
    const dn = deviation(reference, await convertWith(narrow.model));
    console.log('int8 variant (resblocks + flows’ WaveNet) vs converted.f32:', d, '· resblocks only:', dn);
    expect(d.snr_db).toBeGreaterThan(VARIANT_BOUND.snr_db);
    expect(d.max_abs).toBeLessThan(VARIANT_BOUND.max_abs);
    // Within half a dB of the resblocks-only variant (measured 32.19 against 32.22 dB).
    expect(d.snr_db).toBeGreaterThan(dn.snr_db - 0.5);
  }, 120_000);

  it('ranges that do not cover the activations break the bound (the check can fail)', async () => {
    const names = calibrationTensors(graphs.converter, DECODER_RESBLOCKS);
    const tiny = new Map<string, Range>(names.map((n) => [n, { min: -1e-3, max: 1e-3 }]));
    const audio = await convertWith(quantizeGraph(graphs.converter, tiny, DECODER_RESBLOCKS).model);
    const d = deviation(reference, audio);
    expect(d.snr_db < VARIANT_BOUND.snr_db || d.max_abs > VARIANT_BOUND.max_abs).toBe(true);
  }, 120_000);
});
