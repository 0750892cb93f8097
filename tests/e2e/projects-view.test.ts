// The Projects view driven as a person would, with Kokoro installed in the page: a new project, a
// three-line two-voice script (errors first: empty script, speakers without a voice), voices chosen in
// the cast table, three clips laid out one after another, a render whose mixdown (downloaded as WAV) is as
// long as the timeline and has speech where each clip is, a clip moved by drag and by keyboard with its
// stored start checked in IndexedDB, the project still there after a reload, and delete + Undo.
import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { launch, openStudio } from './browser';
import { decodeWav } from '../../src/lib/dsp/wav';
import { clipSpan, timelineDuration, type Project } from '../../src/lib/documents/project';
import { gridFor, LINE_GAP, snap } from '../../src/lib/ui/timeline-view';

vi.setConfig({ testTimeout: 300_000, hookTimeout: 600_000 });

const SCRIPT = '[Narrator] The door opened.\n[Anna] Hello there.\n[Narrator] She smiled.';
const NAME = 'Radio play';

let browser: Browser;
let context: BrowserContext;
let page: Page;
let projectId = '';

type Studio = { __timbre: { db: { get(s: string, id: string): Promise<unknown> } } };

/** The project as stored in IndexedDB (what autosave wrote). */
async function stored(): Promise<Project | undefined> {
  return page.evaluate(
    (id) => (globalThis as unknown as Studio).__timbre.db.get('projects', id) as Promise<Project | undefined>,
    projectId,
  );
}

/** Waits until the editor says the last edit is saved. */
const saved = () =>
  page
    .waitForSelector('[data-testid=save-state][data-state=saved]', { timeout: 30_000 })
    .then(() => undefined);

/** Timeline clips in time order, as drawn. */
const drawn = () =>
  page.getByTestId('timeline-clip').evaluateAll((els) =>
    els
      .map((e) => ({
        id: e.getAttribute('data-id')!,
        start: Number(e.getAttribute('data-start')),
        span: Number(e.getAttribute('data-span')),
        text: e.textContent?.trim() ?? '',
      }))
      .sort((a, b) => a.start - b.start),
  );

const idle = () => page.getByTestId('render-progress').waitFor({ state: 'detached', timeout: 280_000 });

/** File names in a zip, from its central directory. */
function zipNames(zip: Buffer): string[] {
  const names: string[] = [];
  for (let i = zip.lastIndexOf(Buffer.from('PK\x05\x06', 'binary')), at = zip.readUInt32LE(i + 16); ;) {
    if (zip.readUInt32LE(at) !== 0x02014b50) break;
    const n = zip.readUInt16LE(at + 28);
    names.push(zip.subarray(at + 46, at + 46 + n).toString('utf8'));
    at += 46 + n + zip.readUInt16LE(at + 30) + zip.readUInt16LE(at + 32);
    if (names.length > 1000) break;
  }
  return names;
}

/** Stored clips in time order. */
const clipsOf = (p: Project) => p.tracks.flatMap((t) => t.clips).sort((a, b) => a.start - b.start);

beforeAll(async () => {
  browser = await launch(['--autoplay-policy=no-user-gesture-required']);
  context = await browser.newContext({ acceptDownloads: true, viewport: { width: 1400, height: 1000 } });
  page = await openStudio(context, '#/projects');
  await page.evaluate(() =>
    (
      globalThis as unknown as { __timbre: { models: { install(id: string): Promise<unknown> } } }
    ).__timbre.models.install('kokoro-82m-q8'),
  );
}, 600_000);

afterAll(async () => {
  await browser?.close();
});

