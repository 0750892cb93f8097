// `npm run bench:runtime`: the yardstick of the engine issues. For each bundled model (same .onnx file,
// same synthetic input) it measures session-create time, the first run and the steady-state run (median)
// in headless Chromium (the studio's engine worker: onnxruntime-web WASM, threads = cores, cross-origin
// isolated) and in onnxruntime-node, plus the MatMul roofline of both. Prints one JSON object on stdout;
// progress goes to stderr.
//
// Builds the studio when dist/ is missing or older than the sources, serves it with `vite preview`
// (COOP/COEP headers from vite.config.ts) on a free port, and drives Debian's Chromium (CHROMIUM_PATH).
import { existsSync, readFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { runnerImport } from 'vite';
import { chromium } from 'playwright-core';
import ortNode from 'onnxruntime-node';
import {
  benchInput,
  CHROMIUM,
  CORES,
  engineRun,
  ensureBuild,
  median,
  MODELS,
  root,
  round,
  round2,
  serve,
} from './lib/bench.mjs';

/** MatMul roofline: N = K = M, and how long each side measures. */
const ROOFLINE = { size: 512, seconds: 3 };

const log = (...a) => console.error('[bench]', ...a);

// ---------------------------------------------------------------- models and inputs

const input = benchInput;

/** About 100 real Kokoro phoneme ids (a US-English sentence in IPA through the model's own vocabulary). */
function kokoroTokens() {
  const vocab = JSON.parse(readFileSync(join(MODELS, 'kokoro-82m-q8', 'tokenizer.json'), 'utf8')).model.vocab;
  const ipa =
    'ðə kwˈɪk bɹˈaʊn fˈɑːks dʒˈʌmps ˌoʊvɚ ðə lˈeɪzi dˈɑːɡ. ' +
    'tˈɪmbɚ ɹˈʌnz ˈɛvɹɪθˌɪŋ ˈɑn ðɪs dɪvˈaɪs, ænd nˈʌθɪŋ ju ɹɪkˈɔːɹd lˈiːvz ɪt. ' +
    'ɪt wˈɜːks ˈɔfˌlaɪn, ɛvən wɛn ðə nˈɛtwɜːk ɪz dˈaʊn.';
  const ids = [...ipa].map((c) => vocab[c]).filter((v) => v !== undefined);
  const body = ids.slice(0, 100);
  if (body.length < 100) throw new Error(`only ${body.length} Kokoro tokens`);
  return [0, ...body, 0];
}

async function modelList(seededFloats) {
  const tokens = kokoroTokens();
  // Style row r is the style for r phoneme tokens (kokoro-js: clamp(L - 2, 0, 509)).
  const voice = readFileSync(join(MODELS, 'kokoro-82m-q8', 'voices', 'af_heart.bin'));
  const row = Math.min(Math.max(tokens.length - 2, 0), 509);
  const style = new Float32Array(
    voice.buffer.slice(voice.byteOffset + row * 1024, voice.byteOffset + (row + 1) * 1024),
  );
  const features = seededFloats(80 * 3000, 21, 0.8);

  /** One decoder step of the merged Whisper decoder: four start tokens, an empty cache. */
  const decoderStep = async (dir, d, heads) => {
    const probe = await ortNode.InferenceSession.create(
      join(MODELS, dir, 'onnx', 'decoder_model_merged_quantized.onnx'),
    );
    const names = probe.inputNames;
    await probe.release();
    const inputs = [
      input('input_ids', 'int64', [1, 4], BigInt64Array.from([50258n, 50259n, 50359n, 50363n])),
      input('encoder_hidden_states', 'float32', [1, 1500, d], seededFloats(1500 * d, 31, 0.5)),
      input('use_cache_branch', 'bool', [1], Uint8Array.from([0])),
    ];
    for (const n of names.filter((n) => n.startsWith('past_key_values.')))
      inputs.push(input(n, 'float32', [1, heads, 0, 64], new Float32Array(0)));
    const layers = names.filter((n) => /^past_key_values\.\d+\.decoder\.key$/.test(n)).length;
    const outputs = ['logits'];
    for (let i = 0; i < layers; i++)
      for (const a of ['decoder', 'encoder'])
        outputs.push(`present.${i}.${a}.key`, `present.${i}.${a}.value`);
    return { inputs, outputs };
  };

  /** Silero VAD: names and ranks read from the session. */
  const silero = async () => {
    const s = await ortNode.InferenceSession.create(join(MODELS, 'silero-vad-v5', 'silero_vad_v5.onnx'));
    const meta = Object.fromEntries(s.inputMetadata.map((m) => [m.name, m]));
    const srName = s.inputNames.find((n) => meta[n].type === 'int64');
    const stateName = s.inputNames.find((n) => n !== srName && meta[n].shape.length === 3);
    const audioName = s.inputNames.find((n) => n !== srName && n !== stateName);
    const srDims = meta[srName].shape.length === 0 ? [] : [1];
    await s.release();
    return {
      inputs: [
        input(audioName, 'float32', [1, 512], seededFloats(512, 41, 0.1)),
        input(stateName, 'float32', [2, 1, 128], new Float32Array(256)),
        input(srName, 'int64', srDims, BigInt64Array.from([16000n])),
      ],
    };
  };

  return [
    {
      id: 'kokoro-82m-q8',
      file: 'kokoro-82m-q8/model.onnx',
      note: `${tokens.length} tokens (100 phonemes), voice af_heart row ${row}, speed 1`,
      runs: 2,
      inputs: [
        input('input_ids', 'int64', [1, tokens.length], BigInt64Array.from(tokens.map(BigInt))),
        input('style', 'float32', [1, 256], style),
        input('speed', 'float32', [1], Float32Array.from([1])),
      ],
    },
    {
      id: 'whisper-tiny-q8/encoder',
      file: 'whisper-tiny-q8/onnx/encoder_model_quantized.onnx',
      note: 'input_features [1, 80, 3000] (30 s), last_hidden_state fetched',
      runs: 3,
      outputs: ['last_hidden_state'],
      inputs: [input('input_features', 'float32', [1, 80, 3000], features)],
    },
    {
      id: 'whisper-tiny-q8/decoder-step',
      file: 'whisper-tiny-q8/onnx/decoder_model_merged_quantized.onnx',
      note: 'first step: 4 prompt tokens, empty cache, logits and present.* fetched',
      runs: 5,
      ...(await decoderStep('whisper-tiny-q8', 384, 6)),
    },
    {
      id: 'whisper-base-q8/encoder',
      file: 'whisper-base-q8/onnx/encoder_model_quantized.onnx',
      note: 'input_features [1, 80, 3000] (30 s), last_hidden_state fetched',
      runs: 3,
      outputs: ['last_hidden_state'],
      inputs: [input('input_features', 'float32', [1, 80, 3000], features)],
    },
    {
      id: 'whisper-base-q8/decoder-step',
      file: 'whisper-base-q8/onnx/decoder_model_merged_quantized.onnx',
      note: 'first step: 4 prompt tokens, empty cache, logits and present.* fetched',
      runs: 5,
      ...(await decoderStep('whisper-base-q8', 512, 8)),
    },
    {
      id: 'silero-vad-v5',
      file: 'silero-vad-v5/silero_vad_v5.onnx',
      note: '512 samples at 16 kHz, zero state',
      runs: 30,
      ...(await silero()),
    },
  ];
}

// ---------------------------------------------------------------- onnxruntime-node

const nodeOptions = {
  executionProviders: ['cpu'],
  graphOptimizationLevel: 'all',
  intraOpNumThreads: CORES,
  interOpNumThreads: 1,
};

function nodeTensor(i) {
  const buf = i.data.slice().buffer;
  const data =
    i.type === 'float32'
      ? new Float32Array(buf)
      : i.type === 'int64'
        ? new BigInt64Array(buf)
        : i.type === 'int32'
          ? new Int32Array(buf)
          : new Uint8Array(buf);
  return new ortNode.Tensor(i.type, data, i.dims);
}

async function benchNode(m) {
  const bytes = readFileSync(join(MODELS, m.file));
  const feeds = Object.fromEntries(m.inputs.map((i) => [i.name, nodeTensor(i)]));
  let t = performance.now();
  const s = await ortNode.InferenceSession.create(bytes, nodeOptions);
  const create_ms = performance.now() - t;
  try {
    t = performance.now();
    if (m.outputs) await s.run(feeds, m.outputs);
    else await s.run(feeds);
    const first_ms = performance.now() - t;
    const runs = [];
    for (let r = 0; r < m.runs; r++) {
      t = performance.now();
      if (m.outputs) await s.run(feeds, m.outputs);
      else await s.run(feeds);
      runs.push(performance.now() - t);
    }
    return { create_ms, first_ms, steady_ms: median(runs), runs_ms: runs };
  } finally {
    await s.release();
  }
}

async function rooflineNode(matmulModel, seededFloats) {
  const n = ROOFLINE.size;
  const s = await ortNode.InferenceSession.create(matmulModel(n), nodeOptions);
  const a = new ortNode.Tensor('float32', seededFloats(n * n, 11), [n, n]);
  await s.run({ a });
  let busy = 0;
  let runs = 0;
  while (busy < ROOFLINE.seconds * 1000 || runs < 2) {
    const t = performance.now();
    await s.run({ a });
    busy += performance.now() - t;
    runs++;
  }
  await s.release();
  return { gflops: (2 * n ** 3 * runs) / (busy / 1000) / 1e9, runs };
}

// ---------------------------------------------------------------- Chromium

const FLAGS = [
  '--no-sandbox',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
];

async function benchBrowser(base, models) {
  if (!existsSync(CHROMIUM)) throw new Error(`Chromium not found at ${CHROMIUM} (set CHROMIUM_PATH).`);
  const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: FLAGS });
  try {
    const context = await browser.newContext();
    // A fresh profile is a first start, when the studio copies the bundled models into its storage:
    // turn that off, or it competes with the benchmark for the cores.
    await context.addInitScript(() => localStorage.setItem('timbre:auto-install', 'off'));
    const page = await context.newPage();
    page.on('pageerror', (e) => log('[pageerror]', e.message));
    await page.goto(`${base}/`);
    await page.waitForFunction(() => '__timbre' in globalThis, null, { timeout: 60_000 });
    await new Promise((r) => setTimeout(r, 2000)); // let the page's own start-up settle
    const env = await page.evaluate(() => ({
      isolated: crossOriginIsolated,
      cores: navigator.hardwareConcurrency,
      ua: navigator.userAgent,
    }));
    if (!env.isolated) throw new Error('the studio page is not cross-origin isolated: no WASM threads');
    const results = {};
    for (const m of models) {
      log(`chromium: ${m.id}`);
      const r = await engineRun(page, 'runtime.bench', {
        ep: 'wasm',
        models: [
          {
            id: m.id,
            url: `/models/${m.file}`,
            runs: m.runs,
            outputs: m.outputs,
            inputs: m.inputs.map((i) => ({ ...i, data: Buffer.from(i.data).toString('base64') })),
          },
        ],
      });
      results[m.id] = { ...r.models[0], threads: r.threads };
    }
    log('chromium: roofline');
    const roof = await engineRun(page, 'runtime.roofline', ROOFLINE);
    return { env, results, roof };
  } finally {
    await browser.close();
  }
}

