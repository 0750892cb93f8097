// Encode, convert, decode and probe audio on an ffmpeg core (ffmpeg.wasm), one command at a time.
// DOM-free: the core comes from a CoreProvider (in the app, src/lib/codec/ffmpeg-core.ts loading @ffmpeg/core in src/workers/ffmpeg.worker.ts;
// in the unit tests, the same core loaded in Node). Progress comes from ffmpeg's own progress events;
// cancelling discards the core (stopping the command), and the next job loads a fresh one. A core is also
// discarded after any failed command: ffmpeg.wasm does not reliably clean up after an error exit.
import { CancelledError, type RunOptions } from '../core/run';
import {
  DecodeError,
  EncodeError,
  FormatOptionError,
  UnsupportedFormatError,
  decodeArgs,
  encodeArgs,
  logTail,
  parseProbe,
  probeArgs,
  resolveDecode,
  resolveEncode,
  validateInputRate,
  validateRawInput,
  type DecodeOptions,
  type EncodeOptions,
  type FormatId,
  type ProbeResult,
  type RawInput,
  type ResolvedEncode,
  type SourceFacts,
} from './formats';

/** What the transcoder needs of a loaded ffmpeg core: its virtual file system and commands. */
export interface FFmpegCore {
  /** ffmpeg's exit code: 0 on success. */
  exec(args: string[]): Promise<number>;
  ffprobe(args: string[]): Promise<number>;
  writeFile(path: string, data: Uint8Array): Promise<unknown>;
  readFile(path: string): Promise<Uint8Array>;
  deleteFile(path: string): Promise<unknown>;
  /** A place ffmpeg can write to (`target`) whose bytes reach `onData` during the command. */
  sink?(onData: (bytes: Uint8Array) => void): CoreSink;
}

export interface CoreSink {
  /** The output to give ffmpeg, e.g. "pipe:3". */
  target: string;
  close(): void;
}

export interface CoreListeners {
  log(line: string): void;
  /** Position of the output in microseconds. */
  progress(timeUs: number): void;
}

export interface CoreProvider {
  /** The loaded core (loading it first if needed). */
  acquire(opts: RunOptions): Promise<FFmpegCore>;
  /** Who hears the log and progress of the commands that follow (null: nobody). */
  listen(l: CoreListeners | null): void;
  /** Drops the loaded core, stopping a running command; the next acquire() loads a fresh one. */
  discard(): void;
}

export interface EncodedAudio {
  bytes: Uint8Array;
  /** The Content-Type. */
  mime: string;
  extension: string;
  format: FormatId;
  sampleRate: number;
  channels: number;
  /** kbps actually asked of the encoder (after its limits); null for lossless formats. */
  bitrate: number | null;
  /** Seconds of audio in (exact for encode; from the container for convert, null if it does not say). */
  duration: number | null;
}

export interface DecodedAudio {
  /** 32-bit float samples, interleaved when there is more than one channel. */
  samples: Float32Array;
  sampleRate: number;
  channels: number;
  /** The file's own channel count (before any mixing). */
  sourceChannels: number;
  /** Seconds, from the number of decoded samples. */
  duration: number;
}

export type ConvertOptions = EncodeOptions & { input?: RawInput };

const IN = 'input';
const IN_RAW = 'input.f32';

function errorText(e: unknown): string {
  if (e instanceof Error) return e.message;
  return typeof e === 'string' ? e : 'unknown error';
}

function interleave(samples: Float32Array | readonly Float32Array[]): {
  data: Float32Array;
  channels: number;
} {
  if (samples instanceof Float32Array) return { data: samples, channels: 1 };
  if (!Array.isArray(samples) || samples.length < 1 || samples.length > 8)
    throw new FormatOptionError('samples', 'must be a Float32Array, or one Float32Array a channel (1 to 8).');
  const chans = samples as readonly Float32Array[];
  const n = chans[0]!.length;
  if (chans.some((c) => !(c instanceof Float32Array) || c.length !== n))
    throw new FormatOptionError('samples', 'every channel must be a Float32Array of the same length.');
  if (chans.length === 1) return { data: chans[0]!, channels: 1 };
  const data = new Float32Array(n * chans.length);
  for (let c = 0; c < chans.length; c++) {
    const ch = chans[c]!;
    for (let i = 0, j = c; i < n; i++, j += chans.length) data[j] = ch[i]!;
  }
  return { data, channels: chans.length };
}

