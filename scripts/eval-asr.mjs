// `npm run eval:asr`: accuracy of the studio's transcription pipeline (src/lib/asr/operation.ts
// runAsrTranscribe: decode, Silero VAD, Whisper windows and decoding rules) for Whisper tiny and base int8.
// (1) Word error rate per voice on known sentences (tests/unit/asr-corpus.ts ENGLISH) spoken by Kokoro
// voices of both accents and sexes (kokoroSpeech, cached under .cache/asr-speech). (2) Agreement with
// transformers.js (@huggingface/transformers, the bundled Whisper files, local only) on the real recordings
// in ../shared/audio: WER of our transcript against its transcript of the same 16 kHz samples. Prints one
// JSON object on stdout; progress goes to stderr.
// (3) The decoding table (issue #23): task × language × model × timestamps × language given or detected,
// ours against transformers.js on the same samples, the same runtime and the same log-mel features, on one
// Kokoro sentence in each of its non-English languages and the LibriSpeech clips (each at most one 30 s
// window, so both decode the whole file as one window: the same work). Agreement = the same words after
// normalisation, or an error rate between the two ≤ 5 % (characters for ja and zh, words for the rest),
// of ours decoded as the reference decodes (once, greedily); where the studio's default decoding differs
// (temperature fallback, a loop cut short) the row names the rule. Why the same features: the int8 encoder
// turns the last-bit float differences between two log-mel implementations (ours sums in float64,
// transformers.js rounds to float32 between steps: at most 1.2e-7 apart) into different marginal tokens of
// tiny; ours with its own features is measured beside (own_features_error_rate).
//
// Options: --runtime web|node (default web): onnxruntime-web's WASM backend in Node, the studio's runtime,
// or onnxruntime-node (faster here); the reference (transformers.js) runs on the same one, since int8
// arithmetic differs between the two. --voices a,b,c; --models tiny,base; --max N (first N sentences: a
// quick check); --parts synthetic,agreement,table; --skip N (the table leaves out its first N inputs: to
// finish a run that stopped part-way; its rows are independent of each other).
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import ortNode from 'onnxruntime-node';
import {
  CORES,
  MODELS,
  loadAverages,
  logger,
  machine,
  packageVersion,
  root,
  round3,
  NODE_SESSION_OPTIONS,
} from './lib/bench.mjs';
import { viteLoader } from './lib/vite-load.mjs';
import { align } from './lib/wer.mjs';

const log = logger('eval:asr');
const SHARED = join(root, '..', 'shared', 'audio');
/** US and UK, female and male (the first four speak the corpus in the unit tests too). */
const VOICES = ['af_heart', 'am_michael', 'bf_emma', 'bm_george', 'af_bella', 'bm_lewis'];
/**
 * Agreement goal on the LibriSpeech clips (test-other speakers, each one window): the same weights decode
 * both, so they should disagree less than the model errs on that set: its published test-other WER
 * (../shared/docs/models.md). The demo mp3s are long-form (transformers.js's 30 s chunks with 5 s strides
 * against our VAD-cut windows) and are reported without a goal: there the two differ in the windowing.
 */
const AGREEMENT_GOAL = { 'whisper-tiny-q8': 0.169, 'whisper-base-q8': 0.124 };

const werOf = (xs) => {
  const words = xs.reduce((s, x) => s + x.ref_words, 0);
  return words ? xs.reduce((s, x) => s + x.errors, 0) / words : 0;
};

function sharedFiles() {
  if (!existsSync(SHARED)) return null;
  const out = [];
  const libri = join(SHARED, 'librispeech');
  if (existsSync(libri))
    for (const f of readdirSync(libri).sort()) if (f.endsWith('.flac')) out.push(`librispeech/${f}`);
  for (const f of readdirSync(SHARED).sort()) if (f.endsWith('.mp3')) out.push(f);
  return out;
}

