// Kokoro's graph as onnxruntime-web runs it fastest. The bundled q8 model quantizes its 87 convolutions
// dynamically (DynamicQuantizeLinear → ConvInteger → Cast → Mul), and onnxruntime has no packed int8
// kernel for ConvInteger: in WASM it ran at ~41 GOP/s and took 79 % of a run (bench:tts, 2026-12-02).
// So, once, when the session is made:
//   1. every ConvInteger becomes a float Conv over its dequantized weights (the same weights; no
//      activation rounding at all), which is what WebGPU gets;
//   2. for WASM, 30 of the generator's 48 high-rate convs (KOKORO_INT8_CONVS) then become QLinearConv
//      with per-channel int8 weights and uint8 activations whose ranges were calibrated offline over
//      every voice (`npm run calibrate:tts` → kokoro-ranges.json): static scales let onnxruntime use
//      its packed u8s8 kernels (runtime/quantize.ts measured 2.6× float on such a conv).
// Measured (npm run bench:tts-graph: onnxruntime-web WASM in Node, 2 threads, a 4.75 s sentence): RTF as
// shipped 2.29, step 1 1.63, steps 1+2 1.11; all 48 convs int8 would be faster still but audibly worse.
import onnxProto from 'onnx-proto';
import { floatsOf, QuantizeError, quantizeConvs, type Range } from '../runtime/quantize';
import type { ExecutionProvider } from '../runtime/provider';
import RANGES from './kokoro-ranges.json';

const { onnx } = onnxProto;
type Model = onnxProto.onnx.IModelProto;
type Node = onnxProto.onnx.INodeProto;
type Tensor = onnxProto.onnx.ITensorProto;

export class KokoroGraphError extends Error {
  override name = 'KokoroGraphError';
}

/**
 * The convs made int8 for WASM, by the name of their (dequantized) weight. Chosen by measurement (log-mel
 * distance to the float-conv graph, two voices, onnxruntime-node): each of these costs 0.15–0.4 dB, and
 * together 0.57 dB, less than the shipped q8 graph's own 1.0 dB. Left float: the second conv of
 * resblocks 1 and 3, and resblocks 4 and 5 (0.7–1.7 dB each; all 48 int8 cost 2.7 dB). In a resblock
 * the first conv of each of the three pairs reads weights `Mul_2`, `Mul_8`, `Mul_14`.
 */
export const KOKORO_INT8_CONVS = (weight: string): boolean =>
  /^\/decoder\/decoder\/generator\/(noise_res\.\d|resblocks\.[02])\//.test(weight) ||
  /^\/decoder\/decoder\/generator\/resblocks\.[13]\/Mul_(2|8|14)_/.test(weight);

/** Suffix of a dequantized conv weight's initializer. */
const FLOAT_SUFFIX = '_f32';

export interface KokoroRanges {
  /** sha256 (hex) of the model file the ranges were calibrated on. */
  model_sha256: string;
  method: string;
  ranges: Record<string, number[]>;
}

export const KOKORO_RANGES = RANGES as KokoroRanges;

function bytesOf(t: Tensor): Uint8Array {
  // A copy at offset 0: protobufjs hands out views into the whole file in Node.
  if (t.rawData?.length) return new Uint8Array(t.rawData);
  if (t.int32Data?.length) return Uint8Array.from(t.int32Data);
  throw new KokoroGraphError(`Initializer "${t.name}" holds no data.`);
}

