import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { launch, openStudio } from './browser';

let browser: Browser;
beforeAll(async () => {
  browser = await launch();
});
afterAll(async () => {
  await browser?.close();
});

describe('share target', () => {
  it('keeps shared audio in the inbox (not other files), lists it, and removes it with undo', async () => {
    const context = await browser.newContext();
    const page = await openStudio(context);
    // Submit the form the way the operating system's share sheet does: a multipart POST navigation.
    await page.evaluate(() => {
      const form = document.createElement('form');
      form.method = 'POST';
      form.action = '/share-target';
      form.enctype = 'multipart/form-data';
      const input = document.createElement('input');
      input.type = 'file';
      input.name = 'audio';
      input.multiple = true;
      input.id = 'share-files';
      form.append(input);
      document.body.append(form);
    });
    await page.setInputFiles('#share-files', [
      { name: 'take.wav', mimeType: 'audio/wav', buffer: Buffer.alloc(2048, 1) },
      { name: 'notes.txt', mimeType: 'text/plain', buffer: Buffer.from('not audio') },
    ]);
    await Promise.all([
      page.waitForEvent('load'),
      page.evaluate(() => (document.querySelector('form') as HTMLFormElement).submit()),
    ]);
    await page.getByText('Received 1 shared audio file').waitFor();
    const inbox = page.getByTestId('inbox');
    await inbox.waitFor();
    expect(await inbox.locator('li').count()).toBe(1);
    expect(await inbox.textContent()).toContain('take.wav');

    await page.getByRole('button', { name: 'Remove take.wav from the inbox' }).click();
    await inbox.waitFor({ state: 'detached' });
    await page.getByRole('button', { name: 'Undo' }).click();
    await page.getByTestId('inbox').waitFor();
    expect(await page.getByTestId('inbox').textContent()).toContain('take.wav');
    await context.close();
  });
});
