// Audio formats through ffmpeg (ffmpeg.wasm 0.12, FFmpeg 5.1): the format table with each format's
// Content-Type, validation of encode/convert/decode options, and the ffmpeg and ffprobe argument lists.
// DOM-free and pure: src/lib/codec/transcoder.ts runs these lists on a loaded core.
import { reviveError } from '../core/run';
import { isWav } from '../dsp/wav';

export type FormatId = 'wav' | 'pcm' | 'mp3' | 'opus' | 'ogg' | 'flac' | 'aac' | 'm4a' | 'webm';

/** Sample format of the uncompressed outputs (wav, pcm): 16-bit integer or 32-bit float, little-endian. */
export type SampleFormat = 's16' | 'f32';

export interface FormatSpec {
  id: FormatId;
  /** File extension, without the dot. */
  extension: string;
  /** The Content-Type to serve it with. */
  mime: string;
  /** The codec ffprobe reports for what we write (wav and pcm: pcm_s16le, or pcm_f32le for float). */
  codec: string;
  label: string;
  /** Lossy formats take a bitrate; lossless ones ignore it. */
  lossy: boolean;
  /** kbps, when lossy. */
  defaultBitrate: number | null;
  /** The sample rates the encoder accepts within 8–48 kHz; null: any. */
  sampleRates: readonly number[] | null;
}

/** MPEG-1/2/2.5 layer III rates; AAC (ffmpeg's encoder) takes the same within 8–48 kHz. */
const MPEG_RATES = [8000, 11025, 12000, 16000, 22050, 24000, 32000, 44100, 48000] as const;
/** Opus encodes at these rates only (and always decodes at 48 kHz). */
const OPUS_RATES = [8000, 12000, 16000, 24000, 48000] as const;

/**
 * The formats, by id. Content-Types: `pcm` is raw signed 16-bit little-endian samples with no header, served
 * as `application/octet-stream`: `audio/L16` (RFC 2586) means big-endian samples, so it would be wrong.
 * `ogg` is Vorbis in Ogg; `opus` is Opus in Ogg; `webm` is Opus in WebM; `aac` is raw ADTS; `m4a` is AAC in
 * an MP4 (iPod brand) container.
 */
export const FORMATS: Readonly<Record<FormatId, FormatSpec>> = {
  wav: {
    id: 'wav',
    extension: 'wav',
    mime: 'audio/wav',
    codec: 'pcm_s16le',
    label: 'WAV (PCM 16-bit or 32-bit float)',
    lossy: false,
    defaultBitrate: null,
    sampleRates: null,
  },
  pcm: {
    id: 'pcm',
    extension: 'pcm',
    mime: 'application/octet-stream',
    codec: 'pcm_s16le',
    label: 'Raw PCM (signed 16-bit little-endian, no header)',
    lossy: false,
    defaultBitrate: null,
    sampleRates: null,
  },
  mp3: {
    id: 'mp3',
    extension: 'mp3',
    mime: 'audio/mpeg',
    codec: 'mp3',
    label: 'MP3 (LAME)',
    lossy: true,
    defaultBitrate: 128,
    sampleRates: MPEG_RATES,
  },
  opus: {
    id: 'opus',
    extension: 'opus',
    mime: 'audio/ogg; codecs=opus',
    codec: 'opus',
    label: 'Opus in Ogg',
    lossy: true,
    defaultBitrate: 64,
    sampleRates: OPUS_RATES,
  },
  ogg: {
    id: 'ogg',
    extension: 'ogg',
    mime: 'audio/ogg',
    codec: 'vorbis',
    label: 'Ogg Vorbis',
    lossy: true,
    defaultBitrate: 128,
    sampleRates: null,
  },
  flac: {
    id: 'flac',
    extension: 'flac',
    mime: 'audio/flac',
    codec: 'flac',
    label: 'FLAC (16-bit)',
    lossy: false,
    defaultBitrate: null,
    sampleRates: null,
  },
  aac: {
    id: 'aac',
    extension: 'aac',
    mime: 'audio/aac',
    codec: 'aac',
    label: 'AAC (ADTS stream)',
    lossy: true,
    defaultBitrate: 128,
    sampleRates: MPEG_RATES,
  },
  m4a: {
    id: 'm4a',
    extension: 'm4a',
    mime: 'audio/mp4',
    codec: 'aac',
    label: 'AAC in MP4 (M4A)',
    lossy: true,
    defaultBitrate: 128,
    sampleRates: MPEG_RATES,
  },
  webm: {
    id: 'webm',
    extension: 'webm',
    mime: 'audio/webm',
    codec: 'opus',
    label: 'Opus in WebM',
    lossy: true,
    defaultBitrate: 64,
    sampleRates: OPUS_RATES,
  },
};

