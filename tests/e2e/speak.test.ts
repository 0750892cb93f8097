// The Speak view driven as a person would: text, a voice found by searching, Generate; the first sentence
// is scheduled on the AudioContext before generation ends, the waveform draws, the history keeps the
// generation, WAV downloads decode to the right length, Stop cancels, delete has Undo, previews are cached.
import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { launch, openStudio } from './browser';
import { decodeWav } from '../../src/lib/dsp/wav';

let browser: Browser;
let context: BrowserContext;
let page: Page;

interface Start {
  t: number;
  when: number;
  ctxNow: number;
  duration: number;
}

type Probe = {
  __starts: Start[];
  __ctx?: BaseAudioContext;
  __ttsRuns: number;
  __resultAt?: { t: number; ctx: number };
  /** Sentences highlighted as being spoken, in the order the highlight moved. */
  __spoken: number[];
  /** The status line's texts during a generation. */
  __stages: string[];
};

beforeAll(async () => {
  // Headless Chromium would otherwise keep an AudioContext made outside a gesture suspended.
  browser = await launch(['--autoplay-policy=no-user-gesture-required']);
  context = await browser.newContext({ acceptDownloads: true });
  // Record every buffer started on an AudioContext: when (page clock), for when (audio clock), how long.
  await context.addInitScript(() => {
    const g = globalThis as unknown as Probe;
    g.__starts = [];
    const start = AudioBufferSourceNode.prototype.start;
    AudioBufferSourceNode.prototype.start = function (this: AudioBufferSourceNode, when?: number) {
      g.__ctx = this.context;
      g.__starts.push({
        t: performance.now(),
        when: when ?? this.context.currentTime,
        ctxNow: this.context.currentTime,
        duration: this.buffer?.duration ?? 0,
      });
      return start.call(this, when);
    } as typeof start;
  });
  page = await openStudio(context, '#/speak');
  // Count the engine's speech jobs (previews must come from the cache the second time).
  await page.evaluate(() => {
    const g = globalThis as unknown as Probe & {
      __timbre: { engine: { run: (op: string, ...rest: unknown[]) => Promise<unknown> } };
    };
    g.__ttsRuns = 0;
    const engine = g.__timbre.engine;
    const run = engine.run.bind(engine);
    engine.run = (op, ...rest) => {
      if (op === 'tts.generate') g.__ttsRuns++;
      return run(op, ...rest);
    };
  });
});
afterAll(async () => {
  await browser?.close();
});

const status = () => page.getAttribute('[data-testid=speak-status]', 'data-status');
const historyItems = () => page.locator('[data-testid=history] > li');

async function pickVoice(search: string, name: string) {
  await page.fill('[data-testid=voice-search]', search);
  await page.getByRole('radio', { name: new RegExp(`^${name}\\b`) }).check();
}

