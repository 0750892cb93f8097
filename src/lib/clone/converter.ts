// The loaded converter: the one set of sessions this worker holds (and the caches that go with it), loaded
// on first use and released after an install. Every clone op reads it here. Its int8 variant is made, or
// measured again, only by clone.tune (tuneConverter), which the page runs when the studio is idle: never
// inside a person's conversion.
import { throwIfAborted, type RunOptions } from '../core/run';
import { ModelNotInstalledError } from '../models/types';
import {
  graphsFromCheckpoint,
  isConverterPrecision,
  OpenVoiceConverter,
  parseConfig,
  type ConverterPrecision,
} from '../openvoice';
import { FAST_FILES, FastConverterError, makeFastConverter, remeasureFastConverter } from './fast';
import type { CloneDeps } from './deps';
import { CloneParamError } from './errors';
import { FILES, fastFiles, readAll, readFastInfo, text, withFiles, writeFile } from './files';
import {
  CONVERTER_MODEL_IDS,
  CONVERTER_NOT_INSTALLED,
  fastIsDefault,
  RELEASE_PATHS,
  type CloneTuneResult,
  type ConverterVersion,
  type FastConverterInfo,
} from './contract';

export const notInstalledMessage = () => CONVERTER_NOT_INSTALLED;

export interface Loaded {
  id: string;
  version: ConverterVersion;
  model: OpenVoiceConverter;
  /** The int8 variant made on this device, if any (the model then has its graph). */
  fast?: FastConverterInfo;
}
let loaded: Loaded | null = null;
/** The base voices' tones per converter (clone.speak's), here so that resetClone forgets them too. */
export const baseSeCache = new Map<string, Float32Array>();
/**
 * Converters whose int8 variant this worker has made or cannot make, so it is tried once; a failure for
 * want of speech (Kokoro not installed yet) is not kept, and the next clone.tune tries again.
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
export async function tuneFast(
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

/** The precision a call runs at: as asked, else int8 when the device's variant is recommended. */
export function precisionFor(l: Loaded, asked: unknown): ConverterPrecision {
  if (asked === undefined || asked === null)
    return fastIsDefault(l.fast) && l.model.has('int8') ? 'int8' : 'fp32';
  if (!isConverterPrecision(asked))
    throw new CloneParamError(`precision must be "fp32" or "int8" (got ${JSON.stringify(asked)}).`);
  if (asked === 'int8' && !l.model.has('int8'))
    throw new CloneParamError(
      `The fast (int8) converter has not been made on this device: ${fastReason.get(l.id) ?? 'it is made from Kokoro’s speech once the studio is idle'}.`,
    );
  return asked;
}

/**
 * The installed converter (v2 preferred), its graphs built and cached on first use after a catalogue
 * install. It runs with what it has: float only while there is no int8 variant, and float by default while
 * the variant is not steadily measured (fastIsDefault).
 */
export async function converter(d: CloneDeps, opts: RunOptions = {}): Promise<Loaded> {
  if (loaded) {
    // Deleted in the Models view since it was loaded: its sessions go too.
    if (await d.registry.get(loaded.id)) return loaded;
    await resetClone();
  }
  for (const version of ['v2', 'v1'] as const) {
    const id = CONVERTER_MODEL_IDS[version];
    let rec = await d.registry.get(id);
    if (!rec) continue;
    const has = (p: string) => rec!.files.some((f) => f.path === p);
    if (has(FILES.extractor) && has(FILES.converter)) {
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
        fastIsDefault(fast) ? 'int8' : 'fp32',
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
    } else continue;
    return loaded;
  }
  throw new ModelNotInstalledError(notInstalledMessage());
}

/**
 * clone.tune's work, for the page to run when the studio is idle: the installed converter's int8 variant
 * made when there is none (it takes Kokoro's speech and about a minute on a slow device), or timed again
 * when its last measurement was taken while the device was busy; nothing once it is steadily measured.
 * Nothing is written until the measurement is whole, so a cancel (a person's job starting) leaves the
 * stored variant and its record as they were; the next idle time tries again.
 */
export async function tuneConverter(d: CloneDeps, opts: RunOptions = {}): Promise<CloneTuneResult> {
  const l = await converter(d, opts);
  if (!l.fast) {
    if (fastTried.has(l.id)) return { done: 'none', fastUnavailable: fastReason.get(l.id) };
    const made = await tuneFast(d, await readAll(d.store, l.id, FILES.converter), l.model, opts);
    if ('reason' in made) {
      fastReason.set(l.id, made.reason);
      if (!made.retry) fastTried.add(l.id);
      return { done: 'none', fastUnavailable: made.reason, retry: made.retry };
    }
    throwIfAborted(opts.signal);
    const rec = await d.registry.get(l.id);
    // Deleted while it was being made: nothing to add it to.
    if (!rec) return { done: 'none' };
    await d.registry.put(withFiles(rec, await fastFiles(d, l.id, made)));
    fastTried.add(l.id);
    fastReason.delete(l.id);
    // The next use loads it (its session instead of the float one, when it is the default).
    if (loaded === l) await unload();
    return { done: 'made', fast: made.info };
  }
  if (l.fast.steady === true) return { done: 'none', fast: l.fast };
  let info: FastConverterInfo;
  try {
    info = await remeasureFastConverter(l.model, d.speak, l.fast, opts);
  } catch (e) {
    if (e instanceof FastConverterError) return { done: 'none', fastUnavailable: e.message, retry: e.retry };
    throw e;
  }
  throwIfAborted(opts.signal);
  const rec = await d.registry.get(l.id);
  if (!rec) return { done: 'none' };
  const file = await writeFile(
    d.store,
    l.id,
    FAST_FILES.info,
    new TextEncoder().encode(JSON.stringify(info)),
  );
  await d.registry.put(withFiles(rec, [file]));
  // Both sessions are loaded now (they were just timed): the default follows the new figures at once.
  l.fast = info;
  return { done: 'measured', fast: info };
}

/**
 * The installed converter's tone-colour extractor on its own (for speaker diarization), sharing the loaded
 * session; null when no converter is installed.
 */
export async function toneColourExtractor(d: CloneDeps): Promise<{
  sampleRate: number;
  dimension: number;
  embed(samples: Float32Array): Promise<Float32Array>;
} | null> {
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