function asBytes(a: Float32Array): Uint8Array {
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
}

/** What an encode or a convert hands back: the bytes written and the settings they were written with. */
function encodedAudio(bytes: Uint8Array, r: ResolvedEncode, duration: number | null): EncodedAudio {
  return {
    bytes,
    mime: r.format.mime,
    extension: r.format.extension,
    format: r.format.id,
    sampleRate: r.sampleRate,
    channels: r.channels,
    bitrate: r.bitrate,
    duration,
  };
}

function asFloats(b: Uint8Array): Float32Array {
  if (b.byteOffset % 4 === 0 && b.byteLength % 4 === 0)
    return new Float32Array(b.buffer, b.byteOffset, b.byteLength / 4);
  return new Float32Array(b.slice(0, b.byteLength - (b.byteLength % 4)).buffer);
}

/** What a streamed decode says before its first samples. */
export interface StreamStart {
  sampleRate: number;
  channels: number;
  /** The file's own channel count (before any mixing). */
  sourceChannels: number;
  /** Seconds, from the container (null when it does not say). */
  duration: number | null;
}

/** Bytes as ffmpeg writes them (any length) → float blocks of about a second, for decodeStream. */
class SampleBlocks {
  private buf = new Float32Array(1 << 16);
  private bytes = new Uint8Array(this.buf.buffer);
  /** Bytes in buf. */
  private used = 0;
  private floats = 0;

  constructor(private readonly emit: (block: Float32Array) => void) {}

  write(b: Uint8Array): void {
    let at = 0;
    while (at < b.length) {
      const n = Math.min(b.length - at, this.bytes.length - this.used);
      this.bytes.set(b.subarray(at, at + n), this.used);
      this.used += n;
      at += n;
      if (this.used === this.bytes.length) this.flush();
    }
  }

  /** Hands on what is left (whole floats only); returns the number of floats handed on in all. */
  end(): number {
    this.flush();
    return this.floats;
  }

  private flush() {
    const whole = this.used >> 2;
    if (!whole) return;
    this.emit(this.buf.slice(0, whole));
    this.floats += whole;
    // A float split across two writes: keep its first bytes.
    this.bytes.copyWithin(0, whole * 4, this.used);
    this.used -= whole * 4;
  }
}

/** A placeholder source for checking options before anything is loaded or probed. */
const ANY_SOURCE: SourceFacts = { sampleRate: 48000, channels: 1 };

export class Transcoder {
  private tail: Promise<unknown> = Promise.resolve();

  constructor(private readonly provider: CoreProvider) {}

  /** Runs jobs one after another (one core, one file system); a job cancelled while waiting never runs. */
  private exclusive<T>(opts: RunOptions, fn: () => Promise<T>): Promise<T> {
    const run = this.tail.then(
      () => undefined,
      () => undefined,
    );
    const job = run.then(() => {
      if (opts.signal?.aborted) throw new CancelledError();
      return fn();
    });
    this.tail = job.catch(() => undefined);
    if (!opts.signal) return job;
    const signal = opts.signal;
    return new Promise<T>((resolve, reject) => {
      const onAbort = () => reject(new CancelledError());
      if (signal.aborted) onAbort();
      signal.addEventListener('abort', onAbort, { once: true });
      job.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
    });
  }

