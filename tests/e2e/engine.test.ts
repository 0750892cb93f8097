import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { createKeyInPage, launch, openStudio, pageFetch } from './browser';

let browser: Browser;
let page: Page;
let key: string;

beforeAll(async () => {
  browser = await launch();
  const context = await browser.newContext();
  page = await openStudio(context);
  key = await createKeyInPage(page, { limits: { 'system:read': 1000, 'tts:generate': 1000 } });
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

async function job(id: string): Promise<Job> {
  return (await pageFetch(page, `/api/jobs/${id}`, { headers: { 'X-API-Key': key } })).body as Job;
}

async function until(id: string, pred: (j: Job) => boolean, ms = 30_000): Promise<Job> {
  const end = Date.now() + ms;
  for (;;) {
    const j = await job(id);
    if (pred(j)) return j;
    if (Date.now() > end) throw new Error(`job ${id} stuck at ${JSON.stringify(j)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const start = async (seconds: number) => {
  const r = await pageFetch(page, '/api/system/benchmark', {
    method: 'POST',
    headers: { 'X-API-Key': key },
    body: { seconds, size: 128, async: true },
  });
  expect(r.status).toBe(202);
  return (r.body as { job_id: string }).job_id;
};

describe('engine host', () => {
  it('runs a job through the Service Worker, streams progress on /api/events and keeps the result', async () => {
    const events = page.evaluate(async (key) => {
      // EventSource cannot send headers; read the stream with fetch.
      const res = await fetch('/api/events', { headers: { 'X-API-Key': key } });
      const reader = res.body!.getReader();
      const dec = new TextDecoder();
      let text = '';
      const end = Date.now() + 20_000;
      while (Date.now() < end && !text.includes('"status":"succeeded"')) {
        const { value, done } = await reader.read();
        if (done) break;
        text += dec.decode(value);
      }
      await reader.cancel();
      return { type: res.headers.get('Content-Type'), text };
    }, key);
    await new Promise((r) => setTimeout(r, 300));
    const id = await start(1.5);
    const done = await until(id, (j) => j.status === 'succeeded');
    expect(done.result!.gflops).toBeGreaterThan(0);
    const ev = await events;
    expect(ev.type).toContain('text/event-stream');
    expect(ev.text).toContain('event: ready');
    expect(ev.text).toContain(`"id":"${id}"`);
    expect(ev.text).toMatch(/"status":"running","progress":\{"stage":"compute"/);

    // The result survives a reload (it lives in IndexedDB).
    await page.reload();
    await page.waitForFunction(() => '__timbre' in globalThis);
    expect((await job(id)).status).toBe('succeeded');
  });

  it('cancels a running job quickly', async () => {
    const id = await start(30);
    await until(id, (j) => j.status === 'running' && (j.progress?.done ?? 0) > 0);
    const t0 = Date.now();
    const r = await pageFetch(page, '/api/generation/cancel', {
      method: 'POST',
      headers: { 'X-API-Key': key },
      body: { job_id: id },
    });
    expect(r.status).toBe(200);
    expect((r.body as { cancelled: string[] }).cancelled).toEqual([id]);
    const j = await until(id, (x) => x.status !== 'running');
    expect(Date.now() - t0).toBeLessThan(3000);
    expect(j.status).toBe('cancelled');
  });

  it('a job started while a cancelled job is forced off the worker runs on the restarted one', async () => {
    // One 1400² matrix multiply is seconds of synchronous work: the cancel cannot be heard, so after the
    // grace period the bridge terminates the worker. The jobs started meanwhile must not go with it.
    const out = await page.evaluate(async () => {
      type Bridge = {
        run(
          op: string,
          args: unknown,
          o?: { signal?: AbortSignal; onProgress?: (p: unknown) => void },
        ): Promise<{ gflops: number }>;
        state: { alive: boolean };
      };
      const engine = (globalThis as unknown as { __timbre: { engine: Bridge } }).__timbre.engine;
      await engine.run('system.compute', { seconds: 0.05, size: 64 }); // worker up
      const ac = new AbortController();
      const stuck = engine.run('system.compute', { seconds: 0.1, size: 1400 }, { signal: ac.signal });
      await new Promise((r) => setTimeout(r, 300));
      const t0 = performance.now();
      ac.abort();
      const cancelled = await stuck.then(
        () => 'finished',
        (e: Error) => e.name,
      );
      // Same queue and another queue, both with progress listeners (nothing can be heard before the stop).
      const heard: number[] = [];
      const [same, other] = await Promise.all([
        engine.run('system.compute', { seconds: 0.2, size: 128 }, { onProgress: () => heard.push(1) }),
        engine.run('system.facts', {}, { onProgress: () => heard.push(2) }),
      ]);
      return {
        cancelled,
        gflops: same.gflops,
        facts: typeof other === 'object' && other !== null,
        ms: performance.now() - t0,
        alive: engine.state.alive,
      };
    });
    expect(out.cancelled).toBe('CancelledError');
    expect(out.gflops).toBeGreaterThan(0);
    expect(out.facts).toBe(true);
    expect(out.alive).toBe(true);
    expect(out.ms).toBeLessThan(30_000);
  });

  it('recovers when the engine worker crashes mid-job', async () => {
    const id = await start(30);
    await until(id, (j) => j.status === 'running' && (j.progress?.done ?? 0) > 0);
    await page.evaluate(() =>
      (
        globalThis as unknown as { __timbre: { engine: { simulateCrash(): Promise<void> } } }
      ).__timbre.engine.simulateCrash(),
    );
    const failed = await until(id, (j) => j.status !== 'running', 10_000);
    expect(failed.status).toBe('failed');
    expect(failed.error!.message).toMatch(/engine stopped unexpectedly/);
    const restarts = await page.evaluate(
      () =>
        (globalThis as unknown as { __timbre: { engine: { restarts: number } } }).__timbre.engine.restarts,
    );
    expect(restarts).toBe(1);

    const next = await start(0.5);
    const ok = await until(next, (j) => j.status === 'succeeded' || j.status === 'failed');
    expect(ok.status).toBe('succeeded');
    expect(ok.result!.gflops).toBeGreaterThan(0);
  });

  it('answers 503 engine_unavailable when no studio tab is open', async () => {
    const context = await browser.newContext();
    const p = await openStudio(context);
    const k = await createKeyInPage(p);
    // Leave only a page that is not an engine host: the SW's plain JSON route still answers.
    const other = await context.newPage();
    await other.goto(new URL('/manifest.webmanifest', p.url()).href);
    await p.evaluate(() =>
      navigator.serviceWorker.controller?.postMessage({ type: 'timbre:engine-host-gone' }),
    );
    await p.close();
    const r = await other.evaluate(async (k) => {
      const res = await fetch('/api/system/benchmark', {
        method: 'POST',
        headers: { 'X-API-Key': k, 'Content-Type': 'application/json' },
        body: '{"seconds":0.2}',
      });
      return { status: res.status, body: await res.json() };
    }, k);
    expect(r.status).toBe(503);
    expect(r.body.error.code).toBe('engine_unavailable');
    expect(r.body.error.message).toMatch(/open the Timbre studio/);
    await context.close();
  });
});
