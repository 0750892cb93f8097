// `npm run eval:inputs`: the audio input path on real inputs. For every recording in ../shared/audio and every
// cell of a matrix made from them at run time with the app's own ffmpeg.wasm encoder (containers wav, flac,
// mp3, ogg-vorbis, opus, m4a-aac, webm; rates 8–48 kHz; mono and stereo; 1 s to 10 min; plus one 60 min
// file): the decoded length against ffmpeg's own whole decode (and the samples that went in), the streamed
// length through a worker-like channel, transcription's duration and last segment (Whisper tiny), trim,
// split and enhance, and a pass per invariant (tests/unit/inputs.ts). Prints one JSON object on stdout;
// progress goes to stderr. Exits 1 when an invariant fails.
//
// Options: --quick (one rate per container, up to 45 s, no 60 min file); --no-asr (skip transcription);
// --only A,B (cells or files whose name contains A or B); --rows FILE (each row appended to FILE as a JSON
// line as soon as it is measured, so a long run that is stopped keeps what it measured).
import { appendFileSync, existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { CORES, MODELS, loadAverages, logger, machine, root, round3 } from './lib/bench.mjs';
import { viteLoader } from './lib/vite-load.mjs';

const log = logger('eval:inputs');

async function main() {
  const { values } = parseArgs({
    options: {
      quick: { type: 'boolean', default: false },
      'no-asr': { type: 'boolean', default: false },
      only: { type: 'string' },
      rows: { type: 'string' },
    },
  });
  const started = Date.now();
  const loadBefore = loadAverages();
  const vite = await viteLoader(root);
  const inputs = await vite.load('/tests/unit/inputs.ts');
  const helpers = await vite.load('/tests/unit/asr-helpers.ts');
  const { NodeCoreProvider } = await vite.load('/tests/unit/ffmpeg-node.ts');
  const { Transcoder } = await vite.load('/src/lib/codec/transcoder.ts');
  const { decodeInput } = await vite.load('/src/lib/codec/decode.ts');
  const host = await vite.load('/src/lib/runtime/host.ts');
  host.installRuntime({ loadOrt: () => import('onnxruntime-web'), isolated: true, cores: CORES });

  const files = inputs.realFiles();
  if (!files) {
    const why = `${helpers.SHARED_AUDIO} is absent (the recordings are not part of the repository)`;
    log(why);
    console.log(JSON.stringify({ skipped: why }, null, 2));
    await vite.close();
    return;
  }
  const silero = join(MODELS, 'silero-vad-v5', 'silero_vad_v5.onnx');
  const vadBytes = existsSync(silero) ? new Uint8Array(readFileSync(silero)) : null;
  const transcoder = new Transcoder(new NodeCoreProvider());
  const deps = {
    transcoder: () => transcoder,
    vad: vadBytes ? async () => vadBytes : null,
    ...(values['no-asr'] ? {} : { asr: helpers.cacheDeps(['whisper-tiny-q8', 'silero-vad-v5'], transcoder) }),
  };
  const only = values.only?.split(',').map((s) => s.trim());
  const want = (name) => !only || only.some((o) => name.includes(o));

  const rows = [];
  const run = async (kind, name, make) => {
    if (!want(name)) return;
    log(`${kind}: ${name}`);
    const t0 = performance.now();
    try {
      const { bytes, inSeconds } = await make();
      const r = await inputs.checkInput(bytes, deps, inSeconds);
      rows.push({
        kind,
        name,
        bytes: bytes.length,
        ...r,
        seconds_taken: round3((performance.now() - t0) / 1000),
      });
      if (!r.ok)
        log(
          `  FAILED: ${Object.keys(r.pass)
            .filter((k) => r.pass[k] === false)
            .join(', ')}`,
        );
    } catch (e) {
      rows.push({ kind, name, ok: false, error: `${e?.name}: ${e?.message}` });
      log(`  ERROR: ${e?.message}`);
    }
    if (values.rows && rows.at(-1)?.name === name)
      appendFileSync(values.rows, `${JSON.stringify(rows.at(-1))}\n`);
  };

  for (const f of files) await run('recording', f.name, async () => ({ bytes: f.bytes }));

  const sources = [];
  for (const name of ['librispeech/1688-142285-0000.flac', 'demo_speaker0.mp3', 'demo_speaker1.mp3']) {
    const d = await decodeInput(files.find((f) => f.name === name).bytes, () => transcoder);
    sources.push({ samples: d.samples, rate: d.rate });
  }
  const cells = inputs.matrix(values.quick ? { quick: true, lengths: [1, 7, 19, 45] } : {});
  if (!values.quick) cells.push({ format: 'mp3', rate: 44100, channels: 2, seconds: 3600 });
  for (const cell of cells)
    await run('matrix', inputs.cellName(cell), async () => inputs.makeCell(cell, sources, transcoder));

  const failed = rows.filter((r) => !r.ok);
  const invariants = {};
  for (const r of rows)
    for (const [k, v] of Object.entries(r.pass ?? {}))
      if (v !== null) {
        invariants[k] ??= { pass: 0, fail: 0 };
        invariants[k][v ? 'pass' : 'fail']++;
      }
  console.log(
    JSON.stringify(
      {
        machine: machine(),
        load_before: loadBefore,
        load_after: loadAverages(),
        asr_model: values['no-asr'] ? null : 'whisper-tiny-q8',
        vad: vadBytes ? 'silero-vad-v5 (with the energy detector joined where Silero is deaf)' : 'energy',
        summary: {
          inputs: rows.length,
          passed: rows.length - failed.length,
          failed: failed.map((r) => r.name),
          invariants,
        },
        rows,
        seconds: round3((Date.now() - started) / 1000),
      },
      null,
      2,
    ),
  );
  await vite.close();
  if (failed.length) process.exitCode = 1;
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