export const FORMAT_IDS = Object.keys(FORMATS) as FormatId[];

export const BITRATE_RANGE = { min: 64, max: 320 } as const;
export const SAMPLE_RATE_RANGE = { min: 8000, max: 48000 } as const;
/** Rates of audio handed to encode() (or described by a raw input), wider than the output range. */
export const INPUT_SAMPLE_RATE_RANGE = { min: 1000, max: 384000 } as const;

// ---------------------------------------------------------------------------------------------- errors

/** An option is out of range or does not apply. The message starts with the field: "bitrate: …". */
export class FormatOptionError extends Error {
  override name = 'FormatOptionError';
  readonly field: string;
  constructor(field: string, message: string) {
    super(`${field}: ${message}`);
    this.field = field;
  }
}

/** The requested output format is not one we write, or the input uses a codec this ffmpeg cannot decode. */
export class UnsupportedFormatError extends Error {
  override name = 'UnsupportedFormatError';
}

/** The input could not be read as audio (not audio, damaged, or no audio stream). */
export class DecodeError extends Error {
  override name = 'DecodeError';
}

/** ffmpeg failed while writing the output. */
export class EncodeError extends Error {
  override name = 'EncodeError';
}

/** The ffmpeg core could not be loaded (files missing, offline with nothing cached, out of memory). */
export class FFmpegLoadError extends Error {
  override name = 'FFmpegLoadError';
}

/** The audio worker died (out of memory, a crash); it restarts for the next job. */
export class FFmpegCrashedError extends Error {
  override name = 'FFmpegCrashedError';
}

/** Rebuilds the errors above (and the engine's, e.g. CancelledError) after a worker boundary. */
export function reviveFormatError(e: { name?: string; message?: string }): Error {
  const message = e.message ?? 'Unknown audio format error';
  switch (e.name) {
    case 'FormatOptionError': {
      const m = /^([\w.]+): ([\s\S]*)$/.exec(message);
      return m ? new FormatOptionError(m[1]!, m[2]!) : new FormatOptionError('options', message);
    }
    case 'UnsupportedFormatError':
      return new UnsupportedFormatError(message);
    case 'DecodeError':
      return new DecodeError(message);
    case 'EncodeError':
      return new EncodeError(message);
    case 'FFmpegLoadError':
      return new FFmpegLoadError(message);
    case 'FFmpegCrashedError':
      return new FFmpegCrashedError(message);
    default:
      return reviveError(e);
  }
}

// --------------------------------------------------------------------------------------------- options

export interface EncodeOptions {
  format: FormatId;
  /** kbps, 64–320; lossy formats only (ignored by wav, pcm, flac). */
  bitrate?: number;
  /** Output rate, 8000–48000 Hz (and one the codec takes); default: the input's (or the nearest above). */
  sampleRate?: number;
  /** Output channels; default: the input's (at most 2). */
  channels?: 1 | 2;
  /** wav and pcm only: 16-bit integer (default) or 32-bit float samples. */
  sampleFormat?: SampleFormat;
  /**
   * Speed 0.5–2 at the same pitch (ffmpeg's atempo: overlap-add at the best-matching offset, made for
   * speech); default 1, the audio untouched.
   */
  tempo?: number;
}

/** Speeds `tempo` takes (one atempo stage covers 0.5–2 without artefacts from chaining). */
export const TEMPO_RANGE = { min: 0.5, max: 2 } as const;

/** Raw PCM input (no header): little-endian samples, interleaved. */
export interface RawInput {
  sampleRate: number;
  channels: number;
  sampleFormat?: SampleFormat;
}

