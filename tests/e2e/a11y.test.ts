// axe-core over every view of the studio (#21): no serious or critical violations, and the sliders whose
// <label> wraps an <output> still have their own accessible names.
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { launch, openStudio } from './browser';

const VIEWS = [
  'home',
  'speak',
  'clone',
  'transcribe',
  'tools',
  'clips',
  'projects',
  'voices',
  'models',
  'keys',
  'api',
  'system',
];

let browser: Browser;
let context: BrowserContext;
let page: Page;
let axeSource: string;

beforeAll(async () => {
  axeSource = await readFile(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
  browser = await launch();
  context = await browser.newContext();
  page = await openStudio(context, '#/home');
});
afterAll(async () => {
  await browser?.close();
});

interface Violation {
  id: string;
  impact: string | null;
  help: string;
  nodes: { target: string[]; failureSummary?: string }[];
}

async function axe(): Promise<Violation[]> {
  if (!(await page.evaluate(() => 'axe' in globalThis))) await page.addScriptTag({ content: axeSource });
  return page.evaluate(async () => {
    const a = (
      globalThis as unknown as {
        axe: { run(ctx: Document, opts: unknown): Promise<{ violations: Violation[] }> };
      }
    ).axe;
    const r = await a.run(document, { resultTypes: ['violations'] });
    return r.violations.map((v) => ({
      id: v.id,
      impact: v.impact,
      help: v.help,
      nodes: v.nodes.slice(0, 5).map((n) => ({ target: n.target, failureSummary: n.failureSummary })),
    }));
  });
}

describe('accessibility', () => {
  for (const view of VIEWS)
    it(`#/${view} has no serious or critical axe violations`, async () => {
      await page.evaluate((v) => (location.hash = `#/${v}`), view);
      await page.waitForSelector('main h1', { timeout: 30_000 });
      // Let the view's first loads (voices, clips, models) settle before judging what it shows.
      await page.waitForTimeout(1500);
      const bad = (await axe()).filter((v) => v.impact === 'serious' || v.impact === 'critical');
      expect(bad, JSON.stringify(bad, null, 1)).toEqual([]);
    });

  it('names the Speed, Volume, Pause and tau sliders', async () => {
    await page.evaluate(() => (location.hash = '#/speak'));
    for (const name of ['Speed', 'Volume', 'Pause between sentences'])
      await expect(page.getByRole('slider', { name, exact: true }).count()).resolves.toBe(1);
    await page.evaluate(() => (location.hash = '#/clone'));
    await expect(page.getByRole('slider', { name: 'Variation (tau)', exact: true }).count()).resolves.toBe(1);
  });
});
