// Loads the ffmpeg.wasm core (@ffmpeg/core, or @ffmpeg/core-mt with threads) self-hosted under /ffmpeg/ and
// /ffmpeg-mt/, straight into the calling worker, and runs its commands there. DOM-free: fetching, compiling
// and importing go through a CoreLoader (the worker's uses fetch; the unit tests' read node_modules).
//
// Why not @ffmpeg/ffmpeg's FFmpeg class: it loads the core in a worker of its own, and its exec() cannot
// restore the WebAssembly stack pointer. ffmpeg ends each command with exit(), which Emscripten implements
// by throwing, so every command leaves the stack pointer where exit() was called; with the 64 KB stack of
// core 0.12.10 a few dozen commands later the core traps with "memory access out of bounds"
// (ffmpegwasm/ffmpeg.wasm#563, #820; fix proposed in #943). Here the stack pointer is saved before each
// command and restored after it, the compiled module is kept, and a fresh instance (milliseconds for the
// single-thread core) replaces one that failed or was cancelled.
import type { RunOptions } from '../core/run';
import { FFmpegLoadError } from './formats';
import type { CoreListeners, CoreProvider, CoreSink, FFmpegCore } from './transcoder';

export type CoreVariant = 'st' | 'mt';

export interface CoreFiles {
  variant: CoreVariant;
  coreURL: string;
  wasmURL: string;
  /** The pthread worker script (multi-threaded core only). */
  workerURL?: string;
}

/** Where the app serves each core (see scripts/vite-ffmpeg.ts). */
export const CORE_DIRS: Record<CoreVariant, string> = { st: 'ffmpeg/', mt: 'ffmpeg-mt/' };

export function coreFiles(base: string, variant: CoreVariant): CoreFiles {
  const dir = new URL(CORE_DIRS[variant], base).href;
  return {
    variant,
    coreURL: `${dir}ffmpeg-core.js`,
    wasmURL: `${dir}ffmpeg-core.wasm`,
    ...(variant === 'mt' ? { workerURL: `${dir}ffmpeg-core.worker.js` } : {}),
  };
}

/** The cores to try, best first: the multi-threaded one needs SharedArrayBuffer (cross-origin isolation). */
export function coreCandidates(base: string, crossOriginIsolated: boolean): CoreFiles[] {
  return crossOriginIsolated ? [coreFiles(base, 'mt'), coreFiles(base, 'st')] : [coreFiles(base, 'st')];
}

/** The Emscripten module a core's factory resolves to (the parts used here). */
export interface RawCore {
  exec(...args: string[]): number;
  ffprobe(...args: string[]): number;
  reset(): void;
  setTimeout(ms: number): void;
  setLogger(fn: (d: { type: string; message: string }) => void): void;
  setProgress(fn: (d: { progress: number; time: number }) => void): void;
  FS: {
    writeFile(path: string, data: Uint8Array): void;
    readFile(path: string): Uint8Array;
    unlink(path: string): void;
    makedev(major: number, minor: number): number;
    registerDevice(dev: number, ops: DeviceOps): void;
    mkdev(path: string, mode: number, dev: number): unknown;
    open(path: string, flags: number): { fd: number };
    close(stream: { fd: number }): void;
  };
  asm: Record<string, unknown>;
  PThread?: { terminateAllThreads(): void };
}

/** Emscripten's character-device operations (the parts a write-only sink needs). */
export interface DeviceOps {
  open(): void;
  close(): void;
  read(): number;
  write(stream: unknown, buffer: Uint8Array, offset: number, length: number): number;
}

export type CoreFactory = (opts: {
  mainScriptUrlOrBlob?: string;
  instantiateWasm?: (
    imports: WebAssembly.Imports,
    receive: (instance: WebAssembly.Instance, module: WebAssembly.Module) => unknown,
  ) => Record<string, never>;
}) => Promise<RawCore>;

