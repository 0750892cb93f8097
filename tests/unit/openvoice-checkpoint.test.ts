// The PyTorch checkpoint reader (zip + pickle, no Python): the parity fixture's real torch.save output,
// synthetic checkpoints that exercise strides, offsets, deflate, protocol-4 opcodes and odd archive names,
// and the named errors for files it cannot read.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readCheckpoint } from '../../src/lib/openvoice/checkpoint';
import { toApiError } from '../../src/lib/api/errors';
import { CheckpointError } from '../../src/lib/openvoice/errors';
import { PyGlobal, PyObject, unpickle } from '../../src/lib/openvoice/pickle';
import { PickleWriter, floatBytes, writeZip } from './openvoice-checkpoint-helpers';

const FIXTURE = join(import.meta.dirname, '..', 'fixtures', 'openvoice-v2-tiny', 'checkpoint.pth');
const fixtureBytes = () => new Uint8Array(readFileSync(FIXTURE));

/** {"model": OrderedDict(a: 2×3 transposed view at offset 2, b: parameter [4]), "iteration": 7}. */
function syntheticPickle(storage = 'FloatStorage'): Uint8Array {
  const p = new PickleWriter();
  p.raw(0x7d).mark(); // EMPTY_DICT MARK
  p.str('model').global('collections', 'OrderedDict').raw(0x29, 0x52).mark(); // OrderedDict() MARK
  // a: size (2, 3), stride (1, 2), offset 2 over storage 0 = [0..9]: a[i][j] = 2 + i + 2j
  p.str('a').tensor({ key: '0', storage, numel: 10, offset: 2, size: [2, 3], stride: [1, 2] });
  // b: _rebuild_parameter(tensor, True, OrderedDict()) over storage 1
  p.str('b').global('torch._utils', '_rebuild_parameter').mark();
  p.tensor({ key: '1', numel: 4, offset: 0, size: [4], stride: [1] }).raw(0x88); // NEWTRUE
  p.global('collections', 'OrderedDict').raw(0x29, 0x52).tuple().raw(0x52);
  p.raw(0x75); // SETITEMS into the OrderedDict
  p.str('iteration').int(7);
  p.raw(0x75); // SETITEMS into the top dict
  return p.stop();
}

function syntheticCheckpoint(
  opts: { prefix?: string; deflate?: boolean; drop?: string; storage?: string; zip64?: boolean } = {},
): Uint8Array {
  const prefix = opts.prefix ?? 'archive';
  const files = [
    { name: `${prefix}/data.pkl`, data: syntheticPickle(opts.storage), deflate: opts.deflate },
    { name: `${prefix}/data/0`, data: floatBytes([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]) },
    { name: `${prefix}/data/1`, data: floatBytes([0.5, -1.5, 2.25, 1e-3]), deflate: opts.deflate },
    { name: `${prefix}/version`, data: new TextEncoder().encode('3\n') },
  ].filter((f) => f.name !== `${prefix}/${opts.drop}`);
  return writeZip(files, { zip64: opts.zip64 });
}

describe('readCheckpoint on the fixture (written by torch.save)', () => {
  it('reads every tensor with its shape', async () => {
    const t = await readCheckpoint(fixtureBytes());
    expect(t.size).toBe(486);
    expect(t.get('dec.conv_pre.weight')!.shape).toEqual([64, 48, 7]);
    expect(t.get('dec.ups.0.weight_v')!.shape).toEqual([64, 32, 16]);
    expect(t.get('ref_enc.gru.weight_ih_l0')!.shape).toEqual([384, 1152]);
    expect(t.get('enc_q.enc.cond_layer.weight_g')!.shape).toEqual([1536, 1, 1]);
    for (const [name, x] of t) {
      expect(x.data.length, name).toBe(x.shape.reduce((a, d) => a * d, 1));
      expect(x.data.every(Number.isFinite), name).toBe(true);
    }
    // Real values, not zeros.
    const w = t.get('dec.conv_pre.weight')!.data;
    expect(Math.max(...w.map(Math.abs))).toBeGreaterThan(1e-3);
  });

  it('refuses a truncated file with CheckpointError', async () => {
    const b = fixtureBytes();
    await expect(readCheckpoint(b.subarray(0, Math.floor(b.length / 2)))).rejects.toThrow(CheckpointError);
    await expect(readCheckpoint(b.subarray(0, b.length - 10))).rejects.toThrow(/truncated/);
  });

  it('refuses a damaged local header (directory intact)', async () => {
    const b = fixtureBytes().slice();
    b.set([0, 0, 0, 0], 0); // the first entry's signature
    await expect(readCheckpoint(b)).rejects.toThrow(/local header of "checkpoint\/data\.pkl" is damaged/);
  });
});

