// The clone.* engine operations: install the converter (release by URL, imported files, or an ONNX pair),
// extract a voice from recordings, convert recordings, and speak text in a cloned voice (Kokoro → the
// converter). The two ONNX graphs are built once from the checkpoint and cached in the model store next
// to config.json, so later loads read them instead of rebuilding.
import { throwIfAborted, type RunOptions } from '../core/run';
import { errorKind } from '../core/errors';
import type { Transcoder } from '../codec/transcoder';
import type { ModelFileStore } from '../models/store';
import type { InstalledFile, InstalledModel } from '../storage/records';
import { sha256Hex } from '../core/hash';
import { ModelNotInstalledError } from '../models/types';
import { resample } from '../dsp/resample';
import { decodeInput } from '../codec/decode';
import { findSpeech, sileroModel, VAD_RATE } from '../vad/vad';
import {
  graphsFromCheckpoint,
  OpenVoiceConverter,
  parseConfig,
  type ConverterGraphs,
  type ConverterPrecision,
  type OrtLike,
} from '../openvoice';
import { convertChunked, frameNoise, StreamedConversion } from './chunks';
import { FAST_FILES, FastConverterError, makeFastConverter } from './fast';
import { baseVoiceFor } from './base-voice';
import {
  averageEmbeddings,
  measureMusic,
  measureSpeakers,
  pieces,
  qualityChecks,
  requireSpeech,
  speechOnly,
} from './reference';
import {
  CONVERTER_MODEL_IDS,
  CONVERTER_NOT_INSTALLED,
  DEFAULT_TAU,
  RELEASE_PATHS,
  type CloneAudio,
  type CloneChunkData,
  type CloneConvertArgs,
  type CloneConvertResult,
  type CloneExtractArgs,
  type CloneExtractResult,
  type CloneInstallArgs,
  type CloneInstallResult,
  type CloneSpeakArgs,
  type CloneSpeakResult,
  type CloneStatusResult,
  type ConverterVersion,
  type FastConverterInfo,
  type MusicMeasure,
  type SpeakerMeasure,
} from './types';

/** An ONNX pair whose inputs or outputs are not the converter's. */
export class ConverterGraphError extends Error {
  override name = 'ConverterGraphError';
}

/** A bad argument to a clone op (tau out of range, empty text, wrong embedding size). */
export class CloneParamError extends Error {
  override name = 'CloneParamError';
}

export interface CloneDeps {
  registry: {
    get(id: string): Promise<InstalledModel | undefined>;
    put(r: InstalledModel): Promise<void>;
  };
  store: ModelFileStore;
  ort: OrtLike;
  fetch?: typeof fetch;
  transcoder?: () => Promise<Transcoder>;
  /**
   * Speech for clone.speak (Kokoro in the app): mono samples at `sampleRate`. With `onChunk`, each piece
   * (a sentence or part of one) is handed over as it is made, in order; together they are the samples.
   */
  speak?: (
    a: { text: string; voice: string; speed?: number },
    onChunk?: (samples: Float32Array, sampleRate: number) => void,
    signal?: AbortSignal,
  ) => Promise<{
    samples: Float32Array;
    sampleRate: number;
    /** Each sentence's span, in seconds. */
    chunks?: { text: string; start: number; end: number }[];
  }>;
  /** Silero VAD model bytes, or null when it is not installed (the energy detector stands in). */
  vadModel?: () => Promise<(() => Promise<Uint8Array>) | null>;
}

const FILES = { config: 'config.json', extractor: 'extractor.onnx', converter: 'converter.onnx' };

export const notInstalledMessage = () => CONVERTER_NOT_INSTALLED;

let depsPromise: Promise<CloneDeps> | null = null;
let ownTranscoder: Transcoder | null = null;

