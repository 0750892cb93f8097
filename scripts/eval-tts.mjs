// `npm run eval:tts`: intelligibility of Timbre's speech. A fixed set of sentences (numbers, dates, money,
// abbreviations included) is synthesised with the project's pipeline (src/lib/tts/kokoro.ts synthesize(),
// the same planner, phonemiser and Kokoro q8 model the studio uses) in several US and UK voices, and
// transcribed by the bundled Whisper base int8 through transformers.js in Node (local files only, nothing
// fetched). Word error rate per voice and overall, after one normalisation of both texts (below). Prints
// one JSON object on stdout; progress goes to stderr.
//
// Options: --runtime node|web (default node): Kokoro on onnxruntime-node (same graph, faster here) or on
// onnxruntime-web's WASM backend, the studio's runtime. --voices a,b,c to choose voices.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { env, pipeline } from '@huggingface/transformers';
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

const log = logger('eval:tts');
const KOKORO = join(MODELS, 'kokoro-82m-q8');
const WHISPER = 'whisper-base-q8';
const GOAL_WER = 0.05;

const SENTENCES = [
  'The quick brown fox jumps over the lazy dog.',
  'The meeting starts at 10:30 on Monday, March 3rd.',
  'Dr. Smith lives at 221 Baker Street in London.',
  'The ticket costs $25.50, including tax.',
  'Please call me back before 5 p.m. tomorrow.',
  'In 1969, two astronauts walked on the Moon.',
  'She bought 3 apples, 12 eggs and a loaf of bread.',
  'The company grew by 15% in 2023.',
  'Mr. and Mrs. Brown celebrated their 40th anniversary.',
  'Our train leaves from platform 9 at a quarter past eight.',
  'Turn left at the second traffic light, then go straight ahead.',
  'Nothing you record ever leaves this device.',
];
/** US and UK, female and male. */
const VOICES = ['af_heart', 'af_bella', 'am_michael', 'bf_emma', 'bm_george', 'bm_lewis'];

const NORMALISATION =
  "Both the reference and Whisper's transcript go through the same steps: (0) a time written with a dot " +
  '("10.30", as Whisper writes some) becomes "10:30"; (1) the project\'s own text ' +
  'normaliser (src/lib/text/normalize.ts normalizeText, in the language of the voice: en-us or en-gb) spells ' +
  'numbers, times, dates, money, percentages and abbreviations the way Kokoro is made to say them, so "10:30" ' +
  'and "ten thirty" compare equal; (2) lower case; (3) "mr", "mrs", "ms", "dr", "st" (left as written by the ' +
  'normaliser or Whisper) become "mister", "missus", "miz", "doctor", "saint"; (4) hyphens and dots between ' +
  'letters become spaces ("twenty-five", "p-m"); (5) every other punctuation mark is removed (apostrophes ' +
  'inside words kept); (6) runs of spaces collapse; (7) "the the" becomes "the" (the normaliser turns ' +
  '"the 3rd of March" into "the the third of March"). WER = (substitutions + deletions + insertions) / ' +
  'reference words, by word-level Levenshtein alignment, summed over sentences.';

const WORD_MAP = { mr: 'mister', mrs: 'missus', ms: 'miz', dr: 'doctor', st: 'saint' };

