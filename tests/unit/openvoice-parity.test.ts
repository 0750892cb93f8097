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
    expect(r.spec_max_abs).toBeLessThan(1e-4);
    expect(r.se_max_abs).toBeLessThan(1e-4);
    expect(r.audio_max_abs).toBeLessThan(1e-3);
    expect(r.pass).toBe(true);
  }, 120_000);
});

describe('parity catches real bugs', () => {
  const dir = fixture('openvoice-v2-tiny');

  it("the decoder's last slope 0.1 instead of 0.01 moves the audio by more than 1e-2", async () => {
    const r = await runParity(reader(dir), ort, { graph: { lastSlope: 0.1 } });
    expect(r.spec_max_abs).toBeLessThan(1e-4);
    expect(r.se_max_abs).toBeLessThan(1e-4);
    expect(r.audio_max_abs).toBeGreaterThan(1e-2);
    expect(r.pass).toBe(false);
  }, 120_000);

  it('swapped source and target embeddings move the audio by more than 1e-2 (v1 and v2)', async () => {
    for (const name of ['openvoice-v1-tiny', 'openvoice-v2-tiny']) {
      const r = await runParity(reader(fixture(name)), ort, { swapEmbeddings: true });
      expect(r.audio_max_abs, name).toBeGreaterThan(1e-2);
      expect(r.pass).toBe(false);
    }
  }, 120_000);

  it("tau 0 instead of the fixture's 0.3 fails", async () => {
    const r = await runParity(reader(dir), ort, { tau: 0 });
    expect(r.audio_max_abs).toBeGreaterThan(1e-2);
    expect(r.pass).toBe(false);
  }, 120_000);

  it('the v1 reference is not the v2 one: each layout must be built as its config says', async () => {
    // v2's expected output with v1's config (embeddings into enc_q and dec) is far off.
    const mixed = async (name: string) =>
      name === 'config.json'
        ? new Uint8Array(await readFile(join(fixture('openvoice-v1-tiny'), name)))
        : new Uint8Array(await readFile(join(dir, name)));
    const r = await runParity(mixed, ort);
    expect(r.audio_max_abs).toBeGreaterThan(1e-2);
    expect(r.pass).toBe(false);
  }, 120_000);
});
