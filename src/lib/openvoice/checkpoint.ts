// Reads a PyTorch zip checkpoint (torch.save since 1.6) from bytes, with no Python: the zip's
// `<archive>/data.pkl` pickle describes the tensors and `<archive>/data/<key>` holds each storage's raw
// little-endian bytes. Tensors come back contiguous, as float32.
import { CheckpointError } from './errors';
import { PyGlobal, PyObject, unpickle } from './pickle';
import { ZipArchive } from './zip';

export interface CheckpointTensor {
  shape: number[];
  data: Float32Array;
}

/** What `persistent_load` sees: `('storage', torch.FloatStorage, '0', 'cpu', numel)`. */
interface StorageRef {
  kind: 'storage';
  dtype: string;
  key: string;
  numel: number;
}

/** A tensor as `_rebuild_tensor_v2` describes it, before its bytes are read. */
export class TensorRef {
  constructor(
    readonly storage: StorageRef,
    readonly offset: number,
    readonly shape: number[],
    readonly stride: number[],
  ) {}
}

/** torch's storage classes → dtype names; only float32 is loaded. */
const STORAGE_DTYPES: Record<string, string> = {
  FloatStorage: 'float32',
  DoubleStorage: 'float64',
  HalfStorage: 'float16',
  BFloat16Storage: 'bfloat16',
  LongStorage: 'int64',
  IntStorage: 'int32',
  ShortStorage: 'int16',
  CharStorage: 'int8',
  ByteStorage: 'uint8',
  BoolStorage: 'bool',
};

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

function intList(x: unknown, what: string): number[] {
  if (!Array.isArray(x) || !x.every((n) => typeof n === 'number' && Number.isInteger(n)))
    throw new CheckpointError(`A tensor's ${what} is not a tuple of integers.`);
  return x as number[];
}

function persistentLoad(pid: unknown): StorageRef {
  if (!Array.isArray(pid) || pid[0] !== 'storage')
    throw new CheckpointError('The checkpoint refers to external data that is not a tensor storage.');
  const [, type, key, , numel] = pid as [string, unknown, unknown, unknown, unknown];
  if (!(type instanceof PyGlobal) || typeof key !== 'string')
    throw new CheckpointError('The checkpoint has a storage reference of an unknown form.');
  return {
    kind: 'storage',
    dtype: STORAGE_DTYPES[type.name] ?? type.name,
    key,
    numel: typeof numel === 'number' ? numel : -1,
  };
}

function reduce(fn: PyGlobal, args: readonly unknown[]): unknown {
  switch (fn.qualified) {
    case 'collections.OrderedDict':
    case 'builtins.dict':
      return new Map();
    case 'torch._utils._rebuild_tensor':
    case 'torch._utils._rebuild_tensor_v2': {
      const [storage, offset, size, stride] = args;
      if (!storage || (storage as StorageRef).kind !== 'storage')
        throw new CheckpointError('A tensor in the checkpoint has no storage.');
      if (typeof offset !== 'number')
        throw new CheckpointError("A tensor's storage offset is not an integer.");
      return new TensorRef(storage as StorageRef, offset, intList(size, 'size'), intList(stride, 'stride'));
    }
    case 'torch._utils._rebuild_parameter':
    case 'torch._utils._rebuild_parameter_with_state':
      return args[0];
    default:
      return undefined;
  }
}

/** The pickled object of a checkpoint, with tensors as unread TensorRefs. */
export interface CheckpointArchive {
  root: unknown;
  /** Bytes of one storage, by key. */
  storage(key: string): Promise<Uint8Array>;
}

export async function openCheckpoint(bytes: Uint8Array): Promise<CheckpointArchive> {
  const zip = new ZipArchive(bytes);
  // torch names the archive folder after the file it saved to, so look for data.pkl one level down.
  const pkl = [...zip.entries.keys()].find((n) => /^[^/]+\/data\.pkl$/.test(n));
  if (!pkl) throw new CheckpointError('Not a PyTorch checkpoint: the zip archive has no <archive>/data.pkl.');
  const prefix = pkl.slice(0, -'data.pkl'.length);
  const root = unpickle(await zip.read(pkl), { persistentLoad, reduce });
  return {
    root,
    storage: (key) => {
      const name = `${prefix}data/${key}`;
      if (!zip.entries.has(name))
        throw new CheckpointError(
          `The checkpoint is missing storage "${name}" (a truncated or damaged file?).`,
        );
      return zip.read(name);
    },
  };
}

