// RIFF/WAVE for Float32 audio (mono, or interleaved channels) without ffmpeg: encode as 16-bit PCM (dithered-free rounding, clipped to
// ±1) or 32-bit IEEE float; decode PCM 16/24/32-bit and float 32/64 back to Float32 (channels averaged).

export class WavFormatError extends Error {
  override name = 'WavFormatError';
}

export type WavSampleFormat = 's16' | 'f32';

/**
 * The 44-byte RIFF/WAVE header. `dataBytes` null: a stream of unknown length, RIFF and data sizes
 * 0xFFFFFFFF (what streaming encoders write; readers take the data as running to the end of the file).
 */
function writeHeader(
  v: DataView,
  h: { format: WavSampleFormat; channels: number; sampleRate: number; dataBytes: number | null },
): void {
  const bytesPer = h.format === 's16' ? 2 : 4;
  const ascii = (at: number, s: string) => {
    for (let i = 0; i < s.length; i++) v.setUint8(at + i, s.charCodeAt(i));
  };
  ascii(0, 'RIFF');
  v.setUint32(4, h.dataBytes === null ? 0xffffffff : 36 + h.dataBytes, true);
  ascii(8, 'WAVE');
  ascii(12, 'fmt ');
  v.setUint32(16, 16, true);
  v.setUint16(20, h.format === 's16' ? 1 : 3, true); // PCM or IEEE float
  v.setUint16(22, h.channels, true);
  v.setUint32(24, h.sampleRate, true);
  v.setUint32(28, h.sampleRate * bytesPer * h.channels, true);
  v.setUint16(32, bytesPer * h.channels, true);
  v.setUint16(34, bytesPer * 8, true);
  ascii(36, 'data');
  v.setUint32(40, h.dataBytes === null ? 0xffffffff : h.dataBytes, true);
}

/** The header of a 16-bit mono WAV stream of unknown length (streamed speech). */
export function streamingWavHeader(sampleRate: number): Uint8Array {
  const h = new Uint8Array(44);
  writeHeader(new DataView(h.buffer), { format: 's16', channels: 1, sampleRate, dataBytes: null });
  return h;
}

/** `samples` interleaved when `channels` > 1. */
export function encodeWav(
  samples: Float32Array,
  sampleRate: number,
  format: WavSampleFormat = 's16',
  channels = 1,
): Uint8Array {
  const bytesPer = format === 's16' ? 2 : 4;
  const dataBytes = samples.length * bytesPer;
  const out = new Uint8Array(44 + dataBytes);
  const v = new DataView(out.buffer);
  writeHeader(v, { format, channels, sampleRate, dataBytes });
  for (let i = 0; i < samples.length; i++) {
    const x = samples[i]!;
    if (format === 'f32') v.setFloat32(44 + i * 4, x, true);
    else v.setInt16(44 + i * 2, toInt16(x), true);
  }
  return out;
}

/** One float sample as 16-bit PCM: clipped to ±1, NaN as silence. */
function toInt16(x: number): number {
  const c = Math.max(-1, Math.min(1, Number.isFinite(x) ? x : 0));
  return Math.round(c < 0 ? c * 32768 : c * 32767);
}

/** Raw 16-bit little-endian PCM (no header): the API's `pcm` format. */
export function encodePcm16(samples: Float32Array): Uint8Array {
  const out = new Uint8Array(samples.length * 2);
  const v = new DataView(out.buffer);
  for (let i = 0; i < samples.length; i++) v.setInt16(i * 2, toInt16(samples[i]!), true);
  return out;
}

export interface DecodedWav {
  samples: Float32Array;
  sampleRate: number;
  channels: number;
  format: WavSampleFormat | 's24' | 's32' | 'f64';
}

/** A RIFF/WAVE file by its first twelve bytes (the one WAV check: the decoder and the sniffer use it). */
export const isWav = (b: Uint8Array) =>
  b.length >= 12 &&
  String.fromCharCode(b[0]!, b[1]!, b[2]!, b[3]!) === 'RIFF' &&
  String.fromCharCode(b[8]!, b[9]!, b[10]!, b[11]!) === 'WAVE';

export function decodeWav(bytes: Uint8Array): DecodedWav {
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const tag = (at: number) => String.fromCharCode(...bytes.subarray(at, at + 4));
  if (!isWav(bytes)) throw new WavFormatError('Not a WAV file.');
  let fmt: { code: number; channels: number; rate: number; bits: number } | null = null;
  let at = 12;
  while (at + 8 <= bytes.length) {
    const id = tag(at);
    const size = v.getUint32(at + 4, true);
    const body = at + 8;
    if (id === 'fmt ') {
      let code = v.getUint16(body, true);
      if (code === 0xfffe && size >= 26) code = v.getUint16(body + 24, true); // WAVE_FORMAT_EXTENSIBLE
      fmt = {
        code,
        channels: v.getUint16(body + 2, true),
        rate: v.getUint32(body + 4, true),
        bits: v.getUint16(body + 14, true),
      };
    } else if (id === 'data') {
      if (!fmt) throw new WavFormatError('WAV data comes before its format.');
      const end = Math.min(bytes.length, body + size);
      return decodeData(v, body, end, fmt);
    }
    at = body + size + (size & 1);
  }
  throw new WavFormatError('WAV file has no data chunk.');
}

function decodeData(
  v: DataView,
  start: number,
  end: number,
  f: { code: number; channels: number; rate: number; bits: number },
): DecodedWav {
  const bytesPer = f.bits / 8;
  const read = (o: number): number => {
    if (f.code === 3 && f.bits === 32) return v.getFloat32(o, true);
    if (f.code === 3 && f.bits === 64) return v.getFloat64(o, true);
    if (f.code === 1 && f.bits === 16) return v.getInt16(o, true) / 32768;
    if (f.code === 1 && f.bits === 24) {
      const x = v.getUint8(o) | (v.getUint8(o + 1) << 8) | (v.getInt8(o + 2) << 16);
      return x / 8388608;
    }
    if (f.code === 1 && f.bits === 32) return v.getInt32(o, true) / 2147483648;
    throw new WavFormatError(`Unsupported WAV sample format (code ${f.code}, ${f.bits} bits).`);
  };
  const frame = bytesPer * f.channels;
  if (!f.channels || !frame) throw new WavFormatError('WAV format chunk is invalid.');
  const n = Math.floor((end - start) / frame);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let c = 0; c < f.channels; c++) s += read(start + i * frame + c * bytesPer);
    out[i] = s / f.channels;
  }
  const format =
    f.code === 3 ? (f.bits === 64 ? 'f64' : 'f32') : f.bits === 16 ? 's16' : f.bits === 24 ? 's24' : 's32';
  return { samples: out, sampleRate: f.rate, channels: f.channels, format };
}