/** The engine worker's registry, store and runtime. */
async function defaultDeps(): Promise<CloneDeps> {
  depsPromise ??= (async (): Promise<CloneDeps> => {
    const [{ openTimbreDB }, { ModelRegistry }, { pickModelStore }, { runtimeHost }] = await Promise.all([
      import('../storage/db'),
      import('../storage/models'),
      import('../models/store'),
      import('../runtime/host'),
    ]);
    const db = await openTimbreDB();
    const registry = new ModelRegistry(db);
    const rt = await runtimeHost();
    const store = await pickModelStore();
    return {
      registry,
      store,
      ort: rt.ort as unknown as OrtLike,
      transcoder: async () => {
        const { createTranscoder } = await import('../codec/core-loader');
        ownTranscoder ??= createTranscoder(
          new URL('/', globalThis.location.href).href,
          'st',
          false,
        ).transcoder;
        return ownTranscoder;
      },
      speak: async (a, onChunk, signal) => {
        const { runTtsGenerate, isTtsChunk } = await import('../tts/operation');
        const r = await runTtsGenerate(
          { text: a.text, voice: a.voice, speed: a.speed ?? 1 },
          {
            signal,
            onProgress: onChunk
              ? (p) => void (isTtsChunk(p) && onChunk(p.data.samples, p.data.sampleRate))
              : undefined,
          },
          { registry, store },
        );
        return { samples: r.samples, sampleRate: r.sampleRate, chunks: r.chunks };
      },
      vadModel: async () => sileroModel({ registry, store }),
    };
  })().catch((e: unknown) => {
    depsPromise = null;
    throw e;
  });
  return depsPromise;
}

interface Loaded {
  id: string;
  version: ConverterVersion;
  model: OpenVoiceConverter;
  /** The int8 variant made on this device, if any (the model then has its graph). */
  fast?: FastConverterInfo;
}
let loaded: Loaded | null = null;
const baseSeCache = new Map<string, Float32Array>();
/**
 * Converters whose int8 variant this worker has made or cannot make, so it is tried once; a failure for
 * want of speech (Kokoro not installed yet) is not kept, and the next conversion tries again.
 */
const fastTried = new Set<string>();
/** The last reason a variant was not made, for the error of an explicit int8 request. */
const fastReason = new Map<string, string>();

/** Forgets the loaded sessions (after an install, and in tests). */
export async function resetClone(): Promise<void> {
  baseSeCache.clear();
  fastTried.clear();
  fastReason.clear();
  await unload();
}

/** Releases the loaded sessions, keeping what this worker knows of the variants. */
async function unload(): Promise<void> {
  const l = loaded;
  loaded = null;
  if (l) await l.model.release();
}

/**
 * The int8 variant of a converter graph (fast.ts), or why there is none; `model` holds that graph's
 * float session, which it is measured against.
 */
async function tuneFast(
  d: CloneDeps,
  fp32: Uint8Array,
  model: OpenVoiceConverter,
  opts: RunOptions,
): Promise<{ graph: Uint8Array; info: FastConverterInfo } | { reason: string; retry: boolean }> {
  try {
    return await makeFastConverter(d.ort, model, fp32, d.speak, opts);
  } catch (e) {
    if (e instanceof FastConverterError) return { reason: e.message, retry: e.retry };
    throw e;
  }
}

/** The record with `extra` files added (replacing any of the same path). */
const withFiles = (rec: InstalledModel, extra: InstalledFile[]): InstalledModel => ({
  ...rec,
  files: [...rec.files.filter((f) => !extra.some((e) => e.path === f.path)), ...extra],
});

const fastFiles = async (d: CloneDeps, id: string, fast: { graph: Uint8Array; info: FastConverterInfo }) => [
  await writeFile(d.store, id, FAST_FILES.graph, fast.graph),
  await writeFile(d.store, id, FAST_FILES.info, new TextEncoder().encode(JSON.stringify(fast.info))),
];

/** The stored variant's record, when the model record lists both of its files. */
async function readFastInfo(
  d: Pick<CloneDeps, 'store'>,
  rec: InstalledModel,
): Promise<FastConverterInfo | undefined> {
  const has = (p: string) => rec.files.some((f) => f.path === p);
  if (!has(FAST_FILES.graph) || !has(FAST_FILES.info)) return undefined;
  try {
    return JSON.parse(text(await readAll(d.store, rec.id, FAST_FILES.info))) as FastConverterInfo;
  } catch {
    return undefined;
  }
}

/** The precision a call runs at: as asked, else int8 when the device's variant is recommended. */
function precisionFor(l: Loaded, asked: unknown): ConverterPrecision {
  if (asked === undefined || asked === null)
    return l.fast?.recommended && l.model.has('int8') ? 'int8' : 'fp32';
  if (asked !== 'fp32' && asked !== 'int8')
    throw new CloneParamError(`precision must be "fp32" or "int8" (got ${JSON.stringify(asked)}).`);
  if (asked === 'int8' && !l.model.has('int8'))
    throw new CloneParamError(
      `The fast (int8) converter has not been made on this device${fastReason.get(l.id) ? `: ${fastReason.get(l.id)}` : ''}.`,
    );
  return asked;
}

