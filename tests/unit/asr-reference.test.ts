// The studio's Whisper decoding against the reference, transformers.js (the same bundled q8 files), on the
// sentence of issue #23: Kokoro ef_dora saying "El tren sale de la estación a las ocho de la mañana.", the
// same 16 kHz samples given to both. Both decode the whole file as one window (the speech fills it), so
// they do the same work, on the same runtime: onnxruntime-web's WASM backend (the studio's), which
// transformers.js takes when it finds it under Symbol.for('onnxruntime'). (On onnxruntime-node the reference's
// int8 arithmetic differs enough to flip a token of tiny's unsure translation.) Before the fix, tiny's translation ran through every fallback temperature and kept the
// attempt at temperature 1 ("Three time sentence at the start of theimmigas.").
import 'fake-indexeddb/auto';
import { resolve } from 'node:path';
import * as ort from 'onnxruntime-web';
import { beforeAll, describe, expect, it } from 'vitest';
import { installRuntime } from '../../src/lib/runtime/host';
import { encodeWav } from '../../src/lib/dsp/wav';
import { resampleBlocks } from '../../src/lib/dsp/resample';
import { runAsrTranscribe } from '../../src/lib/asr/operation';
import { cacheDeps, HAVE_KOKORO, HAVE_TINY, kokoroSpeech, MODELS, normWords } from './asr-helpers';

const SENTENCE = 'El tren sale de la estación a las ocho de la mañana.';
type Task = 'transcribe' | 'translate';

describe.skipIf(!HAVE_TINY || !HAVE_KOKORO)('Whisper tiny decodes like transformers.js (issue #23)', () => {
  let x16: Float32Array;
  let reference: (task: Task, timestamps: boolean) => Promise<string>;
  beforeAll(async () => {
    installRuntime({ loadOrt: async () => ort, isolated: true, cores: 2 });
    const a = await kokoroSpeech(SENTENCE, 'ef_dora');
    x16 = await resampleBlocks(a.samples, a.sampleRate, 16000);
    // The local wasm files, not the CDN transformers.js would otherwise point onnxruntime-web at.
    ort.env.wasm.wasmPaths = `${resolve('node_modules/onnxruntime-web/dist')}/`;
    (globalThis as Record<symbol, unknown>)[Symbol.for('onnxruntime')] = ort;
    const { env, pipeline } = await import('@huggingface/transformers');
    env.allowRemoteModels = false;
    env.allowLocalModels = true;
    env.localModelPath = `${MODELS}/`;
    const asr = await pipeline('automatic-speech-recognition', 'whisper-tiny-q8', {
      dtype: 'q8',
      // No device list of its own with a runtime given: onnxruntime-web picks its WASM backend.
      device: 'auto',
    });
    reference = async (task, timestamps) => {
      const out = await asr(x16, { language: 'spanish', task, return_timestamps: timestamps });
      return (Array.isArray(out) ? out[0]! : out).text;
    };
  }, 120_000);

  const ours = async (task: Task, timestamps: boolean, language?: string) =>
    (
      await runAsrTranscribe(
        { audio: encodeWav(x16, 16000, 'f32'), model: 'tiny', task, timestamps, language },
        {},
        cacheDeps(['whisper-tiny-q8', 'silero-vad-v5']),
      )
    ).text;

  for (const task of ['transcribe', 'translate'] as const)
    for (const timestamps of [false, true])
      it(`${task}, ${timestamps ? 'with' : 'without'} timestamps: the same words, given or detected language`, async () => {
        const want = normWords(await reference(task, timestamps));
        expect(want.length).toBeGreaterThan(3);
        expect(normWords(await ours(task, timestamps, 'es'))).toEqual(want);
        // Detection finds Spanish, so the decode is the same.
        expect(normWords(await ours(task, timestamps))).toEqual(want);
      }, 120_000);
});
