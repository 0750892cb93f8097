// `npm run bench:tts`: Kokoro speech speed, in headless Chromium (the studio's engine worker: onnxruntime-web
// WASM, threads = cores, cross-origin isolated) and in onnxruntime-node, on the same q8 model, the same
// text and the same planner (so the same token runs). Per side: session-create time, time to first audio
// (from the call to the first 'chunk' event, cold and warm), real-time factor. Then the share of the WASM
// compute roofline reached: FLOPs of the Kokoro graph for those runs (from onnxruntime-node's profiler,
// method in the JSON) over the WASM model-run time, against the MatMul roofline measured in the same run;
// and where the WASM time goes (onnxruntime-web's own profiler, per op). Prints one JSON object on stdout;
// progress goes to stderr.
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ortNode from 'onnxruntime-node';
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
} from './lib/bench.mjs';
import { FLOPS_METHOD, byOp, nodeEvents, parseProfileLines, weightShapes } from './lib/flops.mjs';
import { viteLoader } from './lib/vite-load.mjs';

const log = logger('bench:tts');
const KOKORO = join(MODELS, 'kokoro-82m-q8');
const VOICE = 'af_heart';
const TEXTS = {
  paragraph:
    'Timbre is a voice studio that runs entirely in your browser, with nothing sent to a server. ' +
    'Type a paragraph, pick one of the fifty-four voices, and press Generate. ' +
    'The first words play while the rest of the text is still being made. ' +
    'You can mix two voices, describe a new one in plain words, or change the speed. ' +
    'When you are done, download the result as a WAV, MP3 or FLAC file.',
  short: 'The studio is ready to speak.',
};
/**
 * Counted, not timed: the smallest run there is. Kokoro's output never gets much shorter than a second
 * (the pads and the word get durations), so this is the least work any first run can be.
 */
const FLOOR_TEXT = 'Yes.';
// BENCH_TTS_QUICK=1: tiny texts, to check the script end to end (its figures mean nothing).
if (process.env.BENCH_TTS_QUICK) {
  TEXTS.paragraph = 'Hello there, my good friend. Bye now.';
  TEXTS.short = 'Hi there.';
}
/** Warm repetitions per text and side (median reported). */
const REPS = Math.max(1, Number(process.env.BENCH_TTS_REPS ?? 2));
const ROOFLINE = { size: 512, seconds: 3 };
const GOALS = { first_audio_ms: 1500, roofline_share: 0.8 };

const loadFile = async (path) => new Uint8Array(readFileSync(join(KOKORO, path)));

// ---------------------------------------------------------------- one synthesis, timed

/**
 * Times one synthesize()/tts.generate call from its progress events: first audio = the first 'chunk'
 * (onChunk) after the call; each model run = from its 'synthesis' event to its chunk (run + post-processing).
 */
function timeline() {
  const t0 = performance.now();
  const marks = { create: [], warmup: [], synthesis: [], chunk: [] };
  return {
    progress(p) {
      const t = performance.now() - t0;
      if (p.stage === 'create' || p.stage === 'warmup') marks[p.stage].push(t);
      else if (p.stage === 'synthesis' && p.done < p.total) marks.synthesis[p.done] = t;
      else if (p.stage === 'chunk') marks.chunk[p.done - 1] = t;
    },
    chunk(index) {
      marks.chunk[index] = performance.now() - t0;
    },
    done(audioSamples, sampleRate, texts) {
      const total = performance.now() - t0;
      const runs = marks.chunk.map((t, i) => t - marks.synthesis[i]);
      const audio = audioSamples / sampleRate;
      return {
        first_audio_ms: marks.chunk[0],
        total_ms: total,
        audio_s: audio,
        rtf: total / 1000 / audio,
        create_ms: marks.create.length === 2 ? marks.create[1] - marks.create[0] : null,
        warmup_ms: marks.warmup.length === 2 ? marks.warmup[1] - marks.warmup[0] : null,
        runs_ms: runs,
        model_ms: runs.reduce((a, b) => a + b, 0),
        chunks: texts,
      };
    },
  };
}