const text = (b: string | Uint8Array) => (typeof b === 'string' ? b : new TextDecoder().decode(b));

async function writeFile(
  store: ModelFileStore,
  id: string,
  path: string,
  bytes: Uint8Array,
): Promise<InstalledFile> {
  await store.removePartial(id, path);
  await store.append(id, path, bytes, 0);
  await store.flush(id, path);
  await store.commit(id, path);
  return { path, bytes: bytes.byteLength, sha256: sha256Hex(bytes), verified_at: Date.now(), pinned: false };
}

async function download(
  url: string,
  name: string,
  f: typeof fetch,
  opts: RunOptions,
  before: number,
): Promise<Uint8Array> {
  const res = await f(url, { signal: opts.signal });
  if (!res.ok || !res.body)
    throw new ModelNotInstalledError(`Downloading ${url} failed (HTTP ${res.status}).`);
  const total = Number(res.headers.get('content-length') ?? 0);
  const parts: Uint8Array[] = [];
  let done = 0;
  const reader = res.body.getReader();
  for (;;) {
    const { value, done: end } = await reader.read();
    if (end) break;
    parts.push(value);
    done += value.byteLength;
    opts.onProgress?.({
      stage: 'download',
      done: before + done,
      total: 0,
      message: `${name}: ${done}${total ? ` of ${total}` : ''} bytes`,
    });
  }
  const out = new Uint8Array(done);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.byteLength;
  }
  return out;
}

/** Checks an imported ONNX pair by running both graphs on a small input (names, shapes, sizes). */
async function checkOnnxPair(ort: OrtLike, graphs: ConverterGraphs): Promise<void> {
  const { config } = graphs;
  let model: OpenVoiceConverter;
  try {
    model = await OpenVoiceConverter.create(ort, graphs);
  } catch (e) {
    throw new ConverterGraphError(`The ONNX files could not be loaded: ${(e as Error).message}`);
  }
  try {
    const audio = new Float32Array(config.hopLength * 40);
    for (let i = 0; i < audio.length; i++) audio[i] = 0.1 * Math.sin(i / 7);
    const spec = model.spectrogram(audio);
    let se: Float32Array;
    try {
      se = await model.embed(spec);
    } catch (e) {
      throw new ConverterGraphError(
        `The extractor does not take spec [1, frames, ${spec.bins}] → se [1, ${config.ginChannels}, 1]: ${(e as Error).message}`,
      );
    }
    if (se.length !== config.ginChannels)
      throw new ConverterGraphError(
        `The extractor gives ${se.length} values; config.json says gin_channels ${config.ginChannels}.`,
      );
    let y: Float32Array;
    try {
      y = await model.convert(spec, new Float32Array(config.interChannels * spec.frames), se, se, 0.3);
    } catch (e) {
      throw new ConverterGraphError(
        `The converter does not take spec, noise [1, ${config.interChannels}, frames], src_se, tgt_se, tau → audio: ${(e as Error).message}`,
      );
    }
    if (y.length !== spec.frames * config.hopLength)
      throw new ConverterGraphError(
        `The converter gives ${y.length} samples for ${spec.frames} frames; expected frames × ${config.hopLength}.`,
      );
  } finally {
    await model.release();
  }
}