export interface DecodeOptions {
  /** Output rate (8000–48000); default: the input's. Resampled with a steep anti-aliasing filter. */
  sampleRate?: number;
  /** Mix all channels to one (their average); default true. */
  mono?: boolean;
  /** Describes headerless PCM input (e.g. our own `pcm` output); other inputs are detected. */
  input?: RawInput;
}

/** What an encode will write, all options settled. */
export interface ResolvedEncode {
  format: FormatSpec;
  sampleRate: number;
  channels: 1 | 2;
  /** Target kbps, after the codec's own limits; null for lossless formats. */
  bitrate: number | null;
  sampleFormat: SampleFormat;
  /** A mono source written as stereo. */
  upmix: boolean;
  /** 1: the audio's own speed. */
  tempo: number;
}

export interface SourceFacts {
  sampleRate: number;
  channels: number;
}

function isFormatId(v: unknown): v is FormatId {
  return typeof v === 'string' && Object.hasOwn(FORMATS, v);
}

export function formatSpec(id: unknown): FormatSpec {
  if (!isFormatId(id))
    throw new UnsupportedFormatError(
      `"${String(id)}" is not an output format; choose one of ${FORMAT_IDS.join(', ')}.`,
    );
  return FORMATS[id];
}

/** The format for a file extension or Content-Type ("mp3", ".m4a", "audio/ogg; codecs=opus"), or null. */
export function formatFor(extOrMime: string): FormatSpec | null {
  const v = extOrMime.trim().toLowerCase().replace(/^\./, '');
  const byExt = Object.values(FORMATS).find((f) => f.extension === v || f.id === v);
  if (byExt) return byExt;
  const exact = Object.values(FORMATS).find(
    (f) => f.mime.toLowerCase().replace(/\s+/g, '') === v.replace(/\s+/g, ''),
  );
  if (exact) return exact;
  const base = v.split(';')[0]!.trim();
  const aliases: Record<string, FormatId> = {
    'audio/wave': 'wav',
    'audio/x-wav': 'wav',
    'audio/vnd.wave': 'wav',
    'audio/mp3': 'mp3',
    'audio/x-flac': 'flac',
    'audio/opus': 'opus',
    'audio/x-m4a': 'm4a',
    'audio/aacp': 'aac',
  };
  const alias = aliases[base];
  if (alias) return FORMATS[alias];
  return Object.values(FORMATS).find((f) => f.mime.split(';')[0] === base) ?? null;
}

function checkInt(field: string, v: unknown, min: number, max: number, unit: string): number {
  if (typeof v !== 'number' || !Number.isInteger(v))
    throw new FormatOptionError(field, `must be a whole number of ${unit} (got ${JSON.stringify(v)}).`);
  if (v < min || v > max)
    throw new FormatOptionError(field, `must be between ${min} and ${max} ${unit} (got ${v}).`);
  return v;
}

export function validateSampleRate(field: string, v: unknown): number {
  return checkInt(field, v, SAMPLE_RATE_RANGE.min, SAMPLE_RATE_RANGE.max, 'Hz');
}

export function validateInputRate(field: string, v: unknown): number {
  return checkInt(field, v, INPUT_SAMPLE_RATE_RANGE.min, INPUT_SAMPLE_RATE_RANGE.max, 'Hz');
}

export function validateChannels(field: string, v: unknown): 1 | 2 {
  if (v !== 1 && v !== 2)
    throw new FormatOptionError(field, `must be 1 (mono) or 2 (stereo) (got ${JSON.stringify(v)}).`);
  return v;
}

function validateSampleFormat(field: string, v: unknown): SampleFormat {
  if (v !== 's16' && v !== 'f32')
    throw new FormatOptionError(field, `must be "s16" or "f32" (got ${JSON.stringify(v)}).`);
  return v;
}

export function validateRawInput(v: RawInput, field = 'input'): Required<RawInput> {
  if (typeof v !== 'object' || v === null)
    throw new FormatOptionError(field, 'must describe raw PCM as {sampleRate, channels}.');
  return {
    sampleRate: validateInputRate(`${field}.sampleRate`, v.sampleRate),
    channels: checkInt(`${field}.channels`, v.channels, 1, 8, 'channels'),
    sampleFormat:
      v.sampleFormat === undefined ? 's16' : validateSampleFormat(`${field}.sampleFormat`, v.sampleFormat),
  };
}