  /** Runs one ffmpeg or ffprobe command, mapping failures to `fail` with the tail of ffmpeg's log. */
  private async command(
    core: FFmpegCore,
    tool: 'ffmpeg' | 'ffprobe',
    args: string[],
    ctx: {
      opts: RunOptions;
      stage: string;
      total: number | null;
      message?: string;
      fail: (detail: string, logs: string[]) => Error;
    },
  ): Promise<string[]> {
    const { signal, onProgress } = ctx.opts;
    if (signal?.aborted) throw new CancelledError();
    const logs: string[] = [];
    let last = -1;
    const total = ctx.total && Number.isFinite(ctx.total) ? ctx.total : 0;
    const report = (seconds: number) => {
      if (!onProgress) return;
      const done = Math.round((total ? Math.min(seconds, total) : seconds) * 1000) / 1000;
      if (done <= last) return;
      last = done;
      onProgress({ stage: ctx.stage, done, total, message: ctx.message });
    };
    this.provider.listen({
      log: (line) => {
        logs.push(line);
        if (logs.length > 200) logs.splice(0, logs.length - 100);
      },
      progress: (us) => report(us / 1e6),
    });
    const abort = () => this.provider.discard();
    signal?.addEventListener('abort', abort, { once: true });
    let ret: number;
    try {
      report(0);
      ret = await (tool === 'ffmpeg' ? core.exec(args) : core.ffprobe(args));
    } catch (e) {
      this.provider.discard();
      if (signal?.aborted) throw new CancelledError();
      throw ctx.fail(`ffmpeg stopped (${errorText(e)})`, logs);
    } finally {
      signal?.removeEventListener('abort', abort);
      this.provider.listen(null);
    }
    if (signal?.aborted) throw new CancelledError();
    // ffprobe's exit code is always -1 in ffmpeg.wasm 0.12: its caller judges by what it wrote.
    if (ret !== 0 && tool === 'ffmpeg') {
      this.provider.discard();
      throw ctx.fail(logTail(logs, [IN, IN_RAW]) || `${tool} exited with code ${ret}`, logs);
    }
    if (total) report(total);
    return logs;
  }

  private static decodeFailure(what: string) {
    return (detail: string, logs: string[]): Error => {
      const text = logs.join('\n');
      const m = /Decoder \(codec (\w+)\) not found|Unknown decoder '(\w+)'/.exec(text);
      const codec = m?.[1] ?? m?.[2];
      if (codec === 'none')
        return new UnsupportedFormatError(
          'The audio is in a codec this ffmpeg does not know, so it cannot be decoded.',
        );
      if (codec)
        return new UnsupportedFormatError(
          `This ffmpeg has no decoder for ${codec}, so the audio cannot be decoded.`,
        );
      return new DecodeError(`${what}: ${detail}`);
    };
  }

  private async probeFile(core: FFmpegCore, opts: RunOptions): Promise<ProbeResult> {
    const out = 'probe.json';
    const fail = Transcoder.decodeFailure('The audio could not be read');
    const logs = await this.command(core, 'ffprobe', probeArgs(IN, out), {
      opts,
      stage: 'probe',
      total: null,
      fail,
    });
    let text = '';
    try {
      text = new TextDecoder().decode(await core.readFile(out));
      await core.deleteFile(out);
    } catch {
      // nothing written: judged below
    }
    try {
      return parseProbe(text);
    } catch (e) {
      const tail = logTail(logs, [IN]);
      if (!tail) throw e;
      this.provider.discard();
      throw fail(tail, logs);
    }
  }

  private async cleanup(core: FFmpegCore, paths: string[]) {
    for (const p of paths) await core.deleteFile(p).catch(() => undefined);
  }

  private static checkBytes(bytes: Uint8Array) {
    if (!(bytes instanceof Uint8Array))
      throw new FormatOptionError('file', 'must be the bytes of an audio file (a Uint8Array).');
    if (bytes.byteLength === 0) throw new DecodeError('The file is empty.');
  }

  /** Facts of a raw PCM input, from its description (ffprobe cannot detect headerless PCM). */
  private static rawFacts(raw: RawInput, bytes: Uint8Array): { facts: SourceFacts; duration: number } {
    const r = validateRawInput(raw);
    const frame = (r.sampleFormat === 'f32' ? 4 : 2) * r.channels;
    return { facts: r, duration: Math.floor(bytes.byteLength / frame) / r.sampleRate };
  }

