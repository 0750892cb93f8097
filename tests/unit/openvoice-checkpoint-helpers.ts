// Builders for synthetic PyTorch checkpoints in tests: a pickle emitter for the opcodes torch.save writes
// and a zip writer (stored or deflated entries, torch-style padded local headers).
import { deflateRawSync } from 'node:zlib';

/** Emits pickle opcodes; methods push one value each, as the unpickler will see them. */
export class PickleWriter {
  readonly out: number[] = [];

  constructor(protocol = 2) {
    this.out.push(0x80, protocol);
  }
  raw(...b: number[]): this {
    this.out.push(...b);
    return this;
  }
  private u32(n: number) {
    this.out.push(n & 255, (n >>> 8) & 255, (n >>> 16) & 255, (n >>> 24) & 255);
  }
  str(s: string): this {
    const b = new TextEncoder().encode(s);
    this.out.push(0x58);
    this.u32(b.length);
    this.out.push(...b);
    return this;
  }
  shortStr(s: string): this {
    const b = new TextEncoder().encode(s);
    this.out.push(0x8c, b.length, ...b);
    return this;
  }
  int(n: number): this {
    if (n >= 0 && n < 256) this.out.push(0x4b, n);
    else if (n >= 0 && n < 65536) this.out.push(0x4d, n & 255, n >> 8);
    else {
      this.out.push(0x4a);
      this.u32(n >>> 0);
    }
    return this;
  }
  global(module: string, name: string): this {
    this.out.push(0x63, ...new TextEncoder().encode(`${module}\n${name}\n`));
    return this;
  }
  mark(): this {
    return this.raw(0x28);
  }
  tuple(): this {
    return this.raw(0x74);
  }
  ints(values: number[]): this {
    this.mark();
    values.forEach((v) => this.int(v));
    return this.tuple();
  }
  /** `torch._utils._rebuild_tensor_v2(storage, offset, size, stride, False, OrderedDict())`. */
  tensor(t: {
    key: string;
    storage?: string;
    numel: number;
    offset: number;
    size: number[];
    stride: number[];
  }): this {
    this.global('torch._utils', '_rebuild_tensor_v2').mark();
    this.mark()
      .str('storage')
      .global('torch', t.storage ?? 'FloatStorage')
      .str(t.key)
      .str('cpu')
      .int(t.numel)
      .tuple();
    this.raw(0x51); // BINPERSID
    this.int(t.offset).ints(t.size).ints(t.stride).raw(0x89); // NEWFALSE
    this.global('collections', 'OrderedDict').raw(0x29, 0x52); // EMPTY_TUPLE REDUCE
    return this.tuple().raw(0x52);
  }
  stop(): Uint8Array {
    return new Uint8Array([...this.out, 0x2e]);
  }
}

export interface ZipInput {
  name: string;
  data: Uint8Array;
  deflate?: boolean;
}

/**
 * A zip archive; stored entries get local extra-field padding so data starts on a 64-byte boundary. With
 * `zip64`, sizes, offsets and counts go in zip64 records only (as writers do past 4 GB).
 */
export function writeZip(files: ZipInput[], opts: { zip64?: boolean } = {}): Uint8Array {
  const chunks: Uint8Array[] = [];
  const central: Uint8Array[] = [];
  let offset = 0;
  for (const f of files) {
    const name = new TextEncoder().encode(f.name);
    const body = f.deflate ? new Uint8Array(deflateRawSync(f.data)) : f.data;
    const pad = f.deflate ? 0 : (64 - ((offset + 30 + name.length + 4) % 64)) % 64;
    const extraLen = f.deflate ? 0 : 4 + pad;
    const local = new Uint8Array(30 + name.length + extraLen);
    const lv = new DataView(local.buffer);
    lv.setUint32(0, 0x04034b50, true);
    lv.setUint16(8, f.deflate ? 8 : 0, true);
    lv.setUint32(18, body.length, true);
    lv.setUint32(22, f.data.length, true);
    lv.setUint16(26, name.length, true);
    lv.setUint16(28, extraLen, true);
    local.set(name, 30);
    if (extraLen) {
      lv.setUint16(30 + name.length, 0x4346, true); // torch's "FB" padding record
      lv.setUint16(32 + name.length, pad, true);
    }
    const c = new Uint8Array(46 + name.length + (opts.zip64 ? 28 : 0));
    const cv = new DataView(c.buffer);
    cv.setUint32(0, 0x02014b50, true);
    cv.setUint16(10, f.deflate ? 8 : 0, true);
    cv.setUint32(20, opts.zip64 ? 0xffffffff : body.length, true);
    cv.setUint32(24, opts.zip64 ? 0xffffffff : f.data.length, true);
    cv.setUint16(28, name.length, true);
    cv.setUint32(42, opts.zip64 ? 0xffffffff : offset, true);
    c.set(name, 46);
    if (opts.zip64) {
      const e = 46 + name.length;
      cv.setUint16(30, 28, true);
      cv.setUint16(e, 0x0001, true);
      cv.setUint16(e + 2, 24, true);
      cv.setBigUint64(e + 4, BigInt(f.data.length), true);
      cv.setBigUint64(e + 12, BigInt(body.length), true);
      cv.setBigUint64(e + 20, BigInt(offset), true);
    }
    central.push(c);
    chunks.push(local, body);
    offset += local.length + body.length;
  }
  const dirSize = central.reduce((a, c) => a + c.length, 0);
  const eocd = new Uint8Array(22);
  const ev = new DataView(eocd.buffer);
  ev.setUint32(0, 0x06054b50, true);
  ev.setUint16(8, opts.zip64 ? 0xffff : files.length, true);
  ev.setUint16(10, opts.zip64 ? 0xffff : files.length, true);
  ev.setUint32(12, opts.zip64 ? 0xffffffff : dirSize, true);
  ev.setUint32(16, opts.zip64 ? 0xffffffff : offset, true);
  const tail: Uint8Array[] = [];
  if (opts.zip64) {
    const rec = new Uint8Array(56);
    const rv = new DataView(rec.buffer);
    rv.setUint32(0, 0x06064b50, true);
    rv.setBigUint64(4, 44n, true);
    rv.setBigUint64(24, BigInt(files.length), true);
    rv.setBigUint64(32, BigInt(files.length), true);
    rv.setBigUint64(40, BigInt(dirSize), true);
    rv.setBigUint64(48, BigInt(offset), true);
    const loc = new Uint8Array(20);
    const lv = new DataView(loc.buffer);
    lv.setUint32(0, 0x07064b50, true);
    lv.setBigUint64(8, BigInt(offset + dirSize), true);
    lv.setUint32(16, 1, true);
    tail.push(rec, loc);
  }
  const all = [...chunks, ...central, ...tail, eocd];
  const out = new Uint8Array(all.reduce((a, c) => a + c.length, 0));
  let at = 0;
  for (const c of all) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

export function floatBytes(values: number[]): Uint8Array {
  return new Uint8Array(new Float32Array(values).buffer);
}
