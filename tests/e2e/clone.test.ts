// Voice cloning end to end in Chromium: a local server plays the release (the v2 tiny fixture's
// config.json + checkpoint.pth in the official layout); the page's engine installs the converter from it
// (building the ONNX graphs in the browser), makes a voice from reference.wav, converts a 60 s file with
// streamed chunks and no seams, speaks text in the voice (Kokoro → converter), and every clone route
// answers through the Service Worker with a key — 503 before the install.
import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { createKeyInPage, launch, openStudio, pageFetch } from './browser';
import { serveRelease, type ReleaseServer } from './release-server';
import { decodeWav, encodeWav } from '../../src/lib/dsp/wav';
import { fastIsDefault } from '../../src/lib/clone/contract';

vi.setConfig({ testTimeout: 900_000, hookTimeout: 900_000 });

const FIXTURE = 'tests/fixtures/openvoice-v2-tiny';
const SR = 22050;
let browser: Browser;
let page: Page;
let release: ReleaseServer;
let key: string;
let refB64: string;
let srcB64: string;
let longB64: string;

function looped(clip: Float32Array, seconds: number): Float32Array {
  const out = new Float32Array(Math.round(seconds * SR));
  const gap = Math.round(0.3 * SR);
  for (let o = 0; o < out.length; o += clip.length + gap)
    out.set(clip.subarray(0, Math.min(clip.length, out.length - o)), o);
  return out;
}
const b64 = (x: Float32Array) => Buffer.from(encodeWav(x, SR, 's16')).toString('base64');

type Engine = {
  run(op: string, args: unknown, opts?: { onProgress?: (p: unknown) => void }): Promise<unknown>;
  runWhileIdle(op: string, args: unknown, opts?: { onProgress?: (p: unknown) => void }): Promise<unknown>;
};

