// Loads the self-hosted ffmpeg.wasm core files of this origin (dynamic import of the glue, streaming
// compile of the wasm). Shared by the audio formats worker and the engine worker's encode operation.
import {
  coreCandidates,
  coreFiles,
  WasmCoreProvider,
  type CoreFactory,
  type CoreLoader,
  type CoreVariant,
} from './ffmpeg-core';
import { Transcoder } from './transcoder';

export type CorePreference = 'auto' | CoreVariant;

async function fetchOk(url: string): Promise<Response> {
  const res = await fetch(url);
  if (!res.ok) throw new Error(`${url} answered HTTP ${res.status}`);
  return res;
}

export const browserCoreLoader: CoreLoader = {
  importFactory: async (url) => ((await import(/* @vite-ignore */ url)) as { default: CoreFactory }).default,
  compile: async (url) => WebAssembly.compileStreaming(fetchOk(url)),
  text: async (url) => (await fetchOk(url)).text(),
};

/** A transcoder on this origin's core: 'auto' takes the multi-threaded one when cross-origin isolated. */
export function createTranscoder(base: string, pref: CorePreference, isolated: boolean) {
  const provider = new WasmCoreProvider({
    candidates: pref === 'auto' ? coreCandidates(base, isolated) : [coreFiles(base, pref)],
    loader: browserCoreLoader,
  });
  return { provider, transcoder: new Transcoder(provider) };
}
