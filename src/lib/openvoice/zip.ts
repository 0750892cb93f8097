// A read-only zip reader for PyTorch checkpoints: the central directory (with zip64 records, which newer
// torch versions may write), stored entries as zero-copy views and deflated ones through the platform's
// DecompressionStream. No streaming: the whole archive is in memory already.
import { CheckpointError } from './errors';

export interface ZipEntry {
  name: string;
  /** 0 = stored, 8 = deflate. */
  method: number;
  compressedSize: number;
  size: number;
  /** Offset of the entry's local header. */
  headerOffset: number;
}

const SIG_EOCD = 0x06054b50;
const SIG_ZIP64_LOCATOR = 0x07064b50;
const SIG_ZIP64_EOCD = 0x06064b50;
const SIG_CENTRAL = 0x02014b50;
const SIG_LOCAL = 0x04034b50;

/** Zip fields that overflowed to the zip64 extra field hold all ones. */
const U16_MAX = 0xffff;
const U32_MAX = 0xffffffff;

function u64(v: DataView, at: number): number {
  const n = v.getBigUint64(at, true);
  if (n > BigInt(Number.MAX_SAFE_INTEGER)) throw new CheckpointError('Zip archive field is too large.');
  return Number(n);
}

export class ZipArchive {
  readonly entries = new Map<string, ZipEntry>();
  private readonly view: DataView;

  constructor(private readonly bytes: Uint8Array) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.readDirectory();
  }

  private fail(why: string): never {
    throw new CheckpointError(`Not a readable PyTorch checkpoint: ${why}`);
  }

  private findEocd(): number {
    const v = this.view;
    // The record is 22 bytes plus a comment of at most 65535 bytes, at the very end.
    const last = this.bytes.length - 22;
    const first = Math.max(0, last - U16_MAX);
    for (let at = last; at >= first; at--) if (v.getUint32(at, true) === SIG_EOCD) return at;
    const head = this.bytes.length >= 2 ? this.bytes[0] === 0x80 && this.bytes[1] === 0x02 : false;
    this.fail(
      head
        ? 'this is the legacy (pre-1.6) torch.save format; re-save it with a recent PyTorch.'
        : 'not a zip archive (no end-of-central-directory record; the file may be truncated).',
    );
  }

  private readDirectory(): void {
    const v = this.view;
    if (this.bytes.length < 22) this.fail('the file is too short to be a zip archive.');
    const eocd = this.findEocd();
    let count = v.getUint16(eocd + 10, true);
    let dirSize = v.getUint32(eocd + 12, true);
    let dirOffset = v.getUint32(eocd + 16, true);
    if (count === U16_MAX || dirSize === U32_MAX || dirOffset === U32_MAX) {
      const loc = eocd - 20;
      if (loc < 0 || v.getUint32(loc, true) !== SIG_ZIP64_LOCATOR) this.fail('zip64 locator is missing.');
      const at = u64(v, loc + 8);
      if (at + 56 > this.bytes.length || v.getUint32(at, true) !== SIG_ZIP64_EOCD)
        this.fail('zip64 end-of-central-directory record is missing.');
      count = u64(v, at + 32);
      dirSize = u64(v, at + 40);
      dirOffset = u64(v, at + 48);
    }
    if (dirOffset + dirSize > this.bytes.length)
      this.fail('the central directory lies past the end (truncated?).');
    let at = dirOffset;
    for (let i = 0; i < count; i++) {
      if (at + 46 > this.bytes.length || v.getUint32(at, true) !== SIG_CENTRAL)
        this.fail(`central directory entry ${i} is damaged.`);
      const method = v.getUint16(at + 10, true);
      let compressedSize = v.getUint32(at + 20, true);
      let size = v.getUint32(at + 24, true);
      const nameLen = v.getUint16(at + 28, true);
      const extraLen = v.getUint16(at + 30, true);
      const commentLen = v.getUint16(at + 32, true);
      let headerOffset = v.getUint32(at + 42, true);
      const name = new TextDecoder().decode(this.bytes.subarray(at + 46, at + 46 + nameLen));
      // zip64 extra field: only the overflowed values are present, in this order.
      let e = at + 46 + nameLen;
      const extraEnd = e + extraLen;
      while (e + 4 <= extraEnd) {
        const id = v.getUint16(e, true);
        const len = v.getUint16(e + 2, true);
        if (id === 0x0001) {
          let f = e + 4;
          if (size === U32_MAX) {
            size = u64(v, f);
            f += 8;
          }
          if (compressedSize === U32_MAX) {
            compressedSize = u64(v, f);
            f += 8;
          }
          if (headerOffset === U32_MAX) headerOffset = u64(v, f);
        }
        e += 4 + len;
      }
      this.entries.set(name, { name, method, compressedSize, size, headerOffset });
      at = extraEnd + commentLen;
    }
  }

  /** The entry's stored bytes (still compressed when method ≠ 0). */
  private raw(entry: ZipEntry): Uint8Array {
    const v = this.view;
    const h = entry.headerOffset;
    if (h + 30 > this.bytes.length || v.getUint32(h, true) !== SIG_LOCAL)
      this.fail(`the local header of "${entry.name}" is damaged.`);
    // The local extra field differs from the central one (torch pads it to align data to 64 bytes).
    const start = h + 30 + v.getUint16(h + 26, true) + v.getUint16(h + 28, true);
    const end = start + entry.compressedSize;
    if (end > this.bytes.length) this.fail(`"${entry.name}" runs past the end of the file (truncated?).`);
    return this.bytes.subarray(start, end);
  }

  /** An entry's contents; a view into the archive when stored. */
  async read(name: string): Promise<Uint8Array> {
    const entry = this.entries.get(name);
    if (!entry) throw new CheckpointError(`The checkpoint has no "${name}".`);
    const raw = this.raw(entry);
    if (entry.method === 0) return raw;
    if (entry.method !== 8)
      throw new CheckpointError(
        `"${name}" uses zip compression method ${entry.method}; only stored and deflate are supported.`,
      );
    const stream = new Blob([raw as Uint8Array<ArrayBuffer>])
      .stream()
      .pipeThrough(new DecompressionStream('deflate-raw'));
    let out: Uint8Array;
    try {
      out = new Uint8Array(await new Response(stream).arrayBuffer());
    } catch (e) {
      throw new CheckpointError(`"${name}" does not inflate: ${(e as Error).message}`);
    }
    if (out.length !== entry.size)
      throw new CheckpointError(`"${name}" inflated to ${out.length} bytes instead of ${entry.size}.`);
    return out;
  }
}