export interface CoreLoader {
  /** The default export (createFFmpegCore) of the core's ES module. */
  importFactory(url: string): Promise<CoreFactory>;
  compile(url: string): Promise<WebAssembly.Module>;
  /** The core's JS glue as text (to find its stack exports). */
  text(url: string): Promise<string>;
}

/**
 * The minified names under which the glue exports stackSave and stackRestore: Emscripten 3.1 writes
 * `var stackSave=function(){return(stackSave=Module["asm"]["Da"]).apply(null,arguments)}`.
 */
export function stackExports(glue: string): { save: string; restore: string } | null {
  const save = /\bstackSave=Module\["asm"\]\["([\w$]+)"\]/.exec(glue)?.[1];
  const restore = /\bstackRestore=Module\["asm"\]\["([\w$]+)"\]/.exec(glue)?.[1];
  return save && restore ? { save, restore } : null;
}

interface Compiled {
  files: CoreFiles;
  factory: CoreFactory;
  module: WebAssembly.Module;
  stack: { save: string; restore: string } | null;
}

interface Live {
  raw: RawCore;
  commands: number;
  /** Sinks opened on this instance (each gets its own device number and path). */
  sinks: number;
}

export interface WasmCoreOptions {
  candidates: CoreFiles[];
  loader: CoreLoader;
  /** Gives up on a core that has not started in this time (and tries the next candidate). */
  loadTimeoutMs?: number;
  /** A fresh instance after this many commands, in case ffmpeg leaks (it does a little: argv, globals). */
  maxCommands?: number;
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let t: ReturnType<typeof setTimeout> | undefined;
  return Promise.race([
    p,
    new Promise<never>((_, reject) => {
      t = setTimeout(() => reject(new Error(`${what} did not start within ${Math.round(ms / 1000)} s`)), ms);
    }),
  ]).finally(() => clearTimeout(t));
}

export class WasmCoreProvider implements CoreProvider {
  /** The core in use, once one has loaded. */
  variant: CoreVariant | null = null;
  /** Why a better core was passed over, if one was. */
  fallbackReason: string | null = null;
  loads = 0;
  private compiled: Promise<Compiled> | null = null;
  private live: Promise<Live> | null = null;
  private listener: CoreListeners | null = null;

  constructor(private readonly opts: WasmCoreOptions) {}

  private async compileOne(files: CoreFiles): Promise<Compiled> {
    const { loader } = this.opts;
    const [factory, module, glue] = await Promise.all([
      loader.importFactory(files.coreURL),
      loader.compile(files.wasmURL),
      loader.text(files.coreURL),
    ]);
    return { files, factory, module, stack: stackExports(glue) };
  }

  private async instantiate(c: Compiled): Promise<Live> {
    const { files, module } = c;
    const hint = btoa(JSON.stringify({ wasmURL: files.wasmURL, workerURL: files.workerURL ?? '' }));
    const starting = c.factory({
      // The core's locateFile reads the wasm and pthread-worker URLs from this fragment.
      mainScriptUrlOrBlob: `${files.coreURL}#${hint}`,
      instantiateWasm: (imports, receive) => {
        void WebAssembly.instantiate(module, imports).then((instance) => receive(instance, module));
        return {};
      },
    });
    let raw: RawCore;
    try {
      raw = await withTimeout(
        starting,
        this.opts.loadTimeoutMs ?? 60_000,
        `The ${files.variant === 'mt' ? 'multi-threaded' : 'single-thread'} ffmpeg core`,
      );
    } catch (e) {
      // One that starts after all must not keep its threads.
      void starting.then(
        (late) => late.PThread?.terminateAllThreads(),
        () => undefined,
      );
      throw e;
    }
    // Names found in the glue but not functions in this instance: no restore, so a fresh instance per job.
    if (c.stack && [c.stack.save, c.stack.restore].some((n) => typeof raw.asm[n] !== 'function'))
      c.stack = null;
    raw.setLogger((d) => this.listener?.log(d.message));
    raw.setProgress((d) => this.listener?.progress(d.time));
    this.loads++;
    return { raw, commands: 0, sinks: 0 };
  }

