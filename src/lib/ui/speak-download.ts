// The Speak view's download menu: WAV and raw PCM are written here (no worker needed); the compressed
// formats go through ffmpeg.wasm (the formats worker) with these options.
import type { EncodeOptions } from '../codec/formats';
import { encodePcm16, encodeWav } from '../dsp/wav';

export type DownloadId = 'wav16' | 'wav32' | 'mp3' | 'opus' | 'flac' | 'aac' | 'pcm';

export interface DownloadChoice {
  id: DownloadId;
  label: string;
  hint: string;
  /** Set for formats ffmpeg encodes. */
  encode?: EncodeOptions;
}

export const DOWNLOADS: readonly DownloadChoice[] = [
  { id: 'wav16', label: 'WAV', hint: '16-bit PCM' },
  { id: 'wav32', label: 'WAV float', hint: '32-bit float' },
  { id: 'mp3', label: 'MP3', hint: '128 kbps', encode: { format: 'mp3', bitrate: 128 } },
  { id: 'opus', label: 'Opus', hint: 'in Ogg, 64 kbps', encode: { format: 'opus', bitrate: 64 } },
  { id: 'flac', label: 'FLAC', hint: 'lossless', encode: { format: 'flac' } },
  { id: 'aac', label: 'AAC', hint: 'ADTS, 128 kbps', encode: { format: 'aac', bitrate: 128 } },
  { id: 'pcm', label: 'PCM', hint: 's16le, no header', encode: undefined },
];

export interface LocalFile {
  bytes: Uint8Array;
  mime: string;
  extension: string;
}

/** WAV (16-bit or float) and raw PCM, written without ffmpeg; null for the formats ffmpeg encodes. */
export function encodeLocally(id: DownloadId, samples: Float32Array, sampleRate: number): LocalFile | null {
  switch (id) {
    case 'wav16':
      return { bytes: encodeWav(samples, sampleRate, 's16'), mime: 'audio/wav', extension: 'wav' };
    case 'wav32':
      return { bytes: encodeWav(samples, sampleRate, 'f32'), mime: 'audio/wav', extension: 'wav' };
    case 'pcm':
      return { bytes: encodePcm16(samples), mime: 'application/octet-stream', extension: 'pcm' };
    default:
      return null;
  }
}
