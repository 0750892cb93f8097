/// <reference lib="webworker" />
// The audio formats worker: wires the transcoder (src/lib/codec/transcoder.ts) on the self-hosted ffmpeg
// core (src/lib/codec/ffmpeg-core.ts) to comlink. Nothing else lives here. Commands run synchronously in
// this worker, so the page cancels one by terminating the worker (src/client/formats.ts).
import { expose, transfer } from 'comlink';
import { createTranscoder, type CorePreference } from '../lib/codec/core-loader';
import type { CoreVariant } from '../lib/codec/ffmpeg-core';
import type { ConvertOptions, DecodedAudio, EncodedAudio } from '../lib/codec/transcoder';
import { decodeInput, type DecodedInput } from '../lib/codec/decode';
import type { DecodeOptions, EncodeOptions, ProbeResult } from '../lib/codec/formats';
import type { Progress } from '../lib/core/run';

export type { CorePreference };

const base = new URL(import.meta.env.BASE_URL, self.location.href).href;

const create = (pref: CorePreference) => createTranscoder(base, pref, self.crossOriginIsolated);

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

  /** The studio's one decoder (src/lib/codec/decode.ts): any file → mono at `rate` (default its own). */
  async decodeInput(
    bytes: Uint8Array,
    o: { rate?: number; maxRate?: number },
    onProgress?: (p: Progress) => void,
  ): Promise<DecodedInput> {
    const r = await decodeInput(bytes, () => current.transcoder, {
      ...o,
      onProgress: progressFn(onProgress),
    });
    return transfer(r, [r.samples.buffer as ArrayBuffer]);
  },

  probe(bytes: Uint8Array): Promise<ProbeResult> {
    return current.transcoder.probe(bytes);
  },
};

export type FFmpegWorkerApi = typeof api;

expose(api);
