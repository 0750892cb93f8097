// A small ONNX model builder: graphs with typed inputs/outputs, raw-data initializers and nodes, encoded
// as a ModelProto (opset 17 by default) with the `onnx-proto` protobuf classes. Enough to make test models
// and microbenchmarks that onnxruntime-web and onnxruntime-node both load.
import onnxProto from 'onnx-proto';

const { onnx } = onnxProto;

export type ElemType = 'float32' | 'float64' | 'int32' | 'int64' | 'uint8' | 'int8' | 'bool';

/** ONNX TensorProto.DataType codes. */
const DATA_TYPE: Record<ElemType, number> = {
  float32: 1,
  uint8: 2,
  int8: 3,
  int32: 6,
  int64: 7,
  bool: 9,
  float64: 11,
};

/** A dimension: a fixed size or a symbolic name ("batch", "T"). */
export type Dim = number | string;

export interface ValueSpec {
  name: string;
  type: ElemType;
  dims: readonly Dim[];
}

export type TensorData = Float32Array | Float64Array | Int32Array | BigInt64Array | Uint8Array | Int8Array;

export interface InitializerSpec {
  name: string;
  type: ElemType;
  dims: readonly number[];
  data: TensorData | readonly number[];
}

export type Attr =
  | { kind: 'int'; value: number }
  | { kind: 'ints'; value: readonly number[] }
  | { kind: 'float'; value: number }
  | { kind: 'floats'; value: readonly number[] }
  | { kind: 'string'; value: string };

/** Attribute helpers: ONNX attributes are typed, so say which type a number is. */
export const attr = {
  int: (value: number): Attr => ({ kind: 'int', value }),
  ints: (value: readonly number[]): Attr => ({ kind: 'ints', value }),
  float: (value: number): Attr => ({ kind: 'float', value }),
  floats: (value: readonly number[]): Attr => ({ kind: 'floats', value }),
  string: (value: string): Attr => ({ kind: 'string', value }),
};

export interface NodeSpec {
  op: string;
  inputs: readonly string[];
  outputs: readonly string[];
  name?: string;
  domain?: string;
  attrs?: Record<string, Attr>;
}

export interface GraphSpec {
  name: string;
  inputs: readonly ValueSpec[];
  outputs: readonly ValueSpec[];
  initializers?: readonly InitializerSpec[];
  nodes: readonly NodeSpec[];
  /** Default opset 17. */
  opset?: number;
  /** Default IR version 8 (ONNX 1.10+). */
  irVersion?: number;
  producer?: string;
}

export class OnnxBuildError extends Error {
  override name = 'OnnxBuildError';
}

function elemCount(dims: readonly number[]): number {
  return dims.reduce((a, d) => a * d, 1);
}

const BYTES: Record<ElemType, number> = {
  float32: 4,
  float64: 8,
  int32: 4,
  int64: 8,
  uint8: 1,
  int8: 1,
  bool: 1,
};

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** The typed array whose memory layout is the ONNX raw data of each type (bool is stored as bytes). */
const TYPED: Record<ElemType, new (n: number) => TensorData> = {
  float32: Float32Array,
  float64: Float64Array,
  int32: Int32Array,
  int64: BigInt64Array,
  uint8: Uint8Array,
  int8: Int8Array,
  bool: Uint8Array,
};

/** Little-endian raw bytes of a tensor, whatever the platform's byte order. */
export function rawBytes(type: ElemType, data: TensorData | readonly number[]): Uint8Array {
  // Typed arrays of the matching type on a little-endian platform already hold these bytes: copy them
  // at once (a released-size converter has 33 M weights; the per-value loop below takes seconds).
  if (LITTLE_ENDIAN && ArrayBuffer.isView(data) && data instanceof TYPED[type])
    return new Uint8Array(data.buffer, data.byteOffset, data.byteLength).slice();
  const n = data.length;
  const out = new Uint8Array(n * BYTES[type]);
  const view = new DataView(out.buffer);
  for (let i = 0; i < n; i++) {
    const v = data[i]!;
    switch (type) {
      case 'float32':
        view.setFloat32(i * 4, Number(v), true);
        break;
      case 'float64':
        view.setFloat64(i * 8, Number(v), true);
        break;
      case 'int32':
        view.setInt32(i * 4, Number(v), true);
        break;
      case 'int64':
        view.setBigInt64(i * 8, typeof v === 'bigint' ? v : BigInt(Math.trunc(Number(v))), true);
        break;
      case 'uint8':
      case 'bool':
        view.setUint8(i, Number(v));
        break;
      case 'int8':
        view.setInt8(i, Number(v));
        break;
    }
  }
  return out;
}