/** Copies a (possibly strided, offset) float32 view out of its storage into a contiguous array. */
export function materialize(t: TensorRef, storage: Uint8Array, name = 'tensor'): CheckpointTensor {
  if (t.storage.dtype !== 'float32')
    throw new CheckpointError(
      `Tensor "${name}" is ${t.storage.dtype}; only float32 checkpoints are supported (convert it with .float()).`,
    );
  if (t.shape.length !== t.stride.length)
    throw new CheckpointError(`Tensor "${name}" has ${t.shape.length} sizes but ${t.stride.length} strides.`);
  const count = t.shape.reduce((a, d) => a * d, 1);
  const elems = Math.floor(storage.byteLength / 4);
  if (t.storage.numel >= 0 && elems < t.storage.numel)
    throw new CheckpointError(`Storage of tensor "${name}" holds ${elems} values, not ${t.storage.numel}.`);
  const out = new Float32Array(count);
  if (count === 0) return { shape: [...t.shape], data: out };
  let last = t.offset;
  for (let d = 0; d < t.shape.length; d++) last += (t.shape[d]! - 1) * t.stride[d]!;
  if (t.offset < 0 || last >= elems)
    throw new CheckpointError(`Tensor "${name}" reads past the end of its storage.`);
  const v = new DataView(storage.buffer, storage.byteOffset, storage.byteLength);
  const contiguous = t.stride.every(
    (s, d) => t.shape[d] === 1 || s === t.shape.slice(d + 1).reduce((a, b) => a * b, 1),
  );
  const start = storage.byteOffset + t.offset * 4;
  if (contiguous && start % 4 === 0 && LITTLE_ENDIAN) {
    out.set(new Float32Array(storage.buffer, start, count));
  } else if (contiguous) {
    for (let i = 0; i < count; i++) out[i] = v.getFloat32((t.offset + i) * 4, true);
  } else {
    const idx = new Array<number>(t.shape.length).fill(0);
    for (let i = 0; i < count; i++) {
      let src = t.offset;
      for (let d = 0; d < idx.length; d++) src += idx[d]! * t.stride[d]!;
      out[i] = v.getFloat32(src * 4, true);
      for (let d = idx.length - 1; d >= 0; d--) {
        if (++idx[d]! < t.shape[d]!) break;
        idx[d] = 0;
      }
    }
  }
  return { shape: [...t.shape], data: out };
}

/** The state dict inside a checkpoint: `{"model": …}`, `{"state_dict": …}` or the dict itself. */
function stateDict(root: unknown): Map<unknown, unknown> {
  if (root instanceof Map) {
    for (const key of ['model', 'state_dict']) {
      const inner = root.get(key);
      if (inner instanceof Map) return inner;
    }
    if ([...root.values()].some((x) => x instanceof TensorRef)) return root;
  }
  const what = root instanceof PyObject ? root.callable.qualified : typeof root;
  throw new CheckpointError(`The checkpoint holds no state dict of tensors (found ${what}).`);
}

/**
 * Every tensor of the checkpoint's state dict, by name, as contiguous float32. Throws CheckpointError for
 * a file that is not a zip checkpoint, an unsupported pickle opcode, a missing storage or a non-float32
 * tensor.
 */
export async function readCheckpoint(bytes: Uint8Array): Promise<Map<string, CheckpointTensor>> {
  const archive = await openCheckpoint(bytes);
  const dict = stateDict(archive.root);
  const storages = new Map<string, Uint8Array>();
  const out = new Map<string, CheckpointTensor>();
  for (const [name, value] of dict) {
    if (!(value instanceof TensorRef) || typeof name !== 'string') continue;
    let bytesOf = storages.get(value.storage.key);
    if (!bytesOf) {
      bytesOf = await archive.storage(value.storage.key);
      storages.set(value.storage.key, bytesOf);
    }
    out.set(name, materialize(value, bytesOf, name));
  }
  return out;
}