  /** Compiles the first candidate that loads and starts; later instances reuse its compiled module. */
  private async load(): Promise<Live> {
    if (this.compiled) {
      const c = await this.compiled;
      try {
        return await this.instantiate(c);
      } catch (e) {
        throw new FFmpegLoadError(`The ffmpeg core could not be started again (${(e as Error).message}).`);
      }
    }
    const errors: string[] = [];
    for (const files of this.opts.candidates) {
      const attempt = this.compileOne(files);
      try {
        const c = await attempt;
        const live = await this.instantiate(c);
        this.compiled = attempt;
        this.variant = files.variant;
        this.fallbackReason = errors.length ? errors.join('; ') : null;
        return live;
      } catch (e) {
        errors.push(`${files.variant}: ${e instanceof Error ? e.message : String(e)}`);
      }
    }
    throw new FFmpegLoadError(`The ffmpeg core could not be loaded (${errors.join('; ')}).`);
  }

  async acquire(opts: RunOptions = {}): Promise<FFmpegCore> {
    const max = (await this.compiled?.catch(() => null))?.stack ? (this.opts.maxCommands ?? 100) : 1;
    const current = await this.live?.catch(() => null);
    if (current && current.commands >= max) this.discard();
    if (!this.live) {
      opts.onProgress?.({ stage: 'load', done: 0, total: 0, message: 'Loading ffmpeg' });
      const live = this.load();
      this.live = live;
      live.catch(() => {
        if (this.live === live) this.live = null;
      });
    }
    const live = await this.live;
    return this.wrap(live, (await this.compiled!).stack);
  }

  private wrap(live: Live, stack: Compiled['stack']): FFmpegCore {
    const { raw } = live;
    const save = stack ? (raw.asm[stack.save] as () => number) : null;
    const restore = stack ? (raw.asm[stack.restore] as (sp: number) => void) : null;
    const run = async (tool: 'exec' | 'ffprobe', args: string[]) => {
      live.commands++;
      const sp = save?.();
      raw.setTimeout(-1);
      try {
        return raw[tool](...args);
      } finally {
        if (sp !== undefined) restore?.(sp);
        raw.reset();
      }
    };
    return {
      exec: (args) => run('exec', args),
      ffprobe: (args) => run('ffprobe', args),
      writeFile: async (path, data) => raw.FS.writeFile(path, data),
      readFile: async (path) => raw.FS.readFile(path),
      deleteFile: async (path) => raw.FS.unlink(path),
      sink: (onData) => openSink(raw, live, onData),
    };
  }

  listen(l: CoreListeners | null): void {
    this.listener = l;
  }

  discard(): void {
    const live = this.live;
    this.live = null;
    void live?.then(
      (l) => l.raw.PThread?.terminateAllThreads(),
      () => undefined,
    );
  }
}

/**
 * A write-only device in the core's file system whose writes go straight to `onData`, while the command
 * runs: ffmpeg writes its output to `pipe:<fd>`, so a long decode hands its samples on as they are made
 * instead of after the whole file (the bytes passed are only valid during the call).
 */
function openSink(raw: RawCore, live: Live, onData: (bytes: Uint8Array) => void): CoreSink {
  const n = ++live.sinks;
  const path = `/sink-${n}`;
  const dev = raw.FS.makedev(64, n % 256);
  raw.FS.registerDevice(dev, {
    open: () => undefined,
    close: () => undefined,
    read: () => 0,
    write: (_stream, buffer, offset, length) => {
      onData(buffer.subarray(offset, offset + length));
      return length;
    },
  });
  raw.FS.mkdev(path, 0o222, dev);
  const stream = raw.FS.open(path, 1 /* O_WRONLY: no O_TRUNC, which a device refuses */);
  return {
    target: `pipe:${stream.fd}`,
    close: () => {
      raw.FS.close(stream);
      raw.FS.unlink(path);
    },
  };
}
