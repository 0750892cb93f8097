import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { BASE, createKeyInPage, launch, openStudio, pageFetch } from './browser';

let browser: Browser;
beforeAll(async () => {
  browser = await launch();
});
afterAll(async () => {
  await browser?.close();
});

describe('installable and offline', () => {
  it('is cross-origin isolated and serves a valid manifest', async () => {
    const context = await browser.newContext();
    const page = await openStudio(context);
    expect(await page.evaluate(() => crossOriginIsolated)).toBe(true);
    expect(await page.evaluate(() => typeof SharedArrayBuffer)).toBe('function');
    const manifest = (await (await context.request.get(`${BASE}/manifest.webmanifest`)).json()) as Record<
      string,
      unknown
    >;
    expect(manifest.display).toBe('standalone');
    expect(manifest.name).toContain('Timbre');
    expect(Array.isArray(manifest.file_handlers)).toBe(true);
    expect((manifest.share_target as { method: string }).method).toBe('POST');
    expect((manifest.icons as unknown[]).length).toBeGreaterThanOrEqual(2);
    await context.close();
  });

  it('reloads and works with the network off after the first visit', async () => {
    const context = await browser.newContext();
    const page = await openStudio(context);
    // The shell is precached once the Service Worker is active.
    await page.waitForFunction(async () => (await caches.keys()).some((k) => k.includes('precache')), null, {
      timeout: 30_000,
    });
    await page.waitForFunction(async () => {
      const names = await caches.keys();
      const c = await caches.open(names.find((k) => k.includes('precache'))!);
      return (await c.keys()).some((r) => r.url.includes('index.html'));
    });
    const key = await createKeyInPage(page);

    await context.setOffline(true);
    expect(
      await page.evaluate(() =>
        fetch('http://127.0.0.1:1/').then(
          () => 'online',
          () => 'offline',
        ),
      ),
    ).toBe('offline');
    await page.reload();
    await page.waitForFunction(() => '__timbre' in globalThis, null, { timeout: 30_000 });
    await expect(page.getByRole('heading', { name: 'Timbre voice studio' }).isVisible()).resolves.toBe(true);
    expect(await page.evaluate(() => crossOriginIsolated)).toBe(true);

    // The model runtime (onnxruntime-web's wasm, self-hosted under /ort/) runs offline too.
    const selftest = await page.evaluate(() =>
      (
        globalThis as unknown as {
          __timbre: {
            engine: { run(op: string, a: unknown): Promise<{ ep_used: string; output: number[] }> };
          };
        }
      ).__timbre.engine.run('runtime.selftest', { ep: 'wasm' }),
    );
    expect(selftest.ep_used).toBe('wasm');
    expect(selftest.output.length).toBeGreaterThan(0);
    expect(selftest.output.every(Number.isFinite)).toBe(true);

    // Use it: navigate to the voice library, and call the local API, all offline.
    await page.getByRole('link', { name: 'Voices', exact: true }).click();
    await page.getByRole('heading', { name: 'Voices' }).waitFor();
    const r = await pageFetch(page, '/api/voices?language=en-gb', { headers: { 'X-API-Key': key } });
    expect(r.status).toBe(200);
    expect((r.body as { total: number }).total).toBe(8);
    await context.close();
  });
});