/** The rate to write when none was asked for: the input's if the codec takes it, else the nearest above. */
export function pickSampleRate(spec: FormatSpec, input: number): number {
  const rates = spec.sampleRates;
  if (!rates) return input;
  return rates.find((r) => r >= input) ?? rates[rates.length - 1]!;
}

/** The highest bitrate (kbps) the encoder takes for this rate and channel count. */
export function maxBitrate(spec: FormatSpec, sampleRate: number, channels: number): number {
  switch (spec.id) {
    case 'mp3': // MPEG-1 layer III up to 320, MPEG-2 up to 160, MPEG-2.5 up to 64
      return sampleRate >= 32000 ? 320 : sampleRate >= 16000 ? 160 : 64;
    case 'opus':
    case 'webm':
      return 256 * channels; // libopus refuses more
    case 'aac':
    case 'm4a':
      return Math.floor((6144 * channels * sampleRate) / 1024 / 1000); // ffmpeg's AAC: 6144 bits a frame a channel
    default:
      return BITRATE_RANGE.max;
  }
}

/** Validates encode options against the input and settles every output parameter. */
export function resolveEncode(opts: EncodeOptions, source: SourceFacts): ResolvedEncode {
  if (typeof opts !== 'object' || opts === null)
    throw new FormatOptionError('options', 'must be an object with at least {format}.');
  const spec = formatSpec(opts.format);
  let sampleRate: number;
  if (opts.sampleRate !== undefined) {
    sampleRate = validateSampleRate('sampleRate', opts.sampleRate);
    if (spec.sampleRates && !spec.sampleRates.includes(sampleRate))
      throw new FormatOptionError(
        'sampleRate',
        `${spec.id} takes ${spec.sampleRates.join(', ')} Hz, not ${sampleRate}.`,
      );
  } else sampleRate = pickSampleRate(spec, source.sampleRate);
  const channels =
    opts.channels !== undefined ? validateChannels('channels', opts.channels) : source.channels >= 2 ? 2 : 1;
  let bitrate: number | null = null;
  if (opts.bitrate !== undefined)
    checkInt('bitrate', opts.bitrate, BITRATE_RANGE.min, BITRATE_RANGE.max, 'kbps');
  if (spec.lossy)
    bitrate = Math.min(opts.bitrate ?? spec.defaultBitrate ?? 128, maxBitrate(spec, sampleRate, channels));
  let sampleFormat: SampleFormat = 's16';
  if (opts.sampleFormat !== undefined) {
    if (spec.id !== 'wav' && spec.id !== 'pcm')
      throw new FormatOptionError('sampleFormat', `applies to wav and pcm only, not ${spec.id}.`);
    sampleFormat = validateSampleFormat('sampleFormat', opts.sampleFormat);
  }
  let tempo = 1;
  if (opts.tempo !== undefined) {
    if (
      typeof opts.tempo !== 'number' ||
      !Number.isFinite(opts.tempo) ||
      opts.tempo < TEMPO_RANGE.min ||
      opts.tempo > TEMPO_RANGE.max
    )
      throw new FormatOptionError(
        'tempo',
        `must be a number from ${TEMPO_RANGE.min} to ${TEMPO_RANGE.max} (got ${JSON.stringify(opts.tempo)}).`,
      );
    tempo = opts.tempo;
  }
  return {
    format: spec,
    sampleRate,
    channels,
    bitrate,
    sampleFormat,
    upmix: source.channels === 1 && channels === 2,
    tempo,
  };
}

/**
 * Ogg Vorbis is encoded in quality (VBR) mode: a bitrate target fails to set up at many rate and channel
 * combinations. Maps kbps to libvorbis quality through its nominal bitrates at 44.1 kHz stereo.
 */