async function main() {
  const { values } = parseArgs({
    options: {
      runtime: { type: 'string', default: 'web' },
      voices: { type: 'string' },
      models: { type: 'string', default: 'tiny,base' },
      max: { type: 'string' },
      skip: { type: 'string', default: '0' },
      parts: { type: 'string', default: 'synthetic,agreement,table' },
    },
  });
  const parts = new Set(values.parts.split(',').map((p) => p.trim()));
  if (!['node', 'web'].includes(values.runtime)) throw new Error('--runtime is node or web');
  if (!(Number(values.skip) >= 0)) throw new Error('--skip is a count of inputs (0 or more)');
  const voices = values.voices ? values.voices.split(',').map((v) => v.trim()) : VOICES;
  const models = values.models.split(',').map((m) => `whisper-${m.trim()}-q8`);
  const started = Date.now();
  const loadBefore = loadAverages();

  const vite = await viteLoader(root);
  const helpers = await vite.load('/tests/unit/asr-helpers.ts');
  const { ENGLISH } = await vite.load('/tests/unit/asr-corpus.ts');
  const { WER_GOAL } = await vite.load('/scripts/lib/asr-speech.ts');
  const asr = await vite.load('/src/lib/asr/operation.ts');
  const { decodeInput } = await vite.load('/src/lib/codec/decode.ts');
  const host = await vite.load('/src/lib/runtime/host.ts');
  const { encodeWav } = await vite.load('/src/lib/dsp/wav.ts');
  const ort =
    values.runtime === 'node'
      ? {
          ...ortNode,
          env: ortNode.env,
          Tensor: ortNode.Tensor,
          InferenceSession: {
            create: (bytes, opts) =>
              ortNode.InferenceSession.create(bytes, { ...opts, ...NODE_SESSION_OPTIONS }),
          },
        }
      : await import('onnxruntime-web');
  if (values.runtime === 'web') {
    ort.env.wasm.wasmPaths = `${join(root, 'node_modules', 'onnxruntime-web', 'dist')}/`;
    // transformers.js takes the runtime it finds here, when it is first imported (below), instead of
    // onnxruntime-node: the reference then runs on the studio's runtime too.
    globalThis[Symbol.for('onnxruntime')] = ort;
  }
  const { env, pipeline } = await import('@huggingface/transformers');
  host.installRuntime({ loadOrt: async () => ort, isolated: true, cores: CORES });
  const deps = helpers.cacheDeps([...models, 'silero-vad-v5']);
  // onnxruntime-web in Node has one backend (WASM), which 'auto' picks; on onnxruntime-node 'auto' would try CUDA.
  const refDevice = values.runtime === 'web' ? 'auto' : 'cpu';
  const words = (s) => helpers.normWords(s);
  const sentences = ENGLISH.map((s) => s.text).slice(0, values.max ? Number(values.max) : undefined);

  // ---------------------------------------------------------------- (1) known sentences, several voices
  const items = [];
  for (const [i, text] of parts.has('synthetic') ? sentences.entries() : []) {
    for (const voice of voices) {
      log(`sentence ${i + 1}/${sentences.length}: ${voice}`);
      const a = await helpers.kokoroSpeech(text, voice);
      const wav = encodeWav(
        helpers.concat([helpers.silence(0.4, a.sampleRate), a.samples, helpers.silence(0.6, a.sampleRate)]),
        a.sampleRate,
        's16',
      );
      for (const model of models) {
        const r = await asr.runAsrTranscribe({ audio: wav, model, language: 'en' }, {}, deps);
        const ref = words(text);
        const hyp = words(r.text);
        items.push({ model, voice, text, heard: r.text.trim(), ref_words: ref.length, ...align(ref, hyp) });
      }
    }
  }
  const synthetic = Object.fromEntries(
    models.map((model) => {
      const xs = items.filter((x) => x.model === model);
      const overall = werOf(xs);
      return [
        model,
        {
          wer: round3(overall),
          goal: WER_GOAL[model],
          met: overall <= WER_GOAL[model],
          by_voice: Object.fromEntries(
            voices.map((v) => [v, round3(werOf(xs.filter((x) => x.voice === v)))]),
          ),
          words: xs.reduce((s, x) => s + x.ref_words, 0),
          errors: xs.reduce((s, x) => s + x.errors, 0),
          substitutions: xs.reduce((s, x) => s + x.sub, 0),
          deletions: xs.reduce((s, x) => s + x.del, 0),
          insertions: xs.reduce((s, x) => s + x.ins, 0),
          mistakes: xs
            .filter((x) => x.errors > 0)
            .map((x) => ({ voice: x.voice, said: x.text, heard: x.heard, errors: x.errors })),
        },
      ];
    }),
  );

  // ---------------------------------------------------------------- (2) agreement with transformers.js
  const files = sharedFiles();
  let agreement;
  if (!parts.has('agreement')) agreement = { skipped: '--parts leaves it out' };
  else if (!files) {
    log(`${SHARED} is absent: agreement with transformers.js skipped`);
    agreement = { skipped: `${SHARED} is absent (the recordings are not part of the repository)` };
  } else {
    env.allowRemoteModels = false;
    env.allowLocalModels = true;
    env.localModelPath = `${MODELS}/`;
    const audio = [];
    for (const f of files) {
      const a = await decodeInput(new Uint8Array(readFileSync(join(SHARED, f))), deps.transcoder, {
        rate: 16000,
      });
      audio.push({ file: f, samples: a.samples, seconds: a.samples.length / 16000 });
    }
    agreement = { goal_librispeech: AGREEMENT_GOAL, models: {} };
    for (const model of models) {
      log(`transformers.js: loading ${model}`);
      const ref = await pipeline('automatic-speech-recognition', model, { dtype: 'q8', device: refDevice });
      const rows = [];
      for (const a of audio) {
        log(`${model}: ${a.file} (${a.seconds.toFixed(1)} s)`);
        const t0 = performance.now();
        const out = await ref(a.samples, {
          language: 'english',
          task: 'transcribe',
          // Timestamp mode, as ours decodes (without it Whisper decodes differently).
          return_timestamps: true,
          ...(a.seconds > 30 ? { chunk_length_s: 30, stride_length_s: 5 } : {}),
        });
        const refMs = performance.now() - t0;
        const theirs = (Array.isArray(out) ? out[0] : out).text.trim();
        const wav = encodeWav(a.samples, 16000, 'f32');
        const t1 = performance.now();
        const ours = (
          await asr.runAsrTranscribe({ audio: wav, model, language: 'en' }, {}, deps)
        ).text.trim();
        const oursMs = performance.now() - t1;
        const r = words(theirs);
        rows.push({
          file: a.file,
          seconds: Math.round(a.seconds * 10) / 10,
          ref_words: r.length,
          ...align(r, words(ours)),
          transformers_js: theirs,
          ours,
          transformers_js_ms: Math.round(refMs),
          ours_ms: Math.round(oursMs),
        });
      }
      await ref.dispose?.();
      const libri = rows.filter((x) => x.file.startsWith('librispeech/'));
      const demos = rows.filter((x) => !x.file.startsWith('librispeech/'));
      const overall = werOf(rows);
      agreement.models[model] = {
        librispeech: round3(werOf(libri)),
        goal: AGREEMENT_GOAL[model],
        met: werOf(libri) <= AGREEMENT_GOAL[model],
        demo_mp3s: round3(werOf(demos)),
        all_files: round3(overall),
        words: rows.reduce((s, x) => s + x.ref_words, 0),
        by_file: rows.map((x) => ({
          file: x.file,
          seconds: x.seconds,
          wer: round3(x.errors / Math.max(1, x.ref_words)),
          errors: x.errors,
          ...(x.errors ? { transformers_js: x.transformers_js, ours: x.ours } : {}),
          ms: { transformers_js: x.transformers_js_ms, ours: x.ours_ms },
        })),
      };
    }
  }
  const table = parts.has('table')
    ? await decodingTable({
        models,
        helpers,
        asr,
        transcribe: (await vite.load('/src/lib/asr/transcribe.ts')).transcribe,
        compressionRatio: (await vite.load('/src/lib/asr/transcribe.ts')).compressionRatio,
        env,
        pipeline,
        encodeWav,
        decodeInput,
        resampleBlocks: (await vite.load('/src/lib/dsp/resample.ts')).resampleBlocks,
        refDevice,
        files,
        deps,
        runtime: values.runtime,
        skip: Number(values.skip),
      })
    : { skipped: '--parts leaves it out' };
  await vite.close();

  const out = {
    date: new Date().toISOString(),
    machine: { ...machine(), load_avg_before: loadBefore, load_avg_after: loadAverages() },
    pipeline: {
      ours: `src/lib/asr/operation.ts runAsrTranscribe, language en, greedy with fallback, on ${
        values.runtime === 'node'
          ? `onnxruntime-node ${packageVersion('onnxruntime-node')} (${CORES} threads)`
          : `onnxruntime-web ${packageVersion('onnxruntime-web')} WASM in Node`
      }`,
      reference: `@huggingface/transformers ${packageVersion('@huggingface/transformers')} pipeline on the same runtime, the same files (.cache/models), dtype q8, greedy, language english; return_timestamps true; files over 30 s in 30 s chunks with 5 s strides`,
      normalisation:
        'tests/unit/asr-helpers.ts normWords on both texts: lower case, apostrophes dropped, other punctuation as spaces',
    },
    synthetic_speech: {
      what: `${sentences.length} sentences of tests/unit/asr-corpus.ts ENGLISH x ${voices.length} Kokoro voices (24 kHz, WAV), one file each`,
      voices,
      goal_source:
        'the Whisper paper LibriSpeech test-clean WER (tiny 7.6 %, base 5.0 %, ../shared/docs/models.md): clean read speech, as ours is',
      models: synthetic,
    },
    agreement_with_transformers_js: agreement,
    decoding_table: table,
    seconds: Math.round((Date.now() - started) / 1000),
  };
  process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
}