describe('readCheckpoint on synthetic checkpoints', () => {
  it('makes strided views with an offset contiguous, and unwraps parameters', async () => {
    const t = await readCheckpoint(syntheticCheckpoint());
    expect([...t.keys()]).toEqual(['a', 'b']);
    expect(t.get('a')!.shape).toEqual([2, 3]);
    expect([...t.get('a')!.data]).toEqual([2, 4, 6, 3, 5, 7]);
    expect([...t.get('b')!.data]).toEqual([0.5, -1.5, 2.25, Math.fround(1e-3)]);
  });

  it('reads any archive folder name and deflated entries', async () => {
    const t = await readCheckpoint(syntheticCheckpoint({ prefix: 'my_model.v2', deflate: true }));
    expect([...t.get('a')!.data]).toEqual([2, 4, 6, 3, 5, 7]);
    expect(t.get('b')!.data[1]).toBe(-1.5);
  });

  it('reads zip64 directories', async () => {
    const t = await readCheckpoint(syntheticCheckpoint({ zip64: true, deflate: true }));
    expect([...t.get('a')!.data]).toEqual([2, 4, 6, 3, 5, 7]);
    expect(t.get('b')!.data[2]).toBe(2.25);
  });

  it('names a missing storage', async () => {
    await expect(readCheckpoint(syntheticCheckpoint({ drop: 'data/1' }))).rejects.toThrow(
      /missing storage "archive\/data\/1"/,
    );
  });

  it('refuses non-float32 tensors with the dtype in the message', async () => {
    const err = await readCheckpoint(syntheticCheckpoint({ storage: 'HalfStorage' })).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(CheckpointError);
    expect((err as Error).message).toMatch(/"a" is float16; only float32/);
  });

  it('refuses what is not a zip, and a zip with no data.pkl', async () => {
    await expect(
      readCheckpoint(new TextEncoder().encode('not a checkpoint at all, just text')),
    ).rejects.toThrow(/not a zip archive/);
    await expect(readCheckpoint(new Uint8Array(3))).rejects.toThrow(CheckpointError);
    const zip = writeZip([{ name: 'x/other.txt', data: new Uint8Array(4) }]);
    await expect(readCheckpoint(zip)).rejects.toThrow(/no <archive>\/data\.pkl/);
  });

  it('maps to a 400 with its message in the API', async () => {
    const err = await readCheckpoint(new Uint8Array(100)).catch((e: unknown) => e);
    const api = toApiError(err);
    expect(api.status).toBe(400);
    expect(api.code).toBe('bad_request');
    expect(api.message).toMatch(/not a zip archive/);
  });

  it('says which pickle opcode it does not support', async () => {
    const pkl = new PickleWriter().raw(0x82, 1).stop(); // EXT1
    const zip = writeZip([{ name: 'a/data.pkl', data: pkl }]);
    const err = await readCheckpoint(zip).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CheckpointError);
    expect((err as Error).name).toBe('CheckpointError');
    expect((err as Error).message).toMatch(/Unsupported pickle opcode EXT1 at byte 2/);
  });
});

describe('unpickle', () => {
  it('builds dicts, lists, tuples, numbers, strings and memo references', () => {
    const p = new PickleWriter(2);
    p.raw(0x7d).raw(0x71, 0).mark(); // {} BINPUT 0
    p.str('list').raw(0x5d).mark().int(1).int(300).int(70000).raw(0x4e, 0x88, 0x89).raw(0x65); // [1,300,70000,None,True,False]
    p.str('float').raw(0x47, ...new Uint8Array(new Float64Array([-2.5]).buffer).reverse()); // BINFLOAT big-endian
    p.str('neg').raw(0x4a, 0xfe, 0xff, 0xff, 0xff); // BININT -2
    p.str('big').raw(0x8a, 9, ...[0, 0, 0, 0, 0, 0, 0, 0, 1]); // LONG1 2**64
    p.str('pair').int(1).int(2).raw(0x86).raw(0x71, 1); // TUPLE2, BINPUT 1
    p.str('again').raw(0x68, 1); // BINGET 1
    p.raw(0x75);
    const d = unpickle(p.stop()) as Map<string, unknown>;
    expect(d.get('list')).toEqual([1, 300, 70000, null, true, false]);
    expect(d.get('float')).toBe(-2.5);
    expect(d.get('neg')).toBe(-2);
    expect(d.get('big')).toBe(2n ** 64n);
    expect(d.get('pair')).toEqual([1, 2]);
    expect(d.get('again')).toBe(d.get('pair'));
  });

  it('reads protocol 4: FRAME, SHORT_BINUNICODE, STACK_GLOBAL, MEMOIZE', () => {
    const p = new PickleWriter(4);
    p.raw(0x95, 20, 0, 0, 0, 0, 0, 0, 0); // FRAME
    p.shortStr('collections').raw(0x94).shortStr('OrderedDict').raw(0x94).raw(0x93, 0x94); // STACK_GLOBAL
    p.raw(0x29, 0x52, 0x94).mark().shortStr('k').int(5).raw(0x75);
    const d = unpickle(p.stop(), {
      reduce: (fn) => (fn.qualified === 'collections.OrderedDict' ? new Map() : undefined),
    });
    expect(d).toEqual(new Map([['k', 5]]));
  });

  it('keeps calls it does not model as inert data, with their BUILD state', () => {
    const p = new PickleWriter();
    p.global('os', 'system').mark().str('rm -rf /').tuple().raw(0x52); // never executed
    p.raw(0x7d).raw(0x62); // BUILD with {}
    const o = unpickle(p.stop());
    expect(o).toBeInstanceOf(PyObject);
    expect((o as PyObject).callable).toEqual(new PyGlobal('os', 'system'));
    expect((o as PyObject).args).toEqual(['rm -rf /']);
    expect((o as PyObject).state).toEqual(new Map());
  });

  it('names truncation and stack errors', () => {
    expect(() => unpickle(new Uint8Array([0x80, 2, 0x58, 10, 0, 0, 0, 65]))).toThrow(/truncated/);
    expect(() => unpickle(new Uint8Array([0x80, 2, 0x2e]))).toThrow(/empty stack/);
    expect(() => unpickle(new Uint8Array([0x80, 2, 0x68, 3, 0x2e]))).toThrow(/memo 3/);
  });
});
