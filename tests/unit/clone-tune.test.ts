// The converter's int8 variant is made and measured again only by clone.tune, the idle-time op, never inside
// a conversion (#21): a conversion with a variant measured while the device was busy, or with none at all,
// starts converting at once on the float graph; clone.tune measures the variant again (the same timing code
// as when it was made) and the default follows the new figures; a cancel mid-measurement leaves the stored
// variant and its record as they were. The tiny v2 fixture's converter, real onnxruntime, the fixture's
// speech as the speech engine's.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as ort from 'onnxruntime-web';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { MemoryModelStore } from '../../src/lib/models/store';
import type { InstalledModel } from '../../src/lib/storage/records';
import type { CloneDeps } from '../../src/lib/clone/deps';
import { resetClone } from '../../src/lib/clone/converter';
import { runCloneInstall } from '../../src/lib/clone/install';
import { runCloneStatus } from '../../src/lib/clone/status';
import { runCloneConvert } from '../../src/lib/clone/convert';
import { runCloneTune } from '../../src/lib/clone/tune';
import { FAST_FILES } from '../../src/lib/clone/fast';
import { readAll, readFastInfo, withFiles, writeFile } from '../../src/lib/clone/files';
import { fastIsDefault, type FastConverterInfo } from '../../src/lib/clone/contract';
import { decodeWav } from '../../src/lib/dsp/wav';
import { CancelledError } from '../../src/lib/core/run';

vi.setConfig({ testTimeout: 300_000, hookTimeout: 300_000 });

const dir = join(import.meta.dirname, '..', 'fixtures', 'openvoice-v2-tiny');
const read = async (n: string) => new Uint8Array(await readFile(join(dir, n)));
const ID = 'openvoice-v2-converter';

const records = new Map<string, InstalledModel>();
/** Voices the speech engine was asked for (the tuning's sentences). */
const speaks: string[] = [];
let source: Float32Array;
const d: CloneDeps = {
  registry: { get: async (k) => records.get(k), put: async (r) => void records.set(r.id, r) },
  store: new MemoryModelStore(),
  ort,
  vadModel: async () => null,
};
const withSpeech = (): CloneDeps => ({
  ...d,
  speak: async (a) => {
    speaks.push(a.voice);
    return { samples: source, sampleRate: 22050 };
  },
});

/** The stored variant's record as it would be after a measurement taken while the device was busy. */
async function measuredWhileBusy(): Promise<FastConverterInfo> {
  const info = (await readFastInfo(d, records.get(ID)!))!;
  const busy = { ...info, steady: false, recommended: false };
  const file = await writeFile(d.store, ID, FAST_FILES.info, new TextEncoder().encode(JSON.stringify(busy)));
  records.set(ID, withFiles(records.get(ID)!, [file]));
  // A fresh worker: the converter loads with what is stored.
  await resetClone();
  return busy;
}

async function convert(deps: CloneDeps) {
  const stages: string[] = [];
  const r = await runCloneConvert(
    { source: { samples: source, sampleRate: 22050 }, target: new Float32Array(256).fill(0.05) },
    { onProgress: (p) => stages.push(p.stage) },
    deps,
  );
  return { precision: r.precision, stages, samples: r.samples.length };
}

beforeAll(async () => {
  source = decodeWav(await read('source.wav')).samples;
  await resetClone();
  // Installed without a speech engine: the float graphs only, as before Kokoro is there.
  const r = await runCloneInstall(
    {
      source: { kind: 'files', config: await read('config.json'), checkpoint: await read('checkpoint.pth') },
    },
    {},
    d,
  );
  expect(r.fast).toBeUndefined();
});

