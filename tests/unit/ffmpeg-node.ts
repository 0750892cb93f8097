// The app's core provider (src/lib/codec/ffmpeg-core.ts) on the real single-thread core from node_modules
// (@ffmpeg/core, the files the app self-hosts under /ffmpeg/), so the transcoder runs on it in Node. The core
// is built for browsers and workers: it runs in Node once it sees a worker-like global (importScripts).
import { readFileSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { WasmCoreProvider, type CoreFactory, type CoreLoader } from '../../src/lib/codec/ffmpeg-core';

export const CORE_DIR = fileURLToPath(new URL('../../node_modules/@ffmpeg/core/dist/esm/', import.meta.url));

const g = globalThis as Record<string, unknown>;
g.self ??= globalThis;
g.importScripts ??= () => undefined;
g.location ??= { href: pathToFileURL(CORE_DIR).href };

export const nodeLoader: CoreLoader = {
  importFactory: async (url) => ((await import(/* @vite-ignore */ url)) as { default: CoreFactory }).default,
  compile: async (url) => WebAssembly.compile(readFileSync(fileURLToPath(url))),
  text: async (url) => readFileSync(fileURLToPath(url), 'utf8'),
};

export class NodeCoreProvider extends WasmCoreProvider {
  discards = 0;
  commands: string[][] = [];

  constructor(maxCommands?: number) {
    const dir = pathToFileURL(CORE_DIR).href;
    super({
      candidates: [{ variant: 'st', coreURL: `${dir}ffmpeg-core.js`, wasmURL: `${dir}ffmpeg-core.wasm` }],
      loader: nodeLoader,
      maxCommands,
    });
  }

  override async acquire(opts: Parameters<WasmCoreProvider['acquire']>[0]) {
    const core = await super.acquire(opts);
    const log =
      (tool: string, fn: (a: string[]) => Promise<number>) =>
      (args: string[]): Promise<number> => {
        this.commands.push([tool, ...args]);
        return fn(args);
      };
    return { ...core, exec: log('exec', core.exec), ffprobe: log('ffprobe', core.ffprobe) };
  }

  override discard(): void {
    this.discards++;
    super.discard();
  }
}