  /**
   * Encodes float samples: one Float32Array (mono) or one a channel (planar), at `sampleRate` Hz, with
   * optional resampling and up- or down-mixing.
   */
  async encode(
    samples: Float32Array | readonly Float32Array[],
    sampleRate: number,
    options: EncodeOptions,
    opts: RunOptions = {},
  ): Promise<EncodedAudio> {
    const { data, channels } = interleave(samples);
    const inRate = validateInputRate('inputSampleRate', sampleRate);
    if (data.length < channels) throw new FormatOptionError('samples', 'there is no audio to encode.');
    const r = resolveEncode(options, { sampleRate: inRate, channels });
    const duration = data.length / channels / inRate;
    const out = `output.${r.format.extension}`;
    return this.exclusive(opts, async () => {
      const core = await this.provider.acquire(opts);
      // A copy: the core takes (transfers) what it is given.
      await core.writeFile(IN_RAW, asBytes(data).slice());
      try {
        await this.command(
          core,
          'ffmpeg',
          encodeArgs({ path: IN_RAW, raw: { sampleRate: inRate, channels, sampleFormat: 'f32' } }, r, out),
          {
            opts,
            stage: 'encode',
            total: duration,
            message: `Encoding ${r.format.id}`,
            fail: (detail) => new EncodeError(`The audio could not be encoded as ${r.format.id}: ${detail}`),
          },
        );
        return encodedAudio(await core.readFile(out), r, duration / r.tempo);
      } finally {
        await this.cleanup(core, [IN_RAW, out]);
      }
    });
  }

  /** Converts an audio file of any format ffmpeg reads (or raw PCM described by `input`). */
  async convert(bytes: Uint8Array, options: ConvertOptions, opts: RunOptions = {}): Promise<EncodedAudio> {
    Transcoder.checkBytes(bytes);
    resolveEncode(options, ANY_SOURCE); // bad options fail before anything loads
    const raw = options.input ? Transcoder.rawFacts(options.input, bytes) : null;
    return this.exclusive(opts, async () => {
      const core = await this.provider.acquire(opts);
      await core.writeFile(IN, bytes);
      let out: string | null = null;
      try {
        const src = raw ?? (await this.probeFile(core, opts));
        const facts = 'facts' in src ? src.facts : src;
        const r = resolveEncode(options, facts);
        out = `output.${r.format.extension}`;
        await this.command(core, 'ffmpeg', encodeArgs({ path: IN, raw: options.input }, r, out), {
          opts,
          stage: 'convert',
          total: src.duration,
          message: `Converting to ${r.format.id}`,
          fail: (detail, logs) =>
            /Invalid data found|Error while decoding|could not find codec|matches no streams/i.test(
              logs.join('\n'),
            )
              ? Transcoder.decodeFailure('The audio could not be decoded')(detail, logs)
              : new EncodeError(`The audio could not be converted to ${r.format.id}: ${detail}`),
        });
        return encodedAudio(
          await core.readFile(out),
          r,
          src.duration === null ? null : src.duration / r.tempo,
        );
      } finally {
        await this.cleanup(core, out ? [IN, out] : [IN]);
      }
    });
  }

  /** Decodes to float samples: by default mixed to mono, at `sampleRate` (default: the input's). */
  async decode(bytes: Uint8Array, options: DecodeOptions = {}, opts: RunOptions = {}): Promise<DecodedAudio> {
    Transcoder.checkBytes(bytes);
    resolveDecode(options, ANY_SOURCE);
    const raw = options.input ? Transcoder.rawFacts(options.input, bytes) : null;
    return this.exclusive(opts, async () =>
      this.decodeWith(await this.provider.acquire(opts), bytes, options, raw, opts),
    );
  }

