import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { createKeyInPage, launch, openStudio, pageFetch } from './browser';

let browser: Browser;
let context: BrowserContext;
let page: Page;

beforeAll(async () => {
  browser = await launch();
  context = await browser.newContext();
  page = await openStudio(context);
});
afterAll(async () => {
  await browser?.close();
});

type Err = { error: { code: string; message: string } };

describe('the local API through the Service Worker', () => {
  it('answers 401 without a key and with an unknown key, as JSON with rate-limit headers', async () => {
    const none = await pageFetch(page, '/api/voices');
    expect(none.status).toBe(401);
    expect((none.body as Err).error.code).toBe('unauthorized');
    expect(none.headers['x-ratelimit-limit']).toBeDefined();
    const bad = await pageFetch(page, '/v1/voices', {
      headers: { Authorization: 'Bearer tmb_not_a_real_key' },
    });
    expect(bad.status).toBe(401);
    expect((bad.body as Err).error.message).toMatch(/not valid/);
    const health = await pageFetch(page, '/api/health');
    expect(health.status).toBe(200);
    expect((health.body as { status: string }).status).toBe('ok');
  });

  it('answers 403 for a key without the scope, and 404/405 as JSON', async () => {
    const key = await createKeyInPage(page, { scopes: ['system:read'] });
    const r = await pageFetch(page, '/api/voices', { headers: { 'X-API-Key': key } });
    expect(r.status).toBe(403);
    expect((r.body as Err).error.message).toContain('voices:read');
    const info = await pageFetch(page, '/api/system/info', { headers: { 'X-API-Key': key } });
    expect(info.status).toBe(200);
    expect((info.body as { cross_origin_isolated: boolean }).cross_origin_isolated).toBe(true);
    expect((info.body as { engine_hosts: number }).engine_hosts).toBeGreaterThanOrEqual(1);
    const missing = await pageFetch(page, '/api/nope', { headers: { 'X-API-Key': key } });
    expect(missing.status).toBe(404);
    expect((missing.body as Err).error.code).toBe('not_found');
  });

  it('answers 429 with Retry-After past the limit, and the limit holds across a Service Worker restart', async () => {
    const key = await createKeyInPage(page, { limits: { 'voices:read': 3 } });
    const statuses: number[] = [];
    let last = null as Awaited<ReturnType<typeof pageFetch>> | null;
    for (let i = 0; i < 4; i++) {
      last = await pageFetch(page, '/api/favorites', { headers: { 'X-API-Key': key } });
      statuses.push(last.status);
    }
    // A request could straddle a minute boundary; then the window resets once.
    if (statuses[3] !== 429) {
      statuses.length = 0;
      for (let i = 0; i < 4; i++) {
        last = await pageFetch(page, '/api/favorites', { headers: { 'X-API-Key': key } });
        statuses.push(last.status);
      }
    }
    expect(statuses.slice(-1)).toEqual([429]);
    expect((last!.body as Err).error.code).toBe('rate_limited');
    expect(Number(last!.headers['retry-after'])).toBeGreaterThan(0);
    expect(last!.headers['x-ratelimit-limit']).toBe('3');
    expect(last!.headers['x-ratelimit-remaining']).toBe('0');

    const cdp = await context.newCDPSession(page);
    await cdp.send('ServiceWorker.enable');
    await cdp.send('ServiceWorker.stopAllWorkers');
    const after = await pageFetch(page, '/api/favorites', { headers: { 'X-API-Key': key } });
    const sameWindow = Number(last!.headers['x-ratelimit-reset']) * 1000 > Date.now();
    if (sameWindow) expect(after.status).toBe(429);
    else expect(after.status).toBe(200);
  });

  it('a key created in the UI lists, filters and edits voices through fetch', async () => {
    await page.getByRole('link', { name: 'API keys', exact: true }).click();
    await page.getByLabel('Key name').fill('From the UI');
    await page.getByRole('button', { name: 'Create key' }).click();
    const key = (await page.getByTestId('new-api-key').textContent())?.trim() ?? '';
    expect(key).toMatch(/^tmb_[0-9a-f]{48}$/);
    const h = { 'X-API-Key': key };

    const all = await pageFetch(page, '/api/voices', { headers: h });
    expect((all.body as { total: number }).total).toBe(54);
    const british = await pageFetch(page, '/api/voices?language=en-gb&gender=male', { headers: h });
    const ids = (british.body as { voices: { id: string }[] }).voices.map((v) => v.id).sort();
    expect(ids).toEqual(['bm_daniel', 'bm_fable', 'bm_george', 'bm_lewis']);
    const search = await pageFetch(page, '/v1/voices?language=fr', {
      headers: { Authorization: `Bearer ${key}` },
    });
    expect((search.body as { voices: { id: string }[] }).voices.map((v) => v.id)).toEqual(['ff_siwis']);

    const put = await pageFetch(page, '/api/voices/bf_emma', {
      method: 'PUT',
      headers: h,
      body: { tags: ['narration', 'warm'] },
    });
    expect(put.status).toBe(200);
    const fav = await pageFetch(page, '/api/favorites/bf_emma', { method: 'POST', headers: h });
    expect((fav.body as { favorite: boolean }).favorite).toBe(true);
    const favs = await pageFetch(page, '/api/voices?favorite=true', { headers: h });
    const got = (favs.body as { voices: { id: string; tags: string[] }[] }).voices;
    expect(got.map((v) => v.id)).toEqual(['bf_emma']);
    expect(got[0]!.tags).toEqual(['narration', 'warm']);
    const del = await pageFetch(page, '/api/voices/bf_emma', { method: 'DELETE', headers: h });
    expect(del.status).toBe(403);

    const bad = await pageFetch(page, '/api/voices/bf_emma', {
      method: 'PUT',
      headers: h,
      body: { tags: 'not-a-list' },
    });
    expect(bad.status).toBe(400);
    expect((bad.body as Err & { error: { field: string } }).error.field).toBe('tags');
  });
});