export async function runCloneInstall(
  args: CloneInstallArgs,
  opts: RunOptions = {},
  deps?: CloneDeps,
): Promise<CloneInstallResult> {
  const d = deps ?? (await defaultDeps());
  const src = args.source;
  let configText: string;
  let graphs: ConverterGraphs;
  let built = true;
  if (src.kind === 'onnx') {
    configText = text(src.config);
    graphs = { config: parseConfig(configText), extractor: src.extractor, converter: src.converter };
    opts.onProgress?.({ stage: 'build', done: 0, total: 1, message: 'Checking the ONNX pair' });
    await checkOnnxPair(d.ort, graphs);
    built = false;
  } else {
    let checkpoint: Uint8Array;
    if (src.kind === 'url') {
      const f = d.fetch ?? fetch;
      const base = src.base.endsWith('/') ? src.base : `${src.base}/`;
      // The version's layout: asked for, or whichever the server has (v2 first).
      const versions: ConverterVersion[] = args.version ? [args.version] : ['v2', 'v1'];
      let found: { v: ConverterVersion; cfg: Uint8Array } | null = null;
      for (const v of versions) {
        try {
          found = { v, cfg: await download(base + RELEASE_PATHS[v].config, 'config.json', f, opts, 0) };
          break;
        } catch (e) {
          if (errorKind(e) === 'cancelled') throw e;
        }
      }
      if (!found)
        throw new ModelNotInstalledError(
          `No converter/config.json (v2) or checkpoints/converter/config.json (v1) under ${base}.`,
        );
      configText = text(found.cfg);
      checkpoint = await download(
        base + RELEASE_PATHS[found.v].checkpoint,
        'checkpoint.pth',
        f,
        opts,
        found.cfg.byteLength,
      );
      args = { ...args, version: found.v };
    } else {
      configText = text(src.config);
      checkpoint = src.checkpoint;
    }
    throwIfAborted(opts.signal);
    opts.onProgress?.({ stage: 'read', done: 0, total: 1, message: 'Reading the checkpoint' });
    opts.onProgress?.({ stage: 'build', done: 0, total: 1, message: 'Building the ONNX graphs' });
    graphs = await graphsFromCheckpoint(configText, checkpoint);
    opts.onProgress?.({ stage: 'build', done: 1, total: 1, message: 'Built the ONNX graphs' });
  }
  const version: ConverterVersion = args.version ?? (graphs.config.zeroG ? 'v2' : 'v1');
  const id = CONVERTER_MODEL_IDS[version];
  // Before anything is stored, so a cancel here leaves no half-installed converter.
  const tuning = await OpenVoiceConverter.create(d.ort, graphs);
  let fast: Awaited<ReturnType<typeof tuneFast>>;
  try {
    fast = await tuneFast(d, graphs.converter, tuning, opts);
  } finally {
    await tuning.release();
  }
  throwIfAborted(opts.signal);
  opts.onProgress?.({ stage: 'store', done: 0, total: 3, message: 'Storing the graphs' });
  const files = [
    await writeFile(d.store, id, FILES.config, new TextEncoder().encode(configText)),
    await writeFile(d.store, id, FILES.extractor, graphs.extractor),
    await writeFile(d.store, id, FILES.converter, graphs.converter),
    ...('graph' in fast ? await fastFiles(d, id, fast) : []),
  ];
  await d.registry.put({
    id,
    files,
    installed_at: Date.now(),
    origin: src.kind === 'url' ? 'download' : 'import',
  });
  await resetClone();
  opts.onProgress?.({ stage: 'done', done: 1, total: 1, message: 'Installed' });
  return {
    id,
    version,
    sampleRate: graphs.config.samplingRate,
    toneDimension: graphs.config.ginChannels,
    onnxBytes: graphs.extractor.byteLength + graphs.converter.byteLength,
    built,
    ...('info' in fast ? { fast: fast.info } : { fastUnavailable: fast.reason }),
  };
}

const readAll = async (store: ModelFileStore, id: string, path: string) =>
  new Uint8Array(await (await store.read(id, path)).arrayBuffer());

/**
 * The installed converter (v2 preferred), its graphs built and cached on first use after a catalogue install.
 * With `tune` (conversions), a converter installed without its int8 variant gets one made, once.
 */
