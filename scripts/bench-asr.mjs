// `npm run bench:asr`: transcription speed of the studio's pipeline (src/lib/asr/operation.ts
// runAsrTranscribe: decode, Silero VAD, Whisper windows) on one file of several minutes made of known
// sentences (the cached Kokoro corpus in several orders, scripts/lib/asr-speech.ts), for Whisper tiny and
// base int8, cold (first run: model read and session creation included) and warm, in headless Chromium
// (the engine worker: onnxruntime-web WASM, 2 threads, cross-origin isolated) and in onnxruntime-node on
// the same pipeline and audio. Per run: real-time factor, time to the first 'segment' event, WER. Then the
// share of the WASM roofline: FLOPs counted analytically from the model shapes (every encoder and decoder
// run of the pipeline recorded in Node), against the MatMul roofline measured in the same run, for the
// whole pipeline and for single encoder and decoder runs; the decoder step also against a memory-bandwidth
// bound. Prints one JSON object on stdout; progress goes to stderr.
//
// Env: BENCH_ASR_ORDERS (passes over the corpus, default 4 ≈ 3 min), BENCH_ASR_REPS (warm runs, default 1),
// BENCH_ASR_MODELS (default tiny,base), BENCH_ASR_QUICK=1 (one pass, tiny only: checks the script).
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import ortNode from 'onnxruntime-node';
import onnx from 'onnx-proto';
import {
  CORES,
  MODELS,
  benchInput,
  engineRun,
  ensureBuild,
  forPage,
  loadAverages,
  logger,
  machine,
  median,
  openStudio,
  packageVersion,
  root,
  round,
  round2,
  round3,
  serve,
  NODE_SESSION_OPTIONS,
} from './lib/bench.mjs';
import { viteLoader } from './lib/vite-load.mjs';

const log = logger('bench:asr');
const QUICK = Boolean(process.env.BENCH_ASR_QUICK);
const ORDERS = Math.max(1, Number(process.env.BENCH_ASR_ORDERS ?? (QUICK ? 1 : 4)));
const REPS = Math.max(1, Number(process.env.BENCH_ASR_REPS ?? 1));
const MODEL_IDS = (process.env.BENCH_ASR_MODELS ?? (QUICK ? 'tiny' : 'tiny,base'))
  .split(',')
  .map((m) => `whisper-${m.trim()}-q8`);
const ROOFLINE = { size: 512, seconds: 3 };
/** Past length of the timed single decoder step: about the middle of a window's decode. */
const STEP_PAST = 64;
const GOALS = {
  rtf: { 'whisper-tiny-q8': 0.2, 'whisper-base-q8': 0.5 },
  first_text_ms: 3000,
  roofline_share: 0.8,
};

// ---------------------------------------------------------------- FLOPs (analytic)

/** Whisper's shapes from config.json. */
function shapesOf(id) {
  const c = JSON.parse(readFileSync(join(MODELS, id, 'config.json'), 'utf8'));
  return {
    d: c.d_model,
    encLayers: c.encoder_layers,
    decLayers: c.decoder_layers,
    encFfn: c.encoder_ffn_dim,
    decFfn: c.decoder_ffn_dim,
    heads: c.decoder_attention_heads,
    vocab: c.vocab_size,
    mels: c.num_mel_bins,
    frames: c.max_source_positions,
  };
}

const FLOPS_METHOD =
  '2 x multiply-adds of the dense ops, from the shapes in config.json. Encoder (one 30 s window, T = 1500): ' +
  'conv1 2*2T*d*mels*3, conv2 2*T*d*d*3, per layer 2*T*(4d^2 + 2d*ffn) for the projections and MLP plus ' +
  '4*T^2*d for QK^T and AV. Decoder run with S new tokens after p cached ones: per layer 2*S*(4d^2 + 2d^2 + ' +
  '2d*ffn) (self q/k/v/o, cross q/o, MLP) + 4*S*(p+S)*d (self attention) + 4*S*T*d (cross attention), ' +
  "plus 2*T*2d^2 per layer for the cross-attention keys and values on a window's first run (no cache), " +
  'plus 2*S*d*vocab for the logits. Every encoder and decoder run of the pipeline is recorded in Node ' +
  '(S, p and the branch from its inputs); softmax, norms, GELU, mel features and VAD count as 0. int8 ' +
  'MatMuls count like float ones.';

