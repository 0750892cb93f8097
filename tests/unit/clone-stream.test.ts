// Cloned speech streamed sentence by sentence: clone.speak converts each Kokoro piece as it arrives (real
// Kokoro in Node, the tiny fixture converter), so converted audio comes out before Kokoro has made its last
// piece, and the result equals the same speech converted after Kokoro finished.
import { readFile } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as ort from 'onnxruntime-web';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { isCloneChunk } from '../../src/lib/clone/contract';
import type { CloneDeps } from '../../src/lib/clone/deps';
import { resetClone } from '../../src/lib/clone/converter';
import { runCloneInstall } from '../../src/lib/clone/install';
import { runCloneSpeak } from '../../src/lib/clone/speak';
import { MemoryModelStore } from '../../src/lib/models/store';
import type { InstalledModel } from '../../src/lib/storage/records';
import { installRuntime } from '../../src/lib/runtime/host';
import { synthesize } from '../../src/lib/tts/kokoro';
import { HAVE_KOKORO, MODELS } from './asr-helpers';

vi.setConfig({ testTimeout: 900_000, hookTimeout: 900_000 });

const TEXT =
  'The museum opens at nine in the morning. She bought fresh bread and some green apples. He forgot his umbrella and walked home in the rain. Our neighbours are building a wooden boat in their garage.';
const dir = join(import.meta.dirname, '..', 'fixtures', 'openvoice-v2-tiny');
const kokoroFile = async (path: string) => new Uint8Array(readFileSync(`${MODELS}/kokoro-82m-q8/${path}`));

/** What happened, in order: Kokoro pieces made and converted chunks given out. */
let log: string[] = [];
/** Kokoro's speech of TEXT (first run), replayed whole by the non-streaming engine. */
let spoken: { samples: Float32Array; sampleRate: number } | null = null;
let streaming = true;

const records = new Map<string, InstalledModel>();
const d: CloneDeps = {
  registry: { get: async (id) => records.get(id), put: async (r) => void records.set(r.id, r) },
  store: new MemoryModelStore(),
  ort,
  vadModel: async () => null,
  speak: async (a, onChunk, signal) => {
    if (a.text === TEXT && spoken && !streaming) return spoken;
    const r = await synthesize(
      { text: a.text, voice: a.voice, speed: a.speed ?? 1 },
      {
        loadFile: kokoroFile,
        signal,
        onChunk: (c) => {
          log.push(`kokoro ${c.index + 1}/${c.total}`);
          if (streaming) onChunk?.(c.samples, c.sampleRate);
        },
      },
    );
    if (a.text === TEXT) spoken = { samples: r.samples, sampleRate: r.sampleRate };
    return r;
  },
};

beforeAll(async () => {
  installRuntime({ loadOrt: async () => ort, isolated: true, cores: 2 });
  await resetClone();
  await runCloneInstall(
    {
      source: {
        kind: 'files',
        config: new Uint8Array(await readFile(join(dir, 'config.json'))),
        checkpoint: new Uint8Array(await readFile(join(dir, 'checkpoint.pth'))),
      },
    },
    {},
    d,
  );
});

describe.skipIf(!HAVE_KOKORO)('clone.speak streamed sentence by sentence', () => {
  it('gives converted audio before Kokoro makes its last piece, and the same audio as converting after', async () => {
    const embedding = new Float32Array(256).map((_, i) => Math.sin(i));
    const args = { text: TEXT, embedding, baseVoice: 'af_heart', seed: 3 };
    // The base voice's tone first (its own speech), so the log below is the text's alone.
    streaming = false;
    await runCloneSpeak({ ...args, text: 'Hello.' }, {}, d).catch(() => undefined);
    streaming = true;
    log = [];
    const chunks: { offset: number; samples: Float32Array }[] = [];
    const a = await runCloneSpeak(
      args,
      {
        onProgress: (p) => {
          if (!isCloneChunk(p)) return;
          log.push('chunk');
          chunks.push(p.data);
        },
      },
      d,
    );
    const kokoro = log.filter((l) => l.startsWith('kokoro'));
    expect(kokoro.length).toBeGreaterThanOrEqual(3);
    const lastKokoro = log.lastIndexOf(kokoro.at(-1)!);
    expect(log.indexOf('chunk')).toBeGreaterThan(-1);
    expect(log.indexOf('chunk')).toBeLessThan(lastKokoro);
    // The chunks tile the result in order.
    let at = 0;
    for (const c of chunks) {
      expect(c.offset).toBe(at);
      at += c.samples.length;
    }
    expect(at).toBe(a.samples.length);
    // Each sentence's span in the converted audio, in order, inside it: a player can follow along.
    const duration = a.samples.length / a.sampleRate;
    expect(a.chunks.map((c) => c.text)).toEqual(TEXT.match(/[^.]+\./g)!.map((t) => t.trim()));
    for (const [i, c] of a.chunks.entries()) {
      expect(c.end).toBeGreaterThan(c.start + 1);
      expect(c.end).toBeLessThanOrEqual(duration);
      if (i) expect(c.start).toBeGreaterThanOrEqual(a.chunks[i - 1]!.end);
    }
    // Speech at each span's middle, the pauses between them quieter (the spans are where the words are).
    const rmsIn = (t0: number, t1: number) => {
      let e = 0;
      const [i0, i1] = [Math.floor(t0 * a.sampleRate), Math.floor(t1 * a.sampleRate)];
      for (let t = i0; t < i1; t++) e += a.samples[t]! ** 2;
      return Math.sqrt(e / Math.max(1, i1 - i0));
    };
    for (let i = 1; i < a.chunks.length; i++) {
      const gap = [a.chunks[i - 1]!.end, a.chunks[i]!.start] as const;
      if (gap[1] - gap[0] < 0.05) continue;
      const mid = (a.chunks[i]!.start + a.chunks[i]!.end) / 2;
      expect(rmsIn(...gap)).toBeLessThan(rmsIn(mid - 0.25, mid + 0.25));
    }

    // The same speech converted once Kokoro has finished (no pieces handed over).
    streaming = false;
    const b = await runCloneSpeak(args, {}, d);
    expect(b.samples.length).toBe(a.samples.length);
    // That engine gave no spans: one span of the whole text.
    expect(b.chunks).toEqual([{ text: TEXT, start: 0, end: b.samples.length / b.sampleRate }]);
    let rms = 0;
    for (const v of b.samples) rms += v * v;
    rms = Math.sqrt(rms / b.samples.length);
    expect(rms).toBeGreaterThan(1e-4);
    let dev = 0;
    for (let t = 0; t < b.samples.length; t++) dev = Math.max(dev, Math.abs(a.samples[t]! - b.samples[t]!));
    expect(dev / rms).toBeLessThan(1e-2);
  });
});