export function vorbisQuality(kbps: number): number {
  const table: [number, number][] = [
    [64, 0],
    [80, 1],
    [96, 2],
    [112, 3],
    [128, 4],
    [160, 5],
    [192, 6],
    [224, 7],
    [256, 8],
    [320, 9],
  ];
  if (kbps <= table[0]![0]) return 0;
  for (let i = 1; i < table.length; i++) {
    const [b1, q1] = table[i]!;
    const [b0, q0] = table[i - 1]!;
    if (kbps <= b1) return Math.round((q0 + ((kbps - b0) / (b1 - b0)) * (q1 - q0)) * 10) / 10;
  }
  return 9;
}

// ------------------------------------------------------------------------------------- ffmpeg arguments

/**
 * swresample with a long Kaiser-windowed sinc (128 taps, 1024 phases) and the cut-off at 0.91 of the
 * lower Nyquist: flat to 0.875 · Nyquist (−2.3 dB at 0.9, −80 dB at 0.95), at least 97 dB down from
 * Nyquist up, so nothing aliases audibly (swr's default, 32 taps at 0.97, lets content just above Nyquist
 * fold back at only −15 dB). This core has no
 * libsoxr. `rematrix_maxval=1` keeps a downmix from clipping: stereo to mono is (L + R) / 2. Mono to stereo
 * copies the channel at full level (swr alone would put it 3 dB down in each side).
 */
export function resampleFilter(sampleRate: number, mix: { mono?: boolean; upmix?: boolean } = {}): string {
  return (
    (mix.upmix ? 'pan=stereo|c0=c0|c1=c0,' : '') +
    `aresample=${sampleRate}:resampler=swr:filter_size=128:phase_shift=10:cutoff=0.91:rematrix_maxval=1` +
    (mix.mono ? ':ochl=mono' : '')
  );
}

const COMMON = ['-hide_banner', '-loglevel', 'error'];
/** No encoder tags or LIST chunks: a 16-bit wav then has the plain 44-byte header simple readers expect. */
const CLEAN = ['-map_metadata', '-1', '-fflags', '+bitexact', '-flags:a', '+bitexact'];

function rawInputArgs(raw: Required<RawInput>): string[] {
  return [
    '-f',
    raw.sampleFormat === 'f32' ? 'f32le' : 's16le',
    '-ar',
    String(raw.sampleRate),
    '-ac',
    String(raw.channels),
  ];
}

/**
 * The bundled ffmpeg.wasm's libopus crashes ("memory access out of bounds") encoding a coupled stereo
 * stream whose channels differ. Mapping family 255 codes the channels as independent mono streams,
 * which avoids the crashing path; readers (ffmpeg, Chromium) decode it as ordinary stereo.
 */
function opusStereo(r: ResolvedEncode): string[] {
  return r.channels > 1 ? ['-mapping_family', '255'] : [];
}

/** ffmpeg output options (codec, bitrate, muxer) for a resolved encode. */
export function outputArgs(r: ResolvedEncode): string[] {
  const kbps = `${r.bitrate ?? 0}k`;
  switch (r.format.id) {
    case 'wav':
      return ['-c:a', r.sampleFormat === 'f32' ? 'pcm_f32le' : 'pcm_s16le', '-f', 'wav'];
    case 'pcm':
      return r.sampleFormat === 'f32'
        ? ['-c:a', 'pcm_f32le', '-f', 'f32le']
        : ['-c:a', 'pcm_s16le', '-f', 's16le'];
    case 'mp3':
      return ['-c:a', 'libmp3lame', '-b:a', kbps, '-f', 'mp3'];
    case 'opus':
      return ['-c:a', 'libopus', '-b:a', kbps, ...opusStereo(r), '-f', 'ogg'];
    case 'webm':
      return ['-c:a', 'libopus', '-b:a', kbps, ...opusStereo(r), '-f', 'webm'];
    case 'ogg':
      return ['-c:a', 'libvorbis', '-q:a', String(vorbisQuality(r.bitrate ?? 128)), '-f', 'ogg'];
    case 'flac':
      return ['-c:a', 'flac', '-sample_fmt', 's16', '-f', 'flac'];
    case 'aac':
      return ['-c:a', 'aac', '-b:a', kbps, '-f', 'adts'];
    case 'm4a':
      return ['-c:a', 'aac', '-b:a', kbps, '-movflags', '+faststart', '-f', 'ipod'];
  }
}