  private async decodeWith(
    core: FFmpegCore,
    bytes: Uint8Array,
    options: DecodeOptions,
    raw: { facts: SourceFacts; duration: number } | null,
    opts: RunOptions,
  ): Promise<DecodedAudio> {
    const out = 'output.f32';
    await core.writeFile(IN, bytes);
    try {
      const src = raw ?? (await this.probeFile(core, opts));
      const facts = 'facts' in src ? src.facts : src;
      const d = resolveDecode(options, facts);
      await this.command(core, 'ffmpeg', decodeArgs({ path: IN, raw: options.input }, d, out), {
        opts,
        stage: 'decode',
        total: src.duration,
        message: 'Decoding',
        fail: Transcoder.decodeFailure('The audio could not be decoded'),
      });
      const samples = asFloats(await core.readFile(out));
      if (samples.length === 0) throw new DecodeError('The audio could not be decoded: it holds no samples.');
      return {
        samples,
        sampleRate: d.sampleRate,
        channels: d.channels,
        sourceChannels: facts.channels,
        duration: samples.length / d.channels / d.sampleRate,
      };
    } finally {
      await this.cleanup(core, [IN, out]);
    }
  }

  /**
   * Decodes as decode() does, but hands the samples (interleaved floats, in blocks) to `onSamples` while
   * ffmpeg makes them, so a consumer in another thread can start on the first minute of an hour-long file.
   * `onStart` hears the output's rate and channels and the container's duration first. Resolves with the
   * number of sample frames.
   */
  async decodeStream(
    bytes: Uint8Array,
    options: DecodeOptions,
    hooks: { onStart(f: StreamStart): void; onSamples(samples: Float32Array): void },
    opts: RunOptions = {},
  ): Promise<number> {
    Transcoder.checkBytes(bytes);
    resolveDecode(options, ANY_SOURCE);
    const raw = options.input ? Transcoder.rawFacts(options.input, bytes) : null;
    return this.exclusive(opts, async () => {
      const core = await this.provider.acquire(opts);
      if (!core.sink) {
        // A core without devices: decode whole, then hand it on.
        const d = await this.decodeWith(core, bytes, options, raw, opts);
        hooks.onStart({
          sampleRate: d.sampleRate,
          channels: d.channels,
          sourceChannels: d.sourceChannels,
          duration: d.duration,
        });
        hooks.onSamples(d.samples);
        return d.samples.length / d.channels;
      }
      await core.writeFile(IN, bytes);
      const blocks = new SampleBlocks(hooks.onSamples);
      const sink = core.sink((b) => blocks.write(b));
      try {
        const src = raw ?? (await this.probeFile(core, opts));
        const facts = 'facts' in src ? src.facts : src;
        const d = resolveDecode(options, facts);
        hooks.onStart({
          sampleRate: d.sampleRate,
          channels: d.channels,
          sourceChannels: facts.channels,
          duration: src.duration,
        });
        await this.command(core, 'ffmpeg', decodeArgs({ path: IN, raw: options.input }, d, sink.target), {
          opts,
          stage: 'decode',
          total: src.duration,
          message: 'Decoding',
          fail: Transcoder.decodeFailure('The audio could not be decoded'),
        });
        const floats = blocks.end();
        if (floats === 0) throw new DecodeError('The audio could not be decoded: it holds no samples.');
        return floats / d.channels;
      } finally {
        // (after a failed command the core is discarded: closing its device must not hide the error)
        try {
          sink.close();
        } catch {
          // nothing to close
        }
        await this.cleanup(core, [IN]);
      }
    });
  }

  /** Container, codec, rate, channels and duration of an audio file. */
  async probe(bytes: Uint8Array, opts: RunOptions = {}): Promise<ProbeResult> {
    Transcoder.checkBytes(bytes);
    return this.exclusive(opts, async () => {
      const core = await this.provider.acquire(opts);
      await core.writeFile(IN, bytes);
      try {
        return await this.probeFile(core, opts);
      } finally {
        await this.cleanup(core, [IN]);
      }
    });
  }
}