function normalise(text, language, normalizeText) {
  // Whisper writes some times as "10.30": a time, not a decimal (never after a currency sign).
  const times = text.replace(/(?<![\d$£€.])\b([01]?\d|2[0-3])\.([0-5]\d)\b(?!\.\d)/g, '$1:$2');
  return (
    normalizeText(times, language)
      .toLowerCase()
      .replace(/[‐‑–—-]/g, ' ')
      .replace(/(?<=\p{L})\.(?=\p{L})/gu, ' ')
      .replace(/[’‘]/g, "'")
      .replace(/[^\p{L}\p{N}'\s]/gu, ' ')
      .replace(/(^|\s)'+|'+(?=\s|$)/g, '$1')
      .split(/\s+/)
      .filter(Boolean)
      .map((w) => WORD_MAP[w] ?? w)
      // The normaliser makes "the 3rd of March" "the the third of March": one "the".
      .filter((w, i, ws) => !(w === 'the' && ws[i - 1] === 'the'))
  );
}

/** 24 kHz → 16 kHz: windowed-sinc (Blackman, 64 taps) low-pass at 7.2 kHz, evaluated at each output time. */
function to16k(x, inRate) {
  const ratio = inRate / 16000;
  const cutoff = 7200 / inRate; // cycles per input sample
  const half = 32;
  const out = new Float32Array(Math.floor(x.length / ratio));
  for (let n = 0; n < out.length; n++) {
    const t = n * ratio;
    const c = Math.floor(t);
    let s = 0;
    for (let k = c - half + 1; k <= c + half; k++) {
      if (k < 0 || k >= x.length) continue;
      const u = t - k;
      const sinc = u === 0 ? 2 * cutoff : Math.sin(2 * Math.PI * cutoff * u) / (Math.PI * u);
      const w = 0.42 + 0.5 * Math.cos((Math.PI * u) / half) + 0.08 * Math.cos((2 * Math.PI * u) / half);
      s += x[k] * sinc * w;
    }
    out[n] = s;
  }
  return out;
}

async function main() {
  const { values } = parseArgs({
    options: {
      runtime: { type: 'string', default: 'node' },
      voices: { type: 'string' },
      // the first N sentences only (a quick check)
      max: { type: 'string' },
    },
  });
  if (!['node', 'web'].includes(values.runtime)) throw new Error('--runtime is node or web');
  const voices = values.voices ? values.voices.split(',').map((v) => v.trim()) : VOICES;
  const sentences = SENTENCES.slice(0, values.max ? Number(values.max) : undefined);
  const started = Date.now();
  const loadBefore = loadAverages();

  const vite = await viteLoader(root);
  const tts = await vite.load('/scripts/lib/tts-node.ts');
  const { languageOfVoice } = await vite.load('/src/lib/voices/languages.ts');
  if (values.runtime === 'node') {
    tts.useRuntime(
      {
        ...ortNode,
        env: ortNode.env,
        Tensor: ortNode.Tensor,
        InferenceSession: {
          create: (bytes, opts) =>
            ortNode.InferenceSession.create(bytes, { ...opts, ...NODE_SESSION_OPTIONS }),
        },
      },
      CORES,
    );
  } else {
    tts.useRuntime(await import('onnxruntime-web'), CORES);
  }
  const loadFile = async (path) => new Uint8Array(readFileSync(join(KOKORO, path)));

  // transformers.js: the bundled files only.
  env.allowRemoteModels = false;
  env.allowLocalModels = true;
  env.localModelPath = `${MODELS}/`;
  log(`loading ${WHISPER} through transformers.js`);
  const asr = await pipeline('automatic-speech-recognition', WHISPER, { dtype: 'q8', device: 'cpu' });

  const items = [];
  // Stopped early (SIGTERM/SIGINT): the report of what was done, marked incomplete. Sentence by sentence
  // across all voices, so a partial run still covers every voice.
  let complete = false;
  const stop = () => {
    process.stdout.write(`${JSON.stringify(report(items, complete), null, 2)}\n`);
    process.exit(complete ? 0 : 130);
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  for (const [i, text] of sentences.entries()) {
    for (const voice of voices) {
      const language = languageOfVoice(voice);
      log(`sentence ${i + 1}/${sentences.length}: ${voice}`);
      const t0 = performance.now();
      const r = await tts.synthesize({ text, voice }, { loadFile });
      const synthMs = performance.now() - t0;
      const t1 = performance.now();
      const out = await asr(to16k(r.samples, r.sampleRate), { language: 'english', task: 'transcribe' });
      const asrMs = performance.now() - t1;
      const heard = (Array.isArray(out) ? out[0] : out).text.trim();
      const ref = normalise(text, language, tts.normalizeText);
      const hyp = normalise(heard, language, tts.normalizeText);
      const a = align(ref, hyp);
      items.push({
        voice,
        language,
        text,
        heard,
        ref_words: ref.length,
        ...a,
        audio_s: r.samples.length / r.sampleRate,
        synth_ms: synthMs,
        asr_ms: asrMs,
        ref_norm: ref.join(' '),
        hyp_norm: hyp.join(' '),
      });
    }
  }
  await vite.close();
  complete = true;
  stop();

  function report(items, complete) {
    const wer = (xs) => {
      const words = xs.reduce((s, x) => s + x.ref_words, 0);
      return words ? xs.reduce((s, x) => s + x.errors, 0) / words : 0;
    };
    const overall = wer(items);
    const out = {
      date: new Date().toISOString(),
      complete,
      machine: { ...machine(), load_avg_before: loadBefore, load_avg_after: loadAverages() },
      synthesis: {
        pipeline: 'src/lib/tts/kokoro.ts synthesize() (planner, normaliser, espeak-ng phonemes, joins)',
        model: 'kokoro-82m-q8/model.onnx (int8)',
        runtime:
          values.runtime === 'node'
            ? `onnxruntime-node ${packageVersion('onnxruntime-node')} (CPU, ${CORES} threads)`
            : `onnxruntime-web ${packageVersion('onnxruntime-web')} WASM in Node`,
        speed: 1,
      },
      transcription: {
        model: `${WHISPER} (.cache/models/${WHISPER}: onnx/encoder_model_quantized.onnx, decoder_model_merged_quantized.onnx)`,
        library: `@huggingface/transformers ${packageVersion('@huggingface/transformers')}, local files only, dtype q8, greedy, language english`,
        audio: 'Kokoro 24 kHz resampled to 16 kHz (windowed sinc)',
      },
      normalisation: NORMALISATION,
      sentences,
      voices,
      wer: {
        overall: round3(overall),
        goal: GOAL_WER,
        met: overall <= GOAL_WER,
        by_voice: Object.fromEntries(voices.map((v) => [v, round3(wer(items.filter((x) => x.voice === v)))])),
        by_sentence: Object.fromEntries(
          sentences
            .map((s, i) => [i + 1, items.filter((x) => x.text === s)])
            .filter(([, xs]) => xs.length)
            .map(([n, xs]) => [n, round3(wer(xs))]),
        ),
        words: items.reduce((s, x) => s + x.ref_words, 0),
        errors: items.reduce((s, x) => s + x.errors, 0),
        substitutions: items.reduce((s, x) => s + x.sub, 0),
        deletions: items.reduce((s, x) => s + x.del, 0),
        insertions: items.reduce((s, x) => s + x.ins, 0),
      },
      errors: items
        .filter((x) => x.errors > 0)
        .map((x) => ({
          voice: x.voice,
          said: x.text,
          heard: x.heard,
          ref: x.ref_norm,
          hyp: x.hyp_norm,
          errors: x.errors,
        })),
      timing: {
        audio_s: Math.round(items.reduce((s, x) => s + x.audio_s, 0) * 10) / 10,
        synth_s: Math.round(items.reduce((s, x) => s + x.synth_ms, 0) / 100) / 10,
        asr_s: Math.round(items.reduce((s, x) => s + x.asr_ms, 0) / 100) / 10,
      },
      seconds: Math.round((Date.now() - started) / 1000),
    };
    return out;
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
