import { parseBuffer } from 'music-metadata';

export class UndecodableAudioError extends Error {
  override name = 'UndecodableAudioError';
}

export interface AudioInfo {
  duration: number;
  sample_rate: number | null;
  channels: number | null;
  format: string | null;
  codec: string | null;
}

/** Duration and basic facts of an audio file in any common container (wav, mp3, flac, ogg, m4a, webm…). */
export async function audioInfo(bytes: Uint8Array, mimeType?: string): Promise<AudioInfo> {
  if (bytes.byteLength < 16) throw new UndecodableAudioError('The audio is too short to be a real file.');
  let meta;
  try {
    meta = await parseBuffer(
      bytes,
      mimeType ? { mimeType, size: bytes.byteLength } : { size: bytes.byteLength },
      {
        duration: true,
        skipCovers: true,
      },
    );
  } catch (e) {
    throw new UndecodableAudioError(
      `The audio could not be decoded (${e instanceof Error ? e.message : 'unknown format'}).`,
    );
  }
  const f = meta.format;
  const duration =
    f.duration ?? (f.numberOfSamples && f.sampleRate ? f.numberOfSamples / f.sampleRate : undefined);
  if (duration === undefined || !Number.isFinite(duration) || duration <= 0)
    throw new UndecodableAudioError(
      'The audio could not be decoded: no audio stream with a known duration was found.',
    );
  return {
    duration,
    sample_rate: f.sampleRate ?? null,
    channels: f.numberOfChannels ?? null,
    format: f.container ?? null,
    codec: f.codec ?? null,
  };
}