/**
 * The encoder's FLOPs by the kernel that runs them in the q8 graph: its projections, MLP and convolutions
 * are MatMulInteger/ConvInteger (int8), attention's QK^T and AV multiply two activations and stay float32
 * MatMuls. The op counts are read from the graph itself, so a differently quantised model is caught.
 */
function encoderFlopsByKernel(m, onnxPath) {
  const g = onnx.onnx.ModelProto.decode(readFileSync(onnxPath)).graph;
  const count = (op) => g.node.filter((n) => n.opType === op).length;
  const ops = {
    MatMulInteger: count('MatMulInteger'),
    ConvInteger: count('ConvInteger'),
    MatMul: count('MatMul'),
    Conv: count('Conv'),
  };
  const L = m.encLayers;
  if (ops.MatMulInteger !== 6 * L || ops.ConvInteger !== 2 || ops.MatMul !== 2 * L || ops.Conv !== 0)
    throw new Error(`${onnxPath}: not the q8 layout this count assumes (${JSON.stringify(ops)})`);
  const T = m.frames;
  const conv = 2 * 2 * T * m.d * m.mels * 3 + 2 * T * m.d * m.d * 3;
  return {
    int8: conv + L * 2 * T * (4 * m.d * m.d + 2 * m.d * m.encFfn),
    float32: L * 4 * T * T * m.d,
    ops,
  };
}

function encoderFlops(m) {
  const T = m.frames;
  const conv = 2 * 2 * T * m.d * m.mels * 3 + 2 * T * m.d * m.d * 3;
  const layer = 2 * T * (4 * m.d * m.d + 2 * m.d * m.encFfn) + 4 * T * T * m.d;
  return conv + m.encLayers * layer;
}

function decoderFlops(m, S, past, first) {
  const T = m.frames;
  const d = m.d;
  const layer =
    2 * S * (6 * d * d + 2 * d * m.decFfn) +
    4 * S * (past + S) * d +
    4 * S * T * d +
    (first ? 4 * T * d * d : 0);
  return m.decLayers * layer + 2 * S * d * m.vocab;
}

// ---------------------------------------------------------------- onnxruntime-node, instrumented

/** Every session.run of the pipeline in Node: which graph, its shapes, its time. */
const calls = [];

function kindOf(s) {
  if (s.inputNames.includes('input_features')) return 'encoder';
  if (s.inputNames.includes('use_cache_branch')) return 'decoder';
  return 'other';
}

/** onnxruntime-node behind the interface the engine's runtime expects, each run recorded. */
const nodeShim = {
  ...ortNode,
  env: ortNode.env,
  Tensor: ortNode.Tensor,
  InferenceSession: {
    create: async (bytes, opts) => {
      const s = await ortNode.InferenceSession.create(bytes, { ...opts, ...NODE_SESSION_OPTIONS });
      const kind = kindOf(s);
      const run = s.run.bind(s);
      s.run = async (feeds, ...rest) => {
        const t = performance.now();
        const out = await run(feeds, ...rest);
        const ms = performance.now() - t;
        if (kind === 'decoder') {
          const ids = feeds.input_ids;
          const pastKey = Object.keys(feeds).find((k) => /^past_key_values\.0\.decoder\.key$/.test(k));
          calls.push({
            kind,
            ms,
            S: ids.dims[1],
            past: pastKey ? feeds[pastKey].dims[2] : 0,
            cached: Boolean(feeds.use_cache_branch?.data?.[0]),
          });
        } else calls.push({ kind, ms });
        return out;
      };
      return s;
    },
  },
};

/** One transcription through runAsrTranscribe in Node, timed from its progress events. */
async function nodeRun(asr, deps, wav, model) {
  calls.length = 0;
  const t0 = performance.now();
  const seg = [];
  const r = await asr.runAsrTranscribe(
    { audio: wav, model },
    {
      onProgress: (p) => {
        if (p.stage === 'segment') seg.push(performance.now() - t0);
      },
    },
    deps,
  );
  const total = performance.now() - t0;
  return { result: r, total_ms: total, segment_ms: seg, calls: [...calls] };
}

