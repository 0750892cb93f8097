// The first minutes of a new user (#21): the landing page shows the first-start install and what is usable
// already; Speak speaks the first sentence while the text is typed, and Generate then plays those very
// samples without making them again; a voice preview says what it waits for.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { launch, openStudio } from './browser';

let browser: Browser;

interface Job {
  op: string;
  /** Per streamed run of a tts.generate: whether its audio was made ahead. */
  ahead: boolean[];
  ended: boolean;
}

type Probe = {
  __jobs: Job[];
  __timbre: {
    engine: {
      run: (op: string, args: unknown, opts?: { onProgress?: (p: unknown) => void }) => Promise<unknown>;
      state: { running: number; queued: number };
    };
    models: { install(id: string): Promise<unknown> };
    history: {
      list(o: { limit: number }): Promise<{ items: { id: string }[] }>;
      get(id: string): Promise<{ audio: ArrayBuffer; text: string }>;
    };
  };
};

/** Records every engine job of the page: its operation, and for speech the runs made ahead. */
async function recordJobs(page: Page) {
  await page.evaluate(() => {
    const g = globalThis as unknown as Probe;
    g.__jobs = [];
    const engine = g.__timbre.engine;
    const run = engine.run.bind(engine);
    engine.run = (op, args, opts = {}) => {
      const job: Job = { op, ahead: [], ended: false };
      g.__jobs.push(job);
      const onProgress = opts.onProgress;
      const watched = {
        ...opts,
        onProgress: (p: unknown) => {
          const d = (p as { stage?: string; data?: { ahead?: boolean } }).data;
          if ((p as { stage?: string }).stage === 'chunk' && d) job.ahead.push(d.ahead === true);
          onProgress?.(p);
        },
      };
      const out = run(op, args, onProgress || op === 'tts.generate' ? watched : opts);
      void out.finally(() => (job.ended = true)).catch(() => undefined);
      return out;
    };
  });
}

const jobs = (page: Page) => page.evaluate(() => (globalThis as unknown as Probe).__jobs);

/** The audio of the newest history entry (the generation just made), as its WAV bytes. */
function newestAudio(page: Page): Promise<number[]> {
  return page.evaluate(async () => {
    const h = (globalThis as unknown as Probe).__timbre.history;
    const id = (await h.list({ limit: 1 })).items[0]!.id;
    return [...new Uint8Array((await h.get(id)).audio)];
  });
}

beforeAll(async () => {
  browser = await launch(['--autoplay-policy=no-user-gesture-required']);
});
afterAll(async () => {
  await browser?.close();
});

describe('Speak: the first sentence is spoken while the text is typed', () => {
  let context: BrowserContext;
  let page: Page;
  beforeAll(async () => {
    context = await browser.newContext();
    page = await openStudio(context, '#/speak');
    await page.evaluate(() => (globalThis as unknown as Probe).__timbre.models.install('kokoro-82m-q8'));
    await recordJobs(page);
  }, 600_000);
  afterAll(async () => {
    await context?.close();
  });

  it('plays the samples an unspeculated Generate makes, without making the first sentence again', async () => {
    const text = 'Timbre speaks while you type, and you hear it. The rest follows.';
    // Typed and generated at once (before the typing pause ends): nothing is spoken ahead.
    await page.fill('#speak-text', text);
    await page.click('[data-testid=generate]');
    await page.locator('[data-testid=result]').waitFor({ timeout: 600_000 });
    const plain = (await jobs(page)).filter((j) => j.op === 'tts.generate');
    expect(plain).toHaveLength(1);
    expect(plain[0]!.ahead.length).toBeGreaterThanOrEqual(3); // head and tail of sentence 1, sentence 2
    expect(plain[0]!.ahead.every((a) => !a)).toBe(true);
    const unspeculated = await newestAudio(page);

    // Left as it is, the view speaks the first sentence ahead (both of its runs) once the engine is idle.
    await expect
      .poll(
        async () => {
          const ahead = (await jobs(page)).filter((j) => j.op === 'tts.ahead');
          return ahead.length >= 2 && ahead.every((j) => j.ended);
        },
        { timeout: 600_000, interval: 500 },
      )
      .toBe(true);
    const aheadCalls = (await jobs(page)).filter((j) => j.op === 'tts.ahead').length;

    await page.click('[data-testid=generate]');
    await expect
      .poll(async () => (await jobs(page)).filter((j) => j.op === 'tts.generate' && j.ended).length, {
        timeout: 600_000,
      })
      .toBe(2);
    await page.locator('[data-testid=result]').waitFor({ timeout: 60_000 });
    const sped = (await jobs(page)).filter((j) => j.op === 'tts.generate')[1]!;
    // The first sentence's two runs came from what was spoken ahead; the model made only the rest.
    expect(sped.ahead).toEqual([true, true, ...plain[0]!.ahead.slice(2)]);
    // No more speaking ahead was started by Generate.
    expect((await jobs(page)).filter((j) => j.op === 'tts.ahead').length).toBe(aheadCalls);
    // The same samples, byte for byte, as the generation with nothing ahead.
    await expect
      .poll(async () => (await newestAudio(page)).length, { timeout: 30_000 })
      .toBe(unspeculated.length);
    const speculated = await newestAudio(page);
    expect(speculated.length).toBe(unspeculated.length);
    expect(speculated.every((b, i) => b === unspeculated[i])).toBe(true);
  }, 1_500_000);
});