/** A JSON call through the Service Worker. */
async function api(path: string, body: unknown, apiKey = key) {
  const r = await pageFetch(page, path, {
    method: 'POST',
    headers: { 'X-API-Key': apiKey, 'Content-Type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: r.status, text: typeof r.body === 'string' ? r.body : JSON.stringify(r.body) };
}

/** A multipart call through the Service Worker: `file` is base64 WAV. */
function multipart(path: string, fields: Record<string, string>, fileField: string, fileB64: string) {
  return page.evaluate(
    async ({ path, fields, fileField, fileB64, key }) => {
      const f = new FormData();
      f.set(
        fileField,
        new Blob([Uint8Array.from(atob(fileB64), (c) => c.charCodeAt(0))], { type: 'audio/wav' }),
        'a.wav',
      );
      for (const [k, v] of Object.entries(fields)) f.set(k, v);
      const r = await fetch(path, { method: 'POST', headers: { 'X-API-Key': key }, body: f });
      const bytes = new Uint8Array(await r.arrayBuffer());
      let bin = '';
      for (let i = 0; i < bytes.length; i += 0x8000)
        bin += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
      return { status: r.status, type: r.headers.get('Content-Type'), b64: btoa(bin) };
    },
    { path, fields, fileField, fileB64, key },
  );
}

beforeAll(async () => {
  release = await serveRelease(FIXTURE);
  const ref = decodeWav(new Uint8Array(await readFile(`${FIXTURE}/reference.wav`))).samples;
  const src = decodeWav(new Uint8Array(await readFile(`${FIXTURE}/source.wav`))).samples;
  refB64 = b64(looped(ref, 12));
  srcB64 = b64(looped(src, 6));
  longB64 = b64(looped(src, 60));
  browser = await launch();
  page = await openStudio(await browser.newContext());
  key = await createKeyInPage(page, {
    limits: { 'clone:create': 1000, 'tts:generate': 1000, 'system:read': 1000 },
  });
});

afterAll(async () => {
  await browser?.close();
  await release?.close();
});

describe('voice cloning in the browser', () => {
  let voiceId = '';
  let embedding: number[] = [];
  /** Whether the int8 variant became the default here (#21: measured ≥ 1.15× faster, steadily). */
  let fastDefault = false;

  it('every clone route answers 503 model_not_installed before the install', async () => {
    for (const path of ['/api/clone/create', '/api/clone/create-multi', '/api/clone']) {
      const r = await api(path, {
        audio: refB64,
        samples: [refB64],
        target_audio: refB64,
        source_audio: srcB64,
      });
      expect(r.status, path).toBe(503);
      expect(JSON.parse(r.text).error.code).toBe('model_not_installed');
    }
    for (const [path, field, fields] of [
      ['/v1/tts/clone', 'reference_audio', { text: 'Hi.' }],
      ['/v1/voice-convert', 'file', { target_voice: 'x' }],
      ['/v1/speech-to-speech', 'file', { voice: 'x' }],
    ] as const) {
      const r = await multipart(path, fields, field, srcB64);
      // The request is checked before what is installed: no voice "x" is a 404 (#21).
      expect(r.status, path).toBe(path === '/v1/tts/clone' ? 503 : 404);
    }
  });

  it('installs the converter from the release URL, building the graphs in the page', async () => {
    // Kokoro first: the install tunes the converter's int8 variant on its speech.
    await page.evaluate(() =>
      (
        globalThis as unknown as { __timbre: { models: { install(id: string): Promise<unknown> } } }
      ).__timbre.models.install('kokoro-82m-q8'),
    );
    const r = (await page.evaluate(async (base) => {
      const stages: string[] = [];
      const e = (globalThis as unknown as { __timbre: { engine: Engine } }).__timbre.engine;
      const res = await e.run(
        'clone.install',
        { source: { kind: 'url', base } },
        {
          onProgress: (p) => stages.push((p as { stage: string }).stage),
        },
      );
      return { res, stages: [...new Set(stages)] };
    }, release.url)) as { res: Record<string, unknown>; stages: string[] };
    expect(r.res).toMatchObject({
      id: 'openvoice-v2-converter',
      version: 'v2',
      built: true,
      toneDimension: 256,
    });
    expect(r.stages).toEqual(expect.arrayContaining(['download', 'build', 'tune', 'done']));
    // The int8 variant, calibrated on the page's own Kokoro speech and measured against fp32 here.
    const fast = r.res.fast as {
      snr_db: number;
      speedup: number;
      steady?: boolean;
      recommended: boolean;
      convs: number;
    };
    // The default only when measured faster enough on a steady measurement, which the tiny fixture on a
    // busy machine may miss: the flag follows the figures, whichever way they came out.
    fastDefault = fastIsDefault(fast);
    expect(fast.recommended).toBe(fastDefault);
    expect(fast.snr_db).toBeGreaterThanOrEqual(25);
    expect(fast.convs).toBeGreaterThan(20);
    const info = await pageFetch(page, '/api/info', { headers: { 'X-API-Key': key } });
    expect(info.body).toMatchObject({
      installed: true,
      sample_rate: 22050,
      tone_dimension: 256,
      fast_converter: { default: fastDefault, snr_db: fast.snr_db },
    });
  });

  it('creates a voice from the reference (POST /api/clone/create) and with several samples', async () => {
    const r = await api('/api/clone/create', { audio: refB64, name: 'Fixture', gender: 'female' });
    expect(r.status, r.text.slice(0, 200)).toBe(201);
    const b = JSON.parse(r.text);
    expect(b.voice.embedding).toHaveLength(256);
    voiceId = b.voice_id;
    embedding = b.voice.embedding;
    const m = await api('/api/clone/create-multi', { samples: [refB64, refB64], name: 'Multi' });
    expect(m.status).toBe(201);
    const short = await api('/api/clone/create', { audio: b64(new Float32Array(SR)), name: 'x' });
    expect(short.status).toBe(400);
  });

  it('converts a 60 s file streamed in chunks, seamless', async () => {
    const r = (await page.evaluate(
      async ({ longB64, embedding }) => {
        const e = (globalThis as unknown as { __timbre: { engine: Engine } }).__timbre.engine;
        const bytes = Uint8Array.from(atob(longB64), (c) => c.charCodeAt(0));
        const t0 = performance.now();
        const chunks: { at: number; offset: number; n: number }[] = [];
        const stages = new Set<string>();
        const res = (await e.run(
          'clone.convert',
          { source: { bytes }, target: embedding, tau: 0.3, seed: 1 },
          {
            onProgress: (p) => {
              const q = p as { stage: string; data?: { offset: number; samples: Float32Array } };
              stages.add(q.stage);
              if (q.stage === 'chunk' && q.data)
                chunks.push({ at: performance.now() - t0, offset: q.data.offset, n: q.data.samples.length });
            },
          },
        )) as { samples: Float32Array; precision: string };
        const y = res.samples;
        const d = new Float32Array(y.length - 1);
        for (let i = 1; i < y.length; i++) d[i - 1] = Math.abs(y[i]! - y[i - 1]!);
        const sorted = Float32Array.from(d).sort();
        const joins = chunks.slice(1).map((c) => {
          let m = 0;
          for (let i = Math.max(0, c.offset - 2500); i < Math.min(d.length, c.offset + 2500); i++)
            m = Math.max(m, d[i]!);
          return m;
        });
        return {
          precision: res.precision,
          stages: [...stages],
          chunks,
          end: performance.now() - t0,
          length: y.length,
          typical: sorted[Math.floor(0.999 * (sorted.length - 1))]!,
          joins,
        };
      },
      { longB64, embedding },
    )) as {
      precision: string;
      stages: string[];
      chunks: { at: number; offset: number; n: number }[];
      end: number;
      length: number;
      typical: number;
      joins: number[];
    };
    // No conversion measures the variant again, whatever its last measurement (#21): that is idle-time work
    // (clone.tune), so the first chunk below times the streaming alone. The default follows the stored
    // figures (an idle-time measurement between the tests may have changed them).
    expect(r.stages).not.toContain('tune');
    if (fastDefault) expect(r.precision).toBe('int8');
    else expect(['int8', 'fp32']).toContain(r.precision);
    expect(Math.abs(r.length - 60 * SR)).toBeLessThan(256);
    expect(r.chunks.length).toBeGreaterThanOrEqual(5);
    expect(r.chunks[0]!.at).toBeLessThan(r.end * 0.5);
    expect(r.chunks.reduce((n, c) => n + c.n, 0)).toBe(r.length);
    for (const j of r.joins) expect(j).toBeLessThanOrEqual(r.typical);
  });

  it('idle-time tuning gives way to a conversion asked meanwhile, leaving the stored variant as it was', async () => {
    // clone.tune has work when the install measured the variant while the machine was busy (the tiny
    // fixture's short runs often are): then the conversion stops it, in the worker, before it stores
    // anything. A steady variant leaves it nothing to do.
    const r = (await page.evaluate(
      async ({ srcB64, embedding }) => {
        const t = (
          globalThis as unknown as {
            __timbre: { engine: Engine };
          }
        ).__timbre;
        const e = t.engine;
        const before = (await e.run('clone.status', {})) as { fast?: { steady?: boolean } };
        let heard!: () => void;
        const started = new Promise<void>((r) => (heard = r));
        const tune = e
          .runWhileIdle('clone.tune', {}, { onProgress: () => heard() })
          .then((v) => ({ done: (v as { done: string }).done }))
          .catch((err: Error) => ({ error: err.name }));
        // Under way in the engine (or done at once: nothing to do for a steady variant).
        await Promise.race([started, tune]);
        const stages = new Set<string>();
        const c = (await e.run(
          'clone.convert',
          {
            source: { bytes: Uint8Array.from(atob(srcB64), (ch) => ch.charCodeAt(0)) },
            target: embedding,
            tau: 0.3,
          },
          { onProgress: (p) => stages.add((p as { stage: string }).stage) },
        )) as { samples: Float32Array };
        const after = (await e.run('clone.status', {})) as { fast?: unknown };
        return {
          steady: before.fast?.steady === true,
          tune: await tune,
          same: JSON.stringify(after.fast) === JSON.stringify(before.fast),
          stages: [...stages],
          samples: c.samples.length,
        };
      },
      { srcB64, embedding },
    )) as {
      steady: boolean;
      tune: { done?: string; error?: string };
      same: boolean;
      stages: string[];
      samples: number;
    };
    expect(r.samples).toBeGreaterThan(5 * SR);
    expect(r.stages).not.toContain('tune');
    if (r.steady) expect(r.tune).toEqual({ done: 'none' });
    else {
      // Stopped by the conversion before it measured anything: nothing of it was stored.
      expect(r.tune).toEqual({ error: 'CancelledError' });
      expect(r.same).toBe(true);
    }
  });

  it('speaks text in the voice (Kokoro → converter) and through every route', async () => {
    await page.evaluate(() =>
      (
        globalThis as unknown as { __timbre: { models: { install(id: string): Promise<unknown> } } }
      ).__timbre.models.install('kokoro-82m-q8'),
    );
    const g = await api('/api/generate/clone', { voice_id: voiceId, text: 'Hello from a cloned voice.' });
    expect(g.status, g.text.slice(0, 200)).toBe(200);
    const gb = JSON.parse(g.text);
    expect(gb.sample_rate).toBe(22050);
    expect(gb.duration).toBeGreaterThan(0.8);
    const oc = await api('/api/clone', {
      target_audio: refB64,
      source_audio: `data:audio/wav;base64,${longB64}`,
    });
    expect(oc.status).toBe(200);
    const ob = JSON.parse(oc.text);
    expect(ob.success).toBe(true);
    expect(decodeWav(new Uint8Array(Buffer.from(ob.result_audio, 'base64'))).sampleRate).toBe(22050);
    const t = await multipart(
      '/v1/tts/clone',
      { text: 'Hello there.', format: 'wav' },
      'reference_audio',
      refB64,
    );
    expect(t.status).toBe(200);
    const vc = await multipart('/v1/voice-convert', { target_voice: voiceId }, 'file', srcB64);
    expect(vc.status).toBe(200);
    expect(decodeWav(new Uint8Array(Buffer.from(vc.b64, 'base64'))).samples.length).toBeGreaterThan(5 * SR);
    const s2s = await multipart('/v1/speech-to-speech', { voice: voiceId, emotion: 'angry' }, 'file', srcB64);
    expect(s2s.status).toBe(400);
    const s2 = await multipart('/v1/speech-to-speech', { voice: voiceId }, 'file', srcB64);
    expect(s2.status).toBe(200);
  });
});