// ---------------------------------------------------------------- main

async function main() {
  const started = Date.now();
  const loadBefore = loadavg()[0];
  ensureBuild(log);
  const { module: tm } = await runnerImport('/src/lib/runtime/test-models.ts', {
    root,
    configFile: false,
    logLevel: 'silent',
  });
  const { module: rnd } = await runnerImport('/src/lib/core/random.ts', {
    root,
    configFile: false,
    logLevel: 'silent',
  });
  const models = await modelList(rnd.seededFloats);

  log(`onnxruntime-node ${CORES} threads: roofline`);
  const nodeRoof = await rooflineNode(tm.matmulModel, rnd.seededFloats);
  const node = {};
  for (const m of models) {
    log(`onnxruntime-node: ${m.id}`);
    node[m.id] = await benchNode(m);
  }

  const server = await serve();
  let web;
  try {
    web = await benchBrowser(server.base, models);
  } finally {
    server.stop();
  }

  const pick = (r) => ({
    create_ms: round(r.create_ms),
    first_ms: round(r.first_ms),
    steady_ms: round(r.steady_ms),
    runs: r.runs_ms.length,
  });
  const out = {
    date: new Date().toISOString(),
    machine: {
      cores: CORES,
      cpu: cpus()[0]?.model ?? null,
      node: process.version,
      browser: web.env.ua.match(/Chrome\/[\d.]+/)?.[0] ?? web.env.ua,
      browser_cores: web.env.cores,
      cross_origin_isolated: web.env.isolated,
      // Other work on the machine skews every number: the 1-minute load average before and after.
      load_avg: [round2(loadBefore), round2(loadavg()[0])],
    },
    runtime: {
      'onnxruntime-web': JSON.parse(
        readFileSync(join(root, 'node_modules/onnxruntime-web/package.json'), 'utf8'),
      ).version,
      'onnxruntime-node': JSON.parse(
        readFileSync(join(root, 'node_modules/onnxruntime-node/package.json'), 'utf8'),
      ).version,
      wasm_threads: web.roof.threads,
      node_threads: CORES,
    },
    roofline: {
      op: `MatMul [${ROOFLINE.size}, ${ROOFLINE.size}] x [${ROOFLINE.size}, ${ROOFLINE.size}] float32`,
      wasm_gflops: round(web.roof.gflops),
      node_gflops: round(nodeRoof.gflops),
      ratio_node_over_wasm: round2(nodeRoof.gflops / web.roof.gflops),
    },
    models: models.map((m) => {
      const w = web.results[m.id];
      const n = node[m.id];
      return {
        id: m.id,
        file: m.file,
        input: m.note,
        wasm: pick(w),
        node: pick(n),
        ratio_wasm_over_node: round2(w.steady_ms / n.steady_ms),
      };
    }),
    seconds: Math.round((Date.now() - started) / 1000),
  };
  process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
