// The converter's cheaper variant: int8 convolutions in the HiFi-GAN decoder's residual blocks, where
// ~90 % of its FLOPs are (issue #6 §6). Rewrites a built converter graph: each chosen Conv becomes
//   QuantizeLinear(x) → QLinearConv(int8 weights, per-output-channel scales, int32 bias) → DequantizeLinear
// with uint8 activations whose ranges are calibrated by running the float graph on real speech. Static
// scales (not DynamicQuantizeLinear + ConvInteger) because onnxruntime's QLinearConv has packed int8
// kernels (u8s8) and ConvInteger does not: measured 2.6× faster than float in onnxruntime-web's WASM on a
// 128-channel k=7 conv, where ConvInteger was 4× slower. conv_pre, the upsamplers, conv_post and the
// encoder/flows stay float (see DECODER_RESBLOCKS).
import onnxProto from 'onnx-proto';
import type * as Ort from 'onnxruntime-web';
import { throwIfAborted } from '../core/run';
import { rawBytes } from './onnx-builder';
import type { OrtLike } from './ort-session';

const { onnx } = onnxProto;
const DT = { float: 1, uint8: 2, int8: 3, int32: 6 } as const;

export class QuantizeError extends Error {
  override name = 'QuantizeError';
}

/** Which Convs to quantize, by weight initializer name (default: the decoder's residual blocks). */
export type ConvFilter = (weightName: string) => boolean;
export const DECODER_RESBLOCKS: ConvFilter = (w) => w.startsWith('dec.resblocks.');
/**
 * The decoder's residual blocks and the flows' WaveNet convs (in_layers, res_skip_layers): those run at
 * the frame rate but were 9 % of the float graph's time (32 k=5 convs, 192 → 384 channels, forward and
 * reverse). Chosen by measured error on the v2 parity fixture (SNR against upstream's output): the flows'
 * WaveNet convs cost nothing measurable (32.22 → 32.19 dB); enc_q's cost 8 dB (→ 24.2) and stay float.
 */
export const RESBLOCKS_AND_FLOWS: ConvFilter = (w) =>
  w.startsWith('dec.resblocks.') || /^flow\.flows\.\d+\.enc\.(in_layers|res_skip_layers)\./.test(w);
// Measured, and left float on purpose: the upsamplers (polyphase Convs, graphs.ts) ran no faster as
// QLinearConvs in onnxruntime-web's WASM (a Transpose pair each for the NHWC kernel, bench:convert,
// 2026-12-02) and cost precision.

export interface Range {
  min: number;
  max: number;
}

interface QConv {
  node: onnxProto.onnx.INodeProto;
  x: string;
  y: string;
  weight: string;
  bias: string | null;
}

function decode(model: Uint8Array): onnxProto.onnx.ModelProto {
  return onnx.ModelProto.decode(model);
}

function convsOf(m: onnxProto.onnx.IModelProto, filter: ConvFilter): QConv[] {
  const out: QConv[] = [];
  for (const node of m.graph?.node ?? []) {
    if (node.opType !== 'Conv') continue;
    const [x, weight, bias] = node.input ?? [];
    if (!x || !weight || !filter(weight)) continue;
    out.push({ node, x, y: node.output![0]!, weight, bias: bias || null });
  }
  return out;
}

/** The tensors whose ranges calibration must find: every chosen Conv's input and output. */
export function calibrationTensors(model: Uint8Array, filter: ConvFilter = DECODER_RESBLOCKS): string[] {
  const names = new Set<string>();
  for (const c of convsOf(decode(model), filter)) names.add(c.x).add(c.y);
  return [...names];
}

/**
 * The model with each named tensor's min and max as extra scalar outputs (`<name>__min`, `<name>__max`):
 * reduced inside the graph, so one run calibrates every tensor and holds no intermediate beyond its use
 * (exposing the tensors whole took a session per group of 24 and [1, C, T · up] floats each).
 */
