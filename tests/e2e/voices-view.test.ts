// The Voices view: a voice file dropped anywhere on the page is imported (a full-window overlay shows while
// files, not text, are dragged), or chosen with "Import voices"; a card renames and favourites its voice,
// and the favourites filter keeps only those; the kind, language and gender selects filter, and Clear filters
// resets them.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { launch, openStudio } from './browser';
import { GENDERS, VOICE_KINDS } from '../../src/lib/voices/types';

let browser: Browser;
let page: Page;

/** A Timbre voice file holding one mixed voice. */
function voiceFile(id: string, name: string): string {
  const now = Date.now();
  return JSON.stringify({
    format: 'timbre-voices',
    version: 1,
    exported_at: now,
    voices: [
      {
        id,
        name,
        description: 'A mix',
        tags: [],
        language: 'en-us',
        gender: 'female',
        kind: 'mixed',
        model: 'kokoro',
        samples: [],
        recipe: { formula: 'af_heart*0.6 + bf_emma*0.4' },
        favorite: false,
        created_at: now,
        updated_at: now,
      },
    ],
  });
}

/** Drags over (and drops, unless `dropIt` is false) on the voice count line, away from any control. */
async function dragOnPage(
  page: Page,
  payload: { file?: { name: string; text: string }; text?: string },
  dropIt: boolean,
): Promise<boolean> {
  return page.evaluate(
    async ({ payload, dropIt }) => {
      const dt = new DataTransfer();
      if (payload.file)
        dt.items.add(new File([payload.file.text], payload.file.name, { type: 'application/json' }));
      if (payload.text) dt.setData('text/plain', payload.text);
      const el = document.querySelector('.count')!;
      el.dispatchEvent(new DragEvent('dragover', { dataTransfer: dt, bubbles: true, cancelable: true }));
      // Svelte updates the DOM in a microtask, before the overlay's 200 ms timer can run.
      for (let i = 0; i < 5; i++) await Promise.resolve();
      const shown = document.querySelector('[data-testid="voice-drop"]') !== null;
      if (dropIt)
        el.dispatchEvent(new DragEvent('drop', { dataTransfer: dt, bubbles: true, cancelable: true }));
      return shown;
    },
    { payload, dropIt },
  );
}

beforeAll(async () => {
  browser = await launch();
  page = await openStudio(await browser.newContext(), '#/voices');
  await page.getByRole('heading', { name: 'Voices', level: 1 }).waitFor();
}, 120_000);
afterAll(async () => {
  await browser?.close();
});

describe('Voices view', () => {
  it('shows the overlay for dragged files only, and imports a file dropped anywhere on the page', async () => {
    expect(await dragOnPage(page, { text: 'just words' }, false)).toBe(false);
    const shown = await dragOnPage(
      page,
      { file: { name: 'mix.json', text: voiceFile('mix_dropped', 'Dropped mix') } },
      true,
    );
    expect(shown).toBe(true);
    await page.getByRole('heading', { name: 'Dropped mix', level: 2 }).waitFor({ timeout: 30_000 });
    expect(await page.getByTestId('voice-drop').count()).toBe(0);
  });

  it('imports a file chosen with Import voices', async () => {
    const [chooser] = await Promise.all([
      page.waitForEvent('filechooser'),
      page.getByRole('button', { name: 'Import voices' }).click(),
    ]);
    expect(chooser.isMultiple()).toBe(false);
    await chooser.setFiles({
      name: 'chosen.json',
      mimeType: 'application/json',
      buffer: Buffer.from(voiceFile('mix_chosen', 'Chosen mix')),
    });
    await page.getByRole('heading', { name: 'Chosen mix', level: 2 }).waitFor({ timeout: 30_000 });
  });

  it('renames and favourites a voice in its card, and filters the favourites', async () => {
    const card = page.locator('li', { has: page.getByRole('heading', { name: 'Dropped mix', level: 2 }) });
    await card.getByRole('button', { name: 'Rename' }).click();
    const input = page.getByRole('textbox', { name: 'New name for Dropped mix' });
    await expect.poll(() => input.evaluate((el) => el === document.activeElement)).toBe(true);
    await input.fill('Calm mix');
    await input.press('Enter');
    await page.getByRole('heading', { name: 'Calm mix', level: 2 }).waitFor({ timeout: 30_000 });

    const star = page.getByRole('button', { name: 'Favourite Calm mix' });
    await star.click();
    await expect.poll(() => star.getAttribute('aria-pressed')).toBe('true');

    await page.getByRole('checkbox', { name: 'Favourites only' }).check();
    await expect.poll(() => page.locator('.count').textContent()).toBe('1 voice');
    expect(await page.getByRole('heading', { name: 'Chosen mix', level: 2 }).count()).toBe(0);
  });

  it('filters by kind, language and gender with labelled selects, and Clear filters resets them', async () => {
    const count = page.locator('.count');
    await page.getByRole('checkbox', { name: 'Favourites only' }).uncheck();
    await expect.poll(() => count.textContent()).not.toBe('1 voice');
    const all = await count.textContent();
    const kind = page.getByRole('combobox', { name: 'Kind', exact: true });
    const language = page.getByRole('combobox', { name: 'Language', exact: true });
    const gender = page.getByRole('combobox', { name: 'Gender', exact: true });
    expect(await kind.locator('option').allTextContents()).toEqual(['All kinds', ...VOICE_KINDS]);
    expect(await gender.locator('option').allTextContents()).toEqual(['All genders', ...GENDERS]);
    expect(await language.locator('option').first().textContent()).toBe('All languages');
    // The library's languages, by name.
    expect(await language.locator('option[value="en-gb"]').textContent()).toBe('British English');

    // The two mixes imported above (American English, female) are the library's only mixed voices.
    await kind.selectOption('mixed');
    await expect.poll(() => count.textContent()).toBe('2 voices');
    await language.selectOption('en-gb');
    await expect.poll(() => count.textContent()).toBe('0 voices');
    await language.selectOption('en-us');
    await expect.poll(() => count.textContent()).toBe('2 voices');
    await gender.selectOption('male');
    await expect.poll(() => count.textContent()).toBe('0 voices');

    await page.getByRole('button', { name: 'Clear filters' }).click();
    await expect.poll(() => count.textContent()).toBe(all);
    for (const select of [kind, language, gender]) expect(await select.inputValue()).toBe('');
  });
});