/** Step 1, in place: every ConvInteger chain → one float Conv; returns how many were rewritten. */
export function floatConvs(m: Model): number {
  const g = m.graph;
  if (!g?.node || !g.initializer) throw new KokoroGraphError('The model has no graph.');
  const init = new Map(g.initializer.map((t) => [t.name!, t]));
  const producer = new Map<string, Node>();
  const consumers = new Map<string, Node[]>();
  for (const n of g.node) {
    for (const o of n.output ?? []) producer.set(o, n);
    for (const i of n.input ?? []) {
      const list = consumers.get(i);
      if (list) list.push(n);
      else consumers.set(i, [n]);
    }
  }
  const single = (name: string, what: string): Node => {
    const c = consumers.get(name) ?? [];
    if (c.length !== 1) throw new KokoroGraphError(`Unexpected graph around ${what}: ${c.length} readers.`);
    return c[0]!;
  };
  const replaced = new Map<Node, Node>();
  const gone = new Set<Node>();
  const added: Tensor[] = [];
  for (const n of g.node) {
    if (n.opType !== 'ConvInteger') continue;
    const name = n.name ?? 'ConvInteger';
    const [xq, wq, , wZero] = n.input ?? [];
    const dq = producer.get(xq ?? '');
    const w = init.get(wq ?? '');
    const zp = init.get(wZero ?? '');
    if (dq?.opType !== 'DynamicQuantizeLinear' || !w || !zp)
      throw new KokoroGraphError(`${name}: not the dynamic-quantization pattern this rewrite knows.`);
    // ConvInteger → [Add(quantized bias)] → Cast → Mul(x_scale · w_scale)
    const chain = [n];
    let next = single(n.output![0]!, name);
    let bias: string | null = null;
    if (next.opType === 'Add') {
      const other = next.input!.find((i) => i !== n.output![0])!;
      let p = producer.get(other); // Reshape ← Cast ← Floor ← Div(bias, scale)
      while (p && p.opType !== 'Div') p = producer.get(p.input![0]!);
      bias = p?.input?.[0] ?? null;
      if (!bias || !init.has(bias)) throw new KokoroGraphError(`${name}: its bias is not an initializer.`);
      chain.push(next);
      next = single(next.output![0]!, name);
    }
    if (next.opType !== 'Cast') throw new KokoroGraphError(`${name}: expected Cast, found ${next.opType}.`);
    chain.push(next);
    const cast = next;
    next = single(cast.output![0]!, name);
    if (next.opType !== 'Mul') throw new KokoroGraphError(`${name}: expected Mul, found ${next.opType}.`);
    chain.push(next);
    const scaleMul = producer.get(next.input!.find((i) => i !== cast.output![0])!);
    const wScale = scaleMul?.opType === 'Mul' ? scaleMul.input!.map((i) => init.get(i)).find(Boolean) : null;
    if (wScale?.dataType !== 1)
      throw new KokoroGraphError(`${name}: its weight scale is not a float32 initializer.`);

    const q = bytesOf(w);
    const zero = bytesOf(zp)[0]!;
    const scale = floatsOf(wScale)[0]!;
    if (w.dataType !== 2) throw new KokoroGraphError(`${name}: weights are not uint8.`);
    const f = new Float32Array(q.length);
    for (let i = 0; i < q.length; i++) f[i] = (q[i]! - zero) * scale;
    const wName = `${wq}${FLOAT_SUFFIX}`;
    added.push({ name: wName, dims: w.dims, dataType: 1, rawData: new Uint8Array(f.buffer) });
    for (const c of chain) gone.add(c);
    replaced.set(n, {
      name: `${name}${FLOAT_SUFFIX}`,
      opType: 'Conv',
      input: bias ? [dq.input![0]!, wName, bias] : [dq.input![0]!, wName],
      output: [next.output![0]!],
      attribute: n.attribute,
    });
  }
  let nodes: Node[] = [];
  for (const n of g.node) {
    const r = replaced.get(n);
    if (r) nodes.push(r);
    if (!gone.has(n)) nodes.push(n);
  }
  // The quantize passes (DynamicQuantizeLinear, bias rounding) that only fed the old convs: drop them.
  const outputs = new Set((g.output ?? []).map((o) => o.name!));
  for (;;) {
    const read = new Set(nodes.flatMap((n) => n.input ?? []));
    const keep = nodes.filter((n) => (n.output ?? []).some((o) => read.has(o) || outputs.has(o)));
    if (keep.length === nodes.length) break;
    nodes = keep;
  }
  g.node = nodes;
  const read = new Set(nodes.flatMap((n) => n.input ?? []));
  g.initializer = [...g.initializer.filter((t) => read.has(t.name!)), ...added];
  return replaced.size;
}

/** The calibrated ranges, keyed by tensor name. */
export function rangesOf(r: KokoroRanges = KOKORO_RANGES): Map<string, Range> {
  return new Map(Object.entries(r.ranges).map(([k, [min = NaN, max = NaN]]) => [k, { min, max }]));
}

export interface PreparedKokoro {
  model: Uint8Array;
  floatConvs: number;
  int8Convs: number;
}

/** The graph for `ep`: float convs for WebGPU; for WASM the generator's convs int8 as well. */
export function prepareKokoro(
  bytes: Uint8Array,
  ep: ExecutionProvider,
  ranges: ReadonlyMap<string, Range> = rangesOf(),
): PreparedKokoro {
  const m = onnx.ModelProto.decode(bytes);
  const floats = floatConvs(m);
  if (!floats) throw new KokoroGraphError('This is not the q8 Kokoro graph: it has no ConvInteger.');
  let int8 = 0;
  if (ep === 'wasm') {
    try {
      int8 = quantizeConvs(m, ranges, KOKORO_INT8_CONVS).convs;
    } catch (e) {
      // Another q8 export (e.g. an imported model) lacks these ranges: float convs only, still faster.
      // quantizeConvs checks every range before it changes the graph, so `m` is as step 1 left it.
      if (!(e instanceof QuantizeError)) throw e;
    }
  }
  return { model: onnx.ModelProto.encode(m).finish(), floatConvs: floats, int8Convs: int8 };
}
