// FLOPs of a model run counted from onnxruntime profiler events (node and web print the same JSON: one
// event per node run, with op_name and the input/output shapes in args). Only the dense kernels are
// counted — MatMul, Gemm, Conv, ConvTranspose, LSTM/GRU and their fused or int8 forms — as 2 × the
// multiply-adds their shapes imply; everything else (element-wise, norms, reshapes, STFT…) is taken as free.

import onnxProto from 'onnx-proto';

const prod = (xs) => xs.reduce((a, b) => a * b, 1);
const shapes = (list) => (list ?? []).map((o) => Object.values(o)[0] ?? []);

export const FLOPS_METHOD =
  'Summed over onnxruntime-node profiler node events (one per node per run, after graph optimisation, ' +
  'with input/output shapes): 2 x multiply-adds of MatMul-like ops (MatMul, FusedMatMul, MatMulInteger, ' +
  'MatMulIntegerToFloat, DynamicQuantizeMatMul: 2*|out|*K), Gemm (2*M*N*K), Conv/FusedConv/ConvInteger ' +
  '(2*|out|*Cin/g*|kernel|), ConvTranspose (2*|in|*Cout/g*|kernel|; its weight shape, which the profiler ' +
  'leaves out once prepacked, read from the .onnx graph by node name), LSTM/DynamicQuantizeLSTM ' +
  '(2*seq*batch*dirs*4H*(in+H), from the X and Y shapes). Element-wise, normalisation, shape, STFT and ' +
  'Sin ops count as 0. ' +
  'int8 kernels count like float ones (the model is q8: its MatMuls run as int8 with float scales).';

/**
 * Shapes of the weight (input 1) of every Conv/ConvTranspose node of an .onnx file, by node name: an
 * initializer's dims, or those of the initializer behind a node that makes the weight (Mul, Dequantize…).
 */
export function weightShapes(bytes) {
  const g = onnxProto.onnx.ModelProto.decode(bytes).graph;
  const init = new Map(g.initializer.map((i) => [i.name, i.dims.map(Number)]));
  const producer = new Map();
  for (const n of g.node) for (const o of n.output) producer.set(o, n);
  const out = new Map();
  for (const n of g.node) {
    if (!/Conv/.test(n.opType) || n.input.length < 2) continue;
    const w = n.input[n.opType === 'QLinearConv' ? 3 : 1];
    const dims = init.get(w) ?? init.get(producer.get(w)?.input[0] ?? '');
    if (dims) out.set(n.name, dims);
  }
  return out;
}

/** FLOPs of one node event, or 0 for ops not counted. */
export function eventFlops(op, ins, outs) {
  const out = outs[0] ?? [];
  switch (op) {
    case 'MatMul':
    case 'FusedMatMul':
    case 'MatMulInteger':
    case 'MatMulIntegerToFloat':
    case 'DynamicQuantizeMatMul': {
      const a = ins[0] ?? [];
      const k = a[a.length - 1] ?? 0;
      return 2 * prod(out) * k;
    }
    case 'Gemm':
    case 'FusedGemm': {
      const a = ins[0] ?? [];
      const [m] = out;
      const k = a.length === 2 ? (a[0] === m ? a[1] : a[0]) : 0;
      return 2 * prod(out) * k;
    }
    case 'Conv':
    case 'FusedConv':
    case 'ConvInteger':
    case 'NhwcFusedConv':
      return 2 * prod(out) * prod((ins[1] ?? []).slice(1));
    case 'QLinearConv':
      return 2 * prod(out) * prod((ins[3] ?? []).slice(1));
    case 'ConvTranspose':
      return 2 * prod(ins[0] ?? []) * prod((ins[1] ?? []).slice(1));
    case 'LSTM':
    case 'DynamicQuantizeLSTM': {
      // X [seq, batch, input] → Y [seq, dirs, batch, H]; 4 gates over [x, h].
      const [seq = 0, batch = 0, input = 0] = ins[0] ?? [];
      const y = out.length === 4 ? out : [];
      const [, dirs = 0, , hidden = 0] = y;
      return 2 * seq * batch * dirs * 4 * hidden * (input + hidden);
    }
    default:
      return 0;
  }
}

/**
 * Node events ("…_kernel_time") of a profile: op, duration (µs), FLOPs. `weights` (weightShapes) fills in
 * the weight shapes the profiler leaves out.
 */
export function nodeEvents(events, weights = new Map()) {
  return events
    .filter((e) => e.cat === 'Node' && typeof e.name === 'string' && e.name.endsWith('_kernel_time'))
    .map((e) => {
      const ins = shapes(e.args?.input_type_shape);
      const outs = shapes(e.args?.output_type_shape);
      const op = e.args?.op_name ?? '?';
      // Layout-transformed nodes (NHWC QLinearConv) are named "<node>_token_<n>".
      const node = e.name.slice(0, -'_kernel_time'.length);
      const w = weights.get(node) ?? weights.get(node.replace(/_token_\d+$/, ''));
      // The profiler leaves out prepacked weights: Conv's input 1, QLinearConv's input 3.
      const at = op === 'QLinearConv' ? 3 : 1;
      if (/Conv/.test(op) && w && (ins[at]?.length ?? 0) !== w.length) ins.splice(at, 0, w);
      return { op, us: e.dur ?? 0, flops: eventFlops(op, ins, outs) };
    });
}

/** Per op type: count, time, FLOPs; sorted by time. */
export function byOp(events) {
  const m = new Map();
  for (const e of events) {
    const o = m.get(e.op) ?? { op: e.op, count: 0, us: 0, flops: 0 };
    o.count++;
    o.us += e.us;
    o.flops += e.flops;
    m.set(e.op, o);
  }
  return [...m.values()].sort((a, b) => b.us - a.us);
}

/** Parses profiler output that may come as a JSON array or as the lines of one (the WASM build prints it). */
export function parseProfileLines(lines) {
  const out = [];
  for (const raw of lines) {
    const line = raw.trim().replace(/,$/, '');
    if (!line.startsWith('{')) continue;
    try {
      out.push(JSON.parse(line));
    } catch {
      // a line of something else
    }
  }
  return out;
}
