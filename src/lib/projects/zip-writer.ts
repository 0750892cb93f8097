// A tiny store-only zip writer (no compression: WAV barely deflates and this keeps it dependency-free).
// No zip64, so one archive stays under 4 GiB and 65535 entries. Readable by src/lib/openvoice/zip.ts.

export class ZipTooLargeError extends Error {
  override name = 'ZipTooLargeError';
}

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

export function crc32(b: Uint8Array): number {
  let c = 0xffffffff;
  for (let i = 0; i < b.length; i++) c = CRC_TABLE[(c ^ b[i]!) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

export interface ZipInput {
  name: string;
  data: Uint8Array;
}

/** DOS date/time fields for a moment (local time, as zip tools read them). */
function dosTime(d: Date): { time: number; date: number } {
  return {
    time: (d.getHours() << 11) | (d.getMinutes() << 5) | (d.getSeconds() >> 1),
    date: ((Math.max(1980, d.getFullYear()) - 1980) << 9) | ((d.getMonth() + 1) << 5) | d.getDate(),
  };
}

export function writeZip(files: ZipInput[], when = new Date()): Uint8Array {
  const enc = new TextEncoder();
  const { time, date } = dosTime(when);
  const names = files.map((f) => enc.encode(f.name));
  const crcs = files.map((f) => crc32(f.data));
  const localSize = files.reduce((n, f, i) => n + 30 + names[i]!.length + f.data.length, 0);
  const dirSize = names.reduce((n, nm) => n + 46 + nm.length, 0);
  const total = localSize + dirSize + 22;
  if (files.length > 0xffff || total > 0xffffffff)
    throw new ZipTooLargeError('Too many or too large files for one zip (limit 65535 files, 4 GiB).');
  const out = new Uint8Array(total);
  const v = new DataView(out.buffer);
  const offsets: number[] = [];
  let at = 0;
  files.forEach((f, i) => {
    offsets.push(at);
    v.setUint32(at, 0x04034b50, true);
    v.setUint16(at + 4, 20, true); // version needed
    v.setUint16(at + 6, 0x0800, true); // UTF-8 names
    v.setUint16(at + 8, 0, true); // stored
    v.setUint16(at + 10, time, true);
    v.setUint16(at + 12, date, true);
    v.setUint32(at + 14, crcs[i]!, true);
    v.setUint32(at + 18, f.data.length, true);
    v.setUint32(at + 22, f.data.length, true);
    v.setUint16(at + 26, names[i]!.length, true);
    v.setUint16(at + 28, 0, true);
    out.set(names[i]!, at + 30);
    out.set(f.data, at + 30 + names[i]!.length);
    at += 30 + names[i]!.length + f.data.length;
  });
  const dir = at;
  files.forEach((f, i) => {
    v.setUint32(at, 0x02014b50, true);
    v.setUint16(at + 4, 20, true); // made by
    v.setUint16(at + 6, 20, true);
    v.setUint16(at + 8, 0x0800, true);
    v.setUint16(at + 10, 0, true);
    v.setUint16(at + 12, time, true);
    v.setUint16(at + 14, date, true);
    v.setUint32(at + 16, crcs[i]!, true);
    v.setUint32(at + 20, f.data.length, true);
    v.setUint32(at + 24, f.data.length, true);
    v.setUint16(at + 28, names[i]!.length, true);
    // extra, comment, disk, internal attributes, external attributes: zero
    v.setUint32(at + 42, offsets[i]!, true);
    out.set(names[i]!, at + 46);
    at += 46 + names[i]!.length;
  });
  v.setUint32(at, 0x06054b50, true);
  v.setUint16(at + 8, files.length, true);
  v.setUint16(at + 10, files.length, true);
  v.setUint32(at + 12, at - dir, true);
  v.setUint32(at + 16, dir, true);
  return out;
}