async function converter(d: CloneDeps, opts: RunOptions = {}, tune = false): Promise<Loaded> {
  if (loaded) {
    // Deleted in the Models view since it was loaded: its sessions go too.
    if (await d.registry.get(loaded.id)) {
      if (!tune || loaded.fast || fastTried.has(loaded.id)) return loaded;
    } else await resetClone();
  }
  for (const version of ['v2', 'v1'] as const) {
    const id = CONVERTER_MODEL_IDS[version];
    let rec = await d.registry.get(id);
    if (!rec) continue;
    const has = (p: string) => rec!.files.some((f) => f.path === p);
    // The float converter graph, when this call already holds it (else tuning reads it from the store).
    let fp32: Uint8Array | null = null;
    if (loaded?.id === id) {
      // Loaded, without a variant yet: only the tuning below is left to do.
    } else if (has(FILES.extractor) && has(FILES.converter)) {
      const configText = text(
        await readAll(d.store, id, has(FILES.config) ? FILES.config : RELEASE_PATHS[version].config),
      );
      const fast = await readFastInfo(d, rec);
      const config = parseConfig(configText);
      const model = await OpenVoiceConverter.create(
        d.ort,
        {
          config,
          extractor: await readAll(d.store, id, FILES.extractor),
          converter: () => readAll(d.store, id, FILES.converter),
          int8: fast ? () => readAll(d.store, id, FAST_FILES.graph) : undefined,
        },
        undefined,
        fast?.recommended ? 'int8' : 'fp32',
      );
      loaded = { id, version, model, fast };
    } else if (has(RELEASE_PATHS[version].checkpoint)) {
      // Installed from the catalogue as the release files: build once, keep the graphs.
      opts.onProgress?.({
        stage: 'build',
        done: 0,
        total: 1,
        message: 'Building the converter graphs (once)',
      });
      const configText = text(await readAll(d.store, id, RELEASE_PATHS[version].config));
      const graphs = await graphsFromCheckpoint(
        configText,
        await readAll(d.store, id, RELEASE_PATHS[version].checkpoint),
      );
      const extra = [
        await writeFile(d.store, id, FILES.extractor, graphs.extractor),
        await writeFile(d.store, id, FILES.converter, graphs.converter),
      ];
      rec = withFiles(rec, extra);
      await d.registry.put(rec);
      loaded = { id, version, model: await OpenVoiceConverter.create(d.ort, graphs) };
      fp32 = graphs.converter;
    } else continue;
    const l: Loaded = loaded!;
    if (tune && !l.fast && !fastTried.has(id)) {
      const made = await tuneFast(d, fp32 ?? (await readAll(d.store, id, FILES.converter)), l.model, opts);
      if ('reason' in made) fastReason.set(id, made.reason);
      if (!('retry' in made && made.retry)) fastTried.add(id);
      if ('graph' in made) {
        await d.registry.put(withFiles((await d.registry.get(id)) ?? rec, await fastFiles(d, id, made)));
        // Reload with the variant (its session instead of the float one, when it is the default).
        await unload();
        return converter(d, opts);
      }
    }
    return l;
  }
  throw new ModelNotInstalledError(notInstalledMessage());
}

/**
 * The installed converter's tone-colour extractor on its own (for speaker diarization), sharing the loaded
 * session; null when no converter is installed.
 */
export async function toneColourExtractor(deps?: CloneDeps): Promise<{
  sampleRate: number;
  dimension: number;
  embed(samples: Float32Array): Promise<Float32Array>;
} | null> {
  const d = deps ?? (await defaultDeps());
  let l: Awaited<ReturnType<typeof converter>>;
  try {
    l = await converter(d);
  } catch (e) {
    if (e instanceof ModelNotInstalledError) return null;
    throw e;
  }
  const { model } = l;
  return {
    sampleRate: model.config.samplingRate,
    dimension: model.config.ginChannels,
    // Read `loaded` at each call: an install in between replaces (and releases) the session.
    embed: async (samples) => {
      const m = (await converter(d)).model;
      return m.embed(m.spectrogram(samples));
    },
  };
}

/** What the status needs: the registry and the store, not the runtime (a host without one still answers). */
async function statusDeps(): Promise<Pick<CloneDeps, 'registry' | 'store'>> {
  if (depsPromise) return depsPromise;
  const [{ openTimbreDB }, { ModelRegistry }, { pickModelStore }] = await Promise.all([
    import('../storage/db'),
    import('../storage/models'),
    import('../models/store'),
  ]);
  return { registry: new ModelRegistry(await openTimbreDB()), store: await pickModelStore() };
}

export async function runCloneStatus(
  deps?: Pick<CloneDeps, 'registry' | 'store'>,
): Promise<CloneStatusResult> {
  const d = deps ?? (await statusDeps());
  for (const version of ['v2', 'v1'] as const) {
    const id = CONVERTER_MODEL_IDS[version];
    const rec = await d.registry.get(id);
    if (!rec) continue;
    const p = rec.files.some((f) => f.path === FILES.config) ? FILES.config : RELEASE_PATHS[version].config;
    try {
      const cfg = parseConfig(text(await readAll(d.store, id, p)));
      const fast = await readFastInfo(d, rec);
      return {
        installed: true,
        id,
        version,
        sampleRate: cfg.samplingRate,
        toneDimension: cfg.ginChannels,
        ...(fast ? { fast } : {}),
      };
    } catch {
      continue;
    }
  }
  return { installed: false };
}

