// The Clone view driven as a person would: the converter installs from a local server laid out like the
// official release (the tiny fixture), the fixture's reference is dropped as a sample and shows a
// waveform with a region, the quality report appears, the voice is saved and found in the Voices view,
// source.wav converts to audio of its own length, and Chromium's fake microphone records a sample while
// the level meter moves. The Models view shows the built converter, links to Clone, and deletes it.
import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { FAKE_MEDIA, launch, openStudio } from './browser';
import { serveRelease, type ReleaseServer } from './release-server';
import { decodeWav } from '../../src/lib/dsp/wav';

const FIXTURE = 'tests/fixtures/openvoice-v2-tiny';

let browser: Browser;
let context: BrowserContext;
let page: Page;
let release: ReleaseServer;

/** Drops files on an element the way a drag from the desktop does (a DataTransfer with File objects). */
async function drop(p: Page, testId: string, files: { name: string; type: string; bytes: Buffer }[]) {
  await p.evaluate(
    ({ testId, files }) => {
      const dt = new DataTransfer();
      for (const f of files)
        dt.items.add(
          new File([Uint8Array.from(atob(f.b64), (c) => c.charCodeAt(0))], f.name, { type: f.type }),
        );
      const el = document.querySelector(`[data-testid="${testId}"]`)!;
      el.dispatchEvent(new DragEvent('dragover', { dataTransfer: dt, bubbles: true, cancelable: true }));
      el.dispatchEvent(new DragEvent('drop', { dataTransfer: dt, bubbles: true, cancelable: true }));
    },
    { testId, files: files.map((f) => ({ name: f.name, type: f.type, b64: f.bytes.toString('base64') })) },
  );
}

beforeAll(async () => {
  release = await serveRelease(FIXTURE);
  browser = await launch([...FAKE_MEDIA, '--autoplay-policy=no-user-gesture-required']);
  context = await browser.newContext({ acceptDownloads: true });
  page = await openStudio(context, '#/clone');
});

afterAll(async () => {
  await browser?.close();
  await release?.close();
});

