/// <reference lib="webworker" />
// The transcription decoder: ffmpeg.wasm and the 16 kHz resampler (src/lib/codec/stream.ts) in a worker
// the engine worker starts, so a long file decodes while its first windows are being transcribed. The
// samples reach the engine in blocks, posted while ffmpeg runs. Nothing else lives here.
import { expose, transfer } from 'comlink';
import { createTranscoder } from '../lib/codec/core-loader';
import { transcoderStreamDecoder, type AsrStreamStart } from '../lib/codec/stream';

const base = new URL(import.meta.env.BASE_URL, self.location.href).href;
const { provider, transcoder } = createTranscoder(base, 'st', false);
const decode = transcoderStreamDecoder(() => transcoder);
// Load the core now: the first file should not wait for it.
void provider.acquire({}).catch(() => undefined);

const api = {
  async decode(
    bytes: Uint8Array,
    onStart: (f: AsrStreamStart) => void,
    onBlock: (samples: Float32Array) => void,
  ): Promise<number> {
    // The callbacks' return values would come back over comlink: never wait for them. They travel on a
    // channel of their own, so the engine counts the blocks in: say how many were posted.
    let posted = 0;
    await decode(
      bytes,
      {
        onStart: (f) => void onStart(f),
        onBlock: (b) => {
          posted++;
          void onBlock(transfer(b, [b.buffer as ArrayBuffer]));
        },
      },
      {},
    );
    return posted;
  },
};

export type DecodeWorkerApi = typeof api;

expose(api);