function withRangeOutputs(model: Uint8Array, names: readonly string[]): Uint8Array {
  const m = decode(model);
  const g = m.graph!;
  names.forEach((name, i) => {
    for (const op of ['Min', 'Max'] as const) {
      const out = `${name}__${op.toLowerCase()}`;
      g.node!.push({
        opType: `Reduce${op}`,
        input: [name],
        output: [out],
        name: `calibrate_${op.toLowerCase()}_${i}`,
        attribute: [{ name: 'keepdims', type: onnx.AttributeProto.AttributeType.INT, i: 0 }],
      });
      g.output!.push({
        name: out,
        type: { tensorType: { elemType: DT.float, shape: { dim: [] } } },
      } as onnxProto.onnx.IValueInfoProto);
    }
  });
  return onnx.ModelProto.encode(m).finish();
}

export interface CalibrateOptions {
  filter?: ConvFilter;
  sessionOptions?: Ort.InferenceSession.SessionOptions;
  signal?: AbortSignal;
}

/**
 * Ranges (min, max) of the tensors to quantize over calibration inputs (converter feeds built from real
 * speech), found by running the float graph once per feed with every tensor's min and max as outputs.
 */
export async function calibrate(
  ort: OrtLike,
  model: Uint8Array,
  feeds: ReadonlyArray<Record<string, Ort.Tensor>>,
  opts: CalibrateOptions = {},
): Promise<Map<string, Range>> {
  const names = calibrationTensors(model, opts.filter);
  if (!names.length) throw new QuantizeError('The graph has no convolutions to quantize.');
  const ranges = new Map<string, Range>(names.map((n) => [n, { min: Infinity, max: -Infinity }]));
  const session = await ort.InferenceSession.create(withRangeOutputs(model, names), {
    graphOptimizationLevel: 'all',
    ...opts.sessionOptions,
  });
  const fetches = names.flatMap((n) => [`${n}__min`, `${n}__max`]);
  try {
    for (const f of feeds) {
      throwIfAborted(opts.signal);
      const out = await session.run(f, fetches);
      for (const name of names) {
        const r = ranges.get(name)!;
        r.min = Math.min(r.min, (out[`${name}__min`]!.data as Float32Array)[0]!);
        r.max = Math.max(r.max, (out[`${name}__max`]!.data as Float32Array)[0]!);
      }
    }
  } finally {
    await session.release();
  }
  return ranges;
}

/** uint8 affine parameters covering [min, max] (and 0, so zero padding is exact). */
export function activationParams(r: Range): { scale: number; zeroPoint: number } {
  const lo = Math.min(0, r.min);
  const hi = Math.max(0, r.max);
  const scale = hi > lo ? (hi - lo) / 255 : 1;
  const zeroPoint = Math.min(255, Math.max(0, Math.round(-lo / scale)));
  return { scale, zeroPoint };
}

/** An initializer's float32 values (raw or typed storage); QuantizeError when it is not float32. */
export function floatsOf(t: onnxProto.onnx.ITensorProto): Float32Array {
  if (t.dataType !== DT.float) throw new QuantizeError(`${t.name} is not float32.`);
  if (t.rawData?.length) {
    // A copy at offset 0 (in Node, protobufjs hands out Buffer views, whose slice() is no copy).
    const raw = new Uint8Array(t.rawData);
    return new Float32Array(raw.buffer, 0, raw.byteLength / 4);
  }
  return Float32Array.from(t.floatData ?? []);
}

function tensor(
  name: string,
  type: 'float32' | 'uint8' | 'int8' | 'int32',
  dims: number[],
  data: Float32Array | Uint8Array | Int8Array | Int32Array,
): onnxProto.onnx.ITensorProto {
  const dataType = { float32: DT.float, uint8: DT.uint8, int8: DT.int8, int32: DT.int32 }[type];
  return { name, dims, dataType, rawData: rawBytes(type, data) };
}