describe('Clone view', () => {
  it('is in the navigation after Speak and explains the converter until it is installed', async () => {
    const nav = await page.locator('nav[aria-label="Main"] li a').allTextContents();
    expect(nav.indexOf('Clone')).toBe(nav.indexOf('Speak') + 1);
    const panel = page.getByTestId('clone-install');
    await panel.waitFor();
    expect(await panel.textContent()).toContain('131 MB');
    expect(await page.getByTestId('release-url').inputValue()).toBe(
      'https://huggingface.co/myshell-ai/OpenVoiceV2/resolve/main/',
    );
  });

  it('with no network, Install from the release says the site could not be reached and offers the import', async () => {
    await context.setOffline(true);
    try {
      await page.getByTestId('install-url').click();
      const error = page.getByTestId('install-error');
      await error.waitFor({ timeout: 60_000 });
      const text = (await error.textContent())!;
      expect(text).toMatch(/huggingface\.co could not be reached/);
      expect(text).toMatch(/Install from files/);
      expect(text).not.toMatch(/No converter\/config\.json/);
      expect(await page.getByTestId('install-files').isVisible()).toBe(true);
    } finally {
      await context.setOffline(false);
    }
  });

  it('says plainly when the release URL serves nothing', async () => {
    await page.getByTestId('release-url').fill(`${release.url}nothing-here/`);
    await page.getByTestId('install-url').click();
    await page.getByTestId('install-error').waitFor({ timeout: 60_000 });
    expect((await page.getByTestId('install-error').textContent())!.length).toBeGreaterThan(10);
    expect(await page.getByTestId('converter-installed').count()).toBe(0);
  });

  it('installs the converter from the release URL', async () => {
    await page.getByTestId('release-url').fill(release.url);
    await page.getByTestId('install-url').click();
    await page.getByTestId('converter-installed').waitFor({ timeout: 150_000 });
    expect(release.hits).toBe(2);
    expect(await page.getByTestId('clone-install').count()).toBe(0);
    // The fixture is not the published converter: it installs, and says so.
    expect(await page.getByTestId('weights-note').textContent()).toMatch(/not the published weights/);
    // Kokoro is not installed yet, so there was no speech to make the int8 variant from: full precision only.
    expect(await page.getByTestId('precision').count()).toBe(0);
  }, 180_000);

  it('shows the built converter in the Models view, with a link to the Clone view', async () => {
    await page.locator('nav[aria-label="Main"] a', { hasText: 'Models' }).click();
    const card = page.locator('[data-model-id="openvoice-v2-converter"]');
    await card.waitFor();
    const status = card.getByTestId('model-status');
    await expect.poll(() => status.textContent()).toContain('Installed · OpenVoice v2');
    // What the engine built from the release, not the catalogue's files: the graphs, the rate, the tone size.
    expect(await status.textContent()).toMatch(/ · [\d.]+ (kB|MB) of ONNX graphs built on\s+this device/);
    expect(await status.textContent()).toContain('22050 Hz, 256-value tone embeddings');
    const link = card.getByTestId('converter-link').locator('a');
    expect(await link.textContent()).toBe('Open the Clone view');
    await link.click();
    await page.getByTestId('converter-installed').waitFor();
    expect(page.url()).toMatch(/#\/clone$/);
  });

  it('takes a dropped sample, reports its quality and saves the voice into the library', async () => {
    const wav = await readFile(`${FIXTURE}/reference.wav`);
    const ref = decodeWav(new Uint8Array(wav));
    await drop(page, 'sample-drop', [{ name: 'reference.wav', type: 'audio/wav', bytes: wav }]);
    const sample = page.getByTestId('sample').first();
    await sample.waitFor();
    // Decoded at the converter's rate: the whole file, chosen whole.
    const duration = Number(await sample.getAttribute('data-duration'));
    expect(duration).toBeCloseTo(ref.samples.length / ref.sampleRate, 1);
    expect(Number(await page.getByTestId('region-end').inputValue())).toBeCloseTo(duration, 1);

    // Under 3 s of speech chosen: the engine's message, no report and nothing to save.
    await page.getByTestId('region-end').fill('2');
    await page.getByTestId('region-end').press('Enter');
    await page.getByTestId('region-end').blur();
    await expect.poll(() => page.getByTestId('chosen-seconds').textContent()).toContain('2.0 s chosen');
    await page.getByTestId('analyse').click();
    await page.getByTestId('extract-error').waitFor({ timeout: 120_000 });
    expect(await page.getByTestId('extract-error').textContent()).toMatch(/speech/i);
    expect(await page.getByTestId('save-voice').count()).toBe(0);
    // The whole sample again.
    await page.getByTestId('region-end').fill(String(duration));
    await page.getByTestId('region-end').press('Enter');
    await page.getByTestId('region-end').blur();
    await expect
      .poll(async () => Number(await page.getByTestId('region-end').inputValue()))
      .toBeCloseTo(duration, 1);

    await page.getByTestId('analyse').click();
    const report = page.getByTestId('quality-report').or(page.getByTestId('extract-error'));
    await report.first().waitFor({ timeout: 120_000 });
    expect(await page.getByTestId('extract-error').count()).toBe(0);
    const text = (await page.getByTestId('quality-report').textContent()) ?? '';
    expect(text).toMatch(/Speech\s*[\d.]+ s of [\d.]+ s/);
    expect(await page.getByTestId('quality-report').getAttribute('data-level')).not.toBe('error');

    await page.getByTestId('voice-name').fill('Fixture Speaker');
    await page.getByTestId('save-voice').click();
    await page.getByTestId('target-voice').waitFor();
    const cloned = () =>
      page.evaluate(async () => {
        const studio = (
          globalThis as unknown as {
            __timbre: {
              voices: {
                query(q: unknown): Promise<{
                  voices: {
                    name: string;
                    kind: string;
                    embedding?: number[];
                    samples: { duration: number }[];
                  }[];
                }>;
              };
            };
          }
        ).__timbre;
        const { voices } = await studio.voices.query({ kind: 'cloned' });
        return voices.map((v) => ({
          name: v.name,
          kind: v.kind,
          dim: v.embedding?.length,
          samples: v.samples.length,
          seconds: v.samples.reduce((a, x) => a + x.duration, 0),
        }));
      });
    // "Keep recordings" was not ticked: the embedding only.
    expect(await cloned()).toEqual([
      { name: 'Fixture Speaker', kind: 'cloned', dim: 256, samples: 0, seconds: 0 },
    ]);
    // Ticked: the chosen part of the sample is kept with a second voice.
    await page.getByTestId('keep-recordings').check();
    await page.getByTestId('voice-name').fill('Fixture Speaker kept');
    await page.getByTestId('save-voice').click();
    await expect.poll(async () => (await cloned()).length).toBe(2);
    const kept = (await cloned()).find((v) => v.name === 'Fixture Speaker kept')!;
    expect(kept.samples).toBe(1);
    expect(kept.seconds).toBeCloseTo(duration, 1);

    await page.goto(page.url().replace(/#.*$/, '#/voices'));
    await page.getByText('Fixture Speaker').first().waitFor();
    await page.goto(page.url().replace(/#.*$/, '#/clone'));
  }, 180_000);

  it('converts source.wav into the voice, streamed, with the source length', async () => {
    await page.getByTestId('target-voice').waitFor();
    const wav = await readFile(`${FIXTURE}/source.wav`);
    const src = decodeWav(new Uint8Array(wav));
    await page.getByTestId('source-file').setInputFiles(`${FIXTURE}/source.wav`);
    await page.getByTestId('source').waitFor();
    await page.getByTestId('convert').click();
    const out = page.getByTestId('converted').or(page.getByTestId('convert-error'));
    await out.first().waitFor({ timeout: 120_000 });
    expect(await page.getByTestId('convert-error').count()).toBe(0);
    const n = Number(await page.getByTestId('converted').getAttribute('data-samples'));
    const expected = Math.round((src.samples.length / src.sampleRate) * 22050);
    // The converter works in hops of 256 samples: the result may differ from the source by less than one.
    expect(Math.abs(n - expected)).toBeLessThan(256);
    // Streamed: the first chunk was playing before the whole conversion had finished.
    const first = Number(await page.getByTestId('converted').getAttribute('data-first-audio-ms'));
    const elapsed = Number(await page.getByTestId('converted').getAttribute('data-elapsed-ms'));
    expect(first).toBeGreaterThan(0);
    expect(first).toBeLessThanOrEqual(elapsed);

    const dl = page.waitForEvent('download');
    await page.getByTestId('download-converted').click();
    const file = await (await dl).path();
    const got = decodeWav(new Uint8Array(await readFile(file)));
    expect(got.sampleRate).toBe(22050);
    expect(got.samples.length).toBe(n);
  }, 180_000);

  it('says something in the voice through Kokoro and the converter, streamed', async () => {
    // The speech model (Kokoro) is the base voice the converter recolours.
    await page.evaluate(() =>
      (
        globalThis as unknown as { __timbre: { models: { install(id: string): Promise<unknown> } } }
      ).__timbre.models.install('kokoro-82m-q8'),
    );
    await page.getByTestId('clone-text').fill('The garden is quiet this morning. Two birds are singing.');
    await page.getByTestId('clone-speak').click();
    await page
      .getByTestId('spoken')
      .or(page.getByTestId('speak-error'))
      .first()
      .waitFor({ timeout: 380_000 });
    expect(await page.getByTestId('speak-error').count()).toBe(0);
    const spoken = page.getByTestId('spoken');
    // Two sentences of speech last a couple of seconds at least.
    expect(Number(await spoken.getAttribute('data-duration'))).toBeGreaterThan(1.5);
    const first = Number(await spoken.getAttribute('data-first-audio-ms'));
    expect(first).toBeGreaterThan(0);
    expect(first).toBeLessThanOrEqual(Number(await spoken.getAttribute('data-elapsed-ms')));
    // With Kokoro there, the converter's int8 variant is made once the studio has been idle a while (#21:
    // never inside a person's job, so this speech ran at full precision): the choice appears, worded from
    // what it measured on this device. It is the default (first and chosen) only when measured at least
    // 1.15× faster on a steady measurement, which the tiny fixture on a busy machine may miss.
    expect(await page.getByTestId('precision').count()).toBe(0);
    const precision = page.getByTestId('precision');
    await precision.waitFor({ timeout: 240_000 });
    const options = await precision.locator('option').allTextContents();
    expect(options).toHaveLength(2);
    const fast = options.find((o) => o.startsWith('Fast (int8) · '))!;
    expect(fast).toMatch(
      /^Fast \(int8\) · ([\d.]+× faster|only [\d.]+× faster here: not used|slower here: not used|measured while the device was busy: not used until measured again) · -?[\d.]+ dB from full precision$|^Fast \(int8\) · -?[\d.]+ dB from full precision: not used$/,
    );
    const isDefault = /^Fast \(int8\) · [\d.]+× faster · /.test(fast);
    expect(options[0]).toBe(isDefault ? fast : 'Full precision (float32)');
    expect(await precision.inputValue()).toBe(isDefault ? 'int8' : 'fp32');
  }, 700_000);

  it('lists the cloned voice in the Speak picker and speaks with it, streamed, into the history', async () => {
    await page.goto(page.url().replace(/#.*$/, '#/speak'));
    await page.fill('[data-testid=voice-search]', 'Fixture');
    const group = page.getByTestId('cloned-voices');
    await group.waitFor({ timeout: 30_000 });
    // Both saved voices, badged; the converter is installed, so no note about it.
    expect(await group.locator('li').count()).toBe(2);
    expect(await group.locator('.badge').allTextContents()).toEqual(['cloned', 'cloned']);
    expect(await page.getByTestId('cloned-unavailable').count()).toBe(0);
    const radio = page.getByRole('radio', { name: /^Fixture Speaker (?!kept)/ });
    await radio.check();
    const id = await radio.getAttribute('value');
    const text = 'The garden is quiet this morning. Two birds are singing.';
    await page.fill('#speak-text', text);
    const history = page.locator('[data-testid=history] > li');
    const before = await history.count();
    await page.click('[data-testid=generate]');
    await page
      .getByTestId('result')
      .or(page.getByTestId('speak-error'))
      .first()
      .waitFor({ timeout: 300_000 });
    expect(await page.getByTestId('speak-error').count()).toBe(0);
    const result = page.getByTestId('result');
    // Two sentences at Kokoro's pace: a few seconds, not a fraction nor a minute.
    const duration = Number(await result.getAttribute('data-duration'));
    expect(duration).toBeGreaterThan(1.5);
    expect(duration).toBeLessThan(20);
    // Audio played before the whole of it was made.
    const first = Number(await result.getAttribute('data-first-audio-ms'));
    expect(first).toBeGreaterThan(0);
    expect(first).toBeLessThanOrEqual(Number(await result.getAttribute('data-elapsed-ms')));
    await expect.poll(() => history.count(), { timeout: 20_000 }).toBe(before + 1);
    expect(await history.first().locator('.voice').textContent()).toBe('Fixture Speaker');
    const stored = await page.evaluate(async () => {
      const t = (
        globalThis as unknown as {
          __timbre: {
            history: {
              list(): Promise<{
                items: { voice: string; voice_resolved: string; duration: number; sample_rate: number }[];
              }>;
            };
          };
        }
      ).__timbre;
      return (await t.history.list()).items[0]!;
    });
    // The library voice, spoken through a Kokoro base voice, at the converter's rate.
    expect(stored.voice).toBe(id);
    expect(stored.voice_resolved).toMatch(/^[ab][fm]_/);
    expect(stored.sample_rate).toBe(22050);
    expect(stored.duration).toBeCloseTo(duration, 3);

    // Stop in the middle: nothing more reaches the history.
    await page.fill('#speak-text', `${text} ${text} ${text}`);
    await page.click('[data-testid=generate]');
    await page.getByTestId('stop').click();
    await expect.poll(() => page.getAttribute('[data-testid=speak-status]', 'data-status')).toBe('idle');
    await page.waitForTimeout(1000);
    expect(await history.count()).toBe(before + 1);
    await page.goto(page.url().replace(/#.*$/, '#/clone'));
  }, 600_000);

  it('records 4 s from the (fake) microphone while the level meter moves', async () => {
    const before = await page.getByTestId('sample').count();
    await page.getByTestId('record-start').first().click();
    await page.getByTestId('record-stop').first().waitFor();
    const levels: number[] = [];
    const t0 = Date.now();
    while (Date.now() - t0 < 4000) {
      levels.push(Number(await page.getByTestId('level-meter').first().getAttribute('data-level')));
      await page.waitForTimeout(200);
    }
    await page.getByTestId('record-stop').first().click();
    await expect.poll(() => page.getByTestId('sample').count(), { timeout: 20_000 }).toBe(before + 1);
    // Chromium's fake device beeps: the meter rises above silence and changes between readings.
    expect(Math.max(...levels)).toBeGreaterThan(0.2);
    expect(new Set(levels.map((l) => l.toFixed(2))).size).toBeGreaterThan(1);
    const d = Number(await page.getByTestId('sample').last().getAttribute('data-duration'));
    expect(d).toBeGreaterThan(3.5);
    expect(d).toBeLessThan(6);
  }, 60_000);

  it('deletes the converter from the Models view after a confirmation; the Clone view offers it again', async () => {
    await page.locator('nav[aria-label="Main"] a', { hasText: 'Models' }).click();
    await expect
      .poll(() =>
        page.locator('[data-model-id="openvoice-v2-converter"] [data-testid=converter-fast]').count(),
      )
      .toBe(1);
    expect(
      await page
        .locator('[data-model-id="openvoice-v2-converter"] [data-testid=converter-fast]')
        .textContent(),
    ).toMatch(
      // Worded from its measurement; "(used by default)" only when it is (#21's 1.15× rule, steady).
      /Includes a fast int8 graph: (?:[\d.]+× faster · .* dB from full precision \(used by default\)|.*(?:not used|busy).*)\./s,
    );
    const card = page.locator('[data-model-id="openvoice-v2-converter"]');
    await expect
      .poll(() => card.getByTestId('model-status').textContent())
      .toContain('Installed · OpenVoice');
    await card.getByRole('button', { name: 'Delete' }).click();
    // Nothing is gone until the second click: "Keep it" backs out.
    await card.getByRole('button', { name: 'Keep it' }).click();
    expect(await card.getByTestId('model-status').textContent()).toContain('Installed · OpenVoice');
    await card.getByRole('button', { name: 'Delete' }).click();
    await card.getByRole('button', { name: 'Confirm delete' }).click();
    await expect.poll(() => card.getByTestId('model-status').textContent()).toBe('Not installed');
    expect(await card.getByTestId('converter-link').textContent()).toContain('Install it from the release');
    expect(await card.getByRole('button', { name: 'Install' }).count()).toBe(1);
    // The engine no longer has it: the Clone view explains how to install it again.
    await card.getByTestId('converter-link').locator('a').click();
    await page.getByTestId('clone-install').waitFor();
    expect(await page.getByTestId('converter-installed').count()).toBe(0);
  }, 60_000);
});