describe('Projects view', () => {
  it('creates a project and explains an empty script and speakers without a voice', async () => {
    await page.getByTestId('new-name').fill(NAME);
    await page.getByTestId('project-create').click();
    await page.getByTestId('editor').waitFor({ timeout: 30_000 });
    projectId = (await page.getByTestId('editor').getAttribute('data-id'))!;
    expect(projectId).toMatch(/^prj_/);
    expect((await stored())?.name).toBe(NAME);

    await page.getByTestId('script-add').click();
    expect(await page.getByTestId('script-error').textContent()).toMatch(/no lines/i);

    await page.getByTestId('script-input').fill(SCRIPT);
    expect(await page.getByTestId('script-count').textContent()).toContain('3 lines');
    await page.getByTestId('script-add').click();
    expect(await page.getByTestId('script-error').textContent()).toMatch(/Narrator.*no voice/);
    expect(await page.getByTestId('timeline-clip').count()).toBe(0);
  });

  it('gives each speaker a voice and lays the three lines out one after another', async () => {
    for (const [speaker, voice] of [
      ['Narrator', 'am_michael'],
      ['Anna', 'bf_emma'],
    ] as const) {
      const row = page.locator(`[data-testid=cast-row][data-speaker="${speaker}"]`);
      await row.getByTestId('cast-choose').click();
      await page.locator(`#cast-picker input[type=radio][value="${voice}"]`).check();
      await row.getByTestId('cast-choose').click(); // Done
      await expect.poll(async () => (await row.getByTestId('cast-voice').count()) > 0).toBe(true);
    }
    await saved();
    expect((await stored())?.cast).toEqual({ Narrator: 'am_michael', Anna: 'bf_emma' });

    await page.getByTestId('script-add').click();
    await expect.poll(() => page.getByTestId('timeline-clip').count()).toBe(3);
    const clips = await drawn();
    expect(clips.map((c) => c.text)).toEqual([
      expect.stringContaining('The door opened.'),
      expect.stringContaining('Hello there.'),
      expect.stringContaining('She smiled.'),
    ]);
    // Before the render the lengths are estimates, but each line still starts where the last one ends.
    for (let i = 1; i < 3; i++)
      expect(clips[i]!.start).toBeCloseTo(clips[i - 1]!.start + clips[i - 1]!.span + LINE_GAP, 5);
    // One track per speaker.
    const names = await page
      .getByTestId('track-name')
      .evaluateAll((els) => els.map((e) => (e as HTMLInputElement).value));
    expect(names).toEqual(['Narrator', 'Anna']);
    await saved();
    expect(clipsOf((await stored())!).length).toBe(3);
  });

  it('renders: progress, then a mixdown as long as the timeline with speech in every clip', async () => {
    await page.getByTestId('render').click();
    await page.getByTestId('render-progress').waitFor({ timeout: 30_000 });
    await idle();
    expect(await page.getByTestId('project-error').count()).toBe(0);
    await page.getByTestId('mix').waitFor({ timeout: 30_000 });
    await saved();
    const p = (await stored())!;
    const clips = clipsOf(p);
    // Measured now: every clip has its real length and still follows the one before.
    for (const c of clips) expect(c.source_duration).toBeGreaterThan(0.4);
    for (let i = 1; i < 3; i++)
      expect(clips[i]!.start).toBeCloseTo(clips[i - 1]!.start + clipSpan(clips[i - 1]!)! + LINE_GAP, 5);
    const mixDuration = Number(await page.getByTestId('mix').getAttribute('data-duration'));
    expect(Math.abs(mixDuration - timelineDuration(p))).toBeLessThan(1 / p.sample_rate + 1e-4);
  });

  it('moves a clip by drag and by keyboard; the stored start follows, the next line moves with it', async () => {
    const before = clipsOf((await stored())!);
    const second = before[1]!;
    const box = (await page.locator(`[data-testid=timeline-clip][data-id="${second.id}"]`).boundingBox())!;
    const pps = Number(await page.getByTestId('zoom').inputValue());
    // Drag one second to the right (snapped to the zoom's grid).
    await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
    await page.mouse.down();
    for (let i = 1; i <= 8; i++)
      await page.mouse.move(box.x + box.width / 2 + (pps * i) / 8, box.y + box.height / 2);
    await page.mouse.up();
    await saved();
    let after = (await stored())!;
    let moved = after.tracks.flatMap((t) => t.clips).find((c) => c.id === second.id)!;
    expect(moved.start).toBeCloseTo(snap(second.start + 1, gridFor(pps)), 5);
    expect(moved.after).toBeUndefined();
    const third = after.tracks.flatMap((t) => t.clips).find((c) => c.id === before[2]!.id)!;
    expect(third.start).toBeCloseTo(moved.start + clipSpan(moved)! + LINE_GAP, 5);

    // Keyboard: the focused clip moves one grid step left per arrow press.
    const from = moved.start;
    await page.locator(`[data-testid=timeline-clip][data-id="${second.id}"]`).focus();
    await page.keyboard.press('ArrowLeft');
    await page.keyboard.press('ArrowLeft');
    await saved();
    after = (await stored())!;
    moved = after.tracks.flatMap((t) => t.clips).find((c) => c.id === second.id)!;
    const step = gridFor(pps);
    expect(moved.start).toBeCloseTo(snap(snap(from - step, step) - step, step), 5);
    expect(moved.start).toBeLessThan(from);
    // The mixdown no longer matches the timeline.
    expect(await page.getByTestId('mix-stale').count()).toBe(1);
  });

  it('trims a clip by its edge, sets a fade in the inspector, and deletes a clip with Undo', async () => {
    const before = clipsOf((await stored())!);
    const last = before[2]!;
    const pps = Number(await page.getByTestId('zoom').inputValue());
    const edge = (await page
      .locator(`[data-testid=timeline-clip][data-id="${last.id}"] [data-testid=clip-trim-end]`)
      .boundingBox())!;
    const y = edge.y + edge.height / 2;
    await page.mouse.move(edge.x + edge.width / 2, y);
    await page.mouse.down();
    for (let i = 1; i <= 4; i++) await page.mouse.move(edge.x + edge.width / 2 - (pps * 0.3 * i) / 4, y);
    await page.mouse.up();
    await saved();
    let c = clipsOf((await stored())!).find((x) => x.id === last.id)!;
    const grid = gridFor(pps);
    expect(c.length).toBeCloseTo(snap(last.start + clipSpan(last)! - 0.3, grid) - last.start, 2);
    expect(c.start).toBe(last.start);

    await page.getByTestId('insp-fade-in').fill('0.2');
    await page.getByTestId('insp-fade-in').press('Enter');
    await saved();
    c = clipsOf((await stored())!).find((x) => x.id === last.id)!;
    expect(c.fade_in).toBe(0.2);

    await page.locator(`[data-testid=timeline-clip][data-id="${last.id}"]`).focus();
    await page.keyboard.press('Delete');
    await expect.poll(() => page.getByTestId('timeline-clip').count()).toBe(2);
    await saved();
    expect(clipsOf((await stored())!).some((x) => x.id === last.id)).toBe(false);
    await page.getByRole('button', { name: 'Undo' }).click();
    await expect.poll(() => page.getByTestId('timeline-clip').count()).toBe(3);
    await saved();
    const back = clipsOf((await stored())!).find((x) => x.id === last.id)!;
    expect(back).toMatchObject({ start: c.start, length: c.length, fade_in: 0.2 });
  });

  it('renders again from the cached speech and exports a WAV as long as the timeline', async () => {
    await page.getByTestId('render').click();
    await idle();
    await saved();
    const p = (await stored())!;
    const mixDuration = Number(await page.getByTestId('mix').getAttribute('data-duration'));
    expect(Math.abs(mixDuration - timelineDuration(p))).toBeLessThan(1 / p.sample_rate + 1e-4);

    await page.getByRole('button', { name: /Export mixdown/ }).click();
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.locator('[data-format=wav16]').click(),
    ]);
    expect(download.suggestedFilename()).toBe('radio-play.wav');
    const wav = decodeWav(new Uint8Array(await readFile((await download.path())!)));
    expect(wav.sampleRate).toBe(p.sample_rate);
    expect(Math.abs(wav.samples.length / wav.sampleRate - timelineDuration(p))).toBeLessThan(
      1.5 / p.sample_rate,
    );
    // Speech is heard inside every clip's span.
    for (const c of clipsOf(p)) {
      const a = Math.round(c.start * wav.sampleRate);
      const b = Math.round((c.start + clipSpan(c)!) * wav.sampleRate);
      let sum = 0;
      for (let i = a; i < b; i++) sum += wav.samples[i]! ** 2;
      expect(Math.sqrt(sum / (b - a))).toBeGreaterThan(0.01);
    }
  });

  it('plays the mixdown from the playhead with Space on a clip, and pauses with Space again', async () => {
    const timeline = page.getByTestId('timeline');
    const first = page.getByTestId('timeline-clip').first();
    await first.focus();
    await page.keyboard.press('Space');
    await expect.poll(() => timeline.getAttribute('data-playing'), { timeout: 20_000 }).toBe('true');
    await expect
      .poll(async () => Number(await timeline.getAttribute('data-playhead')), { timeout: 20_000 })
      .toBeGreaterThan(0.3);
    await page.keyboard.press('Space');
    await expect.poll(() => timeline.getAttribute('data-playing')).toBe('false');
    const at = Number(await timeline.getAttribute('data-playhead'));
    await page.waitForTimeout(300);
    // Paused: the playhead stays where it stopped.
    expect(Number(await timeline.getAttribute('data-playhead'))).toBe(at);
  });

  it('exports the clips as a zip, duplicates the project, and round-trips it through a project file', async () => {
    const p = (await stored())!;
    const [zip] = await Promise.all([page.waitForEvent('download'), page.getByTestId('export-zip').click()]);
    expect(zip.suggestedFilename()).toBe('radio-play-clips.zip');
    const names = zipNames(await readFile((await zip.path())!));
    expect(names).toEqual([
      expect.stringMatching(/^01 Narrator - The door opened.*\.wav$/),
      expect.stringMatching(/^02 Anna - Hello there.*\.wav$/),
      expect.stringMatching(/^03 Narrator - She smiled.*\.wav$/),
    ]);

    const item = page.locator(`[data-testid=project-item][data-id="${projectId}"]`);
    await item.getByTestId('project-duplicate').click();
    await expect.poll(() => page.getByTestId('project-item').count()).toBe(2);
    const copyName = await page.getByTestId('project-item').first().locator('strong').textContent();
    expect(copyName).toBe(`${NAME} (copy)`);

    const [file] = await Promise.all([
      page.waitForEvent('download'),
      item.getByTestId('project-export').click(),
    ]);
    const path = (await file.path())!;
    await page.getByTestId('project-import-file').setInputFiles({
      name: file.suggestedFilename(),
      mimeType: 'application/json',
      buffer: await readFile(path),
    });
    await expect.poll(() => page.getByTestId('project-item').count()).toBe(3);
    // The imported copy opens with its own id and the same clips, where they were.
    await expect.poll(async () => page.getByTestId('editor').getAttribute('data-id')).not.toBe(projectId);
    await expect.poll(() => page.getByTestId('timeline-clip').count()).toBe(3);
    expect((await drawn()).map((c) => c.start)).toEqual(clipsOf(p).map((c) => c.start));
    await item.getByTestId('project-open').click();
    await expect.poll(async () => page.getByTestId('editor').getAttribute('data-id')).toBe(projectId);
  });

  it('keeps the project across a reload, and deletes it with Undo', async () => {
    const before = (await stored())!;
    await page.reload();
    await page.waitForFunction(() => '__timbre' in globalThis);
    const item = page.locator(`[data-testid=project-item][data-id="${projectId}"]`);
    await item.waitFor({ timeout: 30_000 });
    await item.getByTestId('project-open').click();
    await expect.poll(() => page.getByTestId('timeline-clip').count()).toBe(3);
    const shown = await drawn();
    expect(shown.map((c) => c.start)).toEqual(clipsOf(before).map((c) => c.start));
    expect(await page.getByTestId('project-title').inputValue()).toBe(NAME);

    await item.getByTestId('project-delete').click();
    await item.waitFor({ state: 'detached', timeout: 10_000 });
    expect(await stored()).toBeUndefined();
    expect(await page.getByTestId('editor').count()).toBe(0);
    await page.getByRole('button', { name: 'Undo' }).click();
    await item.waitFor({ timeout: 10_000 });
    const back = (await stored())!;
    expect(back.name).toBe(NAME);
    expect(clipsOf(back).map((c) => c.start)).toEqual(clipsOf(before).map((c) => c.start));
  });
});