/** Symmetric int8 per output channel: scale_c = max |w_c| / 127. */
export function quantizeWeights(w: Float32Array, outC: number): { q: Int8Array; scales: Float32Array } {
  const per = w.length / outC;
  const q = new Int8Array(w.length);
  const scales = new Float32Array(outC);
  for (let o = 0; o < outC; o++) {
    let m = 0;
    for (let i = 0; i < per; i++) m = Math.max(m, Math.abs(w[o * per + i]!));
    const s = m > 0 ? m / 127 : 1;
    scales[o] = s;
    for (let i = 0; i < per; i++)
      q[o * per + i] = Math.max(-127, Math.min(127, Math.round(w[o * per + i]! / s)));
  }
  return { q, scales };
}

export interface QuantizeResult {
  model: Uint8Array;
  /** Convs rewritten, and their share of the graph's conv weights (by count, not by FLOPs). */
  convs: number;
  weightShare: number;
}

/** Rewrites the chosen Convs of a float graph to int8 with the calibrated ranges. */
export function quantizeGraph(
  model: Uint8Array,
  ranges: ReadonlyMap<string, Range>,
  filter: ConvFilter = DECODER_RESBLOCKS,
): QuantizeResult {
  const m = decode(model);
  const r = quantizeConvs(m, ranges, filter);
  return { model: onnx.ModelProto.encode(m).finish(), ...r };
}

/** quantizeGraph on a decoded model, in place (saves a decode and an encode when graphs are chained). */
export function quantizeConvs(
  m: onnxProto.onnx.IModelProto,
  ranges: ReadonlyMap<string, Range>,
  filter: ConvFilter = DECODER_RESBLOCKS,
): Omit<QuantizeResult, 'model'> {
  const g = m.graph!;
  const inits = new Map(g.initializer!.map((t) => [t.name!, t]));
  const convs = convsOf(m, filter);
  if (!convs.length) throw new QuantizeError('The graph has no convolutions to quantize.');
  const chosen = new Set(convs.map((c) => c.node));
  const quantized = new Map<string, string>(); // float tensor → its uint8 form
  const newInits: onnxProto.onnx.ITensorProto[] = [];
  const drop = new Set<string>();
  const nodes: onnxProto.onnx.INodeProto[] = [];
  const weightScales = new Map<string, Float32Array>();
  let seq = 0;
  const params = (name: string) => {
    const r = ranges.get(name);
    if (!r || !Number.isFinite(r.min) || !Number.isFinite(r.max))
      throw new QuantizeError(`No calibrated range for "${name}".`);
    const p = activationParams(r);
    const s = `${name}_qscale`;
    const z = `${name}_qzero`;
    if (!inits.has(s)) {
      const ts = tensor(s, 'float32', [], new Float32Array([p.scale]));
      const tz = tensor(z, 'uint8', [], new Uint8Array([p.zeroPoint]));
      inits.set(s, ts).set(z, tz);
      newInits.push(ts, tz);
    }
    return { scale: p.scale, s, z };
  };
  let wTotal = 0;
  let wQuant = 0;
  for (const node of g.node!) {
    if (node.opType === 'Conv') wTotal += floatsLength(inits.get(node.input![1]!));
    if (!chosen.has(node)) {
      nodes.push(node);
      continue;
    }
    const c = convs.find((k) => k.node === node)!;
    const wt = inits.get(c.weight);
    if (!wt) throw new QuantizeError(`Conv weight "${c.weight}" is not an initializer.`);
    const dims = wt.dims!.map(Number);
    const outC = dims[0]!;
    const w = floatsOf(wt);
    wQuant += w.length;
    const xp = params(c.x);
    const yp = params(c.y);
    let xq = quantized.get(c.x);
    if (!xq) {
      xq = `${c.x}_q`;
      nodes.push({ opType: 'QuantizeLinear', input: [c.x, xp.s, xp.z], output: [xq], name: `q_${seq++}` });
      quantized.set(c.x, xq);
    }
    const base = c.weight.replace(/\.weight$/, '');
    // A weight read by two Convs (the flows run forward and in reverse on the same weights) is stored once.
    let scales = weightScales.get(base);
    if (!scales) {
      const qw = quantizeWeights(w, outC);
      scales = qw.scales;
      weightScales.set(base, scales);
      newInits.push(
        tensor(`${base}.wq`, 'int8', dims, qw.q),
        tensor(`${base}.wscale`, 'float32', [outC], scales),
        tensor(`${base}.wzero`, 'int8', [outC], new Int8Array(outC)),
      );
    }
    drop.add(c.weight);
    const inputs = [xq, xp.s, xp.z, `${base}.wq`, `${base}.wscale`, `${base}.wzero`, yp.s, yp.z];
    if (c.bias) {
      // The int32 bias is in units of this input's scale: one per Conv, not per weight.
      const b = floatsOf(inits.get(c.bias)!);
      const bq = new Int32Array(outC);
      for (let o = 0; o < outC; o++) bq[o] = Math.round(b[o]! / (xp.scale * scales[o]!));
      const name = inits.has(`${base}.bq`) ? `${base}.bq${seq}` : `${base}.bq`;
      const tb = tensor(name, 'int32', [outC], bq);
      inits.set(name, tb);
      newInits.push(tb);
      inputs.push(name);
      drop.add(c.bias);
    }
    const yq = `${c.y}_qout`;
    nodes.push({ ...node, opType: 'QLinearConv', input: inputs, output: [yq], name: `qconv_${seq++}` });
    nodes.push({ opType: 'DequantizeLinear', input: [yq, yp.s, yp.z], output: [c.y], name: `dq_${seq++}` });
  }
  // Drop the float weights nothing reads any more.
  const used = new Set(nodes.flatMap((n) => n.input ?? []));
  g.initializer = [...g.initializer!.filter((t) => !(drop.has(t.name!) && !used.has(t.name!))), ...newInits];
  g.node = nodes;
  return {
    convs: convs.length,
    weightShare: wTotal ? wQuant / wTotal : 0,
  };
}

