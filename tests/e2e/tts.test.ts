// Speech in the real engine worker (a module worker): Kokoro read from OPFS, espeak-ng from the app's own
// assets (phonemizer for English, the full espeak-ng build for Spanish), each run's audio streamed to the
// page as a transferred Float32Array, and nothing fetched from another origin.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { BASE, createKeyInPage, launch, openStudio, pageFetch } from './browser';

let browser: Browser;
let page: Page;
const requests: string[] = [];

interface Summary {
  seconds: number;
  sampleRate: number;
  float32: boolean;
  rms: number;
  peak: number;
  finite: boolean;
  chunks: { index: number; total: number; length: number; float32: boolean; text: string }[];
  chunksLength: number;
  ms: number;
}

beforeAll(async () => {
  browser = await launch();
  const context = await browser.newContext();
  context.on('request', (r) => requests.push(r.url()));
  page = await openStudio(context);
});
afterAll(async () => {
  await browser?.close();
});

const speak = (text: string, voice: string) =>
  page.evaluate(
    async ({ text, voice }) => {
      type ChunkData = { index: number; total: number; samples: Float32Array; text: string };
      const timbre = (
        globalThis as unknown as {
          __timbre: {
            engine: {
              run(
                op: string,
                args: unknown,
                opts: { onProgress?: (p: { stage: string; data?: unknown }) => void },
              ): Promise<{ samples: Float32Array; sampleRate: number }>;
            };
          };
        }
      ).__timbre;
      const chunks: Summary['chunks'] = [];
      const t0 = performance.now();
      const r = await timbre.engine.run(
        'tts.generate',
        { text, voice },
        {
          onProgress: (p) => {
            if (p.stage !== 'chunk') return;
            const d = p.data as ChunkData;
            chunks.push({
              index: d.index,
              total: d.total,
              length: d.samples.length,
              float32: d.samples instanceof Float32Array,
              text: d.text,
            });
          },
        },
      );
      const x = r.samples;
      let sum = 0;
      let peak = 0;
      let finite = true;
      for (const v of x) {
        sum += v * v;
        peak = Math.max(peak, Math.abs(v));
        if (!Number.isFinite(v)) finite = false;
      }
      return {
        seconds: x.length / r.sampleRate,
        sampleRate: r.sampleRate,
        float32: x instanceof Float32Array,
        rms: Math.sqrt(sum / x.length),
        peak,
        finite,
        chunks,
        chunksLength: chunks.reduce((n, c) => n + c.length, 0),
        ms: performance.now() - t0,
      } satisfies Summary;
    },
    { text, voice },
  );

