// The Transcribe view driven as a person would, with Whisper tiny and Silero VAD installed in the page:
// a dropped WAV of ten known sentences (Kokoro speech, cached) shows lines before the job ends, the text
// matches, lines play from their start, an edit survives a reload and goes into the SRT export, VTT and
// Copy work, Cancel stops a run at once, and Chromium's fake microphone (a tone) is recorded and reported
// as having no speech.
import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { FAKE_MEDIA, launch, openStudio } from './browser';
import { Transcoder } from '../../src/lib/codec/transcoder';
import { encodeWav } from '../../src/lib/dsp/wav';
import { NodeCoreProvider } from '../unit/ffmpeg-node';
import { concat, kokoroSpeech, silence, wer } from '../unit/asr-helpers';
import { ENGLISH } from '../unit/asr-corpus';
import { parseSrt } from '../unit/asr-subtitles';

vi.setConfig({ testTimeout: 300_000, hookTimeout: 600_000 });

const EDIT = 'Zebras visit the museum at dawn.';

let browser: Browser;
let context: BrowserContext;
let page: Page;
let wav: Buffer;
/** The same speech repeated to ten minutes, as a 128 kbps MP3 (9.6 MB). */
let longMp3: Buffer;
const TEXT = ENGLISH.map((s) => s.text).join(' ');

/** Drops a file on an element the way a drag from the desktop does. */
async function drop(p: Page, testId: string, name: string, bytes: Buffer): Promise<number> {
  return p.evaluate(
    ({ testId, name, b64 }) => {
      const dt = new DataTransfer();
      dt.items.add(
        new File([Uint8Array.from(atob(b64), (c) => c.charCodeAt(0))], name, { type: 'audio/wav' }),
      );
      const el = document.querySelector(`[data-testid="${testId}"]`)!;
      const t0 = performance.now();
      el.dispatchEvent(new DragEvent('dragover', { dataTransfer: dt, bubbles: true, cancelable: true }));
      el.dispatchEvent(new DragEvent('drop', { dataTransfer: dt, bubbles: true, cancelable: true }));
      return t0;
    },
    { testId, name, b64: bytes.toString('base64') },
  );
}

const lines = () =>
  page.getByTestId('line').evaluateAll((els) =>
    els.map((e) => ({
      start: Number(e.getAttribute('data-start')),
      end: Number(e.getAttribute('data-end')),
      text: e.querySelector('[data-testid="line-text"]')?.textContent?.trim() ?? '',
    })),
  );

/** Regions drawn on the waveform (wavesurfer renders into a shadow root). */
const regionCount = () =>
  page
    .getByTestId('transcript-wave')
    .evaluate((el) => el.querySelector('div')?.shadowRoot?.querySelectorAll('[part~="region"]').length ?? 0);

const idle = () => page.getByTestId('transcribe-progress').waitFor({ state: 'detached', timeout: 240_000 });

beforeAll(async () => {
  // The same speech as the e2e asr cancel test (cached by voice and text): about 45 s, several windows.
  const parts: Float32Array[] = [silence(0.5, 24000)];
  for (const s of ENGLISH) parts.push((await kokoroSpeech(s.text, s.voice)).samples, silence(0.7, 24000));
  wav = Buffer.from(encodeWav(concat(parts), 24000, 's16'));
  const speech = concat(parts);
  const reps = Math.ceil(600 / (speech.length / 24000));
  const long = concat(Array.from({ length: reps }, () => speech)).subarray(0, 600 * 24000);
  const mp3 = await new Transcoder(new NodeCoreProvider()).encode(long, 24000, {
    format: 'mp3',
    bitrate: 128,
  });
  longMp3 = Buffer.from(mp3.bytes);

  browser = await launch([...FAKE_MEDIA, '--autoplay-policy=no-user-gesture-required']);
  context = await browser.newContext({ acceptDownloads: true, viewport: { width: 1280, height: 900 } });
  page = await openStudio(context, '#/transcribe');
  await context.grantPermissions(['clipboard-read', 'clipboard-write'], {
    origin: new URL(page.url()).origin,
  });
  await page.evaluate(async () => {
    const t = (globalThis as unknown as { __timbre: { models: { install(id: string): Promise<unknown> } } })
      .__timbre;
    await t.models.install('whisper-tiny-q8');
    await t.models.install('silero-vad-v5');
  });
  // The view lists the models when it opens.
  await page.reload();
  await page.waitForFunction(() => '__timbre' in globalThis);
});