async function rooflineNode(tm, rnd) {
  const n = ROOFLINE.size;
  const s = await ortNode.InferenceSession.create(tm.matmulModel(n), NODE_SESSION_OPTIONS);
  const a = new ortNode.Tensor('float32', rnd.seededFloats(n * n, 11), [n, n]);
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
  return (2 * n ** 3 * runs) / (busy / 1000) / 1e9;
}

/**
 * Main-memory bandwidth, read + write, of a 256 MiB copy (larger than any cache here): what a decoder step
 * that streams all its weights (more than the L3 holds) can at best draw on. Measured in Node.
 */
function copyBandwidth() {
  const n = 256 * 1024 * 1024;
  const a = new Uint8Array(n).fill(1);
  const b = new Uint8Array(n);
  b.set(a);
  let best = Infinity;
  for (let i = 0; i < 5; i++) {
    const t = performance.now();
    b.set(a);
    best = Math.min(best, performance.now() - t);
  }
  return (2 * n) / (best / 1000) / 1e9;
}

/** Single encoder and decoder-step inputs for the component timings (the same on both sides). */
function componentInputs(m, decoderInputs, rnd) {
  const hd = m.d / m.heads;
  const enc = [
    benchInput(
      'input_features',
      'float32',
      [1, m.mels, 2 * m.frames],
      rnd.seededFloats(m.mels * 2 * m.frames, 3),
    ),
  ];
  const dec = decoderInputs.map((name) => {
    if (name === 'input_ids') return benchInput(name, 'int64', [1, 1], BigInt64Array.from([440n]));
    if (name === 'encoder_hidden_states')
      return benchInput(name, 'float32', [1, m.frames, m.d], rnd.seededFloats(m.frames * m.d, 5, 0.5));
    if (name === 'use_cache_branch') return benchInput(name, 'bool', [1], Uint8Array.from([1]));
    const len = name.includes('.encoder.') ? m.frames : STEP_PAST;
    return benchInput(name, 'float32', [1, m.heads, len, hd], rnd.seededFloats(m.heads * len * hd, 7, 0.5));
  });
  return { enc, dec };
}

async function nodeComponent(path, inputs, runs) {
  const s = await ortNode.InferenceSession.create(path, NODE_SESSION_OPTIONS);
  const feeds = {};
  for (const i of inputs) {
    const b = i.data.slice().buffer;
    const data =
      i.type === 'float32'
        ? new Float32Array(b)
        : i.type === 'int64'
          ? new BigInt64Array(b)
          : i.type === 'bool'
            ? new Uint8Array(b)
            : new Int32Array(b);
    feeds[i.name] = new ortNode.Tensor(i.type, data, i.dims);
  }
  await s.run(feeds);
  const ms = [];
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    await s.run(feeds);
    ms.push(performance.now() - t);
  }
  await s.release();
  return median(ms);
}

// ---------------------------------------------------------------- Chromium

/** One transcription in the page's engine worker (the audio put there once), timed the same way. */
function webRun(page, model) {
  return page.evaluate(async (model) => {
    const g = globalThis;
    const t0 = performance.now();
    const seg = [];
    const r = await g.__timbre.engine.run(
      'asr.transcribe',
      { audio: g.__benchAudio.slice(), model },
      {
        onProgress: (p) => {
          if (p.stage === 'segment') seg.push(performance.now() - t0);
        },
      },
    );
    const total = performance.now() - t0;
    return {
      result: { text: r.text, segments: r.segments.length, windows: r.windows, rtf: r.rtf },
      total_ms: total,
      segment_ms: seg,
    };
  }, model);
}

// ---------------------------------------------------------------- main