describe('speech in the engine worker', () => {
  it('says Kokoro is not installed, then speaks English and Spanish once it is', async () => {
    const missing = await page.evaluate(() =>
      (
        globalThis as unknown as {
          __timbre: { engine: { run(op: string, args: unknown): Promise<unknown> } };
        }
      ).__timbre.engine
        .run('tts.generate', { text: 'Hi.', voice: 'af_heart' })
        .then(
          () => 'resolved',
          (e: Error) => `${e.name}: ${e.message}`,
        ),
    );
    expect(missing).toMatch(/^ModelNotInstalledError: .*Models view/);

    await page.evaluate(() =>
      (
        globalThis as unknown as { __timbre: { models: { install(id: string): Promise<unknown> } } }
      ).__timbre.models.install('kokoro-82m-q8'),
    );

    const en = await speak('Hello world. This is Timbre.', 'af_heart');
    expect(en.sampleRate).toBe(24000);
    expect(en.float32).toBe(true);
    expect(en.finite).toBe(true);
    expect(en.seconds).toBeGreaterThan(1.5);
    expect(en.seconds).toBeLessThan(5);
    expect(en.rms).toBeGreaterThan(0.02);
    expect(en.peak).toBeLessThanOrEqual(1);
    expect(en.chunks.map((c) => [c.index, c.total, c.text, c.float32])).toEqual([
      [0, 2, 'Hello world.', true],
      [1, 2, 'This is Timbre.', true],
    ]);
    expect(en.chunksLength).toBe(Math.round(en.seconds * 24000));
    console.log(
      `tts.generate in Chromium (WASM): ${en.seconds.toFixed(2)} s of audio in ${(en.ms / 1000).toFixed(1)} s`,
    );

    const es = await speak('Hola, ¿cómo estás?', 'ef_dora');
    expect(es.seconds).toBeGreaterThan(0.8);
    expect(es.rms).toBeGreaterThan(0.02);

    const origin = new URL(BASE).origin;
    const foreign = requests.filter((u) => /^https?:/.test(u) && new URL(u).origin !== origin);
    expect(foreign).toEqual([]);
    expect(requests.some((u) => /espeak-ng.*\.wasm/.test(u))).toBe(true);
  }, 600_000);

  it('answers /v1/audio/speech and /api/generate/preset through the Service Worker with real audio', async () => {
    const key = await createKeyInPage(page, { limits: { 'tts:generate': 100 } });
    /** Reads a 16-bit mono WAV's sample rate and duration, as a client would. */
    const wavInfo = (b64: string) => {
      const b = Buffer.from(b64, 'base64');
      expect(b.toString('ascii', 0, 4)).toBe('RIFF');
      expect(b.toString('ascii', 8, 12)).toBe('WAVE');
      const rate = b.readUInt32LE(24);
      const bits = b.readUInt16LE(34);
      // A streamed WAV carries 0xFFFFFFFF as its data size (unknown when the header left); else it is exact.
      const field = b.readUInt32LE(40);
      expect([b.length - 44, 0xffffffff]).toContain(field);
      const dataLen = b.length - 44;
      return { rate, bits, seconds: dataLen / (rate * (bits / 8)) };
    };
    const openai = await page.evaluate(async (key) => {
      const r = await fetch('/v1/audio/speech', {
        method: 'POST',
        headers: { Authorization: `Bearer ${key}`, 'Content-Type': 'application/json' },
        body: JSON.stringify({
          model: 'tts-1',
          input: 'Good morning.',
          voice: 'alloy',
          response_format: 'wav',
        }),
      });
      const bytes = new Uint8Array(await r.arrayBuffer());
      let bin = '';
      for (const x of bytes) bin += String.fromCharCode(x);
      return {
        status: r.status,
        type: r.headers.get('Content-Type'),
        b64: btoa(bin),
        limit: r.headers.get('X-RateLimit-Limit'),
      };
    }, key);
    expect(openai.status).toBe(200);
    expect(openai.type).toBe('audio/wav');
    expect(openai.limit).toBe('100');
    const a = wavInfo(openai.b64);
    expect(a.rate).toBe(24000);
    expect(a.bits).toBe(16);
    expect(a.seconds).toBeGreaterThan(0.4);
    expect(a.seconds).toBeLessThan(4);

    const preset = await pageFetch(page, '/api/generate/preset', {
      method: 'POST',
      headers: { 'X-API-Key': key },
      body: { text: 'Hi there.', voice_id: 'af_heart*0.5 + bm_george*0.5', temperature: 0.7 },
    });
    expect(preset.status).toBe(200);
    const p = preset.body as {
      audio_base64: string;
      duration: number;
      sample_rate: number;
      chunks: { text: string }[];
      temperature_note: string;
    };
    expect(p.sample_rate).toBe(24000);
    expect(wavInfo(p.audio_base64).seconds).toBeCloseTo(p.duration, 2);
    expect(p.chunks.map((c) => c.text).join(' ')).toContain('Hi there');
    expect(p.temperature_note).toMatch(/ignored/);

    // OpenAI's default response_format is mp3: encoded by the ffmpeg.wasm core in the engine worker.
    const mp3 = await page.evaluate(async (key) => {
      const r = await fetch('/v1/audio/speech', {
        method: 'POST',
        headers: { 'X-API-Key': key, 'Content-Type': 'application/json' },
        body: JSON.stringify({ model: 'tts-1', input: 'Good morning.', voice: 'alloy' }),
      });
      const bytes = new Uint8Array(await r.arrayBuffer());
      const timbre = (
        globalThis as unknown as {
          __timbre: {
            formats: {
              probe(b: Uint8Array): Promise<{ codec: string; duration: number; sampleRate: number }>;
            };
          };
        }
      ).__timbre;
      return {
        status: r.status,
        type: r.headers.get('Content-Type'),
        probe: r.ok ? await timbre.formats.probe(bytes) : null,
      };
    }, key);
    expect(mp3.status).toBe(200);
    expect(mp3.type).toBe('audio/mpeg');
    expect(mp3.probe?.codec).toBe('mp3');
    expect(mp3.probe!.duration).toBeGreaterThan(a.seconds - 0.3);
    expect(mp3.probe!.duration).toBeLessThan(a.seconds + 0.3);
    const unknown = await pageFetch(page, '/api/generate/preset', {
      method: 'POST',
      headers: { 'X-API-Key': key },
      body: { text: 'x', voice_id: 'nobody' },
    });
    expect(unknown.status).toBe(404);
  });
});
