// The API during the first start (#21): on a fresh profile the bundled models install as the studio opens;
// a speech request made then waits for Kokoro or answers 503 model_loading with Retry-After and the
// install's progress, never "not installed"; the official openai package gets its audio with its defaults.
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { createKeyInPage, launch, openAiScript, openStudio } from './browser';
import { decodeWav } from '../../src/lib/dsp/wav';

// A first start copies 240 MB into OPFS and loads Kokoro cold on a shared 2-core machine.
vi.setConfig({ testTimeout: 900_000, hookTimeout: 300_000 });

const KOKORO = 'kokoro-82m-q8';
let browser: Browser;

beforeAll(async () => {
  browser = await launch();
});
afterAll(async () => {
  await browser?.close();
});

/** Opens the studio on a fresh profile and waits until the first-start install is writing Kokoro. */
async function firstOpen(): Promise<Page> {
  const context = await browser.newContext();
  // The Models view: Speak would warm Kokoro up itself.
  const page = await openStudio(context, '#/models', { autoInstallModels: true });
  await page.waitForFunction(
    async (lock) => ((await navigator.locks.query()).held ?? []).some((l) => l.name === lock),
    `timbre-model:${KOKORO}`,
    { timeout: 60_000, polling: 100 },
  );
  return page;
}

/** Whether Kokoro's record is written yet (the page's own model list). */
const kokoroInstalled = (page: Page) =>
  page.evaluate(async (id) => {
    const studio = (
      globalThis as unknown as {
        __timbre: { models: { list(): Promise<{ id: string; installed: boolean }[]> } };
      }
    ).__timbre;
    return (await studio.models.list()).find((m) => m.id === id)?.installed ?? false;
  }, KOKORO);

interface Answer {
  status: number;
  retryAfter: string | null;
  type: string | null;
  error: Record<string, unknown> | null;
  b64: string;
}

function speech(page: Page, key: string, input: string): Promise<Answer> {
  return page.evaluate(
    async ({ key, input }) => {
      const r = await fetch('/v1/audio/speech', {
        method: 'POST',
        headers: { Authorization: `Bearer ${key}`, 'Content-Type': 'application/json' },
        body: JSON.stringify({ model: 'tts-1', voice: 'alloy', input, response_format: 'wav' }),
      });
      const bytes = new Uint8Array(await r.arrayBuffer());
      let error: Record<string, unknown> | null = null;
      let bin = '';
      if (r.status !== 200) error = JSON.parse(new TextDecoder().decode(bytes)).error;
      else
        for (let i = 0; i < bytes.length; i += 0x8000)
          bin += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
      return {
        status: r.status,
        retryAfter: r.headers.get('Retry-After'),
        type: r.headers.get('Content-Type'),
        error,
        b64: btoa(bin),
      };
    },
    { key, input },
  );
}

function expectSpeech(b64: string, words: number) {
  const wav = decodeWav(Uint8Array.from(Buffer.from(b64, 'base64')));
  const seconds = wav.samples.length / wav.sampleRate;
  expect(seconds).toBeGreaterThan((words / 2.5) * 0.4);
  expect(seconds).toBeLessThan((words / 2.5) * 2 + 1);
}

describe('the API during the first start', () => {
  it('a speech request made while the bundled install runs gets audio (or model_loading, then audio)', async () => {
    const page = await firstOpen();
    const key = await createKeyInPage(page);
    // Called while Kokoro is still on its way: what used to answer 503 "not installed".
    expect(await kokoroInstalled(page)).toBe(false);
    const input = 'The first start is over.';
    const answers: Answer[] = [];
    for (let i = 0; i < 20; i++) {
      const a = await speech(page, key, input);
      answers.push(a);
      if (a.status !== 503) break;
      expect(a.error, JSON.stringify(a.error)).toMatchObject({ code: 'model_loading' });
      expect(String(a.error!.message)).toMatch(/Kokoro-82M is being installed/);
      expect(Number(a.retryAfter)).toBeGreaterThan(0);
      expect(a.error!.retry_after).toBe(Number(a.retryAfter));
      const install = a.error!.install as Record<string, number | string[]>;
      expect(install.models).toContain(KOKORO);
      expect(install.files_total).toBeGreaterThan(50);
      expect(install.percent).toBeGreaterThanOrEqual(0);
      expect(install.percent).toBeLessThanOrEqual(100);
      expect(install.bytes_total).toBeGreaterThan(100_000_000);
      await page.waitForTimeout(Number(a.retryAfter) * 1000);
    }
    const last = answers.at(-1)!;
    expect(last.status, JSON.stringify(last.error)).toBe(200);
    expect(last.type).toBe('audio/wav');
    expectSpeech(last.b64, input.split(/\s+/).length);
    await page.context().close();
  });

  it('the official openai package, with its default settings, gets its audio right after a first open', async () => {
    const page = await firstOpen();
    const key = await createKeyInPage(page);
    await page.addScriptTag({ content: await openAiScript() });
    expect(await kokoroInstalled(page)).toBe(false);
    const input = 'Hello from the client.';
    const r = await page.evaluate(
      async ({ key, input }) => {
        const { OpenAI } = (globalThis as unknown as { OpenAISDK: { OpenAI: new (o: object) => unknown } })
          .OpenAISDK as unknown as {
          OpenAI: new (o: object) => { audio: { speech: { create(b: object): Promise<Response> } } };
        };
        // Only what any browser caller must give: the key, this origin, and the browser opt-in.
        const client = new OpenAI({
          apiKey: key,
          baseURL: location.origin + '/v1',
          dangerouslyAllowBrowser: true,
        });
        const res = await client.audio.speech.create({
          model: 'tts-1',
          voice: 'alloy',
          input,
          response_format: 'wav',
        });
        const wav = new Uint8Array(await res.arrayBuffer());
        let bin = '';
        for (let i = 0; i < wav.length; i += 0x8000)
          bin += String.fromCharCode(...wav.subarray(i, i + 0x8000));
        return { type: res.headers.get('Content-Type'), b64: btoa(bin) };
      },
      { key, input },
    );
    expect(r.type).toBe('audio/wav');
    expectSpeech(r.b64, input.split(/\s+/).length);
    await page.context().close();
  });
});