/** Reads `input` (raw PCM described by `raw`, else any container) and keeps only its first audio stream. */
function audioInputArgs(input: { path: string; raw?: RawInput }): string[] {
  const raw = input.raw ? rawInputArgs(validateRawInput(input.raw)) : [];
  return [...COMMON, ...raw, '-i', input.path, '-map', '0:a:0', '-vn', '-sn', '-dn'];
}

/**
 * Encode raw float samples (f32le, interleaved, `inRate` Hz, `inChannels`) or convert any input file
 * (`raw` undefined: ffmpeg detects the container) to a resolved format.
 */
export function encodeArgs(
  input: { path: string; raw?: RawInput },
  r: ResolvedEncode,
  outPath: string,
): string[] {
  return [
    ...audioInputArgs(input),
    '-af',
    (r.tempo !== 1 ? `atempo=${r.tempo},` : '') + resampleFilter(r.sampleRate, { upmix: r.upmix }),
    '-ar',
    String(r.sampleRate),
    '-ac',
    String(r.channels),
    ...outputArgs(r),
    ...CLEAN,
    outPath,
  ];
}

/** Decode the first audio stream to raw f32le at `sampleRate`, mixed to mono when asked. */
export function decodeArgs(
  input: { path: string; raw?: RawInput },
  out: { sampleRate: number; mono: boolean },
  outPath: string,
): string[] {
  return [
    ...audioInputArgs(input),
    '-af',
    resampleFilter(out.sampleRate, { mono: out.mono }),
    '-ar',
    String(out.sampleRate),
    ...(out.mono ? ['-ac', '1'] : []),
    '-c:a',
    'pcm_f32le',
    '-f',
    'f32le',
    outPath,
  ];
}

/** ffprobe: container and first audio stream as JSON into `outPath` (raw PCM needs no probe). */
export function probeArgs(inPath: string, outPath: string): string[] {
  return [
    '-v',
    'error',
    '-show_entries',
    'format=format_name,duration,bit_rate:stream=index,codec_type,codec_name,sample_rate,channels,duration,bit_rate',
    '-of',
    'json',
    '-o',
    outPath,
    inPath,
  ];
}

/** Resolved decode options: the rate defaults to the input's. */
export function resolveDecode(
  opts: DecodeOptions,
  source: SourceFacts,
): { sampleRate: number; mono: boolean; channels: number } {
  const o = opts ?? {};
  const sampleRate =
    o.sampleRate !== undefined ? validateSampleRate('sampleRate', o.sampleRate) : source.sampleRate;
  if (o.mono !== undefined && typeof o.mono !== 'boolean')
    throw new FormatOptionError('mono', `must be true or false (got ${JSON.stringify(o.mono)}).`);
  const mono = o.mono ?? true;
  return { sampleRate, mono, channels: mono ? 1 : source.channels };
}

// --------------------------------------------------------------------------------------------- probing

export interface ProbeResult {
  /** Our name for it where there is one (wav, mp3, opus, ogg, flac, aac, m4a, webm), else ffprobe's. */
  format: string;
  /** ffprobe's format_name, e.g. "mov,mp4,m4a,3gp,3g2,mj2". */
  container: string;
  codec: string;
  sampleRate: number;
  channels: number;
  /** Seconds; null when the container does not say (for raw AAC it is an estimate from the bitrate). */
  duration: number | null;
  /** bits per second, when known. */
  bitrate: number | null;
}

interface FfprobeJson {
  format?: { format_name?: string; duration?: string; bit_rate?: string };
  streams?: {
    codec_type?: string;
    codec_name?: string;
    sample_rate?: string;
    channels?: number;
    duration?: string;
    bit_rate?: string;
  }[];
}

function num(v: string | number | undefined): number | null {
  if (v === undefined) return null;
  const n = typeof v === 'number' ? v : Number.parseFloat(v);
  return Number.isFinite(n) ? n : null;
}

