import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync, writeFileSync } from 'node:fs';
import type { Browser } from 'playwright-core';
import { launch, openStudio } from './browser';

const SW = new URL('../../dist/sw.js', import.meta.url);
let browser: Browser;
let original: string;

beforeAll(async () => {
  browser = await launch();
  original = readFileSync(SW, 'utf8');
});
afterAll(async () => {
  writeFileSync(SW, original);
  await browser?.close();
});

describe('new versions', () => {
  it('show an "update available" prompt instead of reloading by themselves', async () => {
    const context = await browser.newContext();
    const page = await openStudio(context);
    await page.waitForFunction(
      async () => (await navigator.serviceWorker.getRegistration())?.active?.state === 'activated',
    );
    await page.evaluate(() => localStorage.setItem('unsaved', 'work'));
    const marker = await page.evaluate(
      () => ((window as unknown as { marker: number }).marker = Math.random()),
    );

    writeFileSync(SW, `${original}\n// next version ${Date.now()}\n`);
    await page.evaluate(async () => (await navigator.serviceWorker.getRegistration())!.update());
    const banner = page.getByRole('alert').filter({ hasText: 'update of Timbre is available' });
    await banner.waitFor({ timeout: 30_000 });
    // No silent reload happened: the page's own state is still there.
    expect(await page.evaluate(() => (window as unknown as { marker: number }).marker)).toBe(marker);

    await Promise.all([
      page.waitForEvent('load'),
      page.getByRole('button', { name: 'Reload to update' }).click(),
    ]);
    await page.waitForFunction(() => '__timbre' in globalThis);
    expect(await page.evaluate(() => (window as unknown as { marker?: number }).marker)).toBeUndefined();
    await context.close();
  });
});
