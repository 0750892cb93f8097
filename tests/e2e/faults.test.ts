// Faults survived (issue #22): an engine worker that vanishes and an engine host (studio tab) that goes
// away mid-job. Every job settles within 10 s of the fault with a specific outcome, and the next job runs.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { BASE, createKeyInPage, launch, openStudio, pageFetch } from './browser';

let browser: Browser;

beforeAll(async () => {
  browser = await launch();
});
afterAll(async () => {
  await browser?.close();
});

interface Job {
  job_id: string;
  status: string;
  progress: { done: number; total: number } | null;
  result: { gflops: number } | null;
  error: { code: string; message: string } | null;
}

const job = async (page: Page, key: string, id: string) =>
  (await pageFetch(page, `/api/jobs/${id}`, { headers: { 'X-API-Key': key } })).body as Job;

async function until(page: Page, key: string, id: string, pred: (j: Job) => boolean, ms = 30_000) {
  const end = Date.now() + ms;
  for (;;) {
    const j = await job(page, key, id);
    if (pred(j)) return j;
    if (Date.now() > end) throw new Error(`job ${id} stuck at ${JSON.stringify(j)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function benchmark(page: Page, key: string, seconds: number): Promise<string> {
  const r = await pageFetch(page, '/api/system/benchmark', {
    method: 'POST',
    headers: { 'X-API-Key': key },
    body: { seconds, size: 128, async: true },
  });
  expect(r.status).toBe(202);
  return (r.body as { job_id: string }).job_id;
}

const running = (j: Job) => j.status === 'running' && (j.progress?.done ?? 0) > 0;
const ended = (j: Job) => j.status !== 'running' && j.status !== 'queued';

/** A page of the origin that is not an engine host (its fetches still go through the Service Worker). */
async function plainPage(context: BrowserContext): Promise<Page> {
  const p = await context.newPage();
  await p.goto(`${BASE}/manifest.webmanifest`);
  return p;
}

/** Reads /api/events from `page` until `until` appears in the stream (or `ms` pass); returns the text. */
function readEvents(page: Page, key: string, until: string, ms = 40_000): Promise<string> {
  return page.evaluate(
    async ({ key, until, ms }) => {
      const res = await fetch('/api/events', { headers: { 'X-API-Key': key } });
      const reader = res.body!.getReader();
      const dec = new TextDecoder();
      let text = '';
      const end = Date.now() + ms;
      while (Date.now() < end && !text.includes(until)) {
        const next = await Promise.race([
          reader.read(),
          new Promise<null>((r) => setTimeout(() => r(null), Math.max(0, end - Date.now()))),
        ]);
        if (!next || next.done) break;
        text += dec.decode(next.value);
      }
      await reader.cancel();
      return text;
    },
    { key, until, ms },
  );
}

describe('the engine worker vanishes mid-job (closed without an error event)', () => {
  it('the job fails within 10 s, the job queued behind it and the next one run on a fresh worker', async () => {
    const context = await browser.newContext();
    const page = await openStudio(context);
    const key = await createKeyInPage(page, { limits: { 'system:read': 1000 } });
    const lost = await benchmark(page, key, 30);
    await until(page, key, lost, running);
    const queued = await benchmark(page, key, 0.5);
    const worker = page.workers().find((w) => /engine\.worker/.test(w.url()));
    expect(
      worker,
      page
        .workers()
        .map((w) => w.url())
        .join(', '),
    ).toBeDefined();
    const t0 = Date.now();
    // The worker closes itself: no error event, the page hears nothing (the evaluate itself never answers).
    void worker!.evaluate(() => (self as unknown as { close(): void }).close()).catch(() => undefined);
    const failed = await until(page, key, lost, ended, 15_000);
    const ms = Date.now() - t0;
    console.log(`vanished worker found in ${ms} ms`);
    expect(failed.status).toBe('failed');
    expect(failed.error!.code).toBe('engine_crashed');
    expect(failed.error!.message).toMatch(
      /engine stopped unexpectedly \(it stopped answering\); it has restarted/,
    );
    expect(ms).toBeLessThan(10_000);
    const q = await until(page, key, queued, ended, 10_000);
    expect(q.status).toBe('succeeded');
    const next = await until(page, key, await benchmark(page, key, 0.5), ended, 15_000);
    expect(next.status).toBe('succeeded');
    expect(next.result!.gflops).toBeGreaterThan(0);
    const state = await page.evaluate(
      () =>
        (globalThis as unknown as { __timbre: { engine: { state: { alive: boolean; restarts: number } } } })
          .__timbre.engine.state,
    );
    expect(state).toMatchObject({ alive: true, restarts: 1 });
    await context.close();
  });
});

describe('the engine worker busy in one long synchronous step', () => {
  it('is not taken for gone: its sentinel answers the heartbeat while the step runs past the limit', async () => {
    const context = await browser.newContext();
    const page = await openStudio(context);
    const out = await page.evaluate(async () => {
      type Bridge = {
        run(op: string, args: unknown): Promise<{ gflops: number }>;
        restarts: number;
      };
      const engine = (globalThis as unknown as { __timbre: { engine: Bridge } }).__timbre.engine;
      // Sized on this machine's speed (one 800² multiply) for a step of about 12 s.
      const { gflops } = await engine.run('system.compute', { seconds: 0.01, size: 800 });
      const size = Math.min(3000, Math.round(Math.cbrt((12 * gflops * 1e9) / 2)));
      const t0 = performance.now();
      // One multiply in plain JS: seconds of work that never yields.
      const r = await engine.run('system.compute', { seconds: 0.01, size });
      return { gflops: r.gflops, ms: performance.now() - t0, restarts: engine.restarts };
    });
    console.log(`one synchronous step of ${Math.round(out.ms)} ms`);
    expect(out.ms).toBeGreaterThan(8000); // longer than the heartbeat's limit (about 7 s)
    expect(out.gflops).toBeGreaterThan(0);
    expect(out.restarts).toBe(0);
    await context.close();
  });
});

describe('the engine host goes away mid-job with a second studio tab open', () => {
  it('host tab closed: the job that streamed progress fails, the one not yet heard reruns on the other tab', async () => {
    const context = await browser.newContext();
    const host = await openStudio(context);
    const key = await createKeyInPage(host, { limits: { 'system:read': 1000 } });
    const caller = await plainPage(context);
    const lost = await benchmark(caller, key, 30);
    await until(caller, key, lost, running);
    const events = readEvents(caller, key, `"id":"${lost}","op":"system.compute","status":"failed"`);
    // A request waiting on a job queued behind it on the same host (nothing heard from it yet).
    const waiting = caller.evaluate(async (key) => {
      const res = await fetch('/api/system/benchmark', {
        method: 'POST',
        headers: { 'X-API-Key': key, 'Content-Type': 'application/json' },
        body: JSON.stringify({ seconds: 1, size: 128 }),
      });
      return { status: res.status, body: await res.json(), at: Date.now() };
    }, key);
    await new Promise((r) => setTimeout(r, 500));
    const second = await openStudio(context);
    const t0 = Date.now();
    await host.close();

    const failed = await until(second, key, lost, ended, 15_000);
    expect(Date.now() - t0).toBeLessThan(10_000);
    expect(failed.status).toBe('failed');
    expect(failed.error!.code).toBe('engine_unavailable');
    expect(failed.error!.message).toMatch(/studio tab running this job was closed/);
    const w = await waiting;
    expect(w.at - t0).toBeLessThan(10_000);
    expect(w.status).toBe(200);
    expect((w.body as Job).status).toBe('succeeded');
    expect((w.body as Job).result!.gflops).toBeGreaterThan(0);
    const text = await events;
    expect(text).toContain(`"id":"${lost}"`);
    expect(text).toMatch(/"status":"failed"/);

    const next = await until(second, key, await benchmark(second, key, 0.5), ended, 15_000);
    expect(next.status).toBe('succeeded');
    await context.close();
  });

  it('host tab gone without a goodbye: its port closing or the heartbeat ends the job within 10 s', async () => {
    const context = await browser.newContext();
    const host = await openStudio(context);
    const key = await createKeyInPage(host, { limits: { 'system:read': 1000 } });
    const lost = await benchmark(host, key, 30);
    await until(host, key, lost, running);
    const second = await openStudio(context);
    // The tab's goodbye (sent on pagehide) never reaches the Service Worker, as when a tab crashes.
    await host.evaluate(() => {
      const sw = navigator.serviceWorker.controller!;
      const post = sw.postMessage.bind(sw);
      sw.postMessage = (m: { type?: string }) => {
        if (m?.type !== 'timbre:engine-host-gone') post(m);
      };
    });
    const t0 = Date.now();
    await host.close();

    const failed = await until(second, key, lost, ended, 15_000);
    expect(Date.now() - t0).toBeLessThan(10_000);
    expect(failed.status).toBe('failed');
    expect(failed.error!.code).toBe('engine_unavailable');
    expect(failed.error!.message).toMatch(/closed or stopped answering/);
    const next = await until(second, key, await benchmark(second, key, 0.5), ended, 15_000);
    expect(next.status).toBe('succeeded');
    await context.close();
  });
});
