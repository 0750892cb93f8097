// A converter installed from the catalogue (the release files, as the Models view downloads them) is built
// into ONNX graphs on first use, and those are kept so later loads read them instead of rebuilding. Its
// int8 variant is made at idle time (clone.tune; not at an extraction nor a conversion), once, and loaded
// from then on.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as ort from 'onnxruntime-web';
import { describe, expect, it } from 'vitest';
import { MemoryModelStore } from '../../src/lib/models/store';
import type { InstalledModel } from '../../src/lib/storage/records';
import type { CloneDeps } from '../../src/lib/clone/deps';
import { resetClone } from '../../src/lib/clone/converter';
import { runCloneInstall } from '../../src/lib/clone/install';
import { runCloneStatus } from '../../src/lib/clone/status';
import { runCloneExtract } from '../../src/lib/clone/extract';
import { runCloneConvert } from '../../src/lib/clone/convert';
import { runCloneTune } from '../../src/lib/clone/tune';
import { decodeWav } from '../../src/lib/dsp/wav';
import { fastIsDefault } from '../../src/lib/clone/contract';

const dir = join(import.meta.dirname, '..', 'fixtures', 'openvoice-v2-tiny');
const read = async (n: string) => new Uint8Array(await readFile(join(dir, n)));

describe('catalogue install of the release files', () => {
  it('builds the graphs once and records them with the model', async () => {
    await resetClone();
    const store = new MemoryModelStore();
    const records = new Map<string, InstalledModel>();
    const id = 'openvoice-v2-converter';
    const files = [];
    for (const [path, name] of [
      ['converter/config.json', 'config.json'],
      ['converter/checkpoint.pth', 'checkpoint.pth'],
    ] as const) {
      const b = await read(name);
      await store.append(id, path, b, 0);
      await store.commit(id, path);
      files.push({ path, bytes: b.byteLength, sha256: '', verified_at: 0, pinned: false });
    }
    records.set(id, { id, files, installed_at: 0, origin: 'download' });
    const d: CloneDeps = {
      registry: { get: async (k) => records.get(k), put: async (r) => void records.set(r.id, r) },
      store,
      ort,
      vadModel: async () => null,
    };
    expect(await runCloneStatus(d)).toMatchObject({ installed: true, version: 'v2', toneDimension: 256 });
    const ref = decodeWav(await read('reference.wav')).samples;
    const loop = new Float32Array(ref.length * 3);
    for (let i = 0; i < 3; i++) loop.set(ref, i * ref.length);
    const stages: string[] = [];
    const r = await runCloneExtract(
      { audio: [{ samples: loop, sampleRate: 22050 }] },
      { onProgress: (p) => stages.push(p.stage) },
      d,
    );
    expect(r.embedding).toHaveLength(256);
    expect(stages).toContain('build');
    expect(records.get(id)!.files.map((f) => f.path)).toEqual(
      expect.arrayContaining(['converter/checkpoint.pth', 'extractor.onnx', 'converter.onnx']),
    );
    // A fresh load reads the stored graphs: no build stage.
    await resetClone();
    const again: string[] = [];
    const r2 = await runCloneExtract(
      { audio: [{ samples: loop, sampleRate: 22050 }] },
      { onProgress: (p) => again.push(p.stage) },
      d,
    );
    expect(again).not.toContain('build');
    expect(Array.from(r2.embedding)).toEqual(Array.from(r.embedding));
    expect(again).not.toContain('tune');
    expect(records.get(id)!.files.map((f) => f.path)).not.toContain('converter-int8.onnx');

    // The first conversion runs at full precision at once: it does not make the int8 variant.
    const source = decodeWav(await read('source.wav')).samples;
    const speaks: string[] = [];
    d.speak = async (a) => {
      speaks.push(a.voice);
      return { samples: source, sampleRate: 22050 };
    };
    const first: string[] = [];
    const c0 = await runCloneConvert(
      { source: { samples: source, sampleRate: 22050 }, target: r.embedding },
      { onProgress: (p) => first.push(p.stage) },
      d,
    );
    expect(first).not.toContain('tune');
    expect(c0.precision).toBe('fp32');
    expect(speaks).toHaveLength(0);
    // clone.tune, at idle time, makes it (speech from the engine: here the fixture's source).
    const tuned: string[] = [];
    const t = await runCloneTune({}, { onProgress: (p) => tuned.push(p.stage) }, d);
    expect(t.done).toBe('made');
    expect(tuned).toContain('tune');
    expect(speaks).toHaveLength(3);
    const c1 = await runCloneConvert(
      { source: { samples: source, sampleRate: 22050 }, target: r.embedding },
      {},
      d,
    );
    const fast = (await runCloneStatus(d)).fast!;
    expect(fast).toEqual(t.fast);
    // int8 by default only when measured steady and ≥ 1.15× faster here.
    expect(c1.precision).toBe(fastIsDefault(fast) ? 'int8' : 'fp32');
    expect(records.get(id)!.files.map((f) => f.path)).toEqual(
      expect.arrayContaining(['converter-int8.onnx', 'converter-int8.json']),
    );
    expect(fast.recommended).toBe(fastIsDefault(fast));
    // Later loads read it: no tuning, the same output.
    await resetClone();
    const later: string[] = [];
    const c2 = await runCloneConvert(
      { source: { samples: source, sampleRate: 22050 }, target: r.embedding },
      { onProgress: (p) => later.push(p.stage) },
      d,
    );
    // Even when its measurement was taken while the machine was busy: that is measured again at idle time.
    expect(later).not.toContain('tune');
    expect(speaks).toHaveLength(3);
    expect(c2.precision).toBe(c1.precision);
    expect(Array.from(c2.samples)).toEqual(Array.from(c1.samples));
  }, 300_000);

  it('without a speech engine there is no variant, and conversions run fp32', async () => {
    await resetClone();
    const store = new MemoryModelStore();
    const records = new Map<string, InstalledModel>();
    const d: CloneDeps = {
      registry: { get: async (k) => records.get(k), put: async (r) => void records.set(r.id, r) },
      store,
      ort,
      vadModel: async () => null,
    };
    const r = await runCloneInstall(
      {
        source: {
          kind: 'files',
          config: await read('config.json'),
          checkpoint: await read('checkpoint.pth'),
        },
      },
      {},
      d,
    );
    expect(r.fast).toBeUndefined();
    expect(r.fastUnavailable).toMatch(/No speech engine/);
    const source = decodeWav(await read('source.wav')).samples;
    const emb = new Float32Array(256).fill(0.05);
    const c = await runCloneConvert({ source: { samples: source, sampleRate: 22050 }, target: emb }, {}, d);
    expect(c.precision).toBe('fp32');
    await expect(
      runCloneConvert(
        { source: { samples: source, sampleRate: 22050 }, target: emb, precision: 'int8' },
        {},
        d,
      ),
    ).rejects.toThrow(
      /has not been made on this device: it is made from Kokoro’s speech once the studio is idle/,
    );
    // The idle-time attempt finds no speech engine either, and says so.
    const t = await runCloneTune({}, {}, d);
    expect(t).toMatchObject({
      done: 'none',
      retry: true,
      fastUnavailable: expect.stringMatching(/No speech engine/),
    });
    await expect(
      runCloneConvert(
        { source: { samples: source, sampleRate: 22050 }, target: emb, precision: 'int8' },
        {},
        d,
      ),
    ).rejects.toThrow(/has not been made on this device: No speech engine/);
  }, 300_000);
});
