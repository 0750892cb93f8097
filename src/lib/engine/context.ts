// The engine's composition root: what the operations share, built once where the engine runs (the engine
// worker; tests build their own), the way src/sw/sw.ts builds the API's ApiContext. Operations take
// their dependencies from here instead of opening their own: one database connection and model store,
// one single-thread ffmpeg core, one decoder for transcription uploads, one converter for tone colour.
import type { ToneColourExtractor } from '../asr/diarize';
import type { Transcoder } from '../codec/transcoder';
import {
  transcoderStreamDecoder,
  withFallback,
  type AsrStreamDecoder,
  type WorkerStreamDecoder,
} from '../codec/stream';
import type { CloneDeps } from '../clone/deps';
import { openModelFiles, type OpenedModelFiles } from '../models/files';
import type { OrtLike } from '../runtime/ort-session';
import { isTtsChunk } from '../tts/contract';

export interface EngineContext {
  /** Installed models: the registry (IndexedDB) and the file store, opened once. */
  files(): Promise<OpenedModelFiles>;
  /** The engine's single-thread ffmpeg core, loaded on first use and shared by every operation. */
  transcoder(): Promise<Transcoder>;
  /** Decodes transcription uploads while they are transcribed: the decode worker, else `transcoder`. */
  streamDecoder(): Promise<AsrStreamDecoder>;
  /** Lets the decode worker load its core ahead of the first upload (the Transcribe view opened). */
  warmDecoder(): void;
  /** The tone-colour converter for diarization (null when it is not installed). */
  toneColour(): Promise<ToneColourExtractor | null>;
  /** What the clone operations run on: the models, the runtime, the ffmpeg core, Kokoro and the VAD. */
  clone(): Promise<CloneDeps>;
}

export interface EngineContextOptions {
  /** Where the app is served from: the ffmpeg cores are under it. */
  base: string;
  /** A decoder in a worker of its own (src/workers/decode.worker.ts), when the host can start one. */
  decodeWorker?: WorkerStreamDecoder;
  /** The installed models (default: this context's IndexedDB registry and model store). */
  files?: () => Promise<OpenedModelFiles>;
}

export function createEngineContext(o: EngineContextOptions): EngineContext {
  let transcoder: Promise<Transcoder> | null = null;
  let decoder: Promise<AsrStreamDecoder> | null = null;
  let clone: Promise<CloneDeps> | null = null;
  const ctx: EngineContext = {
    files: o.files ?? openModelFiles,
    transcoder: () =>
      (transcoder ??= import('../codec/core-loader').then(
        ({ createTranscoder }) => createTranscoder(o.base, 'st', false).transcoder,
      )),
    streamDecoder: () =>
      (decoder ??= ctx.transcoder().then((t) => {
        const here = transcoderStreamDecoder(() => t);
        return o.decodeWorker ? withFallback(o.decodeWorker, here) : here;
      })),
    warmDecoder: () => o.decodeWorker?.warm(),
    toneColour: async () => (await import('../clone/converter')).toneColourExtractor(await ctx.clone()),
    clone: () =>
      (clone ??= cloneDeps(ctx).catch((e: unknown) => {
        clone = null;
        throw e;
      })),
  };
  return ctx;
}

async function cloneDeps(ctx: EngineContext): Promise<CloneDeps> {
  const [files, { runtimeHost }, { sileroModel }] = await Promise.all([
    ctx.files(),
    import('../runtime/host'),
    import('../vad/vad'),
  ]);
  const rt = await runtimeHost();
  return {
    registry: files.registry,
    store: files.store,
    ort: rt.ort as unknown as OrtLike,
    transcoder: ctx.transcoder,
    speak: async (a, onChunk, signal) => {
      const { runTtsGenerate } = await import('../tts/operation');
      const r = await runTtsGenerate(
        { text: a.text, voice: a.voice, speed: a.speed ?? 1 },
        {
          signal,
          onProgress: onChunk
            ? (p) => void (isTtsChunk(p) && onChunk(p.data.samples, p.data.sampleRate))
            : undefined,
        },
        files,
      );
      return { samples: r.samples, sampleRate: r.sampleRate, chunks: r.chunks };
    },
    vadModel: () => sileroModel(files),
  };
}
