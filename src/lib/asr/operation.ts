// The engine operation 'asr.transcribe': file bytes → mono 16 kHz → speech regions (Silero VAD v5) →
// Whisper windows → segments, each window's new segments sent as a 'segment' progress event.
import type { RunOptions } from '../core/run';
import type { Transcoder } from '../codec/transcoder';
import type { InstalledModel } from '../storage/records';
import { ModelNotInstalledError } from '../models/types';
import { installedModelFiles, modelOnItsWay, type ModelFileDeps } from '../models/files';
import {
  openAsrAudio,
  transcoderStreamDecoder,
  type AsrStreamDecoder,
  type GrowingAudio,
} from '../codec/stream';
import {
  acousticEmbedder,
  diarize,
  labelSegments,
  toneColourEmbedder,
  type DiarizationResult,
  type PieceEmbedder,
  type ToneColourExtractor,
} from './diarize';
import { AsrParamError, UnknownAsrModelError, WordTimestampsUnavailableError } from './errors';
import { SAMPLE_RATE } from './mel';
import {
  DEFAULT_ORDER,
  WHISPER_BASE,
  WHISPER_TINY,
  type AsrPartialData,
  type AsrPrepareArgs,
  type AsrPrepareResult,
  type AsrSegmentData,
  type AsrTranscribeArgs,
  type AsrTranscribeResult,
} from './contract';
import { transcribe } from './transcribe';
import { sileroModel, sileroProbabilities, SpeechFinder, speechSource } from '../vad/vad';
import { loadWhisperFiles, WhisperRunner, type WhisperFiles } from './whisper';
import { languageWarning, truncationWarnings } from '../documents/transcript-warnings';

const ALIASES: Record<string, string> = {
  tiny: WHISPER_TINY,
  'whisper-tiny': WHISPER_TINY,
  base: WHISPER_BASE,
  'whisper-base': WHISPER_BASE,
};
const NAMES: Record<string, string> = { [WHISPER_TINY]: 'Whisper tiny', [WHISPER_BASE]: 'Whisper base' };

export interface AsrDeps extends ModelFileDeps {
  registry: ModelFileDeps['registry'] & { list?(): Promise<InstalledModel[]> };
  transcoder: () => Transcoder;
  /** Decodes files for transcription while it runs (default: `transcoder` in this thread). */
  streamDecoder?: AsrStreamDecoder;
  /** The OpenVoice tone-colour extractor when the converter is installed (else diarization is acoustic). */
  toneColour?: () => Promise<ToneColourExtractor | null>;
}

const LANG = /^[a-z]{2,3}$/;

function check(a: AsrTranscribeArgs) {
  if (!(a.audio instanceof Uint8Array) || a.audio.byteLength === 0)
    throw new AsrParamError('file', 'file: send the bytes of an audio file.');
  if (a.language !== undefined && !LANG.test(a.language))
    throw new AsrParamError(
      'language',
      `language must be an ISO 639-1 code such as "en" (got "${a.language}").`,
    );
  if (a.task !== undefined && a.task !== 'transcribe' && a.task !== 'translate')
    throw new AsrParamError('task', 'task must be "transcribe" or "translate".');
  if (a.temperature !== undefined && !(a.temperature >= 0 && a.temperature <= 1))
    throw new AsrParamError('temperature', 'temperature must be a number from 0 to 1.');
  if (a.prompt !== undefined && a.prompt.length > 4000)
    throw new AsrParamError('prompt', 'prompt is longer than 4000 characters.');
  for (const [field, v] of [
    ['num_speakers', a.speakers],
    ['max_speakers', a.max_speakers],
  ] as const)
    if (v !== undefined && !(Number.isInteger(v) && v >= 1 && v <= 32))
      throw new AsrParamError(field, `${field} must be a whole number from 1 to 32 (got ${v}).`);
}

/** The ONNX files of a Whisper export (the int8 ones where both kinds are present). */
function onnxPaths(rec: InstalledModel): { encoder: string; decoder: string } | null {
  const paths = rec.files.map((f) => f.path);
  const pick = (stem: string) =>
    paths.find((p) => p === `onnx/${stem}_quantized.onnx`) ??
    paths.find((p) => p.startsWith(`onnx/${stem}`) && p.endsWith('.onnx'));
  const encoder = pick('encoder_model');
  const decoder = pick('decoder_model_merged');
  if (!encoder || !decoder || !paths.includes('generation_config.json')) return null;
  return { encoder, decoder };
}

