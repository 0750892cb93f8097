// clone.install: the converter from the release (by URL), from imported release files, or as an ONNX pair;
// the graphs are built once here and stored next to config.json, with the int8 variant when one is made.
import { throwIfAborted, type RunOptions } from '../core/run';
import { ModelIntegrityError, ModelNotInstalledError } from '../models/types';
import { sha256Hex } from '../core/hash';
import {
  graphsFromCheckpoint,
  isPublishedV2Shape,
  OpenVoiceConverter,
  parseConfig,
  type ConverterGraphs,
  type OrtLike,
} from '../openvoice';
import type { CloneDeps } from './deps';
import { ConverterGraphError } from './errors';
import { FILES, fastFiles, text, writeFile } from './files';
import { resetClone, tuneFast } from './converter';
import {
  CONVERTER_MODEL_IDS,
  NOT_PUBLISHED_NOTE,
  PUBLISHED_V2,
  RELEASE_PATHS,
  type CloneInstallArgs,
  type CloneInstallResult,
  type ConverterVersion,
} from './contract';

/** The release's site did not answer at all (no network, or the host is unreachable). */
class SiteUnreachable extends Error {}

/** What to say when the release's site cannot be reached: that, and the import instead. */
function unreachable(base: string): ModelNotInstalledError {
  let host = base;
  try {
    host = new URL(base).host;
  } catch {
    // not a URL: say it as given
  }
  return new ModelNotInstalledError(
    `${host} could not be reached (no network?), so nothing was downloaded. Import the release files instead: get converter/config.json and converter/checkpoint.pth on a device that is online and drop both here under "Install from files".`,
  );
}

async function download(
  url: string,
  name: string,
  f: typeof fetch,
  opts: RunOptions,
  before: number,
): Promise<Uint8Array> {
  let res: Response;
  try {
    res = await f(url, { signal: opts.signal });
  } catch (e) {
    if (opts.signal?.aborted) throw e;
    // fetch rejects (TypeError) only when no answer came: offline, DNS, a refused connection.
    throw new SiteUnreachable((e as Error).message);
  }
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

/** A file downloaded from the official release must be the one published (size and SHA-256). */
async function verifyPublished(path: string, bytes: Uint8Array): Promise<void> {
  const want = PUBLISHED_V2.files[path]!;
  if (bytes.byteLength !== want.bytes || (await sha256Hex(bytes)) !== want.sha256)
    throw new ModelIntegrityError(
      `${path} from the release is not the published file (${bytes.byteLength} bytes; expected ${want.bytes} with SHA-256 ${want.sha256.slice(0, 12)}…). Nothing was installed; try again.`,
    );
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
  d: CloneDeps,
): Promise<CloneInstallResult> {
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
      let reached = false;
      for (const v of versions) {
        try {
          found = { v, cfg: await download(base + RELEASE_PATHS[v].config, 'config.json', f, opts, 0) };
          break;
        } catch (e) {
          if ((e as Error).name === 'CancelledError' || (e as Error).name === 'AbortError') throw e;
          if (!(e instanceof SiteUnreachable)) reached = true;
        }
      }
      // Not one answer: the files are not missing, the site is out of reach.
      if (!found && !reached) throw unreachable(base);
      if (!found)
        throw new ModelNotInstalledError(
          `No converter/config.json (v2) or checkpoints/converter/config.json (v1) under ${base}.`,
        );
      configText = text(found.cfg);
      try {
        checkpoint = await download(
          base + RELEASE_PATHS[found.v].checkpoint,
          'checkpoint.pth',
          f,
          opts,
          found.cfg.byteLength,
        );
      } catch (e) {
        throw e instanceof SiteUnreachable ? unreachable(base) : e;
      }
      if (base === PUBLISHED_V2.base && found.v === 'v2') {
        await verifyPublished(RELEASE_PATHS.v2.config, found.cfg);
        await verifyPublished(RELEASE_PATHS.v2.checkpoint, checkpoint);
      }
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
  // Built weights that are not the published V2 ones install, with a note saying so.
  const weightsNote =
    version === 'v2' && graphs.weights && !isPublishedV2Shape(graphs.weights)
      ? NOT_PUBLISHED_NOTE
      : undefined;
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
    ...(weightsNote ? { weightsNote } : {}),
  };
}