describe('clone.tune: the int8 variant made and measured at idle time, never in a conversion', () => {
  it('a conversion without a variant runs float at once, and makes none; clone.tune makes it', async () => {
    const deps = withSpeech();
    const c = await convert(deps);
    expect(c.stages).not.toContain('tune');
    expect(c.stages[0]).toBe('decode');
    expect(speaks).toEqual([]);
    expect(c.precision).toBe('fp32');
    expect(records.get(ID)!.files.map((f) => f.path)).not.toContain(FAST_FILES.graph);

    const stages: string[] = [];
    const t = await runCloneTune({}, { onProgress: (p) => stages.push(p.stage) }, deps);
    expect(t.done).toBe('made');
    expect(stages).toContain('tune');
    expect(speaks).toHaveLength(3);
    expect(records.get(ID)!.files.map((f) => f.path)).toEqual(
      expect.arrayContaining([FAST_FILES.graph, FAST_FILES.info]),
    );
    expect((await runCloneStatus(d)).fast).toEqual(t.fast);
    // The next conversion loads it and runs at its default.
    expect((await convert(deps)).precision).toBe(fastIsDefault(t.fast) ? 'int8' : 'fp32');
  });

  it('a conversion with a variant measured while busy emits no tuning and starts converting at once, on float', async () => {
    const busy = await measuredWhileBusy();
    speaks.length = 0;
    const c = await convert(withSpeech());
    expect(c.stages).not.toContain('tune');
    // Straight to the audio: the first thing it reports is reading the source.
    expect(c.stages[0]).toBe('decode');
    expect(speaks).toEqual([]);
    expect(c.precision).toBe('fp32');
    // Nothing was measured or written.
    expect((await runCloneStatus(d)).fast).toEqual(busy);
  });

  it('a cancel mid-measurement leaves the stored variant and its record as they were', async () => {
    const busy = await measuredWhileBusy();
    // Loaded (as a conversion leaves it) before the measurement starts.
    await convert(withSpeech());
    const record = structuredClone(records.get(ID)!);
    const json = await readAll(d.store, ID, FAST_FILES.info);
    const ac = new AbortController();
    const steps: string[] = [];
    await expect(
      runCloneTune(
        {},
        {
          signal: ac.signal,
          onProgress: (p) => {
            steps.push(`${p.done}/${p.total}`);
            // The timing has begun.
            if (p.stage === 'tune' && p.done === 1) ac.abort();
          },
        },
        withSpeech(),
      ),
    ).rejects.toBeInstanceOf(CancelledError);
    expect(steps).toEqual(['0/3', '1/3']);
    expect(records.get(ID)).toEqual(record);
    expect(Array.from(await readAll(d.store, ID, FAST_FILES.info))).toEqual(Array.from(json));
    expect((await runCloneStatus(d)).fast).toEqual(busy);
    // The loaded converter's default did not move either.
    expect((await convert(withSpeech())).precision).toBe('fp32');
  });

  it('re-measures a busy variant, stores the new figures, and the default follows them at once', async () => {
    const busy = await measuredWhileBusy();
    await convert(withSpeech());
    speaks.length = 0;
    let t = await runCloneTune({}, {}, withSpeech());
    expect(t.done).toBe('measured');
    // The same held-out speech as when it was made, in the first voice's tone: two sentences.
    expect(speaks).toEqual(['af_heart', 'bf_emma']);
    // A loaded test machine may be busy again: measured again until steady (a few times at most).
    for (let i = 0; i < 4 && t.fast?.steady !== true; i++) {
      t = await runCloneTune({}, {}, withSpeech());
      expect(t.done).toBe('measured');
    }
    const fast = t.fast!;
    expect(typeof fast.steady).toBe('boolean');
    expect(fast.measured_at).toBeGreaterThanOrEqual(busy.made_at);
    // Only the figures change: the same graph, made when it was, on the same speech.
    expect(fast).toMatchObject({ convs: busy.convs, made_at: busy.made_at });
    expect(fast.snr_db).toBeCloseTo(busy.snr_db, 0);
    expect(fast.recommended).toBe(fastIsDefault(fast));
    expect((await runCloneStatus(d)).fast).toEqual(fast);
    // The loaded converter's default flips with the figures (int8 when steady and ≥ 1.15× faster)…
    const want = fastIsDefault(fast) ? 'int8' : 'fp32';
    expect((await convert(withSpeech())).precision).toBe(want);
    // …and so does a fresh load's.
    await resetClone();
    expect((await convert(withSpeech())).precision).toBe(want);
    // Steady now: nothing more to do (still busy: measured again at the next idle time).
    speaks.length = 0;
    const next = await runCloneTune({}, {}, withSpeech());
    if (fast.steady) {
      expect(next).toEqual({ done: 'none', fast });
      expect(speaks).toEqual([]);
    } else expect(next.done).toBe('measured');
  });
});