/** One sentence a language, in the Kokoro voice of that language (Whisper's code → voice, text). */
const FOREIGN = [
  { language: 'es', voice: 'ef_dora', text: 'El tren sale de la estación a las ocho de la mañana.' },
  { language: 'fr', voice: 'ff_siwis', text: 'Le train part de la gare à huit heures du matin.' },
  { language: 'it', voice: 'if_sara', text: 'Il treno parte dalla stazione alle otto del mattino.' },
  { language: 'pt', voice: 'pf_dora', text: 'O trem sai da estação às oito horas da manhã.' },
  { language: 'hi', voice: 'hf_alpha', text: 'ट्रेन सुबह आठ बजे स्टेशन से निकलती है।' },
  { language: 'ja', voice: 'jf_alpha', text: 'でんしゃは あさ はちじに えきを でます。' },
  { language: 'zh', voice: 'zf_xiaobei', text: '火车早上八点从车站出发。' },
];
/** transformers.js names languages in full. */
const LANGUAGE_NAME = {
  en: 'english',
  es: 'spanish',
  fr: 'french',
  it: 'italian',
  pt: 'portuguese',
  hi: 'hindi',
  ja: 'japanese',
  zh: 'chinese',
};
const AGREE = 0.05;

/** Units the two texts are compared in: characters for scripts written without spaces, else words. */
function units(text, language, normWords) {
  if (language === 'ja' || language === 'zh') return [...normWords(text).join('')];
  return normWords(text);
}

