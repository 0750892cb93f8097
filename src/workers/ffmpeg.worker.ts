/// <reference lib="webworker" />
// The audio formats worker: wires the transcoder (src/lib/audio/transcoder.ts) on the self-hosted ffmpeg
// core (src/lib/audio/ffmpeg-core.ts) to comlink. Nothing else lives here. Commands run synchronously in
// this worker, so the page cancels one by terminating the worker (src/client/formats.ts).
import { expose, transfer } from 'comlink';
import {
  WasmCoreProvider,
  coreCandidates,
  coreFiles,
  type CoreFactory,
  type CoreLoader,
  type CoreVariant,
} from '../lib/audio/ffmpeg-core';
import {
  Transcoder,
  type ConvertOptions,
  type DecodedAudio,
  type EncodedAudio,
} from '../lib/audio/transcoder';
import type { DecodeOptions, EncodeOptions, ProbeResult } from '../lib/audio/formats';
import type { Progress } from '../lib/engine/types';

export type CorePreference = 'auto' | CoreVariant;

async function fetchOk(url: string): Promise<Response> {
  const res = await fetch(url);
  if (!res.ok) throw new Error(`${url} answered HTTP ${res.status}`);
  return res;
}

const loader: CoreLoader = {
  importFactory: async (url) => ((await import(/* @vite-ignore */ url)) as { default: CoreFactory }).default,
  compile: async (url) => WebAssembly.compileStreaming(fetchOk(url)),
  text: async (url) => (await fetchOk(url)).text(),
};

const base = new URL(import.meta.env.BASE_URL, self.location.href).href;

function create(pref: CorePreference) {
  const provider = new WasmCoreProvider({
    candidates: pref === 'auto' ? coreCandidates(base, self.crossOriginIsolated) : [coreFiles(base, pref)],
    loader,
  });
  return { provider, transcoder: new Transcoder(provider) };
}

let current = create('auto');

function progressFn(onProgress?: (p: Progress) => void) {
  // The callback's return value would be sent back over comlink: never return one.
  return onProgress ? (p: Progress) => void onProgress(p) : undefined;
}

const api = {
  /** Which core to load ('auto': multi-threaded when cross-origin isolated); takes effect at once. */
  useCore(pref: CorePreference): void {
    current.provider.discard();
    current = create(pref);
  },

  info(): { variant: CoreVariant | null; fallbackReason: string | null; loads: number; isolated: boolean } {
    const { provider } = current;
    return {
      variant: provider.variant,
      fallbackReason: provider.fallbackReason,
      loads: provider.loads,
      isolated: self.crossOriginIsolated,
    };
  },

  async encode(
    samples: Float32Array | Float32Array[],
    sampleRate: number,
    options: EncodeOptions,
    onProgress?: (p: Progress) => void,
  ): Promise<EncodedAudio> {
    const r = await current.transcoder.encode(samples, sampleRate, options, {
      onProgress: progressFn(onProgress),
    });
    return transfer(r, [r.bytes.buffer as ArrayBuffer]);
  },

  async convert(
    bytes: Uint8Array,
    options: ConvertOptions,
    onProgress?: (p: Progress) => void,
  ): Promise<EncodedAudio> {
    const r = await current.transcoder.convert(bytes, options, { onProgress: progressFn(onProgress) });
    return transfer(r, [r.bytes.buffer as ArrayBuffer]);
  },

  async decode(
    bytes: Uint8Array,
    options: DecodeOptions,
    onProgress?: (p: Progress) => void,
  ): Promise<DecodedAudio> {
    const r = await current.transcoder.decode(bytes, options, { onProgress: progressFn(onProgress) });
    return transfer(r, [r.samples.buffer as ArrayBuffer]);
  },

  probe(bytes: Uint8Array): Promise<ProbeResult> {
    return current.transcoder.probe(bytes);
  },
};

export type FFmpegWorkerApi = typeof api;

expose(api);
