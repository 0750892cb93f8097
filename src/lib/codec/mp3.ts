// MP3 pieces that join: an MP3 stream is a run of self-contained frames, so pieces encoded one after another
// (a sentence at a time, for streamed speech) play as one stream once each piece's file-level parts are
// gone: the ID3v2 tag in front, the Xing/Info frame (whose frame count and gapless data describe that piece
// alone) and an ID3v1 tag at the end.

const BITRATES_V1 = [0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320];
const BITRATES_V2 = [0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160];
const RATES: Record<number, number[]> = {
  3: [44100, 48000, 32000], // MPEG-1
  2: [22050, 24000, 16000], // MPEG-2
  0: [11025, 12000, 8000], // MPEG-2.5
};

/** The byte length of the Layer III frame whose header starts at `at`, or 0 when none starts there. */
export function mp3FrameLength(b: Uint8Array, at: number): number {
  if (at + 4 > b.length || b[at] !== 0xff || (b[at + 1]! & 0xe0) !== 0xe0) return 0;
  const version = (b[at + 1]! >> 3) & 3;
  const layer = (b[at + 1]! >> 1) & 3;
  const bitrateIndex = b[at + 2]! >> 4;
  const rateIndex = (b[at + 2]! >> 2) & 3;
  const padding = (b[at + 2]! >> 1) & 1;
  if (version === 1 || layer !== 1 || bitrateIndex === 0 || bitrateIndex === 15 || rateIndex === 3) return 0;
  const kbps = (version === 3 ? BITRATES_V1 : BITRATES_V2)[bitrateIndex]!;
  const rate = RATES[version]![rateIndex]!;
  return Math.floor(((version === 3 ? 144 : 72) * kbps * 1000) / rate) + padding;
}

function id3v2Length(b: Uint8Array): number {
  if (b.length < 10 || b[0] !== 0x49 || b[1] !== 0x44 || b[2] !== 0x33) return 0; // "ID3"
  const size = ((b[6]! & 0x7f) << 21) | ((b[7]! & 0x7f) << 14) | ((b[8]! & 0x7f) << 7) | (b[9]! & 0x7f);
  return 10 + size + (b[5]! & 0x10 ? 10 : 0);
}

const tagAt = (b: Uint8Array, at: number, tag: string) =>
  [...tag].every((c, i) => b[at + i] === c.charCodeAt(0));

/**
 * The audio frames of one MP3 file, without its ID3v2/ID3v1 tags and Xing/Info frame, so that pieces
 * encoded separately can be sent one after another as a single stream. Bytes that are not MP3 are
 * returned as they are.
 */
export function mp3Frames(bytes: Uint8Array): Uint8Array {
  let start = id3v2Length(bytes);
  let end = bytes.length;
  if (end - start >= 128 && tagAt(bytes, end - 128, 'TAG')) end -= 128;
  const first = mp3FrameLength(bytes, start);
  if (first) {
    // The Xing/Info tag sits after the side information, within the first 40 bytes of the frame.
    for (let at = start + 4; at < start + Math.min(first, 44); at++)
      if (tagAt(bytes, at, 'Xing') || tagAt(bytes, at, 'Info')) {
        start += first;
        break;
      }
  }
  return bytes.subarray(start, end);
}

/** The samples one frame decodes to and their rate, for the frame whose header starts at `at`. */
function frameSamples(b: Uint8Array, at: number): { samples: number; rate: number } {
  const version = (b[at + 1]! >> 3) & 3;
  return { samples: version === 3 ? 1152 : 576, rate: RATES[version]![(b[at + 2]! >> 2) & 3]! };
}

/** Seconds of audio a run of whole frames decodes to (0 for bytes that are not mp3 frames). */
export function mp3Seconds(frames: Uint8Array): number {
  let seconds = 0;
  for (let at = 0, n = mp3FrameLength(frames, 0); n > 0; at += n, n = mp3FrameLength(frames, at)) {
    const f = frameSamples(frames, at);
    seconds += f.samples / f.rate;
  }
  return seconds;
}

/**
 * Joins mp3 pieces encoded one at a time (mp3Frames) so the stream keeps the audio's timing. A piece decodes
 * to whole frames: its audio after the encoder's delay, then padding, some 55 ms more than went in at 24 kHz;
 * piece after piece the stream would run that much further ahead of the audio each time (0.27 s over five
 * sentences in tests/unit/mp3-join.test.ts). The joiner counts how far ahead it is and takes that back from the digital silence a piece
 * opens with (the pause before a sentence) before the piece is encoded, so only the last piece's overrun
 * remains.
 */
export class Mp3Joiner {
  /** Seconds the joined stream has run ahead of the audio given so far. */
  ahead = 0;

  /** The next piece's samples, its leading digital silence (exact zeros) shortened by what is ahead. */
  next(samples: Float32Array, sampleRate: number): Float32Array {
    const most = Math.min(samples.length, Math.floor(this.ahead * sampleRate));
    let cut = 0;
    while (cut < most && samples[cut] === 0) cut++;
    this.ahead -= cut / sampleRate;
    return cut ? samples.subarray(cut) : samples;
  }

  /** The frames of an encoded piece (`encoded`: the whole file; `seconds`: the audio that went in). */
  frames(encoded: Uint8Array, seconds: number): Uint8Array {
    const frames = mp3Frames(encoded);
    const out = mp3Seconds(frames);
    if (out > 0) this.ahead += Math.max(0, out - seconds);
    return frames;
  }
}
