// Parity with the upstream reference implementation: from config.json + checkpoint.pth + the wavs
// (+ noise.f32) of each fixture, our own pipeline (TS spectrogram, ONNX graphs built in TypeScript, run
// on onnxruntime-web's WASM backend) reproduces spectrograms and embeddings within 1e-4 and the converted
// audio within 1e-3 — and real bugs move the audio far past that.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import * as ort from 'onnxruntime-web';
import { runParity } from '../../src/lib/openvoice/parity';

const fixture = (name: string) => join(import.meta.dirname, '..', 'fixtures', name);
const reader = (dir: string) => async (name: string) => new Uint8Array(await readFile(join(dir, name)));

describe.each(['openvoice-v2-tiny', 'openvoice-v1-tiny'])('parity on %s', (name) => {
  it('matches the reference within the tolerances', async () => {
    const r = await runParity(reader(fixture(name)), ort);
    console.log(name, JSON.stringify(r));
    expect(r.spec_max_abs).toBeLessThan(1e-4);
    expect(r.se_max_abs).toBeLessThan(1e-4);
    expect(r.audio_max_abs).toBeLessThan(1e-3);
    expect(r.pass).toBe(true);
  }, 120_000);
});