async function decodingTable({
  models,
  helpers,
  asr,
  transcribe,
  compressionRatio,
  env,
  pipeline,
  refDevice,
  encodeWav,
  decodeInput,
  resampleBlocks,
  files,
  deps,
  runtime,
  skip = 0,
}) {
  env.allowRemoteModels = false;
  env.allowLocalModels = true;
  env.localModelPath = `${MODELS}/`;
  // Each input is read (or spoken) only when it is not skipped.
  const sources = [
    ...FOREIGN.map((f) => async () => {
      log(`table: Kokoro ${f.voice} (${f.language})`);
      const a = await helpers.kokoroSpeech(f.text, f.voice);
      return { input: `kokoro ${f.voice}`, language: f.language, samples: await to16k(a, resampleBlocks) };
    }),
    ...(files ?? [])
      .filter((x) => x.startsWith('librispeech/'))
      .map((file) => async () => {
        const a = await decodeInput(new Uint8Array(readFileSync(join(SHARED, file))), deps.transcoder, {
          rate: 16000,
        });
        return { input: file, language: 'en', samples: a.samples };
      }),
  ];
  const inputs = [];
  for (const read of sources.slice(skip)) inputs.push(await read());
  const rows = [];
  for (const model of models) {
    log(`table: transformers.js loading ${model}`);
    const ref = await pipeline('automatic-speech-recognition', model, { dtype: 'q8', device: refDevice });
    const runner = await asr.runnerFor(model, deps);
    for (const x of inputs) {
      // The reference's features, given to our encoder too (see the top of this file).
      const features = (await ref.processor(x.samples)).input_features.data;
      const same = Object.create(runner, {
        // `this` is the wrapper: use() keeps the sessions on it.
        encode: {
          value(_audio, signal) {
            return this.encodeFeatures(features, signal);
          },
        },
      });
      for (const task of ['transcribe', 'translate'])
        for (const timestamps of [false, true])
          for (const given of [true, false]) {
            const whole = [{ start: 0, end: x.samples.length / 16000 }];
            const opts = { task, timestamps, ...(given ? { language: x.language } : {}) };
            // Whole-file decoding: one window over the whole file, as the reference decodes it (the same
            // work); the studio's default rules, the reference's (once, greedy), ours on our own features,
            // and the pipeline (VAD-cut windows) beside it.
            const ours = await transcribe(same, x.samples, whole, opts);
            const fellBack = ours.segments.some((g) => g.temperature > 0);
            const greedy = fellBack
              ? await transcribe(same, x.samples, whole, {
                  ...opts,
                  language: ours.language,
                  fallback: false,
                })
              : ours;
            const own = await transcribe(runner, x.samples, whole, opts);
            const piped = await asr.runAsrTranscribe(
              { audio: encodeWav(x.samples, 16000, 'f32'), model, ...opts },
              {},
              deps,
            );
            // transformers.js does not detect a language (without one it assumes English): it is given
            // the one ours detected, so the decode after detection is what is compared.
            const theirs = await ref(x.samples, {
              language: LANGUAGE_NAME[given ? x.language : ours.language] ?? ours.language,
              task,
              return_timestamps: timestamps,
            });
            const t = (Array.isArray(theirs) ? theirs[0] : theirs).text.trim();
            const lang = task === 'translate' ? 'en' : x.language;
            const r = units(t, lang, helpers.normWords);
            const rateOf = (text) =>
              align(r, units(text, lang, helpers.normWords)).errors / Math.max(1, r.length);
            const g = units(greedy.text, lang, helpers.normWords);
            const greedyRate = rateOf(greedy.text);
            // The reference failed openai/whisper's own check (a text that repeats itself compresses more
            // than 2.4×) and ran on to its token limit; our decode stops at the loop and keeps one copy, so
            // it agrees when it is where the reference's text begins.
            const refLooped = compressionRatio(t) > 2.4;
            const loopCut = refLooped && g.length > 0 && g.every((w, i) => r[i] === w);
            const defaultRate = rateOf(ours.text);
            const deliberate = [
              ...(fellBack
                ? [
                    "temperature fallback: the greedy decode failed openai/whisper's checks (repeats itself, or average log-probability under -1) and was redone at a higher temperature; the reference decodes once",
                  ]
                : []),
              ...(loopCut
                ? [
                    'loop cut: the reference repeats itself up to its token limit (compression ratio over 2.4); ours stops at the loop and keeps one copy',
                  ]
                : []),
            ];
            rows.push({
              model,
              input: x.input,
              language: x.language,
              given,
              ...(given ? {} : { detected: ours.language }),
              task,
              timestamps,
              agree: greedyRate <= AGREE || loopCut,
              error_rate: round3(greedyRate),
              ...(defaultRate > AGREE ? { default_error_rate: round3(defaultRate), deliberate } : {}),
              ...(greedyRate || defaultRate ? { transformers_js: t, ours: ours.text.trim() } : { text: t }),
              ...(fellBack ? { ours_greedy: greedy.text.trim() } : {}),
              own_features_error_rate: round3(rateOf(own.text)),
              pipeline_error_rate: round3(rateOf(piped.text)),
            });
            log(
              `table: ${model} ${x.input} ${task} ts=${timestamps} given=${given}: ${greedyRate ? `${round3(greedyRate)} apart` : 'same'}${defaultRate > AGREE ? ` (default ${round3(defaultRate)}: ${deliberate.map((d) => d.split(':')[0]).join(', ') || 'NOT NAMED'})` : ''}`,
            );
          }
    }
    await ref.dispose?.();
  }
  const unnamed = rows.filter((r) => r.default_error_rate !== undefined && !r.deliberate.length);
  return {
    what: "task × language × model × timestamps × language given/detected; ours (transcribe() over one window spanning the whole file, the same work as the reference) and transformers.js on the same 16 kHz samples, the same runtime and the same log-mel features (the reference's extractor). error_rate: ours decoded as the reference decodes (greedy, once; the default when it needed no fallback). default_error_rate and deliberate: where the studio's default decoding differs by more than the agreement bound, and the rule that made it. own_features_error_rate: ours on its own log-mel features (float64 sums; the int8 encoder turns the last-bit differences into different marginal tokens). pipeline_error_rate: the studio pipeline (runAsrTranscribe: our features, VAD-cut windows that start at the speech and end at its last region), measured, no goal",
    runtime: `both on ${runtime === 'node' ? 'onnxruntime-node' : 'onnxruntime-web WASM (in Node)'}`,
    agreement: `the same words after normalisation (characters for ja, zh), or an error rate between the two ≤ ${AGREE * 100} %; a reference that loops agrees with ours when ours is where its text begins`,
    ...(skip ? { inputs_skipped: skip } : {}),
    cases: rows.length,
    agree: rows.filter((r) => r.agree).length,
    all_agree: rows.every((r) => r.agree),
    default_differs: rows.filter((r) => r.default_error_rate !== undefined).length,
    default_differs_unnamed: unnamed.length,
    rows,
  };
}

async function to16k(a, resampleBlocks) {
  return a.sampleRate === 16000 ? a.samples : resampleBlocks(a.samples, a.sampleRate, 16000);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
