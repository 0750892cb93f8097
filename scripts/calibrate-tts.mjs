// `npm run calibrate:tts`: the activation ranges behind Kokoro's int8 generator convs (src/lib/tts/
// kokoro-graph.ts), written to src/lib/tts/kokoro-ranges.json. Runs the float-conv graph (step 1 of that
// file) on onnxruntime-node over one or two sentences in every one of the 54 voices, in each voice's
// language, through the studio's own planner and phonemiser, and keeps each tensor's min and max, widened
// by MARGIN so a voice or text a little outside what was seen is not clipped. Rerun when the model changes
// (the file records the model's sha256, and a unit test checks it against the installed model).
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import ortNode from 'onnxruntime-node';
import { MODELS, NODE_SESSION_OPTIONS, logger, root } from './lib/bench.mjs';
import { viteLoader } from './lib/vite-load.mjs';

const log = logger('calibrate:tts');
const KOKORO = join(MODELS, 'kokoro-82m-q8');
const OUT = join(root, 'src', 'lib', 'tts', 'kokoro-ranges.json');
/** Each side of a range grows by this share of its width. */
const MARGIN = 0.1;

const TEXTS = {
  'en-us': ['Well, honestly? I had no idea the river was that deep!', 'It costs twelve dollars.'],
  'en-gb': ['The garden was quiet, apart from a blackbird singing somewhere.', 'Right, shall we go?'],
  es: ['El tren sale a las ocho y media, no llegues tarde.'],
  fr: ["Nous irons au marché demain matin, s'il fait beau."],
  hi: ['आज मौसम बहुत अच्छा है, चलो बाहर चलते हैं।'],
  it: ['La cena è pronta, venite a tavola prima che si raffreddi.'],
  ja: ['今日はとても良い天気ですね。'],
  'pt-br': ['A reunião começa às dez horas, não se esqueça.'],
  zh: ['今天天气很好，我们去公园散步吧。'],
};

async function main() {
  const started = Date.now();
  const vite = await viteLoader(root);
  try {
    const tts = await vite.load('/scripts/lib/tts-node.ts');
    const { languageOfVoice } = await vite.load('/src/lib/voices/languages.ts');
    const { KOKORO_VOICE_IDS } = await vite.load('/src/lib/voices/presets.ts');
    const graph = await vite.load('/src/lib/tts/kokoro-graph.ts');
    const q = await vite.load('/src/lib/runtime/quantize.ts');
    const onnxProto = (await import('onnx-proto')).default;
    const bytes = new Uint8Array(readFileSync(join(KOKORO, 'model.onnx')));
    const m = onnxProto.onnx.ModelProto.decode(bytes);
    graph.floatConvs(m);
    const floatModel = onnxProto.onnx.ModelProto.encode(m).finish();
    const loadFile = async (path) => new Uint8Array(readFileSync(join(KOKORO, path)));

    const feeds = [];
    for (const voice of KOKORO_VOICE_IDS) {
      const language = languageOfVoice(voice) ?? 'en-us';
      for (const text of TEXTS[language] ?? TEXTS['en-us']) {
        for (const r of await tts.plannedRuns(text, voice, loadFile)) {
          feeds.push({
            input_ids: new ortNode.Tensor('int64', BigInt64Array.from(r.input_ids.map(BigInt)), [
              1,
              r.input_ids.length,
            ]),
            style: new ortNode.Tensor('float32', r.style, [1, r.style.length]),
            speed: new ortNode.Tensor('float32', new Float32Array([1]), [1]),
          });
        }
      }
    }
    log(`${feeds.length} runs over ${KOKORO_VOICE_IDS.length} voices; calibrating`);
    const ort = {
      ...ortNode,
      InferenceSession: {
        create: (b, opts) => ortNode.InferenceSession.create(b, { ...opts, ...NODE_SESSION_OPTIONS }),
      },
    };
    const ranges = await q.calibrate(ort, floatModel, feeds, { filter: graph.KOKORO_INT8_CONVS });
    const out = {};
    for (const [name, r] of [...ranges].sort((a, b) => a[0].localeCompare(b[0]))) {
      const pad = (r.max - r.min) * MARGIN;
      out[name] = [Number((r.min - pad).toPrecision(6)), Number((r.max + pad).toPrecision(6))];
    }
    const file = {
      model_sha256: createHash('sha256').update(bytes).digest('hex'),
      method:
        `min/max of each int8 conv's input and output over ${feeds.length} runs (every preset voice, ` +
        `sentences in its language, speed 1, onnxruntime-node, float-conv graph), each side widened by ` +
        `${MARGIN * 100} % of the range (scripts/calibrate-tts.mjs)`,
      ranges: out,
    };
    writeFileSync(OUT, `${JSON.stringify(file, null, 1)}\n`);
    log(
      `wrote ${Object.keys(out).length} ranges to ${OUT} in ${Math.round((Date.now() - started) / 1000)} s`,
    );
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