async function main() {
  const started = Date.now();
  const loadBefore = loadAverages();
  ensureBuild(log);
  const vite = await viteLoader(root);
  const speech = await vite.load('/scripts/lib/asr-speech.ts');
  const helpers = await vite.load('/tests/unit/asr-helpers.ts');
  const asr = await vite.load('/src/lib/asr/operation.ts');
  const host = await vite.load('/src/lib/runtime/host.ts');
  const { encodeWav } = await vite.load('/src/lib/dsp/wav.ts');
  const tm = await vite.load('/src/lib/runtime/test-models.ts');
  const rnd = await vite.load('/src/lib/core/random.ts');

  // Before the corpus: on a new machine its sentences are synthesised with Kokoro in Node first.
  host.installRuntime({ loadOrt: async () => nodeShim, isolated: true, cores: CORES });
  log(`building ${ORDERS} pass(es) over the corpus`);
  const long = await speech.longSpeech(ORDERS);
  const wav = encodeWav(long.samples, long.sampleRate, 's16');
  log(`audio: ${long.seconds.toFixed(1)} s, ${long.sentences.length} sentences`);

  const deps = helpers.cacheDeps([...MODEL_IDS, 'silero-vad-v5']);
  log(`onnxruntime-node ${CORES} threads: roofline`);
  const nodeRoof = await rooflineNode(tm, rnd);
  const node = {};
  for (const id of MODEL_IDS) {
    node[id] = { cold: null, warm: [] };
    log(`onnxruntime-node ${id}: cold`);
    node[id].cold = await nodeRun(asr, deps, wav, id);
    for (let i = 0; i < REPS; i++) {
      log(`onnxruntime-node ${id}: warm ${i + 1}/${REPS}`);
      node[id].warm.push(await nodeRun(asr, deps, wav, id));
    }
  }
  const shapes = Object.fromEntries(MODEL_IDS.map((id) => [id, shapesOf(id)]));
  const comp = {};
  for (const id of MODEL_IDS) {
    const decPath = join(MODELS, id, 'onnx', 'decoder_model_merged_quantized.onnx');
    const s = await ortNode.InferenceSession.create(decPath, NODE_SESSION_OPTIONS);
    const names = [...s.inputNames];
    await s.release();
    const inputs = componentInputs(shapes[id], names, rnd);
    log(`onnxruntime-node ${id}: single encoder and decoder-step runs`);
    comp[id] = {
      inputs,
      node_encoder_ms: await nodeComponent(
        join(MODELS, id, 'onnx', 'encoder_model_quantized.onnx'),
        inputs.enc,
        3,
      ),
      node_step_ms: await nodeComponent(decPath, inputs.dec, 20),
      decoder_bytes: statSync(decPath).size,
    };
  }
  log('memory bandwidth (256 MiB copy)');
  const bandwidth = copyBandwidth();
  await vite.close();

  const server = await serve();
  const web = {};
  let env;
  let browserVersion;
  let roof;
  let roofAfter;
  let roofInt8;
  let roofInt8After;
  let threads;
  try {
    const s = await openStudio(server.base, log);
    ({ env, browserVersion } = s);
    const page = s.page;
    try {
      for (const id of [...MODEL_IDS, 'silero-vad-v5']) {
        log(`chromium: installing ${id} into the studio (OPFS)`);
        await page.evaluate((id) => globalThis.__timbre.models.install(id), id);
      }
      await page.evaluate((b64) => {
        globalThis.__benchAudio = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
      }, Buffer.from(wav).toString('base64'));
      log('chromium: roofline');
      roof = await engineRun(page, 'runtime.roofline', ROOFLINE);
      log('chromium: int8 roofline (MatMulInteger)');
      roofInt8 = await engineRun(page, 'runtime.roofline', { ...ROOFLINE, dtype: 'int8' });
      for (const id of MODEL_IDS) {
        web[id] = { cold: null, warm: [] };
        log(`chromium ${id}: cold`);
        web[id].cold = await webRun(page, id);
        for (let i = 0; i < REPS; i++) {
          log(`chromium ${id}: warm ${i + 1}/${REPS}`);
          web[id].warm.push(await webRun(page, id));
        }
        log(`chromium ${id}: single encoder and decoder-step runs`);
        const b = await engineRun(page, 'runtime.bench', {
          ep: 'wasm',
          models: [
            {
              id: `${id}/encoder`,
              url: `/models/${id}/onnx/encoder_model_quantized.onnx`,
              runs: 3,
              outputs: ['last_hidden_state'],
              inputs: comp[id].inputs.enc.map(forPage),
              prepare: 'whisper-encoder', // the graph the studio runs (no attention-weight outputs)
            },
            {
              id: `${id}/encoder-as-shipped`,
              url: `/models/${id}/onnx/encoder_model_quantized.onnx`,
              runs: 3,
              outputs: ['last_hidden_state'],
              inputs: comp[id].inputs.enc.map(forPage),
            },
            {
              id: `${id}/decoder`,
              url: `/models/${id}/onnx/decoder_model_merged_quantized.onnx`,
              runs: 20,
              outputs: ['logits'],
              inputs: comp[id].inputs.dec.map(forPage),
            },
          ],
        });
        threads = b.threads;
        comp[id].wasm_encoder_ms = b.models[0].steady_ms;
        comp[id].wasm_encoder_shipped_ms = b.models[1].steady_ms;
        comp[id].wasm_step_ms = b.models[2].steady_ms;
      }
      log('chromium: roofline again');
      roofAfter = await engineRun(page, 'runtime.roofline', ROOFLINE);
      roofInt8After = await engineRun(page, 'runtime.roofline', { ...ROOFLINE, dtype: 'int8' });
    } finally {
      await s.browser.close();
    }
  } finally {
    server.stop();
  }

  // ---------------------------------------------------------------- figures
  const wasmRoof = (roof.gflops + roofAfter.gflops) / 2;
  // The q8 encoder's MatMuls are MatMulInteger: judged against the int8 kernel's own roofline.
  const wasmRoofInt8 = (roofInt8.gflops + roofInt8After.gflops) / 2;
  const audioS = long.seconds;
  const runFigures = (r) => ({
    total_s: round2(r.total_ms / 1000),
    rtf: round3(r.total_ms / 1000 / audioS),
    first_segment_ms: r.segment_ms.length ? round(r.segment_ms[0]) : null,
    segment_events: r.segment_ms.length,
    wer: round3(helpers.wer(long.text, r.result.text)),
    windows: r.result.windows,
  });
  const flopsOfCalls = (id, cs) => {
    const m = shapes[id];
    let enc = 0;
    let dec = 0;
    for (const c of cs)
      if (c.kind === 'encoder') enc += encoderFlops(m);
      else if (c.kind === 'decoder') dec += decoderFlops(m, c.S, c.past, !c.cached);
    return { enc, dec };
  };
  const models = {};
  const goals = {};
  for (const id of MODEL_IDS) {
    const n = node[id];
    const w = web[id];
    const warmN = n.warm[n.warm.length - 1];
    const cs = warmN.calls;
    const f = flopsOfCalls(id, cs);
    const sumMs = (k) => cs.filter((c) => c.kind === k).reduce((a, c) => a + c.ms, 0);
    const wasmWarmMs = median(w.warm.map((r) => r.total_ms));
    const nodeWarmMs = median(n.warm.map((r) => r.total_ms));
    const c = comp[id];
    const m = shapes[id];
    const encF = encoderFlops(m);
    const stepF = decoderFlops(m, 1, STEP_PAST, false);
    const encShare = encF / 1e9 / (c.wasm_encoder_ms / 1000) / wasmRoof;
    const encShareInt8 = encF / 1e9 / (c.wasm_encoder_ms / 1000) / wasmRoofInt8;
    // The bound: each kernel's FLOPs at the roofline measured for that kernel in this run.
    const split = encoderFlopsByKernel(m, join(MODELS, id, 'onnx', 'encoder_model_quantized.onnx'));
    const encBoundMs = (split.int8 / 1e9 / wasmRoofInt8 + split.float32 / 1e9 / wasmRoof) * 1000;
    const encShareMixed = encBoundMs / c.wasm_encoder_ms;
    const stepBoundMs = (c.decoder_bytes / (bandwidth * 1e9)) * 1000;
    const pipelineShare = (f.enc + f.dec) / 1e9 / (wasmWarmMs / 1000) / wasmRoof;
    models[id] = {
      wasm: { cold: runFigures(w.cold), warm: w.warm.map(runFigures) },
      node: { cold: runFigures(n.cold), warm: n.warm.map(runFigures) },
      ratio_wasm_over_node: {
        warm_rtf: round2(wasmWarmMs / nodeWarmMs),
        cold_rtf: round2(w.cold.total_ms / n.cold.total_ms),
      },
      node_runs: {
        encoder_runs: cs.filter((x) => x.kind === 'encoder').length,
        decoder_runs: cs.filter((x) => x.kind === 'decoder').length,
        encoder_ms: round(sumMs('encoder')),
        decoder_ms: round(sumMs('decoder')),
        vad_and_other_ms: round(sumMs('other')),
        model_time_share_of_total: round3(
          (sumMs('encoder') + sumMs('decoder') + sumMs('other')) / warmN.total_ms,
        ),
      },
      flops: {
        encoder_gflop_per_window: round2(encF / 1e9),
        pipeline_encoder_gflop: round2(f.enc / 1e9),
        pipeline_decoder_gflop: round2(f.dec / 1e9),
        decoder_step_gflop: round3(stepF / 1e9),
      },
      roofline_share: {
        pipeline_wasm_warm: {
          gflops: round2((f.enc + f.dec) / 1e9 / (wasmWarmMs / 1000)),
          share: round3(pipelineShare),
          note: 'all counted FLOPs of the warm run over its whole wall time (decode, VAD, mel and the decoding loop included)',
        },
        encoder_wasm: {
          graph: "the studio's (whisper.ts encoderGraph: the export without its attention-weight outputs)",
          run_ms: round(c.wasm_encoder_ms),
          as_shipped_run_ms: round(c.wasm_encoder_shipped_ms),
          share_of_mixed_roofline_as_shipped: round3(encBoundMs / c.wasm_encoder_shipped_ms),
          gflops: round2(encF / 1e9 / (c.wasm_encoder_ms / 1000)),
          share: round3(encShare),
          share_of_int8_roofline: round3(encShareInt8),
          int8_gflop: round2(split.int8 / 1e9),
          float32_gflop: round2(split.float32 / 1e9),
          graph_ops: split.ops,
          bound_ms: round(encBoundMs),
          share_of_mixed_roofline: round3(encShareMixed),
        },
        encoder_node: {
          run_ms: round(c.node_encoder_ms),
          share_of_node_roofline: round3(encF / 1e9 / (c.node_encoder_ms / 1000) / nodeRoof),
        },
        decoder_step_wasm: {
          past: STEP_PAST,
          run_ms: round2(c.wasm_step_ms),
          gflops: round2(stepF / 1e9 / (c.wasm_step_ms / 1000)),
          share_of_compute_roofline: round3(stepF / 1e9 / (c.wasm_step_ms / 1000) / wasmRoof),
          weight_bytes: c.decoder_bytes,
          bandwidth_bound_ms: round2(stepBoundMs),
          share_of_bandwidth_bound: round3(stepBoundMs / c.wasm_step_ms),
        },
        decoder_step_node_ms: round2(c.node_step_ms),
      },
    };
    const bestWarm = Math.min(...w.warm.map((r) => r.total_ms / 1000 / audioS));
    const firstWarm = median(w.warm.map((r) => r.segment_ms[0] ?? Infinity));
    goals[id] = {
      rtf: {
        goal: `<= ${GOALS.rtf[id]} (WASM, warm, ${round(audioS)} s file)`,
        value: round3(wasmWarmMs / 1000 / audioS),
        best: round3(bestWarm),
        met: wasmWarmMs / 1000 / audioS <= GOALS.rtf[id],
      },
      first_text_ms: {
        goal: `<= ${GOALS.first_text_ms} ms from the call to the first 'segment' event (WASM, warm)`,
        value: round(firstWarm),
        cold_value: w.cold.segment_ms.length ? round(w.cold.segment_ms[0]) : null,
        met: firstWarm <= GOALS.first_text_ms,
      },
      roofline_share: {
        goal:
          `>= ${GOALS.roofline_share * 100} % of the WASM roofline of the encoder (the compute-bound part): ` +
          'its int8 FLOPs (MatMulInteger, ConvInteger) at the int8 MatMulInteger roofline plus its float32 ' +
          'FLOPs (attention) at the float32 MatMul roofline, both measured in this run',
        value: round3(encShareMixed),
        met: encShareMixed >= GOALS.roofline_share,
        all_at_int8_value: round3(encShareInt8),
        float32_value: round3(encShare),
        pipeline_value: round3(pipelineShare),
      },
    };
  }
  const loadAfter = loadAverages();
  const out = {
    date: new Date().toISOString(),
    machine: {
      ...machine(),
      browser: browserVersion,
      browser_cores: env.cores,
      cross_origin_isolated: env.isolated,
      load_avg_before: loadBefore,
      load_avg_after: loadAfter,
      load_avg_note:
        '1, 5 and 15 minute load averages; other sessions share the 2 cores' +
        (Math.max(...loadBefore.slice(0, 1), ...loadAfter.slice(0, 1)) > 3
          ? ' - LOAD ABOVE 3 during this run: the figures are slowed by other work'
          : ''),
    },
    runtime: {
      'onnxruntime-web': packageVersion('onnxruntime-web'),
      'onnxruntime-node': packageVersion('onnxruntime-node'),
      wasm_threads: threads,
      node_threads: CORES,
      pipeline:
        'src/lib/asr/operation.ts runAsrTranscribe (engine op asr.transcribe), language detected, greedy',
    },
    audio: {
      seconds: round2(audioS),
      sentences: long.sentences.length,
      passes_over_corpus: ORDERS,
      words: helpers.normWords(long.text).length,
      made_of:
        'tests/unit/asr-corpus.ts ENGLISH (Kokoro af_heart, bm_george, am_michael, bf_emma), seeded orders, 0.5-1.6 s pauses, WAV s16 24 kHz',
    },
    definitions: {
      rtf: 'wall time of the call / seconds of audio',
      first_segment_ms:
        "from the call to the first 'segment' progress event (the first text the UI can show)",
      cold: 'first call for the model: model files read, sessions created and warmed up, then the file',
      warm: `sessions exist; ${REPS} call(s), median`,
      wer: 'word error rate against the known text (tests/unit/asr-helpers.ts wer: lower case, no punctuation)',
    },
    models,
    roofline: {
      op: `MatMul [${ROOFLINE.size}, ${ROOFLINE.size}] x [${ROOFLINE.size}, ${ROOFLINE.size}] float32`,
      wasm_gflops: round2(wasmRoof),
      wasm_gflops_before_and_after: [round2(roof.gflops), round2(roofAfter.gflops)],
      node_gflops: round2(nodeRoof),
      int8_op: `MatMulInteger uint8 [${ROOFLINE.size}, ${ROOFLINE.size}] x int8 [${ROOFLINE.size}, ${ROOFLINE.size}] -> int32`,
      wasm_int8_gops: round2(wasmRoofInt8),
      wasm_int8_gops_before_and_after: [round2(roofInt8.gflops), round2(roofInt8After.gflops)],
      note: 'The goal is judged on the mixed roofline: the q8 encoder runs its projections, MLP and convolutions on int8 kernels and attention on float32 MatMul, each counted at its own measured roofline; all-at-int8 and all-at-float32 shares are shown beside it.',
    },
    memory_bandwidth: {
      gb_per_s: round2(bandwidth),
      method:
        'Node, best of 5 copies of 256 MiB (read + write bytes counted). A decoder step at batch 1 does one ' +
        'multiply-add per weight, and the weights (the .onnx size, most of it the 51865 x d token matrix the ' +
        'logits read whole) exceed the 16 MiB L3 here, so it is bound by streaming them: bandwidth_bound_ms = ' +
        'weight bytes / this bandwidth.',
    },
    flops_method: FLOPS_METHOD,
    goals,
    seconds: Math.round((Date.now() - started) / 1000),
  };
  process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