function valueInfo(v: ValueSpec): onnxProto.onnx.IValueInfoProto {
  return {
    name: v.name,
    type: {
      tensorType: {
        elemType: DATA_TYPE[v.type],
        shape: {
          dim: v.dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })),
        },
      },
    },
  };
}

function attribute(name: string, a: Attr): onnxProto.onnx.IAttributeProto {
  const T = onnx.AttributeProto.AttributeType;
  switch (a.kind) {
    case 'int':
      return { name, type: T.INT, i: a.value };
    case 'ints':
      return { name, type: T.INTS, ints: [...a.value] };
    case 'float':
      return { name, type: T.FLOAT, f: a.value };
    case 'floats':
      return { name, type: T.FLOATS, floats: [...a.value] };
    case 'string':
      return { name, type: T.STRING, s: new TextEncoder().encode(a.value) };
  }
}

/** Encodes a graph as an ONNX ModelProto. Checks that every node input is defined before it is used. */
export function buildModel(spec: GraphSpec): Uint8Array {
  const defined = new Set<string>(['']); // '' = an omitted optional input
  for (const v of spec.inputs) defined.add(v.name);
  const initializers = (spec.initializers ?? []).map((t) => {
    if (elemCount(t.dims) !== t.data.length)
      throw new OnnxBuildError(
        `Initializer "${t.name}" has ${t.data.length} values for dims [${t.dims.join(', ')}].`,
      );
    defined.add(t.name);
    return {
      name: t.name,
      dims: [...t.dims],
      dataType: DATA_TYPE[t.type],
      rawData: rawBytes(t.type, t.data),
    };
  });
  spec.nodes.forEach((n, i) => {
    for (const input of n.inputs)
      if (!defined.has(input))
        throw new OnnxBuildError(`Node ${n.name ?? i} (${n.op}) reads "${input}" before it is defined.`);
    for (const o of n.outputs) defined.add(o);
  });
  for (const o of spec.outputs)
    if (!defined.has(o.name)) throw new OnnxBuildError(`Graph output "${o.name}" is never produced.`);

  const model = onnx.ModelProto.create({
    irVersion: spec.irVersion ?? 8,
    producerName: spec.producer ?? 'timbre',
    producerVersion: '1',
    opsetImport: [{ domain: '', version: spec.opset ?? 17 }],
    graph: {
      name: spec.name,
      input: spec.inputs.map(valueInfo),
      output: spec.outputs.map(valueInfo),
      initializer: initializers,
      node: spec.nodes.map((n, i) => ({
        name: n.name ?? `${n.op}_${i}`,
        opType: n.op,
        domain: n.domain ?? '',
        input: [...n.inputs],
        output: [...n.outputs],
        attribute: Object.entries(n.attrs ?? {}).map(([k, a]) => attribute(k, a)),
      })),
    },
  });
  return onnx.ModelProto.encode(model).finish();
}

/**
 * A fluent builder over `buildModel`: `g.input(…)`, `g.init(…)`, `const y = g.op('Relu', [x])`, `g.output(…)`.
 * Node outputs get fresh names unless given.
 */
export class GraphBuilder {
  private inputs: ValueSpec[] = [];
  private outputs: ValueSpec[] = [];
  private inits: InitializerSpec[] = [];
  private nodes: NodeSpec[] = [];
  private seq = 0;

  constructor(
    readonly name: string,
    private opset = 17,
  ) {}

  input(name: string, type: ElemType, dims: readonly Dim[]): string {
    this.inputs.push({ name, type, dims });
    return name;
  }

  /** A constant tensor stored as raw data in the model. */
  init(name: string, data: TensorData | readonly number[], dims: readonly number[], type?: ElemType): string {
    const t: ElemType =
      type ??
      (data instanceof BigInt64Array
        ? 'int64'
        : data instanceof Int32Array
          ? 'int32'
          : data instanceof Float64Array
            ? 'float64'
            : 'float32');
    this.inits.push({ name, type: t, dims, data });
    return name;
  }

  /** Adds one node with a single output; returns the output's name. */
  op(op: string, inputs: readonly string[], attrs?: Record<string, Attr>, output?: string): string {
    const out = output ?? `${op.toLowerCase()}_${this.seq++}`;
    this.nodes.push({ op, inputs, outputs: [out], attrs });
    return out;
  }

  /** Adds one node with several outputs. */
  node(spec: NodeSpec): readonly string[] {
    this.nodes.push(spec);
    return spec.outputs;
  }

  output(name: string, type: ElemType, dims: readonly Dim[]): void {
    this.outputs.push({ name, type, dims });
  }

  spec(): GraphSpec {
    return {
      name: this.name,
      inputs: this.inputs,
      outputs: this.outputs,
      initializers: this.inits,
      nodes: this.nodes,
      opset: this.opset,
    };
  }

  build(): Uint8Array {
    return buildModel(this.spec());
  }
}
