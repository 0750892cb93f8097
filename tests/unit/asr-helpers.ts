// Shared by the transcription tests: the installed-model deps over .cache/models, the Node ffmpeg core, and
// speech made by the project's own Kokoro pipeline from known sentences (cached under .cache/asr-speech, so
// reruns do not synthesise again; the cache is keyed by voice and text).
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Transcoder } from '../../src/lib/codec/transcoder';
import type { AsrDeps } from '../../src/lib/asr/operation';
import type { InstalledModel } from '../../src/lib/storage/records';
import { RuntimeUnavailableError } from '../../src/lib/runtime/errors';
import { installRuntime, runtimeHost } from '../../src/lib/runtime/host';
import { synthesize } from '../../src/lib/tts/kokoro';
import { decodeWav, encodeWav } from '../../src/lib/dsp/wav';
import { NodeCoreProvider } from './ffmpeg-node';
import { concatAudio } from '../../src/lib/dsp/join';

export const MODELS = '.cache/models';
export const HAVE_TINY = existsSync(`${MODELS}/whisper-tiny-q8/onnx/decoder_model_merged_quantized.onnx`);
export const HAVE_BASE = existsSync(`${MODELS}/whisper-base-q8/onnx/decoder_model_merged_quantized.onnx`);
export const HAVE_KOKORO = existsSync(`${MODELS}/kokoro-82m-q8/model.onnx`);
export const SHARED_AUDIO = '../shared/audio';
export const HAVE_SHARED = existsSync(`${SHARED_AUDIO}/librispeech`);

function listFiles(dir: string, base = ''): string[] {
  const out: string[] = [];
  for (const name of readdirSync(join(dir, base))) {
    const rel = base ? `${base}/${name}` : name;
    if (statSync(join(dir, rel)).isDirectory()) out.push(...listFiles(dir, rel));
    else out.push(rel);
  }
  return out;
}

/** Registry + store over .cache/models/<id>/ for the given ids (others read as not installed). */
export function cacheDeps(ids: string[], transcoder?: Transcoder): AsrDeps {
  const records = new Map<string, InstalledModel>();
  for (const id of ids) {
    if (!existsSync(`${MODELS}/${id}`)) continue;
    records.set(id, {
      id,
      files: listFiles(`${MODELS}/${id}`).map((path) => ({
        path,
        bytes: 0,
        sha256: '',
        verified_at: 0,
        pinned: false,
      })),
      installed_at: 0,
      origin: 'bundled',
    });
  }
  let tc = transcoder;
  return {
    registry: { get: async (id: string) => records.get(id), list: async () => [...records.values()] },
    store: { read: async (id: string, path: string) => new Blob([readFileSync(`${MODELS}/${id}/${path}`)]) },
    transcoder: () => (tc ??= new Transcoder(new NodeCoreProvider())),
  };
}

const kokoroFile = async (path: string) => new Uint8Array(readFileSync(`${MODELS}/kokoro-82m-q8/${path}`));

/** 24 kHz speech of `text` in `voice` by Kokoro (cached WAV). */
export async function kokoroSpeech(
  text: string,
  voice: string,
): Promise<{ samples: Float32Array; sampleRate: number }> {
  const dir = '.cache/asr-speech';
  mkdirSync(dir, { recursive: true });
  const file = `${dir}/${createHash('sha256').update(`${voice}\n${text}`).digest('hex').slice(0, 16)}.wav`;
  if (existsSync(file)) {
    const w = decodeWav(new Uint8Array(readFileSync(file)));
    return { samples: w.samples, sampleRate: w.sampleRate };
  }
  // Browser tests call this without a runtime of their own (the speech is made in Node, then served).
  await runtimeHost().catch(async (e: unknown) => {
    if (!(e instanceof RuntimeUnavailableError)) throw e;
    const ort = await import('onnxruntime-web');
    installRuntime({ loadOrt: async () => ort, isolated: true, cores: 2 });
  });
  const r = await synthesize({ text, voice }, { loadFile: kokoroFile });
  writeFileSync(file, encodeWav(r.samples, r.sampleRate, 'f32'));
  return { samples: r.samples, sampleRate: r.sampleRate };
}

/** Words for WER: lower case, no punctuation, numbers as written. */
export function normWords(s: string): string[] {
  return s
    .toLowerCase()
    .replace(/[’']/g, '')
    .replace(/[^\p{L}\p{N}\s]/gu, ' ')
    .split(/\s+/)
    .filter(Boolean);
}

/** Adjacent words of `words` whose concatenation is a word of `other` become that one word. */
function joinCompounds(words: string[], other: readonly string[]): string[] {
  const known = new Set(other);
  const out: string[] = [];
  for (let i = 0; i < words.length; i++) {
    const pair = words[i]! + (words[i + 1] ?? '');
    if (i + 1 < words.length && !known.has(words[i]!) && known.has(pair)) {
      out.push(pair);
      i++;
    } else out.push(words[i]!);
  }
  return out;
}

/**
 * Word error rate: word-level edit distance over the reference length. A compound written apart on one
 * side and together on the other ("light house" / "lighthouse") is one word: it is spelling, not speech.
 */
export function wer(ref: string, hyp: string): number {
  const r0 = normWords(ref);
  const h0 = normWords(hyp);
  const h = joinCompounds(h0, r0);
  const r = joinCompounds(r0, h);
  const d = Array.from({ length: r.length + 1 }, (_, i) => [i, ...new Array<number>(h.length).fill(0)]);
  for (let j = 1; j <= h.length; j++) d[0]![j] = j;
  for (let i = 1; i <= r.length; i++)
    for (let j = 1; j <= h.length; j++)
      d[i]![j] = Math.min(
        d[i - 1]![j]! + 1,
        d[i]![j - 1]! + 1,
        d[i - 1]![j - 1]! + (r[i - 1] === h[j - 1] ? 0 : 1),
      );
  return d[r.length]![h.length]! / Math.max(1, r.length);
}

/** Silence of `seconds` at `rate`. */
export const silence = (seconds: number, rate: number) => new Float32Array(Math.round(seconds * rate));

/** The studio's own join (dsp/join.ts). */
export const concat = concatAudio;