describe('Voice preview', () => {
  it('says "Loading the voice model…" when the model is cold, and what it waits for behind another job', async () => {
    const context = await browser.newContext();
    try {
      // Kokoro installed from another view, so the Speak view has not warmed it when ▶ is pressed.
      const page = await openStudio(context, '#/models');
      await page.evaluate(() => (globalThis as unknown as Probe).__timbre.models.install('kokoro-82m-q8'));
      await recordJobs(page);
      await page.evaluate(() => (location.hash = '#/speak'));
      await page.getByRole('button', { name: 'Preview Emma' }).click();
      const note = page.locator('[data-testid=preview-status]');
      await expect
        .poll(() => note.textContent(), { timeout: 60_000 })
        .toMatch(/Emma: Loading the voice model…/);
      // It plays as soon as its first run is made, and the note goes then.
      await note.waitFor({ state: 'detached', timeout: 600_000 });
      expect((await jobs(page)).some((j) => j.op === 'tts.generate' && j.ahead.length > 0)).toBe(true);
      await expect
        .poll(async () => (await jobs(page)).every((j) => j.ended), { timeout: 600_000 })
        .toBe(true);

      // Behind a generation: it says so, instead of a bare "…".
      await page.fill(
        '#speak-text',
        'One. Two. Three. Four. Five. Six. Seven. Eight. Nine. Ten. Eleven. Twelve.',
      );
      await page.click('[data-testid=generate]');
      await page.getByRole('button', { name: 'Preview George' }).click();
      await expect
        .poll(() => note.textContent(), { timeout: 60_000 })
        .toMatch(/George: Waiting for a speech generation to finish…/);
      await page.getByRole('button', { name: 'Stop preview of George' }).click();
      await page.click('[data-testid=stop]');
    } finally {
      await context.close();
    }
  }, 1_500_000);
});

describe('Landing page during the first start', () => {
  it('shows the install (file, MB, speed, time left) and what is usable already; the panel goes when done', async () => {
    const context = await browser.newContext();
    try {
      const page = await openStudio(context, '', { autoInstallModels: true });
      const panel = page.getByTestId('first-install');
      await panel.waitFor({ timeout: 60_000 });
      expect(await panel.getByRole('heading').textContent()).toBe('Installing the bundled models');
      await expect.poll(() => panel.getByTestId('first-install-file').textContent()).toMatch(/\(\d of 4\)/);
      await expect
        .poll(() => panel.getByTestId('first-install-bytes').textContent(), { timeout: 60_000 })
        .toMatch(/MB of \d+(\.\d)? MB · .*\/s/);
      // Speech is usable once Kokoro is in, before the transcription models are.
      await expect
        .poll(() => panel.getByTestId('first-install-usable').textContent(), { timeout: 900_000 })
        .toMatch(/Usable already: Speak/);
      await panel.waitFor({ state: 'detached', timeout: 1_800_000 });
    } finally {
      await context.close();
    }
  }, 2_400_000);
});
