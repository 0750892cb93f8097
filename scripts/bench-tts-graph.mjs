// `npm run bench:tts-graph`: Kokoro's graph as shipped against the graphs Timbre makes of it
// (src/lib/tts/kokoro-graph.ts: float convs; float convs + int8 generator convs, what WASM runs), on
// onnxruntime-web's WASM backend in Node (2 threads), the same sentence and voice, one after the other in
// one process, so the machine's load affects them alike. Also the log-mel distance of each to the
// float-conv graph (how far its sound is from unrounded convs). Prints one JSON object on stdout.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import onnxProto from 'onnx-proto';
import * as ort from 'onnxruntime-web';
import { CORES, MODELS, loadAverages, logger, machine, median, root, round, round2 } from './lib/bench.mjs';
import { viteLoader } from './lib/vite-load.mjs';

const log = logger('bench:tts-graph');
const KOKORO = join(MODELS, 'kokoro-82m-q8');
const VOICE = 'af_heart';
// "The garden was quiet, apart from a blackbird singing somewhere far away." in espeak-ng's en-us phonemes
const PHONEMES = 'ðə ɡˈɑːɹdən wʌz kwˈaɪət, ɐpˈɑːɹt fɹʌm ɐ blˈækbɜːd sˈɪŋɪŋ sˈʌmwɛɹ fˈɑːɹ ɐwˈeɪ.';
const REPEATS = 3;

async function main() {
  const loadBefore = loadAverages();
  const vite = await viteLoader(root);
  try {
    const graph = await vite.load('/src/lib/tts/kokoro-graph.ts');
    const { parseVocab, tokenize, PAD_ID } = await vite.load('/src/lib/tts/tokenize.ts');
    const { parseVoiceFile, styleRow } = await vite.load('/src/lib/voices/mix.ts');
    const { HOP, logMel, N_FRAMES, N_MELS } = await vite.load('/src/lib/asr/mel.ts');
    ort.env.wasm.numThreads = Math.min(2, CORES);

    const shipped = new Uint8Array(readFileSync(join(KOKORO, 'model.onnx')));
    const t0 = performance.now();
    const wasmGraph = graph.prepareKokoro(shipped, 'wasm').model;
    const prepareMs = performance.now() - t0;
    const m = onnxProto.onnx.ModelProto.decode(shipped);
    graph.floatConvs(m);
    const floatGraph = onnxProto.onnx.ModelProto.encode(m).finish();

    const ids = tokenize(PHONEMES, parseVocab(readFileSync(join(KOKORO, 'tokenizer.json')))).ids;
    const table = parseVoiceFile(new Uint8Array(readFileSync(join(KOKORO, 'voices', `${VOICE}.bin`))), VOICE);
    const feeds = () => ({
      input_ids: new ort.Tensor('int64', BigInt64Array.from([PAD_ID, ...ids, PAD_ID], BigInt), [
        1,
        ids.length + 2,
      ]),
      style: new ort.Tensor('float32', Float32Array.from(styleRow(table, ids.length)), [1, 256]),
      speed: new ort.Tensor('float32', new Float32Array([1]), [1]),
    });
    const results = {};
    const audio = {};
    for (const [name, bytes] of [
      ['shipped_q8', shipped],
      ['float_convs', floatGraph],
      ['float_convs_int8_generator', wasmGraph],
    ]) {
      log(`${name}: session, warm-up, ${REPEATS} runs`);
      const c0 = performance.now();
      const s = await ort.InferenceSession.create(bytes, {
        executionProviders: ['wasm'],
        graphOptimizationLevel: 'all',
      });
      const createMs = performance.now() - c0;
      await s.run(feeds());
      const runs = [];
      for (let r = 0; r < REPEATS; r++) {
        const t = performance.now();
        const out = await s.run(feeds());
        runs.push(performance.now() - t);
        audio[name] = Float32Array.from(Object.values(out)[0].data);
      }
      await s.release();
      const seconds = audio[name].length / 24000;
      results[name] = {
        model_mb: round(bytes.byteLength / 1e6),
        session_create_ms: round(createMs),
        run_ms: runs.map(round),
        audio_s: round2(seconds),
        rtf: round2(median(runs) / 1000 / seconds),
      };
    }
    const melDistanceDb = (ref, test) => {
      const a = logMel(ref);
      const b = logMel(test);
      const frames = Math.min(N_FRAMES, Math.ceil(ref.length / HOP));
      let sum = 0;
      for (let k = 0; k < N_MELS; k++)
        for (let t = 0; t < frames; t++) sum += Math.abs(a[k * N_FRAMES + t] - b[k * N_FRAMES + t]);
      return round2((sum / (N_MELS * frames)) * 40);
    };
    for (const name of Object.keys(results))
      results[name].log_mel_distance_to_float_convs_db = melDistanceDb(audio.float_convs, audio[name]);
    const out = {
      date: new Date().toISOString(),
      machine: { ...machine(), load_avg_before: loadBefore, load_avg_after: loadAverages() },
      runtime: `onnxruntime-web ${ort.env.versions?.web ?? ''} WASM in Node, ${ort.env.wasm.numThreads} threads`,
      input: { voice: VOICE, phonemes: PHONEMES, tokens: ids.length },
      prepare_ms: round(prepareMs),
      graphs: results,
      speedup_over_shipped: round2(results.shipped_q8.rtf / results.float_convs_int8_generator.rtf),
      definitions: {
        rtf: 'median run time / seconds of audio (< 1 is faster than real time)',
        log_mel_distance_to_float_convs_db:
          "mean |difference| of Whisper's log-mel features against the float-conv graph's output, in dB",
        prepare_ms: 'prepareKokoro(model, "wasm") in Node: what the engine worker does once per session',
      },
    };
    process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
  } finally {
    await vite.close();
  }
}

main().then(
  () => process.exit(0),
  (e) => {
    console.error(e);
    process.exit(1);
  },
);
