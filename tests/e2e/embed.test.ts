import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { BASE, OTHER, createKeyInPage, launch, openStudio } from './browser';

let browser: Browser;
let context: BrowserContext;
let studio: Page;

beforeAll(async () => {
  browser = await launch();
  context = await browser.newContext();
  studio = await openStudio(context);
});
afterAll(async () => {
  await browser?.close();
});

async function openDemo(key: string): Promise<Page> {
  const demo = await context.newPage();
  await demo.goto(`${OTHER}/?timbre=${encodeURIComponent(BASE)}&key=${encodeURIComponent(key)}`);
  await demo.getByRole('button', { name: 'Connect' }).click();
  await demo.waitForFunction(() => document.body.dataset.state !== undefined, null, { timeout: 30_000 });
  return demo;
}

describe('embedding from another origin', () => {
  it('serves a cross-origin page whose origin the key allows', async () => {
    const key = await createKeyInPage(studio, { allowed_origins: [OTHER] });
    const demo = await openDemo(key);
    expect(await demo.evaluate(() => document.body.dataset.state)).toBe('connected');
    expect(await demo.evaluate(() => location.origin)).not.toBe(BASE);

    await demo.getByRole('button', { name: 'List voices' }).click();
    await demo.waitForFunction(() => document.getElementById('out')!.textContent!.includes('"total": 54'));

    // Compute runs in the iframe's own engine worker.
    const r = await demo.evaluate(async () => {
      const c = (
        window as unknown as {
          timbreDemo: {
            client: {
              request(
                m: string,
                p: string,
                b?: unknown,
              ): Promise<{ status: number; body: { result: { gflops: number } } }>;
            };
          };
        }
      ).timbreDemo.client;
      return c.request('POST', '/api/system/benchmark', { seconds: 0.3, size: 64 });
    });
    expect(r.status).toBe(200);
    expect(r.body.result.gflops).toBeGreaterThan(0);

    // Scopes still apply inside the iframe.
    const denied = await demo.evaluate(async () => {
      const c = (
        window as unknown as {
          timbreDemo: { client: { request(m: string, p: string, b?: unknown): Promise<{ status: number }> } };
        }
      ).timbreDemo.client;
      return (await c.request('GET', '/api/nope')).status;
    });
    expect(denied).toBe(404);
    await demo.close();
  });

  it('refuses a page whose origin the key does not allow', async () => {
    const key = await createKeyInPage(studio, { allowed_origins: ['https://elsewhere.example'] });
    const demo = await openDemo(key);
    expect(await demo.evaluate(() => document.body.dataset.state)).toBe('refused');
    expect(await demo.locator('#out').textContent()).toContain(`does not allow embedding from ${OTHER}`);
    await demo.close();
  });

  it('refuses an unknown key', async () => {
    const demo = await openDemo('tmb_0000');
    expect(await demo.evaluate(() => document.body.dataset.state)).toBe('refused');
    expect(await demo.locator('#out').textContent()).toContain('not valid');
    await demo.close();
  });

  it('applies the key scopes to embedded calls', async () => {
    const key = await createKeyInPage(studio, { allowed_origins: [OTHER], scopes: ['system:read'] });
    const demo = await openDemo(key);
    const status = await demo.evaluate(async () => {
      const c = (
        window as unknown as {
          timbreDemo: {
            client: {
              request(m: string, p: string): Promise<{ status: number; body: { error: { code: string } } }>;
            };
          };
        }
      ).timbreDemo.client;
      const r = await c.request('GET', '/api/voices');
      return [r.status, r.body.error.code];
    });
    expect(status).toEqual([403, 'forbidden']);
    await demo.close();
  });
});