describe('Speak view', () => {
  it('says the model is missing with a link to Models, then speaks once it is installed', async () => {
    await page.fill('#speak-text', 'Hello there.');
    await page.click('[data-testid=generate]');
    const err = page.locator('[data-testid=speak-error]');
    await err.waitFor({ timeout: 60_000 });
    expect(await err.textContent()).toMatch(/not installed/i);
    expect(await err.locator('a').getAttribute('href')).toBe('#/models');

    await page.evaluate(() =>
      (
        globalThis as unknown as { __timbre: { models: { install(id: string): Promise<unknown> } } }
      ).__timbre.models.install('kokoro-82m-q8'),
    );
  }, 600_000);

  it('streams the first sentence before the rest is made, then shows the waveform and keeps it in the history', async () => {
    const text = 'The sun is up. Birds are singing in the garden. It is a good day.';
    await page.fill('#speak-text', text);
    // The sentence list follows the text as it is typed, split as the engine splits it.
    await expect
      .poll(() => page.locator('[data-testid=chunks] li').allTextContents())
      .toEqual([
        expect.stringContaining('The sun is up.'),
        expect.stringContaining('Birds are singing in the garden.'),
        expect.stringContaining('It is a good day.'),
      ]);
    expect(await page.textContent('[data-testid=char-count]')).toContain(`${text.length} / 5,000`);

    await pickVoice('british female', 'Emma');
    expect(await page.getByRole('radio', { name: /^Emma\b/ }).isChecked()).toBe(true);

    // When the result appears (= generation finished), note both clocks.
    await page.evaluate(() => {
      const g = globalThis as unknown as Probe;
      g.__starts.length = 0;
      g.__resultAt = undefined;
      const seen = new MutationObserver(() => {
        if (document.querySelector('[data-testid=result]') && !g.__resultAt) {
          g.__resultAt = { t: performance.now(), ctx: g.__ctx?.currentTime ?? -1 };
          seen.disconnect();
        }
      });
      seen.observe(document.body, { childList: true, subtree: true });
      g.__spoken = [];
      const follow = new MutationObserver(() => {
        const on = document.querySelector('[data-testid=chunks] li[aria-current=true]');
        const i = on ? Number(on.getAttribute('data-index')) : -1;
        if (i >= 0 && g.__spoken.at(-1) !== i) g.__spoken.push(i);
      });
      follow.observe(document.body, { attributes: true, subtree: true, attributeFilter: ['aria-current'] });
      // What the status line says while this generation runs.
      g.__stages = [];
      const said = new MutationObserver(() => {
        const t = document.querySelector('[data-testid=speak-status] span')?.textContent ?? '';
        if (t && g.__stages.at(-1) !== t) g.__stages.push(t);
      });
      said.observe(document.body, { childList: true, subtree: true, characterData: true });
    });
    const before = await historyItems().count();
    // The view made Kokoro's session after the install (tts.prepare, 1.5 s after models changed, while the
    // text was typed), so this first generation never waits for the model to load.
    await page.waitForTimeout(2000);
    await page.click('[data-testid=generate]');
    expect(await status()).toBe('generating');
    await page.locator('[data-testid=result]').waitFor({ timeout: 300_000 });

    const probe = await page.evaluate(() => {
      const g = globalThis as unknown as Probe;
      return { starts: g.__starts, resultAt: g.__resultAt!, stages: g.__stages };
    });
    expect(probe.stages.length).toBeGreaterThan(0);
    expect(probe.stages.filter((t) => /Loading the speech model/.test(t))).toEqual([]);
    // One buffer per run: a sentence each (the engine may cut the first sentence in two for early audio).
    expect(probe.starts.length).toBeGreaterThanOrEqual(3);
    const [first] = probe.starts;
    // The first sentence was scheduled, and had started playing, before the last one was made.
    expect(first!.t).toBeLessThan(probe.resultAt.t);
    expect(first!.when).toBeLessThan(probe.resultAt.ctx);
    // Gapless: each later piece starts where the one before ends, or later if it came late.
    for (let i = 1; i < probe.starts.length; i++) {
      const prev = probe.starts[i - 1]!;
      expect(probe.starts[i]!.when).toBeGreaterThanOrEqual(prev.when + prev.duration - 1e-6);
    }
    const duration = Number(await page.getAttribute('[data-testid=result]', 'data-duration'));
    const scheduled = probe.starts.reduce((n, s) => n + s.duration, 0);
    expect(scheduled).toBeCloseTo(duration, 2);
    expect(duration).toBeGreaterThan(2);
    const firstMs = Number(await page.getAttribute('[data-testid=result]', 'data-first-audio-ms'));
    const madeMs = Number(await page.getAttribute('[data-testid=result]', 'data-elapsed-ms'));
    console.log(
      `Speak: ${duration.toFixed(2)} s of audio, first audio after ${(firstMs / 1000).toFixed(1)} s, made in ${(madeMs / 1000).toFixed(1)} s`,
    );

    // The waveform is drawn in wavesurfer's shadow DOM.
    await expect
      .poll(
        () =>
          page.evaluate(() => {
            const host = document.querySelector('[data-testid=waveform]');
            const shadow = host?.querySelector('div')?.shadowRoot;
            const canvas = shadow?.querySelector('canvas');
            return canvas ? canvas.getBoundingClientRect().width * canvas.width : 0;
          }),
        { timeout: 20_000 },
      )
      .toBeGreaterThan(0);

    // The history has it, with the text and the voice.
    await expect.poll(() => historyItems().count(), { timeout: 10_000 }).toBe(before + 1);
    const entry = historyItems().first();
    expect(await entry.locator('.text').textContent()).toBe(text);
    expect(await entry.locator('.voice').textContent()).toBe('Emma');
    const stored = await page.evaluate(async () => {
      const t = (
        globalThis as unknown as {
          __timbre: {
            history: {
              list(): Promise<{
                items: { voice: string; source: string; duration: number; chunks?: { start: number }[] }[];
              }>;
            };
          };
        }
      ).__timbre;
      return (await t.history.list()).items[0]!;
    });
    expect(stored).toMatchObject({ voice: 'bf_emma', source: 'studio' });
    expect(stored.duration).toBeCloseTo(duration, 3);
    // With each sentence's span, so a replay from the history follows the sentences too.
    expect(stored.chunks).toHaveLength(3);
    for (let i = 1; i < 3; i++)
      expect(stored.chunks![i]!.start).toBeGreaterThan(stored.chunks![i - 1]!.start);

    // Download WAV (16-bit) from the result: a file that decodes to the result's length.
    await page.locator('[data-testid=result] .dl > button').click();
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.click('[data-testid=result] [data-format=wav16]'),
    ]);
    expect(download.suggestedFilename()).toBe('the-sun-is-up-birds.wav');
    const wav = decodeWav(new Uint8Array(await readFile((await download.path())!)));
    expect(wav.sampleRate).toBe(24000);
    expect(wav.format).toBe('s16');
    expect(wav.samples.length / wav.sampleRate).toBeCloseTo(duration, 3);
    const rms = Math.sqrt(wav.samples.reduce((n, x) => n + x * x, 0) / wav.samples.length);
    expect(rms).toBeGreaterThan(0.01);

    // The highlight followed the voice through the sentences, in order, once the stream had played out.
    await expect
      .poll(() => page.evaluate(() => (globalThis as unknown as Probe).__spoken), { timeout: 30_000 })
      .toEqual([0, 1, 2]);

    // MP3 goes through ffmpeg.wasm (the formats worker) and has the result's length.
    await page.locator('[data-testid=result] .dl > button').click();
    const [mp3] = await Promise.all([
      page.waitForEvent('download'),
      page.click('[data-testid=result] [data-format=mp3]'),
    ]);
    expect(mp3.suggestedFilename()).toBe('the-sun-is-up-birds.mp3');
    const mp3Bytes = [...(await readFile((await mp3.path())!))];
    const probed = await page.evaluate(async (bytes) => {
      const t = (
        globalThis as unknown as {
          __timbre: { formats: { probe(b: Uint8Array): Promise<{ codec: string; duration: number }> } };
        }
      ).__timbre;
      return t.formats.probe(new Uint8Array(bytes));
    }, mp3Bytes);
    expect(probed.codec).toBe('mp3');
    expect(Math.abs(probed.duration - duration)).toBeLessThan(0.15);
  }, 600_000);

  it('stops a long generation at once, keeps nothing, and generates again straight away', async () => {
    await page.fill(
      '#speak-text',
      'One sentence comes first. Then another one follows it. A third keeps going. ' +
        'The fourth is here too. And a fifth, to be sure. Finally, the sixth sentence ends it.',
    );
    const before = await historyItems().count();
    const startsBefore = await page.evaluate(() => (globalThis as unknown as Probe).__starts.length);
    await page.click('[data-testid=generate]');
    // Wait for the first sentence to play, so Stop interrupts real work.
    await page.waitForFunction((n) => (globalThis as unknown as Probe).__starts.length > n, startsBefore, {
      timeout: 300_000,
    });
    // Timed in the page, from the click to the view saying idle and to the engine having no job.
    await page.evaluate(() => {
      const g = globalThis as unknown as {
        __stopTiming?: Promise<{ idleMs: number; engineMs: number }>;
        __timbre: { engine: { state: { running: number } } };
      };
      g.__stopTiming = new Promise((resolve) => {
        const stop = document.querySelector('[data-testid=stop]')!;
        const onClick = () => {
          const t0 = performance.now();
          let idleMs = -1;
          const check = () => {
            const st = document.querySelector('[data-testid=speak-status]')?.getAttribute('data-status');
            if (idleMs < 0 && st === 'idle') idleMs = performance.now() - t0;
            if (idleMs >= 0 && g.__timbre.engine.state.running === 0)
              resolve({ idleMs, engineMs: performance.now() - t0 });
            else setTimeout(check, 5);
          };
          setTimeout(check, 0);
        };
        stop.addEventListener('click', onClick, { capture: true, once: true });
      });
    });
    await page.click('[data-testid=stop]');
    const timing = await page.evaluate(
      () =>
        (globalThis as unknown as { __stopTiming: Promise<{ idleMs: number; engineMs: number }> })
          .__stopTiming,
    );
    console.log(
      `Stop: idle after ${timing.idleMs.toFixed(0)} ms, engine free after ${timing.engineMs.toFixed(0)} ms`,
    );
    expect(timing.idleMs).toBeLessThan(500);
    expect(timing.engineMs).toBeLessThan(1000);
    expect(await page.locator('[data-testid=result]').count()).toBe(0);

    // Generate again at once (the cancelled job's worker may still be stopping): it speaks, and only it
    // reaches the history; the stopped text never does.
    await page.fill('#speak-text', 'Back again.');
    await page.click('[data-testid=generate]');
    await page.locator('[data-testid=result]').waitFor({ timeout: 300_000 });
    await expect.poll(() => historyItems().count(), { timeout: 10_000 }).toBe(before + 1);
    expect(await historyItems().first().locator('.text').textContent()).toBe('Back again.');
    expect(await historyItems().filter({ hasText: 'One sentence comes first' }).count()).toBe(0);
    expect(await status()).toBe('idle');
  }, 600_000);

  it('deletes a history entry and brings it back with Undo', async () => {
    const n = await historyItems().count();
    const first = historyItems().first();
    const text = await first.locator('.text').textContent();
    await first.getByRole('button', { name: 'Delete' }).click();
    await expect.poll(() => historyItems().count()).toBe(n - 1);
    await page.getByRole('button', { name: 'Undo' }).click();
    await expect.poll(() => historyItems().count()).toBe(n);
    expect(await historyItems().first().locator('.text').textContent()).toBe(text);
  });

  it('makes a voice preview once, keeps it, and plays it from the store the second time', async () => {
    await pickVoice('george', 'George');
    const runs0 = await page.evaluate(() => (globalThis as unknown as Probe).__ttsRuns);
    const starts0 = await page.evaluate(() => (globalThis as unknown as Probe).__starts.length);
    const button = page.getByRole('button', { name: 'Preview George' });
    await button.click();
    await page.waitForFunction((n) => (globalThis as unknown as Probe).__starts.length > n, starts0, {
      timeout: 120_000,
    });
    // The sample plays run by run as it is made, and is kept once it is whole.
    const kept = () =>
      page.evaluate(async () => {
        const t = (
          globalThis as unknown as {
            __timbre: { previews: { get(id: string): Promise<{ audio: ArrayBuffer } | undefined> } };
          }
        ).__timbre;
        return (await t.previews.get('bm_george'))?.audio.byteLength ?? 0;
      });
    await expect.poll(kept, { timeout: 120_000 }).toBeGreaterThan(44 + 24000); // a WAV of more than half a second
    expect(await page.evaluate(() => (globalThis as unknown as Probe).__ttsRuns)).toBe(runs0 + 1);

    // Once it has played, play it again: from the store, no engine job.
    await page.getByRole('button', { name: 'Preview George' }).waitFor({ timeout: 30_000 });
    const starts1 = await page.evaluate(() => (globalThis as unknown as Probe).__starts.length);
    await page.getByRole('button', { name: 'Preview George' }).click();
    await page.waitForFunction((n) => (globalThis as unknown as Probe).__starts.length > n, starts1);
    expect(await page.evaluate(() => (globalThis as unknown as Probe).__ttsRuns)).toBe(runs0 + 1);
  }, 300_000);

  it('saves a mix and a designed voice in the library, each then chosen for speech', async () => {
    await page.fill('[data-testid=voice-search]', 'e2e');
    await page.locator('details.mixer > summary').click();
    const rows = page.locator('details.mixer ol li');
    await rows.nth(0).locator('select').selectOption('af_heart');
    await rows.nth(1).locator('select').selectOption('bm_george');
    await rows.nth(0).locator('input[type=range]').fill('30');
    await rows.nth(1).locator('input[type=range]').fill('10');
    expect(await page.textContent('[data-testid=mix-formula]')).toBe('af_heart*0.75 + bm_george*0.25');
    await page.locator('details.mixer').getByLabel('Name').fill('E2E blend');
    await page.locator('details.mixer').getByRole('button', { name: 'Save to library' }).click();
    const mixed = page.getByRole('radio', { name: /^E2E blend\b/ });
    await mixed.waitFor();
    expect(await mixed.isChecked()).toBe(true);
    const stored = await page.evaluate(async () => {
      const t = (
        globalThis as unknown as {
          __timbre: {
            voices: { query(q: unknown): Promise<{ voices: { kind: string; recipe?: unknown }[] }> };
          };
        }
      ).__timbre;
      return (await t.voices.query({ q: 'E2E blend' })).voices;
    });
    expect(stored).toEqual([
      expect.objectContaining({ kind: 'mixed', recipe: { formula: 'af_heart*0.75 + bm_george*0.25' } }),
    ]);

    await page.locator('details.design > summary').click();
    // (Described in terms the measured American presets cover: their traits are measured first.)
    await page.fill('#design-text', 'a calm American woman, slow and soft');
    await page.getByRole('button', { name: 'Design voice' }).click();
    const found = page.locator('[data-testid=design-result]');
    await found.waitFor();
    expect(await found.textContent()).toMatch(/af_\w+\*/); // American female presets in the blend
    await found.getByLabel('Name').fill('E2E narrator');
    await found.getByRole('button', { name: 'Save to library' }).click();
    const designed = page.getByRole('radio', { name: /^E2E narrator\b/ });
    await designed.waitFor();
    expect(await designed.isChecked()).toBe(true);
    // "slow": the design's speed is below 1 and the speed slider took it.
    const speed = Number(await page.locator('.controls input[type=range]').first().inputValue());
    expect(speed).toBeLessThan(1);
  });

  it('re-generates a history entry with its text and voice', async () => {
    const n = await historyItems().count();
    const entry = historyItems().filter({ hasText: 'Back again.' }).first();
    await page.fill('[data-testid=voice-search]', '');
    await entry.getByRole('button', { name: 'Re-generate' }).click();
    expect(await page.inputValue('#speak-text')).toBe('Back again.');
    expect(await page.getByRole('radio', { name: /^Emma\b/ }).isChecked()).toBe(true);
    await expect.poll(() => historyItems().count(), { timeout: 300_000, interval: 1000 }).toBe(n + 1);
    expect(await historyItems().first().locator('.text').textContent()).toBe('Back again.');
    expect(await historyItems().first().locator('.voice').textContent()).toBe('Emma');
    if (process.env.SPEAK_SCREENSHOT)
      await page.screenshot({ path: process.env.SPEAK_SCREENSHOT, fullPage: true });
  }, 600_000);
});