afterAll(async () => {
  await browser?.close();
});

describe('Transcribe view', () => {
  it('is in the navigation after Clone, with tiny chosen and base shown as not installed', async () => {
    const nav = await page.locator('nav[aria-label="Main"] li a').allTextContents();
    expect(nav.indexOf('Transcribe')).toBe(nav.indexOf('Clone') + 1);
    const model = page.getByTestId('asr-model');
    await expect.poll(() => model.inputValue()).toBe('whisper-tiny-q8');
    const base = model.locator('option[value="whisper-base-q8"]');
    expect(await base.textContent()).toContain('not installed');
    expect(await base.isDisabled()).toBe(true);
    expect(await page.getByTestId('model-state').locator('a[href="#/models"]').count()).toBe(1);
    // The drop zone is reachable from the keyboard.
    expect(await page.getByTestId('transcribe-drop').getAttribute('tabindex')).toBe('0');
  });

  it('shows lines while the dropped file is still being transcribed, then the whole text in order', async () => {
    // The stage line's changes, timed from the drop, to show where the time to the first line goes.
    await page.evaluate(() => {
      const w = globalThis as unknown as { __stages: [number, string][]; __partials: [number, string][] };
      w.__stages = [];
      w.__partials = [];
      new MutationObserver(() => {
        const t = document.querySelector('[data-testid="transcribe-stage"]')?.textContent ?? '';
        const n = document.querySelectorAll('[data-testid="line"]').length;
        const p = document.querySelector('[data-testid="line-partial"]')?.textContent ?? '';
        // The provisional text of the window decoding now, with how many lines were done then.
        if (p && p !== w.__partials.at(-1)?.[1]) w.__partials.push([performance.now(), `${n}|${p}`]);
        const last = w.__stages.at(-1)?.[1];
        const now = `${t} · ${n} lines${p ? ' · partial' : ''}`;
        if (now !== last) w.__stages.push([performance.now(), now]);
      }).observe(document.body, { subtree: true, childList: true, characterData: true });
    });
    // As a person would: the view has been open a moment, so its warm-up (sessions + a first run) is done.
    // The warm-up starts once the model list is in (tiny chosen).
    await expect.poll(() => page.getByTestId('asr-model').inputValue()).toBe('whisper-tiny-q8');
    await expect
      .poll(() => page.getByTestId('model-state').textContent(), { timeout: 60_000 })
      .not.toContain('Loading the model');
    const t0 = await drop(page, 'transcribe-drop', 'ten-sentences.wav', wav);
    const first = page.getByTestId('line').first();
    await first.waitFor({ timeout: 120_000 });
    const firstMs = (await page.evaluate(() => performance.now())) - t0;
    // A line is on screen while the job still runs: Cancel and the progress are still shown.
    const stillRunning = await page.getByTestId('transcribe-cancel').isVisible();
    const linesThen = await page.getByTestId('line').count();
    expect(stillRunning).toBe(true);
    expect(linesThen).toBeGreaterThan(0);

    await idle();
    const { stages, partials } = await page.evaluate(() => {
      const w = globalThis as unknown as { __stages: [number, string][]; __partials: [number, string][] };
      return { stages: w.__stages, partials: w.__partials };
    });
    // Text was on screen before the first line: the first window's words as they were decoded, growing.
    const firstPartial = partials.find(([, s]) => s.startsWith('0|'));
    expect(firstPartial).toBeDefined();
    const firstTextMs = firstPartial![0] - t0;
    expect(firstTextMs).toBeLessThan(firstMs);
    const before = partials.filter(([, s]) => s.startsWith('0|')).map(([, s]) => s.slice(2));
    expect(before.length).toBeGreaterThan(1);
    expect(before.at(-1)!.length).toBeGreaterThan(before[0]!.length);
    console.log(
      `[transcribe-view] drop → first text on screen: ${Math.round(firstTextMs)} ms (goal ≤ 3000 ms); ` +
        `first whole line: ${Math.round(firstMs)} ms`,
    );
    console.log(
      `[transcribe-view] stages: ${stages.map(([t, s]) => `+${Math.round(t - t0)} ms ${s}`).join(' | ')}`,
    );
    const got = await lines();
    // Once done, nothing provisional is left.
    expect(await page.getByTestId('line-partial').count()).toBe(0);
    const text = got.map((l) => l.text).join(' ');
    const w = wer(TEXT, text);
    console.log(`[transcribe-view] ${got.length} lines, WER ${w.toFixed(3)}`);
    expect(got.length).toBeGreaterThan(linesThen);
    expect(w).toBeLessThan(0.2);
    for (let i = 0; i < got.length; i++) {
      expect(got[i]!.end).toBeGreaterThan(got[i]!.start);
      if (i) expect(got[i]!.start).toBeGreaterThanOrEqual(got[i - 1]!.start);
    }
    expect(got.at(-1)!.end).toBeLessThanOrEqual(wav.length / 2 / 24000 + 0.5);
    expect(await page.getByTestId('detected-language').getAttribute('data-code')).toBe('en');
    await expect.poll(() => page.getByTestId('transcript').getAttribute('data-saved')).toBe('true');
    // One region per line on the waveform.
    await expect.poll(regionCount).toBe(got.length);
  });

  it('plays a clicked line from its start and marks it as the one heard', async () => {
    const line = page.getByTestId('line').nth(2);
    const start = Number(await line.getAttribute('data-start'));
    const end = Number(await line.getAttribute('data-end'));
    await line.getByTestId('line-text').click();
    await expect
      .poll(() => page.getByTestId('transcript-audio').evaluate((a: HTMLAudioElement) => !a.paused))
      .toBe(true);
    const t = await page.getByTestId('transcript-audio').evaluate((a: HTMLAudioElement) => a.currentTime);
    expect(t).toBeGreaterThanOrEqual(start - 0.01);
    expect(t).toBeLessThan(end);
    expect(await line.getAttribute('aria-current')).toBe('true');
    // It stops at the line's end.
    await expect
      .poll(() => page.getByTestId('transcript-audio').evaluate((a: HTMLAudioElement) => a.paused), {
        timeout: 15_000,
      })
      .toBe(true);
    const stoppedAt = await page
      .getByTestId('transcript-audio')
      .evaluate((a: HTMLAudioElement) => a.currentTime);
    expect(stoppedAt).toBeGreaterThanOrEqual(end - 0.05);
    expect(stoppedAt).toBeLessThan(end + 0.5);
    // Enter on a focused line plays it too.
    const other = page.getByTestId('line').nth(0);
    await other.getByTestId('line-text').focus();
    await page.keyboard.press('Enter');
    await expect.poll(() => other.getAttribute('aria-current')).toBe('true');
  });

  it('keeps an edited line across a reload, and the SRT export carries it', async () => {
    const line = page.getByTestId('line').first();
    await line.getByTestId('line-text').dblclick();
    const input = page.getByTestId('line-input');
    await input.fill(EDIT);
    await input.press('Enter');
    await expect.poll(() => line.getByTestId('line-text').textContent()).toBe(EDIT);
    // Escape leaves a line as it was.
    await page.getByTestId('line').nth(1).getByTestId('line-edit').click();
    await page.getByTestId('line-input').fill('not kept');
    await page.getByTestId('line-input').press('Escape');
    expect(await page.getByTestId('line').nth(1).getByTestId('line-text').textContent()).not.toBe('not kept');
    expect(await page.getByTestId('transcribe-progress').count()).toBe(0); // Escape did not reach anything else

    await page.waitForTimeout(300); // the IndexedDB write
    await page.reload();
    await page.getByTestId('line').first().waitFor();
    expect(await page.getByTestId('line').first().getByTestId('line-text').textContent()).toBe(EDIT);

    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.getByTestId('export-srt').click(),
    ]);
    expect(download.suggestedFilename()).toBe('ten-sentences.srt');
    const srt = await readFile((await download.path())!, 'utf8');
    const cues = parseSrt(srt);
    expect(cues[0]!.text).toBe(EDIT);
    expect(cues.length).toBe(await page.getByTestId('line').count());

    const [vtt] = await Promise.all([page.waitForEvent('download'), page.getByTestId('export-vtt').click()]);
    const vttText = await readFile((await vtt.path())!, 'utf8');
    expect(vttText.startsWith('WEBVTT')).toBe(true);
    expect(vttText).toContain(EDIT);
  });

  it('copies the text, with the edit, to the clipboard', async () => {
    await page.getByTestId('copy').click();
    await expect.poll(() => page.evaluate(() => navigator.clipboard.readText())).toContain(EDIT);
    const clip = await page.evaluate(() => navigator.clipboard.readText());
    expect(wer(TEXT, clip)).toBeLessThan(0.35); // the first sentence was replaced
  });

  it('deletes a stored transcript and brings it back with Undo', async () => {
    const items = page.getByTestId('saved-item');
    const before = await items.count();
    expect(before).toBeGreaterThan(0);
    await items.first().getByTestId('saved-delete').click();
    await expect.poll(() => items.count()).toBe(before - 1);
    await page.getByRole('button', { name: 'Undo' }).click();
    await expect.poll(() => items.count()).toBe(before);
  });

  it('cancels a running transcription and is idle again within a second', async () => {
    await drop(page, 'transcribe-drop', 'again.wav', wav);
    await page.getByTestId('transcribe-cancel').waitFor();
    await expect
      .poll(() => page.getByTestId('transcribe-stage').textContent(), { timeout: 60_000 })
      .toMatch(/Transcribing|Finding|Loading|Detected/);
    const ms = await page.evaluate(async () => {
      const t0 = performance.now();
      document.querySelector<HTMLButtonElement>('[data-testid="transcribe-cancel"]')!.click();
      while (document.querySelector('[data-testid="transcribe-progress"]') && performance.now() - t0 < 5000)
        await new Promise((r) => requestAnimationFrame(r));
      return performance.now() - t0;
    });
    console.log(`[transcribe-view] cancel → idle: ${Math.round(ms)} ms`);
    expect(ms).toBeLessThan(1000);
    expect(await page.getByTestId('transcribe-notice').textContent()).toMatch(/cancelled/i);
    expect(await page.getByTestId('transcript').getAttribute('data-saved')).toBe('false');
  });

  it('records from the microphone and says plainly when there is no speech (the fake device is a tone)', async () => {
    await page.getByTestId('record-start').click();
    await page.getByTestId('record-stop').waitFor();
    await page.waitForTimeout(3000);
    await page.getByTestId('record-stop').click();
    const tr = page.getByTestId('transcript');
    await expect.poll(() => tr.locator('h2').textContent(), { timeout: 60_000 }).toMatch(/^Recording/);
    // The duration shows once the page has read the recording (it is decoded beside the transcription,
    // through the studio's one decoder: ffmpeg in the audio worker, whose core loads on first use).
    await expect
      .poll(async () => Number(await tr.getAttribute('data-duration')), { timeout: 30_000 })
      .toBeGreaterThan(2.5);
    const duration = Number(await tr.getAttribute('data-duration'));
    expect(duration).toBeLessThan(4.5);
    await idle();
    expect(await page.getByTestId('transcribe-error').count()).toBe(0);
    expect(await page.getByTestId('transcribe-notice').textContent()).toMatch(/No speech was found/);
    expect(await page.getByTestId('line').count()).toBe(0);
  });

  it('reopens a saved transcript after that recording, with its lines drawn on the waveform again', async () => {
    await page.getByTestId('saved-item').first().getByTestId('saved-open').click();
    await expect.poll(() => page.getByTestId('line').count(), { timeout: 30_000 }).toBeGreaterThan(0);
    const n = await page.getByTestId('line').count();
    await expect.poll(regionCount, { timeout: 30_000 }).toBe(n);
  });

  it('shows the first line of a ten-minute MP3 while it is still decoding, then draws its waveform', async () => {
    // The engine decodes the file in a worker of its own while it transcribes; the page's own decode (for
    // the waveform) of a file this large waits for the first text.
    const t0 = await drop(page, 'transcribe-drop', 'ten-minutes.mp3', longMp3);
    // The new transcript replaces the one open (its lines empty until the first window is done).
    await expect
      .poll(() => page.getByTestId('transcript').locator('h2').textContent())
      .toBe('ten-minutes.mp3');
    const first = page.getByTestId('line').first();
    await first.waitFor({ timeout: 120_000 });
    const firstMs = (await page.evaluate(() => performance.now())) - t0;
    const pct = Number(
      await page.locator('[data-testid="transcribe-progress"] progress').getAttribute('value'),
    );
    console.log(
      `[transcribe-view] ten-minute MP3: drop → first whole line ${Math.round(firstMs)} ms, at ${pct} %`,
    );
    // Far from done: the first of some twenty windows.
    expect(pct).toBeLessThan(10);
    expect(wer(ENGLISH[0]!.text, (await first.getByTestId('line-text').textContent()) ?? '')).toBeLessThan(
      0.2,
    );
    // The waveform's audio arrives while the transcription goes on, for the whole ten minutes.
    await expect
      .poll(async () => Number(await page.getByTestId('transcript').getAttribute('data-duration')), {
        timeout: 120_000,
      })
      .toBeCloseTo(600, 0);
    expect(await page.getByTestId('transcribe-cancel').isVisible()).toBe(true);
    await page.getByTestId('transcribe-cancel').click();
    await idle();
    expect(await page.getByTestId('transcribe-notice').textContent()).toMatch(/cancelled/i);
  });

  it('says when the language is uncertain, and a retry in a chosen language replaces the transcript', async () => {
    // Speech in no language: English played backwards (tiny detects it with probability 0.48 in Node).
    const parts: Float32Array[] = [];
    for (const s of ENGLISH.slice(0, 2)) parts.push((await kokoroSpeech(s.text, s.voice)).samples);
    const backwards = concat([silence(0.5, 24000), concat(parts).reverse(), silence(0.5, 24000)]);
    await drop(page, 'transcribe-drop', 'backwards.wav', Buffer.from(encodeWav(backwards, 24000, 's16')));
    await expect.poll(() => page.getByTestId('transcript').locator('h2').textContent()).toBe('backwards.wav');
    await idle();
    const notice = page.getByTestId('language-uncertain');
    await notice.waitFor({ timeout: 30_000 });
    const code = (await notice.getAttribute('data-code'))!;
    expect(Number(await notice.getAttribute('data-probability'))).toBeLessThan(0.6);
    const shown = (await notice.textContent()) ?? '';
    expect(shown).toMatch(/Language uncertain/);
    expect(shown).toContain(Number(await notice.getAttribute('data-probability')).toFixed(2));
    expect(await page.getByTestId('detected-language').getAttribute('data-code')).toBe(code);
    // Kept with the transcript: after a reload the reopened transcript still says so.
    const probability = await notice.getAttribute('data-probability');
    await expect.poll(() => page.getByTestId('transcript').getAttribute('data-saved')).toBe('true');
    await page.reload();
    await page.waitForFunction(() => '__timbre' in globalThis);
    await expect.poll(() => page.getByTestId('transcript').locator('h2').textContent()).toBe('backwards.wav');
    await notice.waitFor({ timeout: 30_000 });
    expect(await notice.getAttribute('data-probability')).toBe(probability);
    // Base is not installed here: only the language choice is offered.
    expect(await page.getByTestId('retry-base').count()).toBe(0);
    const saved = await page.getByTestId('saved-item').count();
    const before = await page.getByTestId('transcript').getAttribute('data-id');
    await page.getByTestId('retry-language').selectOption('en');
    expect(await page.getByTestId('retry-as').textContent()).toMatch(/Retry as English/);
    await page.getByTestId('retry-as').click();
    const tr = page.getByTestId('transcript');
    await expect
      .poll(
        async () => (await tr.getAttribute('data-id')) !== before && (await tr.getAttribute('data-saved')),
        {
          timeout: 120_000,
        },
      )
      .toBe('true');
    // A chosen language is not uncertain; the retried transcript is replaced, not kept beside it.
    expect(await notice.count()).toBe(0);
    expect(await page.getByTestId('detected-language').getAttribute('data-code')).toBe('en');
    await expect.poll(() => page.getByTestId('saved-item').count()).toBe(saved);
    expect(await page.getByTestId('asr-language').inputValue()).toBe('en');
  });
});