/** Any audio → mono samples at its own rate (≤ 48 kHz), through the one decoder (audio/decode.ts). */
async function decodeAudio(
  a: CloneAudio,
  d: CloneDeps,
  opts: RunOptions,
): Promise<{ samples: Float32Array; rate: number }> {
  if ('samples' in a) return { samples: a.samples, rate: a.sampleRate };
  const noCore = () => {
    throw new CloneParamError('Only WAV audio can be read here (no ffmpeg core).');
  };
  return decodeInput(a.bytes, d.transcoder ?? noCore, { signal: opts.signal });
}

const to = (x: { samples: Float32Array; rate: number }, rate: number) =>
  x.rate === rate ? x.samples : resample(x.samples, x.rate, rate);

/** Speech regions (seconds) by the one speech finder (asr/vad.ts). */
async function regionsOf(x: { samples: Float32Array; rate: number }, d: CloneDeps, opts: RunOptions) {
  return (await regions16(x, d, opts)).regions;
}

/** The 16 kHz audio and its speech regions (what VAD and diarization work on). */
async function regions16(x: { samples: Float32Array; rate: number }, d: CloneDeps, opts: RunOptions) {
  const a16 = to(x, VAD_RATE);
  const load = d.vadModel ? await d.vadModel() : null;
  return { a16, regions: (await findSpeech(a16, load, { signal: opts.signal })).regions };
}

async function embedSpeech(model: OpenVoiceConverter, speech: Float32Array, rate: number) {
  const ps = pieces(speech, rate);
  const list: Float32Array[] = [];
  for (const p of ps) list.push(await model.embed(model.spectrogram(p)));
  return { list, weights: ps.map((p) => p.length) };
}

export async function runCloneExtract(
  args: CloneExtractArgs,
  opts: RunOptions = {},
  deps?: CloneDeps,
): Promise<CloneExtractResult> {
  const d = deps ?? (await defaultDeps());
  if (!args.audio?.length) throw new CloneParamError('No recording given.');
  const { model } = await converter(d, opts);
  const rate = model.config.samplingRate;
  const inputs: { samples: Float32Array; speech: Float32Array }[] = [];
  const content = { music: [] as MusicMeasure[], speakers: [] as SpeakerMeasure[] };
  for (const [i, a] of args.audio.entries()) {
    opts.onProgress?.({ stage: 'decode', done: i, total: args.audio.length });
    const x = await decodeAudio(a, d, opts);
    opts.onProgress?.({ stage: 'vad', done: i, total: args.audio.length });
    const { a16, regions } = await regions16(x, d, opts);
    const samples = to(x, rate);
    inputs.push({ samples, speech: speechOnly(samples, rate, regions) });
    content.music.push(measureMusic(a16, 16000));
    content.speakers.push(await measureSpeakers(a16, regions, opts.signal));
  }
  const speechSeconds = inputs.reduce((s, i) => s + i.speech.length, 0) / rate;
  requireSpeech(speechSeconds);
  const all: Float32Array[] = [];
  const weights: number[] = [];
  for (const inp of inputs) {
    throwIfAborted(opts.signal);
    const e = await embedSpeech(model, inp.speech, rate);
    all.push(...e.list);
    weights.push(...e.weights);
    opts.onProgress?.({ stage: 'embed', done: all.length, total: 0 });
  }
  const checks = qualityChecks(inputs, rate, all.length, content);
  const out: CloneExtractResult = {
    embedding: averageEmbeddings(all, weights),
    checks,
    speech_seconds: speechSeconds,
    warnings: checks.warnings,
  };
  if (args.keepSamples) out.speech = inputs.map((i) => i.speech);
  return out;
}

function checkTau(tau: number | undefined): number {
  const t = tau ?? DEFAULT_TAU;
  if (!Number.isFinite(t) || t < 0 || t > 1)
    throw new CloneParamError(`tau must be between 0 and 1 (got ${tau}).`);
  return t;
}

function checkEmbedding(e: Float32Array | number[], dim: number, what: string): Float32Array {
  if (e.length !== dim)
    throw new CloneParamError(`${what} has ${e.length} values; the converter needs ${dim}.`);
  return Float32Array.from(e);
}