/** The same in the page: the timeline code runs there (serialised), around tts.generate. */
function speakInPage(page, text, voice) {
  return page.evaluate(
    async ({ text, voice }) => {
      const t0 = performance.now();
      const marks = { create: [], warmup: [], synthesis: [], chunk: [] };
      const texts = [];
      const r = await globalThis.__timbre.engine.run(
        'tts.generate',
        { text, voice },
        {
          onProgress: (p) => {
            const t = performance.now() - t0;
            if (p.stage === 'create' || p.stage === 'warmup') marks[p.stage].push(t);
            else if (p.stage === 'synthesis' && p.done < p.total) marks.synthesis[p.done] = t;
            else if (p.stage === 'chunk') {
              marks.chunk[p.data.index] = t;
              texts[p.data.index] = p.data.text;
            }
          },
        },
      );
      const total = performance.now() - t0;
      const runs = marks.chunk.map((t, i) => t - marks.synthesis[i]);
      const audio = r.samples.length / r.sampleRate;
      return {
        first_audio_ms: marks.chunk[0],
        total_ms: total,
        audio_s: audio,
        rtf: total / 1000 / audio,
        create_ms: marks.create.length === 2 ? marks.create[1] - marks.create[0] : null,
        warmup_ms: marks.warmup.length === 2 ? marks.warmup[1] - marks.warmup[0] : null,
        runs_ms: runs,
        model_ms: runs.reduce((a, b) => a + b, 0),
        chunks: texts,
      };
    },
    { text, voice },
  );
}

// ---------------------------------------------------------------- onnxruntime-node

const nodeOptions = {
  executionProviders: ['cpu'],
  graphOptimizationLevel: 'all',
  intraOpNumThreads: CORES,
  interOpNumThreads: 1,
};

/** onnxruntime-node behind the interface the engine's runtime expects (its sessions take node options). */
const nodeShim = {
  ...ortNode,
  env: ortNode.env,
  Tensor: ortNode.Tensor,
  InferenceSession: {
    create: (bytes, opts) => ortNode.InferenceSession.create(bytes, { ...opts, ...nodeOptions }),
  },
};

async function nodeSynth(tts, text) {
  const tl = timeline();
  const texts = [];
  const r = await tts.synthesize(
    { text, voice: VOICE },
    {
      loadFile,
      onProgress: (p) => tl.progress(p),
      onChunk: (c) => {
        tl.chunk(c.index);
        texts[c.index] = c.text;
      },
    },
  );
  return tl.done(r.samples.length, r.sampleRate, texts);
}