/** Resolves a model name to an installed Whisper model id. */
export async function resolveAsrModel(name: string | undefined, deps: ModelFileDeps): Promise<string> {
  const n = (name ?? 'default').trim();
  if (n === 'default') {
    for (const id of DEFAULT_ORDER) if (await deps.registry.get(id)) return id;
    // None installed yet: one on its way (the first-start install) is waited for, or said to be coming.
    for (const id of DEFAULT_ORDER) if (await modelOnItsWay(id, NAMES[id] ?? id, deps)) return id;
    throw new ModelNotInstalledError(
      'No Whisper model is installed on this device. Install Whisper tiny or base in the Models view (they work offline once installed).',
    );
  }
  const id = ALIASES[n.toLowerCase()] ?? n;
  const rec =
    (await deps.registry.get(id)) ?? (NAMES[id] ? await modelOnItsWay(id, NAMES[id], deps) : undefined);
  if (!rec) {
    if (NAMES[id])
      throw new ModelNotInstalledError(
        `${NAMES[id]} is not installed on this device. Install it in the Models view (it works offline once installed).`,
      );
    throw new UnknownAsrModelError(
      `model: no installed Whisper model "${n}". Use tiny, base, whisper-1 (the default installed Whisper) or the id of an installed Whisper model.`,
    );
  }
  if (!onnxPaths(rec))
    throw new UnknownAsrModelError(
      `model: "${n}" is installed but is not a Whisper export (encoder and merged decoder).`,
    );
  return id;
}

const runners = new Map<string, Promise<WhisperRunner>>();

/** The Whisper runner of an installed model (one a model, kept). Exported for the reference eval. */
export async function runnerFor(id: string, deps: ModelFileDeps): Promise<WhisperRunner> {
  let r = runners.get(id);
  if (!r) {
    r = (async () => {
      const rec = (await deps.registry.get(id))!;
      const paths = onnxPaths(rec)!;
      const load = await installedModelFiles(id, NAMES[id] ?? id, deps);
      const files: WhisperFiles = await loadWhisperFiles(load);
      files.loadEncoder = () => load(paths.encoder);
      files.loadDecoder = () => load(paths.decoder);
      return new WhisperRunner(id, files);
    })();
    runners.set(id, r);
    r.catch(() => runners.delete(id));
  }
  return r;
}

export async function runAsrTranscribe(
  args: AsrTranscribeArgs,
  opts: RunOptions = {},
  d: AsrDeps,
): Promise<AsrTranscribeResult> {
  check(args);
  const t0 = now();
  const id = await resolveAsrModel(args.model, d);
  const runner = await runnerFor(id, d);
  if (args.words) {
    // The decoder's outputs are known once its session exists; the files tell us about the heads already.
    await runner.use({ signal: opts.signal, onProgress: opts.onProgress }, async () => undefined);
    if (!runner.canAlignWords)
      throw new WordTimestampsUnavailableError(
        `Word timestamps need a Whisper export with cross-attention outputs (a *_timestamped model); the installed model "${id}" has none. Ask for segment timestamps, or install a timestamped Whisper model.`,
      );
  }
  opts.onProgress?.({ stage: 'decode', done: 0, total: 0, message: 'Decoding' });
  const inner = d.streamDecoder ?? transcoderStreamDecoder(d.transcoder);
  // The container's own duration, to tell when the decoding delivered less than the file holds.
  let declared: number | null = null;
  const decoder: AsrStreamDecoder = (bytes, hooks, o) =>
    inner(bytes, { ...hooks, onStart: (f) => ((declared = f.duration), hooks.onStart(f)) }, o);
  // The samples keep arriving while the transcription runs: it waits only for the seconds it needs. A
  // transcription that ends early (a failure) stops the decoding it no longer needs.
  const decoding = new AbortController();
  const stop = () => decoding.abort();
  opts.signal?.addEventListener('abort', stop, { once: true });
  try {
    const { audio } = await openAsrAudio(args.audio, decoder, { signal: decoding.signal });
    try {
      return await transcribeOpened(audio, {
        args,
        opts,
        runner,
        id,
        d,
        tone: d.toneColour,
        t0,
        declared: () => declared,
      });
    } finally {
      if (!audio.complete) decoding.abort();
    }
  } finally {
    opts.signal?.removeEventListener('abort', stop);
  }
}

interface Opened {
  args: AsrTranscribeArgs;
  opts: RunOptions;
  runner: WhisperRunner;
  /** The model's id. */
  id: string;
  d: AsrDeps;
  /** Tone-colour embeddings for diarization (none: acoustic ones). */
  tone: AsrDeps['toneColour'];
  t0: number;
  /** The duration the file's container declares (null when it does not, or for WAV: read whole). */
  declared: () => number | null;
}