/** What one conversion is: the model, the source's and the target's tones, tau and the precision. */
interface Conversion {
  model: OpenVoiceConverter;
  srcSe: Float32Array;
  tgtSe: Float32Array;
  tau: number;
  precision: ConverterPrecision;
}

/** A span's conversion, and the options both chunkers take: the converter's sizes, chunks as progress. */
function converting(c: Conversion, opts: RunOptions) {
  const cfg = c.model.config;
  const rate = cfg.samplingRate;
  return {
    convert: (span: Float32Array, noise: Float32Array) =>
      c.model.convert(c.model.spectrogram(span), noise, c.srcSe, c.tgtSe, c.tau, c.precision),
    options: {
      hop: cfg.hopLength,
      sampleRate: rate,
      channels: cfg.interChannels,
      signal: opts.signal,
      onChunk: (k: Omit<CloneChunkData, 'sampleRate'>) =>
        opts.onProgress?.({
          stage: 'chunk',
          done: k.index + 1,
          total: k.total,
          data: { ...k, sampleRate: rate } satisfies CloneChunkData,
        }),
    },
  };
}

/** Converts mono samples at the converter's rate, streaming chunks as progress. */
async function convertSamples(
  c: Conversion,
  samples: Float32Array,
  seed: number,
  opts: RunOptions,
  speech?: { start: number; end: number }[],
) {
  const { convert, options } = converting(c, opts);
  return convertChunked(samples, convert, { ...options, seed, speech });
}

export async function runCloneConvert(
  args: CloneConvertArgs,
  opts: RunOptions = {},
  deps?: CloneDeps,
): Promise<CloneConvertResult> {
  const d = deps ?? (await defaultDeps());
  const tau = checkTau(args.tau);
  const l = await converter(d, opts, true);
  const { model } = l;
  const precision = precisionFor(l, args.precision);
  const cfg = model.config;
  const rate = cfg.samplingRate;
  const tgtSe = checkEmbedding(args.target, cfg.ginChannels, 'The target embedding');
  const t0 = performance.now();
  opts.onProgress?.({ stage: 'decode', done: 0, total: 1 });
  const x = await decodeAudio(args.source, d, opts);
  const samples = to(x, rate);
  if (samples.length < cfg.hopLength * 4)
    throw new CloneParamError('The source audio is too short to convert.');
  const regions = await regionsOf(x, d, opts);
  let srcSe: Float32Array;
  if (args.sourceEmbedding)
    srcSe = checkEmbedding(args.sourceEmbedding, cfg.ginChannels, 'The source embedding');
  else {
    opts.onProgress?.({ stage: 'embed', done: 0, total: 1, message: "The source's own tone" });
    const speech = speechOnly(samples, rate, regions);
    // Too little speech for VAD: the whole source stands for itself.
    const e = await embedSpeech(model, speech.length >= rate ? speech : samples, rate);
    srcSe = averageEmbeddings(e.list, e.weights);
  }
  const t1 = performance.now();
  const r = await convertSamples(
    { model, srcSe, tgtSe, tau, precision },
    samples,
    args.seed ?? 0,
    opts,
    regions,
  );
  return {
    samples: r.samples,
    sampleRate: rate,
    chunks: r.chunks,
    extractSeconds: (t1 - t0) / 1000,
    convertSeconds: (performance.now() - t1) / 1000,
    precision,
  };
}

/** Text the base voices say to take their tone (long enough for two embedding pieces). */
const BASE_TEXT =
  'The quick brown fox jumps over the lazy dog. A voice is more than its words: it carries the shape of the speaker, the room, and the moment. We read this passage slowly and clearly, so that every sound of the language has its turn.';