/** FLOPs per op of the planned runs of `runs`, from onnxruntime-node's profiler (one run each). */
async function nodeFlops(runs, weights) {
  const dir = mkdtempSync(join(tmpdir(), 'timbre-prof-'));
  try {
    const s = await ortNode.InferenceSession.create(join(KOKORO, 'model.onnx'), {
      ...nodeOptions,
      enableProfiling: true,
      profileFilePrefix: join(dir, 'kokoro'),
    });
    for (const r of runs) await s.run(nodeFeeds(r));
    s.endProfiling();
    await s.release();
    const file = readdirSync(dir).find((f) => f.endsWith('.json'));
    if (!file) throw new Error('onnxruntime-node wrote no profile');
    return byOp(nodeEvents(JSON.parse(readFileSync(join(dir, file), 'utf8')), weights));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function nodeFeeds(r) {
  return {
    input_ids: new ortNode.Tensor('int64', BigInt64Array.from(r.input_ids.map(BigInt)), [
      1,
      r.input_ids.length,
    ]),
    style: new ortNode.Tensor('float32', Float32Array.from(r.style), [1, r.style.length]),
    speed: new ortNode.Tensor('float32', new Float32Array([1]), [1]),
  };
}

async function rooflineNode(tm, rnd) {
  const n = ROOFLINE.size;
  const s = await ortNode.InferenceSession.create(tm.matmulModel(n), nodeOptions);
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

// ---------------------------------------------------------------- main

const summarise = (reps) => ({
  first_audio_ms: round(median(reps.map((r) => r.first_audio_ms))),
  total_ms: round(median(reps.map((r) => r.total_ms))),
  audio_s: round2(median(reps.map((r) => r.audio_s))),
  rtf: round2(median(reps.map((r) => r.rtf))),
  model_run_ms: round(median(reps.map((r) => r.model_ms))),
  runs_ms: reps.map((r) => r.runs_ms.map(round)),
  first_audio_ms_each: reps.map((r) => round(r.first_audio_ms)),
});

const coldOf = (r) => ({
  session_create_ms: r.create_ms === null ? null : round(r.create_ms),
  warmup_run_ms: r.warmup_ms === null ? null : round(r.warmup_ms),
  first_audio_ms: round(r.first_audio_ms),
  total_ms: round(r.total_ms),
});

async function main() {
  const started = Date.now();
  const loadBefore = loadAverages();
  ensureBuild(log);
  const vite = await viteLoader(root);
  const tm = await vite.load('/src/lib/runtime/test-models.ts');
  const rnd = await vite.load('/src/lib/core/random.ts');
  const tts = await vite.load('/scripts/lib/tts-node.ts');
  const shipped = new Uint8Array(readFileSync(join(KOKORO, 'model.onnx')));
  const weights = weightShapes(shipped);
  // The WASM profile is of the graph the studio runs (runtime.bench's prepare: 'kokoro'): its conv names.
  const kg = await vite.load('/src/lib/tts/kokoro-graph.ts');
  const preparedWeights = weightShapes(kg.prepareKokoro(shipped, 'wasm').model);

  // The token runs both sides make (the planner is the same code): inputs of the FLOP count and profile.
  const planned = {};
  for (const [k, text] of Object.entries(TEXTS)) planned[k] = await tts.plannedRuns(text, VOICE, loadFile);
  const floorRuns = await tts.plannedRuns(FLOOR_TEXT, VOICE, loadFile);

  log(`onnxruntime-node ${CORES} threads: roofline`);
  const nodeRoof = await rooflineNode(tm, rnd);
  tts.useRuntime(nodeShim, CORES);
  log('onnxruntime-node: cold (session create) with the short text');
  const nodeCold = await nodeSynth(tts, TEXTS.short);
  const node = {};
  for (const [k, text] of Object.entries(TEXTS)) {
    node[k] = [];
    for (let i = 0; i < REPS; i++) {
      log(`onnxruntime-node: ${k} ${i + 1}/${REPS}`);
      node[k].push(await nodeSynth(tts, text));
    }
  }
  log('onnxruntime-node: profiling for FLOPs');
  const flops = {};
  for (const [k, runs] of Object.entries(planned)) flops[k] = await nodeFlops(runs, weights);
  const sum = (ops) => ops.reduce((a, o) => a + o.flops, 0);
  const floorFlops = sum(await nodeFlops(floorRuns, weights));
  const firstRunFlops = sum(await nodeFlops(planned.paragraph.slice(0, 1), weights));
  await vite.close();

  const server = await serve();
  let web;
  const profileLines = [];
  try {
    const { browser, page, env, browserVersion } = await openStudio(server.base, log);
    try {
      // The WASM build prints its profile with console.log in the engine worker.
      page.on('console', (m) => {
        const t = m.text();
        if (t.includes('"cat"')) profileLines.push(...t.split('\n'));
      });
      log('chromium: installing Kokoro into the studio (OPFS)');
      await page.evaluate(() => globalThis.__timbre.models.install('kokoro-82m-q8'));
      log('chromium: roofline');
      const roof = await engineRun(page, 'runtime.roofline', ROOFLINE);
      log('chromium: cold (model load, session create, warm-up) with the short text');
      const cold = await speakInPage(page, TEXTS.short, VOICE);
      const warm = {};
      for (const [k, text] of Object.entries(TEXTS)) {
        warm[k] = [];
        for (let i = 0; i < REPS; i++) {
          log(`chromium: ${k} ${i + 1}/${REPS}`);
          warm[k].push(await speakInPage(page, text, VOICE));
        }
      }
      // One whole-sentence run of the paragraph, profiled by onnxruntime-web (first run + 1).
      const prof = planned.paragraph.reduce((a, b) => (b.input_ids.length > a.input_ids.length ? b : a));
      log(`chromium: onnxruntime-web profile of one run (${prof.input_ids.length} tokens)`);
      // The roofline again: on a shared machine the load moves, and the share is only as good as both ends.
      log('chromium: roofline again');
      const roofAfter = await engineRun(page, 'runtime.roofline', ROOFLINE);
      const bench = await engineRun(page, 'runtime.bench', {
        ep: 'wasm',
        models: [
          {
            id: 'kokoro-82m-q8',
            url: '/models/kokoro-82m-q8/model.onnx',
            prepare: 'kokoro', // the graph the studio runs (float convs, int8 generator convs on WASM)
            runs: 1,
            profile: true,
            outputs: ['waveform'],
            inputs: [
              benchInput(
                'input_ids',
                'int64',
                [1, prof.input_ids.length],
                BigInt64Array.from(prof.input_ids.map(BigInt)),
              ),
              benchInput('style', 'float32', [1, 256], Float32Array.from(prof.style)),
              benchInput('speed', 'float32', [1], Float32Array.from([1])),
            ].map(forPage),
          },
        ],
      });
      await new Promise((r) => setTimeout(r, 1000)); // the last console lines
      web = {
        env,
        browserVersion,
        roof,
        roofAfter,
        cold,
        warm,
        prof,
        bench: bench.models[0],
        threads: bench.threads,
      };
    } finally {
      await browser.close();
    }
  } finally {
    server.stop();
  }

  // ---------------------------------------------------------------- figures
  // The mean of the roofline measured before and after the speech runs.
  const wasmRoof = (web.roof.gflops + web.roofAfter.gflops) / 2;
  const flopsOf = (k) => flops[k].reduce((a, o) => a + o.flops, 0);
  const share = (k) => {
    const gflop = flopsOf(k) / 1e9;
    const seconds = median(web.warm[k].map((r) => r.model_ms)) / 1000;
    const nodeSeconds = median(node[k].map((r) => r.model_ms)) / 1000;
    return {
      gflop: round2(gflop),
      wasm_model_run_s: round3(seconds),
      wasm_gflops: round2(gflop / seconds),
      share_of_wasm_roofline: round3(gflop / seconds / wasmRoof),
      node_model_run_s: round3(nodeSeconds),
      node_gflops: round2(gflop / nodeSeconds),
      share_of_node_roofline: round3(gflop / nodeSeconds / nodeRoof),
    };
  };
  const wasmEvents = nodeEvents(parseProfileLines(profileLines), preparedWeights);
  const wasmOps = byOp(wasmEvents);
  const wasmUs = wasmOps.reduce((a, o) => a + o.us, 0);
  const profRuns = 2; // first + 1 steady
  const paraFlops = flops.paragraph;
  const paraFlopTotal = flopsOf('paragraph');

  const paraShare = share('paragraph');
  const firstWarm = median(web.warm.paragraph.map((r) => r.first_audio_ms));
  const out = {
    date: new Date().toISOString(),
    machine: {
      ...machine(),
      browser: web.browserVersion,
      browser_cores: web.env.cores,
      cross_origin_isolated: web.env.isolated,
      load_avg_before: loadBefore,
      load_avg_after: loadAverages(),
      load_avg_note: '1, 5 and 15 minute load averages; other sessions share the 2 cores',
    },
    runtime: {
      'onnxruntime-web': packageVersion('onnxruntime-web'),
      'onnxruntime-node': packageVersion('onnxruntime-node'),
      wasm_threads: web.threads,
      node_threads: CORES,
      model: 'kokoro-82m-q8/model.onnx (int8)',
      voice: VOICE,
    },
    inputs: Object.fromEntries(
      Object.entries(TEXTS).map(([k, text]) => [
        k,
        {
          text,
          runs: planned[k].map((r) => ({ text: r.text, tokens: r.input_ids.length - 2 })),
          same_runs_in_browser: web.warm[k].every(
            (r) => JSON.stringify(r.chunks) === JSON.stringify(planned[k].map((p) => p.text)),
          ),
        },
      ]),
    ),
    definitions: {
      first_audio_ms:
        "from the call (tts.generate in the page, synthesize() in Node) to the first 'chunk' event",
      rtf: 'wall time of the whole call / seconds of audio returned (pauses included); < 1 is faster than real time',
      model_run_ms: "sum over runs of the time from each run's 'synthesis' event to its 'chunk' event",
      warm: `the session already exists; median of ${REPS} calls`,
      cold: 'first call with the short text: model file read, session create, warm-up run, then synthesis',
    },
    wasm: {
      cold: coldOf(web.cold),
      paragraph: summarise(web.warm.paragraph),
      short: summarise(web.warm.short),
    },
    node: {
      cold: coldOf(nodeCold),
      paragraph: summarise(node.paragraph),
      short: summarise(node.short),
    },
    ratio_wasm_over_node: {
      paragraph_rtf: round2(
        median(web.warm.paragraph.map((r) => r.rtf)) / median(node.paragraph.map((r) => r.rtf)),
      ),
      short_rtf: round2(median(web.warm.short.map((r) => r.rtf)) / median(node.short.map((r) => r.rtf))),
    },
    roofline: {
      op: `MatMul [${ROOFLINE.size}, ${ROOFLINE.size}] x [${ROOFLINE.size}, ${ROOFLINE.size}] float32`,
      wasm_gflops: round2(wasmRoof),
      wasm_gflops_before_and_after: [round2(web.roof.gflops), round2(web.roofAfter.gflops)],
      node_gflops: round2(nodeRoof),
      note:
        'wasm_gflops is the mean of a measurement before and after the speech runs. Native code has AVX2/FMA ' +
        'that WASM lacks: the node figures are context, the WASM share is the target. The roofline is float32 ' +
        'while about half of the FLOPs of the graph the studio runs on WASM are int8 (its QLinearConv generator ' +
        'convs, kokoro-graph.ts), whose WASM SIMD kernels (16-bit multiply-add) pass the float32 rate: shares ' +
        'above 100 % are possible and mean the float roofline is the wrong ceiling for them, not that the runs ' +
        'were unusually good.',
    },
    flops: {
      method: FLOPS_METHOD,
      paragraph_gflop: round2(paraFlopTotal / 1e9),
      short_gflop: round2(flopsOf('short') / 1e9),
      paragraph_first_run_gflop: round2(firstRunFlops / 1e9),
      floor_text: FLOOR_TEXT,
      floor_gflop: round2(floorFlops / 1e9),
      paragraph_by_op: paraFlops
        .filter((o) => o.flops > 0)
        .sort((a, b) => b.flops - a.flops)
        .map((o) => ({
          op: o.op,
          nodes: o.count,
          gflop: round2(o.flops / 1e9),
          share: round3(o.flops / paraFlopTotal),
        })),
    },
    roofline_share: { paragraph: paraShare, short: share('short') },
    wasm_profile: {
      run: `one paragraph run of ${web.prof.input_ids.length - 2} tokens ("${web.prof.text}"), first run + 1, onnxruntime-web profiler on (it adds overhead to small ops), on the graph the studio runs (src/lib/tts/kokoro-graph.ts's rewrite of the shipped one; the two compared by npm run bench:tts-graph)`,
      run_ms: { first: round(web.bench.first_ms), steady: round(web.bench.steady_ms) },
      events: wasmEvents.length,
      kernel_ms_per_run: round(wasmUs / 1000 / profRuns),
      top_ops: wasmOps.slice(0, 12).map((o) => ({
        op: o.op,
        nodes_per_run: Math.round(o.count / profRuns),
        ms_per_run: round(o.us / 1000 / profRuns),
        share_of_time: round3(o.us / wasmUs),
        gflop_per_run: round3(o.flops / 1e9 / profRuns),
        gflops: o.flops ? round2(o.flops / 1e3 / o.us) : null,
        share_of_roofline: o.flops ? round3(o.flops / 1e3 / o.us / wasmRoof) : null,
      })),
      counted_ops_share_of_time: round3(
        wasmOps.filter((o) => o.flops > 0).reduce((a, o) => a + o.us, 0) / (wasmUs || 1),
      ),
    },
    goals: {
      first_audio_ms: {
        goal: `<= ${GOALS.first_audio_ms} ms for the paragraph, WASM, warm`,
        value: round(firstWarm),
        met: firstWarm <= GOALS.first_audio_ms,
        // No first run can take less than the floor's FLOPs at the roofline: the goal's reach on this machine.
        floor_ms_at_wasm_roofline: round((floorFlops / 1e9 / wasmRoof) * 1000),
        first_run_ms_at_wasm_roofline: round((firstRunFlops / 1e9 / wasmRoof) * 1000),
      },
      roofline_share: {
        goal: `>= ${GOALS.roofline_share * 100} % of the WASM MatMul roofline over the paragraph`,
        value: paraShare.share_of_wasm_roofline,
        met: paraShare.share_of_wasm_roofline >= GOALS.roofline_share,
        note: 'against a float32 roofline (see roofline.note); only meaningful when the load averages are low',
      },
    },
    seconds: Math.round((Date.now() - started) / 1000),
  };
  process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
