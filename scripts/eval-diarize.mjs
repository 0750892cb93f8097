// `npm run eval:diarize`: speaker diarization (src/lib/asr/diarize.ts, the acoustic embedder) on real
// speech: conversations put together from the LibriSpeech readers in ../shared/audio (tests/unit/
// diarize-eval.ts: each utterance cut in 2–3 parts, speakers taking turns, 0.3–0.8 s pauses), Silero VAD v5
// regions as the studio finds them, then speaker count and DER (0.25 s collar; no-collar DER beside it)
// against the known turns. Held-out speakers (tests/unit/diarize-eval.ts HELD_OUT) are never used to choose
// anything. Prints one JSON object on stdout; progress goes to stderr. Exits 0, saying so, where
// ../shared/audio is absent (the recordings are not part of the repository).
//
// --calibrate: instead, the acoustic embedder's constants from the CALIBRATION speakers (and the OpenVoice
// demo mp3s) only: the standardisation (mean and within-speaker scale per feature) and, per threshold, the
// count accuracy and DER of the calibration conversations, both with those constants and cross-validated
// (constants from three calibration readers + the mp3s, scored on conversations of the other three).
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import * as ort from 'onnxruntime-web';
import { CORES, MODELS, loadAverages, logger, machine, root } from './lib/bench.mjs';
import { viteLoader } from './lib/vite-load.mjs';

const log = logger('eval:diarize');
const SHARED = join(root, '..', 'shared', 'audio');
const LIBRI = join(SHARED, 'librispeech');
const THRESHOLDS = [0.5, 0.54, 0.58, 0.6, 0.62, 0.64, 0.66, 0.7, 0.74, 0.78];

async function main() {
  const { values } = parseArgs({ options: { calibrate: { type: 'boolean', default: false } } });
  if (!existsSync(LIBRI)) {
    log(`${LIBRI} is absent: skipped`);
    process.stdout.write(
      `${JSON.stringify({ skipped: `${LIBRI} is absent (the recordings are not part of the repository)` })}\n`,
    );
    return;
  }
  const started = Date.now();
  const loadBefore = loadAverages();
  const vite = await viteLoader(root);
  const ev = await vite.load('/tests/unit/diarize-eval.ts');
  const dz = await vite.load('/src/lib/asr/diarize.ts');
  const host = await vite.load('/src/lib/runtime/host.ts');
  host.installRuntime({ loadOrt: async () => ort, isolated: true, cores: CORES });
  const model = new Uint8Array(readFileSync(join(MODELS, 'silero-vad-v5', 'silero_vad_v5.onnx')));
  const utts = await ev.loadUtterances(LIBRI);
  const calibration = ev.mixesOf(utts, ev.CALIBRATION, ev.CALIBRATION_MIXES);
  const withRegions = async (mixes) => {
    const out = [];
    for (const [i, m] of mixes.entries()) {
      log(`VAD ${i + 1}/${mixes.length}: ${m.name}`);
      out.push({ m, regions: await ev.vadRegions(m.samples, model) });
    }
    return out;
  };
  let out;
  if (values.calibrate) {
    const vectors = new Map();
    for (const s of ev.CALIBRATION) vectors.set(s, await ev.speakerVectors(utts.get(s).samples, model));
    for (const f of ev.EXTRA_CALIBRATION) {
      const p = join(SHARED, `${f}.mp3`);
      if (existsSync(p)) vectors.set(f, await ev.speakerVectors(await ev.decode16k(p), model));
    }
    const extra = ev.EXTRA_CALIBRATION.filter((f) => vectors.has(f));
    const constants = ev.standardisation([...vectors.values()]);
    const rows = await withRegions(calibration);
    const embedder = (c) => ({
      ...dz.acousticEmbedder(),
      normalise: (v) => dz.standardise(v, c.mean, c.scale),
    });
    const sweep = [];
    const all = ev.cachingEmbedder(embedder(constants));
    // Cross-validation: constants without three of the readers, scored on their conversations only.
    const folds = ev.subsets([...ev.CALIBRATION], 3).map((held) => {
      const rest = ev.CALIBRATION.filter((s) => !held.includes(s));
      const c = ev.standardisation([...rest, ...extra].map((s) => vectors.get(s)));
      return { held, e: ev.cachingEmbedder(embedder(c)) };
    });
    for (const t of THRESHOLDS) {
      log(`threshold ${t}`);
      const scores = [];
      for (const { m, regions } of rows) scores.push(await ev.scoreMix(m, regions, all.withThreshold(t)));
      const cv = [];
      for (const f of folds)
        for (const { m, regions } of rows)
          if (m.speakers.every((s) => f.held.includes(s)))
            cv.push(await ev.scoreMix(m, regions, f.e.withThreshold(t)));
      sweep.push({ threshold: t, calibration: ev.summarise(scores), cross_validated: ev.summarise(cv) });
    }
    out = {
      what: 'acoustic embedder constants from the calibration speakers only',
      speakers: { librispeech: ev.CALIBRATION, extra },
      pieces: Object.fromEntries([...vectors].map(([k, v]) => [k, v.length])),
      population_mean: constants.mean.map((x) => Math.round(x * 100) / 100),
      within_speaker_scale: constants.scale.map((x) => Math.round(x * 100) / 100),
      sweep,
    };
  } else {
    const heldOut = ev.mixesOf(utts, ev.HELD_OUT, ev.HELD_OUT_MIXES);
    const rows = await withRegions([...heldOut, ...calibration]);
    const e = dz.acousticEmbedder();
    const scores = [];
    for (const { m, regions } of rows) scores.push(await ev.scoreMix(m, regions, e));
    const h = scores.filter((s) => s.held_out);
    const c = scores.filter((s) => !s.held_out);
    out = {
      what: 'acoustic diarization of LibriSpeech conversations: speaker count, DER (0.25 s collar; der_no_collar without)',
      threshold: e.threshold,
      held_out_speakers: ev.HELD_OUT,
      calibration_speakers: ev.CALIBRATION,
      summary: {
        held_out: { ...ev.summarise(h), per_mix_der_max_goal: 0.15, count_accuracy_goal: 0.9 },
        calibration: ev.summarise(c),
      },
      mixes: scores,
    };
  }
  await vite.close();
  process.stdout.write(
    `${JSON.stringify({ date: new Date().toISOString(), machine: { ...machine(), load_avg_before: loadBefore, load_avg_after: loadAverages() }, ...out, seconds: Math.round((Date.now() - started) / 1000) }, null, 2)}\n`,
  );
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