/** runAsrTranscribe once the audio is open: VAD, the windows, diarization, the result. */
async function transcribeOpened(audio: GrowingAudio, o: Opened): Promise<AsrTranscribeResult> {
  const { args, opts, runner, id, d, tone, t0, declared } = o;
  // The speech finder runs as far as each window needs, so the first text does not wait for the whole
  // file's VAD.
  const finder = new SpeechFinder(audio, await sileroModel(d), opts);
  const speech = speechSource(finder);
  const progress = opts.onProgress;
  const task = args.task ?? 'transcribe';
  const result = await transcribe(runner, audio, speech, {
    language: args.language,
    task,
    prompt: args.prompt,
    temperature: args.temperature,
    words: args.words,
    // Speaker turns are cut at segment times.
    timestamps: args.timestamps !== false || Boolean(args.diarize),
    signal: opts.signal,
    onProgress: progress,
    onPartial: progress
      ? (p) =>
          progress({
            stage: 'partial',
            done: p.start,
            total: Math.round(audio.total * 1000) / 1000,
            message: p.text,
            data: p satisfies AsrPartialData,
          })
      : undefined,
    onSegments: progress
      ? (segments, info) =>
          progress({
            stage: 'segment',
            done: Math.round(info.done * 1000) / 1000,
            total: Math.round(info.total * 1000) / 1000,
            message: segments.map((s) => s.text).join(' '),
            data: { segments, language: info.language } satisfies AsrSegmentData,
          })
      : undefined,
  });
  const total = audio.total;
  let diarization: DiarizationResult | undefined;
  if (args.diarize) {
    progress?.({ stage: 'diarize', done: 0, total: 1, message: 'Finding the speakers' });
    const { embedder, note } = await pieceEmbedder(tone);
    const { regions } = await speech.upTo(total);
    diarization = await diarize(audio.samples, regions, embedder, {
      speakers: args.speakers,
      maxSpeakers: args.max_speakers,
      signal: opts.signal,
    });
    if (note) diarization.description += ` ${note}`;
    labelSegments(result.segments, diarization.turns);
    progress?.({ stage: 'diarize', done: 1, total: 1, message: `${diarization.speakers} speakers` });
  }
  const { regions: heard } = await speech.upTo(total);
  const bigger =
    id === WHISPER_TINY && (await d.registry.get(WHISPER_BASE)) ? NAMES[WHISPER_BASE] : undefined;
  const warnings = [
    languageWarning(result, NAMES[id] ?? id, bigger),
    ...truncationWarnings(result, { duration: declared(), speechEnd: heard[heard.length - 1]?.end ?? null }),
  ].filter((w): w is string => w !== null);
  const elapsed = now() - t0;
  return {
    ...result,
    ...(diarization ? { diarization } : {}),
    warnings,
    model: id,
    vad: finder.method,
    task,
    elapsed_ms: Math.round(elapsed),
    rtf: total > 0 ? Math.round((elapsed / 1000 / total) * 1000) / 1000 : 0,
  };
}

/** Tone-colour embeddings when the converter is installed, else the acoustic ones. */
async function pieceEmbedder(
  tone: AsrDeps['toneColour'],
): Promise<{ embedder: PieceEmbedder; note?: string }> {
  if (!tone) return { embedder: acousticEmbedder() };
  try {
    const x = await tone();
    return { embedder: x ? toneColourEmbedder(x) : acousticEmbedder() };
  } catch (e) {
    // A converter that is installed but does not load should not cost the transcript its speakers.
    return {
      embedder: acousticEmbedder(),
      note: `(The installed tone-colour converter could not be loaded: ${(e as Error).message}; the acoustic embedding was used.)`,
    };
  }
}

const now = () => globalThis.performance?.now() ?? Date.now();

/** Creates the Whisper sessions now (the Transcribe view opens), so the first transcription skips it. */
export async function runAsrPrepare(
  args: AsrPrepareArgs,
  opts: RunOptions = {},
  d: ModelFileDeps,
): Promise<AsrPrepareResult> {
  const t0 = now();
  const id = await resolveAsrModel(args.model, d);
  const runner = await runnerFor(id, d);
  const { signal, onProgress } = opts;
  await runner.use({ signal, onProgress }, async () => {
    onProgress?.({ stage: 'warmup', done: 0, total: 1, message: 'Warming up Whisper' });
    await runner.warm(signal);
  });
  // The VAD too: the first drop then starts on warm sessions (its first look takes a second when cold).
  const vadModel = await sileroModel(d);
  if (vadModel) await sileroProbabilities(new Float32Array(SAMPLE_RATE), vadModel, { signal });
  onProgress?.({ stage: 'warmup', done: 1, total: 1, message: 'Warmed up' });
  return { model: id, elapsed_ms: Math.round(now() - t0) };
}
