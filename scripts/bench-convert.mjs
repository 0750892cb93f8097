// `npm run bench:convert`: the OpenVoice tone-colour converter at the released v2 size (random weights from
// the released config: the shapes and costs are real, the numbers are not), float32 and the int8
// variant (src/lib/runtime/quantize.ts), on 10 s and 60 s of speech. In headless Chromium (the studio's
// engine worker: onnxruntime-web WASM, threads = cores, cross-origin isolated, via 'runtime.bench') and in
// onnxruntime-node on the same graph bytes: real-time factor of a whole 10 s conversion, a 60 s file
// converted in streamed chunks (a small first chunk, then 5 s chunks, each with context frames on both
// sides) with its time to first audio, and the ratio. FLOPs per second of audio counted analytically from
// the config and from onnxruntime-node's profiler; the WASM GFLOP/s against the MatMul roofline measured
// in the same run; per-op time in WASM (onnxruntime-web's profiler); the int8 variant's deviation from the
// float output; load averages. One JSON object on stdout; progress on stderr.
// Input: the v2 parity fixture's two speech clips (tests/fixtures/openvoice-v2-tiny), read at run time
// and repeated to length.
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ortNode from 'onnxruntime-node';
import {
  CORES,
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
import { FLOPS_METHOD, byOp, nodeEvents, parseProfileLines, weightShapes } from './lib/flops.mjs';
import { viteLoader } from './lib/vite-load.mjs';

const log = logger('bench:convert');
const QUICK = Boolean(process.env.BENCH_CONVERT_QUICK); // tiny lengths: checks the script, figures mean nothing
// BENCH_CONVERT_LENGTHS=short,long (seconds) overrides 10 and 60, e.g. on a machine too loaded to finish.
const [shortS, longS] = (process.env.BENCH_CONVERT_LENGTHS ?? (QUICK ? '2,6' : '10,60'))
  .split(',')
  .map(Number);
const LENGTHS = { short: shortS, long: longS };
/** Streaming plan, in frames (256 samples at 22050 Hz = 11.6 ms). */
const STREAM = { first: 43, chunk: 431, context: 16 }; // 0.5 s first, then 5 s; 0.19 s context each side
const TAU = 0.3;
const ROOFLINE = { size: 512, seconds: 3 };
const GOALS = { roofline_share: 0.8, first_audio_ms: 1500, variant_rtf: 0.8 };
const FIXTURE = join(root, 'tests', 'fixtures', 'openvoice-v2-tiny');

// ---------------------------------------------------------------- inputs

function tile(clips, n) {
  const out = new Float32Array(n);
  let at = 0;
  for (let i = 0; at < n; i++) {
    const c = clips[i % clips.length];
    out.set(c.subarray(0, Math.min(c.length, n - at)), at);
    at += c.length;
  }
  return out;
}

/** Frames [a, b) of a [bins, frames] spectrogram. */
function sliceSpec(spec, a, b) {
  const frames = b - a;
  const data = new Float32Array(spec.bins * frames);
  for (let k = 0; k < spec.bins; k++)
    data.set(spec.data.subarray(k * spec.frames + a, k * spec.frames + b), k * frames);
  return { bins: spec.bins, frames, data };
}

function sliceRows(x, rows, total, a, b) {
  const out = new Float32Array(rows * (b - a));
  for (let r = 0; r < rows; r++) out.set(x.subarray(r * total + a, r * total + b), r * (b - a));
  return out;
}

/** The chunks of a streamed conversion of `frames` frames: [start, end) kept, [from, to) computed. */
function streamPlan(frames) {
  const chunks = [];
  let start = 0;
  let size = STREAM.first;
  while (start < frames) {
    const end = Math.min(frames, start + size);
    chunks.push({
      start,
      end,
      from: Math.max(0, start - STREAM.context),
      to: Math.min(frames, end + STREAM.context),
    });
    start = end;
    size = STREAM.chunk;
  }
  return chunks;
}

/** Analytic FLOPs per frame of the converter (2 × multiply-adds of its convolutions and GRU-free path). */
function analyticFlopsPerFrame(cfg, arch) {
  const { specChannels: spec, interChannels: inter, hiddenChannels: h, ginChannels: gin } = cfg;
  const wn = (layers) => layers * (2 * h * 2 * h * arch.wnKernel + 2 * h * 2 * h) - 2 * h * h; // last res_skip is h
  const enc = 2 * spec * h + wn(arch.encLayers) + 2 * h * 2 * inter;
  const coupling = 2 * (inter / 2) * h + wn(arch.flowLayers) + 2 * h * (inter / 2);
  const flows = 2 * arch.flows * coupling; // forward with src_se, reverse with tgt_se
  let ch = cfg.upsampleInitialChannel;
  let up = 1;
  let dec = 2 * inter * ch * arch.decPreKernel;
  const byStage = [];
  cfg.upsampleRates.forEach((u, i) => {
    const ups = 2 * ch * (ch / 2) * cfg.upsampleKernelSizes[i] * up; // per input sample: Cin·Cout·k
    ch /= 2;
    up *= u;
    let res = 0;
    cfg.resblockKernelSizes.forEach((k, j) => {
      res += cfg.resblockDilationSizes[j].length * 2 * (2 * ch * ch * k) * up;
    });
    byStage.push({ stage: i, channels: ch, upsampled: up, resblocks: res, upsampler: ups });
    dec += ups + res;
  });
  dec += 2 * ch * arch.decPostKernel * up;
  const resblocks = byStage.reduce((a, s) => a + s.resblocks, 0);
  void gin; // the embeddings' 1×1 convs run once per conversion, not per frame
  return { total: enc + flows + dec, encoder: enc, flows, decoder: dec, resblocks, byStage };
}

// ---------------------------------------------------------------- onnxruntime-node

async function nodeSession(bytes, extra = {}) {
  return ortNode.InferenceSession.create(bytes, { ...NODE_SESSION_OPTIONS, ...extra });
}

function feedsFor(qz, spec, noise, ses) {
  return qz.converterFeeds(ortNode, spec, noise, ses.src, ses.tgt, TAU);
}

async function nodeWhole(session, qz, spec, noise, ses, reps = 2) {
  const f = feedsFor(qz, spec, noise, ses);
  const times = [];
  let audio;
  for (let i = 0; i < reps; i++) {
    const t = performance.now();
    audio = (await session.run(f)).audio.data;
    times.push(performance.now() - t);
  }
  return { runs_ms: times, audio: Float32Array.from(audio) };
}

/** A streamed conversion: spectrogram slice → run → keep the chunk's own samples; timed from the call. */
async function nodeStream(session, qz, specOf, samples, noise, inter, ses) {
  const t0 = performance.now();
  const spec = specOf(samples);
  const plan = streamPlan(spec.frames);
  const runs = [];
  let first = null;
  for (const c of plan) {
    const t = performance.now();
    const s = sliceSpec(spec, c.from, c.to);
    const n = sliceRows(noise, inter, spec.frames, c.from, c.to);
    await session.run(feedsFor(qz, s, n, ses));
    runs.push(performance.now() - t);
    first ??= performance.now() - t0;
  }
  return { first_audio_ms: first, total_ms: performance.now() - t0, runs_ms: runs, chunks: plan.length };
}

async function nodeProfile(bytes, feeds, weights) {
  const dir = mkdtempSync(join(tmpdir(), 'timbre-prof-'));
  try {
    const s = await nodeSession(bytes, { enableProfiling: true, profileFilePrefix: join(dir, 'ov') });
    await s.run(feeds);
    s.endProfiling();
    await s.release();
    const file = readdirSync(dir).find((f) => f.endsWith('.json'));
    return byOp(nodeEvents(JSON.parse(readFileSync(join(dir, file), 'utf8')), weights));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function rooflineNode(tm, rnd) {
  const n = ROOFLINE.size;
  const s = await nodeSession(tm.matmulModel(n));
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

// ---------------------------------------------------------------- the graphs, served to the page

/** Serves the graph bytes to the studio page (another origin: CORS + CORP, as COEP requires). */
function serveBytes(files) {
  return new Promise((resolve) => {
    const srv = createServer((req, res) => {
      const body = files[req.url.slice(1)];
      const headers = {
        'Access-Control-Allow-Origin': '*',
        'Cross-Origin-Resource-Policy': 'cross-origin',
      };
      if (!body) {
        res.writeHead(404, headers).end();
        return;
      }
      res.writeHead(200, { ...headers, 'Content-Type': 'application/octet-stream' }).end(Buffer.from(body));
    });
    srv.listen(0, '127.0.0.1', () =>
      resolve({ base: `http://127.0.0.1:${srv.address().port}`, stop: () => srv.close() }),
    );
  });
}

function pageInputs(spec, noise, inter, ses) {
  return [
    benchInput('spec', 'float32', [1, spec.bins, spec.frames], spec.data),
    benchInput('noise', 'float32', [1, inter, spec.frames], noise),
    benchInput('src_se', 'float32', [1, ses.src.length, 1], ses.src),
    benchInput('tgt_se', 'float32', [1, ses.tgt.length, 1], ses.tgt),
    benchInput('tau', 'float32', [1], Float32Array.from([TAU])),
  ].map(forPage);
}

// ---------------------------------------------------------------- main

const sum = (xs) => xs.reduce((a, b) => a + b, 0);

async function main() {
  const started = Date.now();
  const loadBefore = loadAverages();
  ensureBuild(log);
  const vite = await viteLoader(root);
  const ov = await vite.load('/src/lib/openvoice/index.ts');
  const random = await vite.load('/src/lib/openvoice/random.ts');
  const qz = await vite.load('/src/lib/runtime/quantize.ts');
  const wav = await vite.load('/src/lib/dsp/wav.ts');
  const tm = await vite.load('/src/lib/runtime/test-models.ts');
  const rnd = await vite.load('/src/lib/core/random.ts');
  await vite.close();

  log('building the converter at the released v2 size (random weights)…');
  const graphs = random.randomConverterGraphs();
  const cfg = graphs.config;
  const hop = cfg.hopLength;
  const sr = cfg.samplingRate;
  const inter = cfg.interChannels;
  const specOf = (x) => ov.spectrogram(x, { nFft: cfg.filterLength, hop });
  const clips = ['source.wav', 'reference.wav'].map(
    (f) => wav.decodeWav(new Uint8Array(readFileSync(join(FIXTURE, f)))).samples,
  );
  const audio = {
    short: tile(clips, LENGTHS.short * sr + hop),
    long: tile(clips, LENGTHS.long * sr + hop),
  };
  const specs = { short: specOf(audio.short), long: specOf(audio.long) };
  const noiseOf = (frames, seed) => rnd.seededFloats(inter * frames, seed, Math.sqrt(3));
  const noise = { short: noiseOf(specs.short.frames, 3), long: noiseOf(specs.long.frames, 4) };

  log('onnxruntime-node: embeddings of the two clips (random extractor)');
  const ext = await nodeSession(graphs.extractor);
  const embed = async (x) => {
    const s = specOf(x);
    const out = await ext.run({
      spec: new ortNode.Tensor('float32', ov.transposeSpec(s), [1, s.frames, s.bins]),
    });
    return Float32Array.from(out.se.data);
  };
  const ses = { src: await embed(clips[0]), tgt: await embed(clips[1]) };
  await ext.release();

  log('calibrating the int8 variant on the reference clip (onnxruntime-node)');
  const calSpec = specOf(clips[1]);
  const tq = performance.now();
  const q = await qz.quantizeConverter(
    ortNode,
    graphs.converter,
    [qz.converterFeeds(ortNode, calSpec, noiseOf(calSpec.frames, 9), ses.tgt, ses.src, TAU)],
    { sessionOptions: NODE_SESSION_OPTIONS, filter: qz.RESBLOCKS_AND_FLOWS },
  );
  const quantizeMs = performance.now() - tq;
  const variants = { fp32: graphs.converter, int8: q.model };

  log(`onnxruntime-node ${CORES} threads: roofline`);
  const nodeRoof = await rooflineNode(tm, rnd);
  const node = {};
  for (const [v, bytes] of Object.entries(variants)) {
    log(`onnxruntime-node ${v}: session, ${LENGTHS.short} s whole, ${LENGTHS.long} s streamed`);
    const t = performance.now();
    const s = await nodeSession(bytes);
    const create = performance.now() - t;
    const whole = await nodeWhole(s, qz, specs.short, noise.short, ses);
    const stream = await nodeStream(s, qz, specOf, audio.long, noise.long, inter, ses);
    await s.release();
    node[v] = { create_ms: create, whole, stream };
  }
  log('onnxruntime-node: profiling the float graph for FLOPs');
  const weights = weightShapes(graphs.converter);
  const profFeeds = feedsFor(qz, specs.short, noise.short, ses);
  const nodeOps = await nodeProfile(graphs.converter, profFeeds, weights);
  const nodeOpsInt8 = await nodeProfile(q.model, profFeeds, weightShapes(q.model));

  // ---------------------------------------------------------------- Chromium
  const files = { 'fp32.onnx': graphs.converter, 'int8.onnx': q.model };
  const bytesSrv = await serveBytes(files);
  const server = await serve();
  const web = { profiles: {} };
  try {
    const { browser, page, env, browserVersion } = await openStudio(server.base, log);
    web.env = env;
    web.browserVersion = browserVersion;
    let lines = [];
    page.on('console', (m) => {
      const t = m.text();
      if (t.includes('"cat"')) lines.push(...t.split('\n'));
    });
    try {
      log('chromium: roofline');
      web.roof = await engineRun(page, 'runtime.roofline', ROOFLINE);
      const plan = streamPlan(specs.long.frames);
      const firstC = plan[0];
      const nextC = plan[1];
      const chunkIn = (c) =>
        pageInputs(
          sliceSpec(specs.long, c.from, c.to),
          sliceRows(noise.long, inter, specs.long.frames, c.from, c.to),
          inter,
          ses,
        );
      for (const v of Object.keys(variants)) {
        log(`chromium ${v}: ${LENGTHS.short} s whole (profiled)`);
        lines = [];
        const whole = await engineRun(page, 'runtime.bench', {
          ep: 'wasm',
          models: [
            {
              id: `${v}-whole`,
              url: `${bytesSrv.base}/${v}.onnx`,
              runs: 1,
              profile: true,
              outputs: ['audio'],
              inputs: pageInputs(specs.short, noise.short, inter, ses),
            },
          ],
        });
        await new Promise((r) => setTimeout(r, 1000)); // the last console lines
        web.profiles[v] = parseProfileLines(lines);
        log(`chromium ${v}: ${LENGTHS.long} s streamed (${plan.length} chunks)`);
        const stream = await engineRun(page, 'runtime.bench', {
          ep: 'wasm',
          models: [
            {
              id: `${v}-first-chunk`,
              url: `${bytesSrv.base}/${v}.onnx`,
              runs: 2,
              outputs: ['audio'],
              inputs: chunkIn(firstC),
            },
            {
              id: `${v}-chunk`,
              url: `${bytesSrv.base}/${v}.onnx`,
              runs: Math.max(1, plan.length - 1),
              outputs: ['audio'],
              inputs: chunkIn(nextC ?? firstC),
            },
          ],
        });
        web[v] = { whole: whole.models[0], first: stream.models[0], chunk: stream.models[1] };
        web.threads = whole.threads;
      }
    } finally {
      await browser.close();
    }
  } finally {
    server.stop();
    bytesSrv.stop();
  }

  // ---------------------------------------------------------------- figures
  const audioShort = (specs.short.frames * hop) / sr;
  const audioLong = (specs.long.frames * hop) / sr;
  const plan = streamPlan(specs.long.frames);
  const analytic = analyticFlopsPerFrame(cfg, random.UPSTREAM_ARCH);
  const framesPerSecond = sr / hop;
  const countedFlops = sum(nodeOps.map((o) => o.flops));
  const gflopPerAudioSecond = countedFlops / 1e9 / audioShort;
  const wasmRoof = web.roof.gflops;

  const nodeFig = (v) => {
    const n = node[v];
    const wholeMs = median(n.whole.runs_ms.slice(1).length ? n.whole.runs_ms.slice(1) : n.whole.runs_ms);
    return {
      session_create_ms: round(n.create_ms),
      whole: {
        audio_s: round2(audioShort),
        run_ms: n.whole.runs_ms.map(round),
        rtf: round3(wholeMs / 1000 / audioShort),
      },
      streamed: {
        audio_s: round2(audioLong),
        chunks: n.stream.chunks,
        first_audio_ms: round(n.stream.first_audio_ms),
        total_ms: round(n.stream.total_ms),
        rtf: round3(n.stream.total_ms / 1000 / audioLong),
        first_chunk_ms: round(n.stream.runs_ms[0]),
        chunk_ms_median: round(median(n.stream.runs_ms.slice(1))),
      },
      gflops: round2(gflopPerAudioSecond / (wholeMs / 1000 / audioShort)),
      _rtf: wholeMs / 1000 / audioShort,
      _srtf: n.stream.total_ms / 1000 / audioLong,
    };
  };
  const webFig = (v) => {
    const w = web[v];
    const wholeMs = w.whole.steady_ms;
    // Streamed: the session is loaded beforehand; the first chunk's warm run is the time to first audio,
    // the rest are the chunk runs (the last one timed at full chunk size: an upper bound).
    const firstMs = w.first.steady_ms;
    const rest = w.chunk.runs_ms.slice(0, plan.length - 1);
    const total = firstMs + sum(rest);
    return {
      session_create_ms: round(w.whole.create_ms),
      whole: {
        audio_s: round2(audioShort),
        first_run_ms: round(w.whole.first_ms),
        run_ms: round(wholeMs),
        rtf: round3(wholeMs / 1000 / audioShort),
        note: 'onnxruntime-web profiler on during these runs (one event per node: negligible next to the convolutions)',
      },
      streamed: {
        audio_s: round2(audioLong),
        chunks: plan.length,
        first_audio_ms: round(firstMs),
        first_audio_ms_cold_session: round(w.first.create_ms + w.first.first_ms),
        total_ms: round(total),
        rtf: round3(total / 1000 / audioLong),
        chunk_ms_median: round(median(rest)),
        chunk_first_run_ms: round(w.chunk.first_ms),
      },
      gflops: round2(gflopPerAudioSecond / (wholeMs / 1000 / audioShort)),
      share_of_wasm_roofline: round3(gflopPerAudioSecond / (wholeMs / 1000 / audioShort) / wasmRoof),
      _rtf: wholeMs / 1000 / audioShort,
      _srtf: total / 1000 / audioLong,
      _first: firstMs,
    };
  };
  const opsTable = (ops, runs, roof = wasmRoof) => {
    const us = sum(ops.map((o) => o.us));
    return {
      kernel_ms_per_run: round(us / 1000 / runs),
      top_ops: ops.slice(0, 10).map((o) => ({
        op: o.op,
        nodes_per_run: Math.round(o.count / runs),
        ms_per_run: round(o.us / 1000 / runs),
        share_of_time: round3(o.us / us),
        gflops: o.flops ? round2(o.flops / 1e3 / o.us) : null,
        share_of_roofline: o.flops ? round3(o.flops / 1e3 / o.us / roof) : null,
      })),
    };
  };
  // The profiler leaves QLinearConv's prepacked weight shape out: its FLOPs are the resblocks' (analytic).
  const withQFlops = (ops, runs) =>
    ops.map((o) =>
      o.op === 'QLinearConv' ? { ...o, flops: analytic.resblocks * specs.short.frames * runs } : o,
    );
  const wasmOps = Object.fromEntries(
    Object.entries(web.profiles).map(([v, ev]) => [
      v,
      byOp(nodeEvents(ev, weightShapes(files[`${v}.onnx`]))),
    ]),
  );

  // Deviation of the int8 variant from the float output (onnxruntime-node, the whole short input).
  const dev = qz.deviation(node.fp32.whole.audio, node.int8.whole.audio);
  const nf = { fp32: nodeFig('fp32'), int8: nodeFig('int8') };
  const wf = { fp32: webFig('fp32'), int8: webFig('int8') };
  const clean = (o) => Object.fromEntries(Object.entries(o).filter(([k]) => !k.startsWith('_')));
  const convShare =
    sum(wasmOps.fp32.filter((o) => /Conv/.test(o.op)).map((o) => o.us)) / sum(wasmOps.fp32.map((o) => o.us));

  const out = {
    date: new Date().toISOString(),
    quick: QUICK,
    machine: {
      ...machine(),
      browser: web.browserVersion,
      browser_cores: web.env.cores,
      cross_origin_isolated: web.env.isolated,
      load_avg_before: loadBefore,
      load_avg_after: loadAverages(),
      load_avg_note:
        '1, 5 and 15 minute load averages; other sessions share the cores: above ~2 the figures are not representative',
    },
    runtime: {
      'onnxruntime-web': packageVersion('onnxruntime-web'),
      'onnxruntime-node': packageVersion('onnxruntime-node'),
      wasm_threads: web.threads,
      node_threads: CORES,
    },
    model: {
      what: 'OpenVoice v2 converter graph (enc_q → flow → flow⁻¹ → HiFi-GAN dec) at the released config, seeded random weights',
      parameters_fp32_bytes: graphs.converter.byteLength,
      int8_bytes: q.model.byteLength,
      int8_convs: q.convs,
      int8_calibration: `ranges (min/max) of every quantized conv's input and output over one conversion of the fixture's reference.wav (${round2((calSpec.frames * hop) / sr)} s); timed on other audio`,
      int8_quantize_ms: round(quantizeMs),
    },
    input: {
      audio: 'tests/fixtures/openvoice-v2-tiny source.wav + reference.wav (speech), alternated to length',
      short_s: round2(audioShort),
      long_s: round2(audioLong),
      tau: TAU,
      stream_plan: `first chunk ${STREAM.first} frames (${round2((STREAM.first * hop) / sr)} s), then ${STREAM.chunk} (${round2((STREAM.chunk * hop) / sr)} s), ${STREAM.context} context frames each side`,
    },
    flops: {
      method_counted: FLOPS_METHOD,
      counted_gflop_per_audio_second: round2(gflopPerAudioSecond),
      analytic_gflop_per_audio_second: round2((analytic.total * framesPerSecond) / 1e9),
      analytic_resblocks_share: round3(analytic.resblocks / analytic.total),
      analytic_by_stage: analytic.byStage.map((s) => ({
        stage: s.stage,
        channels: s.channels,
        samples_per_frame: s.upsampled,
        resblocks_gflop_per_audio_second: round2((s.resblocks * framesPerSecond) / 1e9),
      })),
      counted_by_op: nodeOps
        .filter((o) => o.flops > 0)
        .map((o) => ({ op: o.op, gflop_per_audio_second: round2(o.flops / 1e9 / audioShort) })),
    },
    roofline: {
      op: `MatMul [${ROOFLINE.size}]³ float32`,
      wasm_gflops: round2(wasmRoof),
      node_gflops: round2(nodeRoof),
    },
    wasm: clean(wf.fp32),
    node: clean(nf.fp32),
    ratio_wasm_over_node: {
      whole_rtf: round2(wf.fp32._rtf / nf.fp32._rtf),
      streamed_rtf: round2(wf.fp32._srtf / nf.fp32._srtf),
    },
    int8_variant: {
      what: "the decoder's residual-block convs and the flows' WaveNet convs as QLinearConv (uint8 activations, int8 per-channel weights, int32 bias; quantize.ts RESBLOCKS_AND_FLOWS); the rest float (enc_q, the upsamplers as polyphase Convs)",
      deviation_from_fp32_random_weights: {
        input: `${round2(audioShort)} s, onnxruntime-node`,
        max_abs: Number(dev.max_abs.toPrecision(3)),
        snr_db: round2(dev.snr_db),
        note: 'random weights give a noise-like waveform; see the fixture figure for a trained-like scale',
      },
      deviation_on_parity_fixture:
        'tests/unit/openvoice-variant.test.ts (vs converted.f32; bound SNR ≥ 20 dB, max abs ≤ 0.05)',
      wasm: clean(wf.int8),
      node: clean(nf.int8),
      ratio_wasm_over_node: {
        whole_rtf: round2(wf.int8._rtf / nf.int8._rtf),
        streamed_rtf: round2(wf.int8._srtf / nf.int8._srtf),
      },
      speedup_over_fp32: {
        wasm: round2(wf.fp32._rtf / wf.int8._rtf),
        node: round2(nf.fp32._rtf / nf.int8._rtf),
      },
    },
    wasm_profile: {
      fp32: { conv_share_of_time: round3(convShare), ...opsTable(wasmOps.fp32, 2) },
      int8: opsTable(withQFlops(wasmOps.int8, 2), 2),
    },
    node_profile: {
      fp32: opsTable(nodeOps, 1, nodeRoof),
      int8: opsTable(withQFlops(nodeOpsInt8, 1), 1, nodeRoof),
    },
    goals: {
      a_roofline_share: {
        goal: `>= ${GOALS.roofline_share * 100} % of the WASM MatMul roofline (float graph, whole ${LENGTHS.short} s)`,
        value: wf.fp32.share_of_wasm_roofline,
        met: wf.fp32.share_of_wasm_roofline >= GOALS.roofline_share,
      },
      b_variant_rtf: {
        goal: `int8 variant browser RTF <= ${GOALS.variant_rtf}`,
        whole: round3(wf.int8._rtf),
        streamed: round3(wf.int8._srtf),
        met: wf.int8._rtf <= GOALS.variant_rtf && wf.int8._srtf <= GOALS.variant_rtf,
      },
      c_first_audio: {
        goal: `first audio of the ${LENGTHS.long} s file <= ${GOALS.first_audio_ms} ms in the browser (streamed, session loaded)`,
        fp32_ms: round(wf.fp32._first),
        int8_ms: round(wf.int8._first),
        met: wf.fp32._first <= GOALS.first_audio_ms,
      },
      d_webgpu: 'tests/e2e/openvoice-webgpu.test.ts (correctness on SwiftShader; no timing: no GPU here)',
    },
    seconds: Math.round((Date.now() - started) / 1000),
  };
  process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