function friendlyFormat(container: string, codec: string, hasVideo: boolean): string {
  switch (container) {
    case 'wav':
    case 'mp3':
    case 'flac':
    case 'aac':
      return container;
    case 's16le':
    case 'f32le':
      return 'pcm';
    case 'ogg':
      return codec === 'opus' ? 'opus' : 'ogg';
    case 'mov,mp4,m4a,3gp,3g2,mj2':
      return hasVideo ? 'mp4' : 'm4a';
    case 'matroska,webm':
      return codec === 'opus' || codec === 'vorbis' ? 'webm' : 'mkv';
    default:
      return container;
  }
}

/** Reads ffprobe's JSON; a file with no audio stream is a DecodeError. */
export function parseProbe(text: string): ProbeResult {
  let j: FfprobeJson;
  try {
    j = JSON.parse(text) as FfprobeJson;
  } catch {
    throw new DecodeError('The audio could not be read: ffprobe gave no usable answer.');
  }
  const streams = j.streams ?? [];
  const a = streams.find((s) => s.codec_type === 'audio');
  if (!j.format?.format_name) throw new DecodeError('The file is not audio ffmpeg can read.');
  if (!a) throw new DecodeError('The file has no audio stream.');
  const container = j.format.format_name;
  const codec = a.codec_name && a.codec_name !== 'none' ? a.codec_name : 'unknown';
  const sampleRate = num(a.sample_rate) ?? 0;
  const channels = a.channels ?? 0;
  if (!sampleRate || !channels)
    throw new DecodeError(`The audio stream (${codec}) has no sample rate or channel count.`);
  return {
    format: friendlyFormat(
      container,
      codec,
      streams.some((s) => s.codec_type === 'video'),
    ),
    container,
    codec,
    sampleRate,
    channels,
    duration: num(j.format.duration) ?? num(a.duration),
    bitrate: num(a.bit_rate) ?? num(j.format.bit_rate),
  };
}

// ------------------------------------------------------------------------------------------------ logs

const NOISE = [/^Aborted\(/, /^Conversion failed!?$/, /^Exiting normally/, /^\s*$/];

/**
 * The last meaningful lines of ffmpeg's log, for an error message: without ffmpeg's own exit noise, with
 * our scratch file names taken out, at most `maxChars` characters.
 */
export function logTail(
  lines: readonly string[],
  files: readonly string[] = [],
  max = 4,
  maxChars = 400,
): string {
  let kept = lines
    .map((l) => l.trim())
    .filter((l) => !NOISE.some((re) => re.test(l)))
    .map((l) => l.replace(/^\[[\w\s@-]+ @ 0x[0-9a-f]+\]\s*/i, (m) => m.replace(/ @ 0x[0-9a-f]+/i, '')));
  for (const f of files) kept = kept.map((l) => l.split(`${f}: `).join('').split(`'${f}'`).join('the file'));
  // Consecutive repeats (one message per packet) once.
  kept = kept.filter((l, i) => l !== kept[i - 1]);
  let tail = kept.slice(-max).join('; ');
  if (tail.length > maxChars) tail = `…${tail.slice(-(maxChars - 1))}`;
  return tail;
}

/** Known audio and video containers by their first bytes (what we can try to decode). */
export function sniffContainer(b: Uint8Array): string | null {
  const at = (o: number, s: string) => [...s].every((c, i) => b[o + i] === c.charCodeAt(0));
  if (b.length < 12) return null;
  if (isWav(b)) return 'wav';
  if (at(0, 'fLaC')) return 'flac';
  if (at(0, 'OggS')) return 'ogg';
  if (at(0, 'ID3')) return 'mp3';
  if (at(4, 'ftyp')) return 'mp4';
  if (b[0] === 0x1a && b[1] === 0x45 && b[2] === 0xdf && b[3] === 0xa3) return 'webm';
  if (at(0, 'FORM') && (at(8, 'AIFF') || at(8, 'AIFC'))) return 'aiff';
  if (at(0, 'caff')) return 'caf';
  if (at(0, '#!AMR')) return 'amr';
  if (b[0] === 0xff && (b[1]! & 0xe0) === 0xe0) return (b[1]! & 0x06) === 0 ? 'aac' : 'mp3';
  return null;
}
