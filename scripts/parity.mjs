// `npm run parity -- <fixture-dir>`: the OpenVoice converter parity check on any folder laid out like
// ../shared/fixtures/openvoice-*-tiny (config.json, checkpoint.pth, reference.wav, source.wav, noise.f32
// and the reference outputs). Runs the studio's own pipeline (src/lib/openvoice, onnxruntime-web WASM in
// Node) and prints one JSON object on stdout: {spec_max_abs, se_max_abs, audio_max_abs, pass}.
// Exit code 0 only when it passes; 1 when it runs but misses a tolerance; 2 when it cannot run.
import { readFile } from 'node:fs/promises';
import { resolve, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runnerImport } from 'vite';
import * as ort from 'onnxruntime-web';

const root = fileURLToPath(new URL('..', import.meta.url));
const dir = process.argv[2];
if (!dir || process.argv.length > 3) {
  console.error('usage: npm run parity -- <fixture-dir>');
  process.exit(2);
}
const folder = resolve(process.cwd(), dir);

try {
  const { module } = await runnerImport('/src/lib/openvoice/parity.ts', {
    root,
    configFile: false,
    logLevel: 'silent',
  });
  const read = async (name) => new Uint8Array(await readFile(join(folder, name)));
  const result = await module.runParity(read, ort);
  console.log(JSON.stringify(result));
  process.exit(result.pass ? 0 : 1);
} catch (e) {
  // Still one JSON object on stdout, so callers parse the same shape.
  const error = { name: e?.name ?? 'Error', message: e?.message ?? String(e) };
  console.log(
    JSON.stringify({ spec_max_abs: null, se_max_abs: null, audio_max_abs: null, pass: false, error }),
  );
  console.error(`[parity] ${error.name}: ${error.message}`);
  process.exit(2);
}