function floatsLength(t: onnxProto.onnx.ITensorProto | undefined): number {
  return t ? (t.dims ?? []).reduce<number>((a, d) => a * Number(d), 1) : 0;
}

/** Calibrates on `feeds` and quantizes: the int8-decoder converter graph. */
export async function quantizeConverter(
  ort: OrtLike,
  model: Uint8Array,
  feeds: ReadonlyArray<Record<string, Ort.Tensor>>,
  opts: CalibrateOptions = {},
): Promise<QuantizeResult & { ranges: Map<string, Range> }> {
  const ranges = await calibrate(ort, model, feeds, opts);
  return { ...quantizeGraph(model, ranges, opts.filter), ranges };
}

/** Max abs difference and SNR (dB) of `test` against `ref`. */
export function deviation(ref: Float32Array, test: Float32Array): { max_abs: number; snr_db: number } {
  if (ref.length !== test.length) throw new RangeError(`lengths differ: ${ref.length} vs ${test.length}`);
  let m = 0;
  let sig = 0;
  let err = 0;
  for (let i = 0; i < ref.length; i++) {
    const d = test[i]! - ref[i]!;
    m = Math.max(m, Math.abs(d));
    sig += ref[i]! ** 2;
    err += d * d;
  }
  return { max_abs: m, snr_db: err > 0 ? 10 * Math.log10(sig / err) : Infinity };
}

/** The converter's feeds for one run (calibration, benchmarks). */
export function converterFeeds(
  ort: OrtLike,
  spec: { bins: number; frames: number; data: Float32Array },
  noise: Float32Array,
  srcSe: Float32Array,
  tgtSe: Float32Array,
  tau: number,
): Record<string, Ort.Tensor> {
  const { Tensor } = ort;
  const inter = noise.length / spec.frames;
  return {
    spec: new Tensor('float32', spec.data, [1, spec.bins, spec.frames]),
    noise: new Tensor('float32', noise, [1, inter, spec.frames]),
    src_se: new Tensor('float32', srcSe, [1, srcSe.length, 1]),
    tgt_se: new Tensor('float32', tgtSe, [1, tgtSe.length, 1]),
    tau: new Tensor('float32', new Float32Array([tau]), [1]),
  };
}