export async function runCloneSpeak(
  args: CloneSpeakArgs,
  opts: RunOptions = {},
  deps?: CloneDeps,
): Promise<CloneSpeakResult> {
  const d = deps ?? (await defaultDeps());
  if (!args.text?.trim()) throw new CloneParamError('No text to speak.');
  const tau = checkTau(args.tau);
  const l = await converter(d, opts, true);
  const { model, id } = l;
  const precision = precisionFor(l, args.precision);
  const cfg = model.config;
  const rate = cfg.samplingRate;
  const tgtSe = checkEmbedding(args.embedding, cfg.ginChannels, 'The voice embedding');
  if (!d.speak) throw new ModelNotInstalledError('No speech engine here for cloned speech.');
  const base = args.baseVoice ?? baseVoiceFor(args.language, args.gender);
  const key = `${id}:${base}`;
  let srcSe = baseSeCache.get(key);
  const sePath = `base-se/${base}.f32`;
  if (!srcSe) {
    try {
      const b = await readAll(d.store, id, sePath);
      if (b.byteLength === cfg.ginChannels * 4) srcSe = new Float32Array(b.slice().buffer);
    } catch {
      // not cached yet
    }
  }
  if (!srcSe) {
    opts.onProgress?.({ stage: 'base', done: 0, total: 1, message: `The tone of ${base} (once)` });
    const s = await d.speak({ text: BASE_TEXT, voice: base });
    const e = await embedSpeech(
      model,
      s.sampleRate === rate ? s.samples : resample(s.samples, s.sampleRate, rate),
      rate,
    );
    srcSe = averageEmbeddings(e.list, e.weights);
    try {
      const bytes = new Uint8Array(srcSe.buffer.slice(0));
      await d.store.append(id, sePath, bytes, 0);
      await d.store.commit(id, sePath);
    } catch {
      // The memory cache still holds it.
    }
  }
  baseSeCache.set(key, srcSe);
  throwIfAborted(opts.signal);
  const r = await speakStreamed(
    d,
    { model, srcSe, tgtSe, tau, precision },
    { text: args.text, voice: base, speed: args.speed },
    args.seed ?? 0,
    opts,
  );
  const duration = r.samples.length / rate;
  const chunks = r.chunks.length
    ? r.chunks.map((c) => ({
        text: c.text,
        start: Math.min(c.start, duration),
        end: Math.min(c.end, duration),
      }))
    : [{ text: args.text, start: 0, end: duration }];
  return { samples: r.samples, sampleRate: rate, baseVoice: base, chunks, precision };
}

/** Leading samples of a piece under this level are its pause (where a cut may fall). */
const PAUSE_LEVEL = 1e-3;

/**
 * Kokoro's pieces converted as they come: each piece's leading pause is a place to cut, and a chunk is
 * converted once the speech reaches a second past its end (the context), so the first sentence plays while
 * later ones are made. The speech so far is resampled whole each time (a prefix resamples to a prefix of
 * the whole, bar the last few samples, which the conversion waits past), so the output is the same as
 * converting the finished speech with the same cuts; the noise is drawn frame by frame for the same reason.
 */
async function speakStreamed(
  d: CloneDeps,
  c: Conversion,
  a: { text: string; voice: string; speed?: number },
  seed: number,
  opts: RunOptions,
): Promise<{ samples: Float32Array; chunks: { text: string; start: number; end: number }[] }> {
  const rate = c.model.config.samplingRate;
  const { convert, options } = converting(c, opts);
  const stream = new StreamedConversion(convert, frameNoise(seed, c.model.config.interChannels), {
    ...options,
    // A chunk may end at any pause a second or more after the last cut.
    firstSeconds: 1,
  });
  const parts: Float32Array[] = [];
  let srcRate = 0;
  let length = 0;
  const atRate = () => {
    const all = new Float32Array(length);
    let at = 0;
    for (const p of parts) {
      all.set(p, at);
      at += p.length;
    }
    return srcRate === rate ? all : resample(all, srcRate, rate);
  };
  // Pieces arrive while the speech engine runs; their conversions run one after another.
  let work: Promise<void> = Promise.resolve();
  let failed: unknown = null;
  const s = await d.speak!(
    a,
    (samples, sampleRate) => {
      if (failed || opts.signal?.aborted) return;
      srcRate = sampleRate;
      let lead = 0;
      while (lead < samples.length && Math.abs(samples[lead]!) < PAUSE_LEVEL) lead++;
      const cut = parts.length ? ((length + lead / 2) * rate) / sampleRate : null;
      parts.push(samples);
      length += samples.length;
      work = work.then(() => stream.add(atRate(), cut)).catch((e: unknown) => void (failed ??= e));
    },
    opts.signal,
  );
  await work;
  if (failed) throw failed;
  throwIfAborted(opts.signal);
  // A speech engine that hands over no pieces: the whole speech at once.
  const whole = s.sampleRate === rate ? s.samples : resample(s.samples, s.sampleRate, rate);
  const out = await stream.finish(whole);
  return { samples: out.samples, chunks: s.chunks ?? [] };
}
