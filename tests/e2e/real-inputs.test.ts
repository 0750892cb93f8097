// The audio input path in Chromium on the real recordings of ../shared/audio (skipped, saying so, where
// absent): through the API (the Service Worker, the engine worker and its decode worker) and through the
// Transcribe and Tools views, nothing comes back shorter than it went in. The 16 kHz FLAC came back as
// 4.096 s (the decode worker's last blocks were dropped) and trim kept 56.5 s of 91 s of speech.
import { existsSync, readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { createKeyInPage, launch, openStudio } from './browser';

vi.setConfig({ testTimeout: 600_000, hookTimeout: 600_000 });

const SHARED = new URL('../../../shared/audio/', import.meta.url);
const PRESENT = existsSync(SHARED);
if (!PRESENT)
  console.warn(
    'tests/e2e/real-inputs.test.ts: ../shared/audio is absent; skipping the real-recording checks.',
  );
const read = (name: string) => readFileSync(new URL(name, SHARED));
/** The decoded lengths (FLAC: STREAMINFO's sample count; the MP3: ffmpeg's whole decode). */
const FLAC = { name: 'librispeech/1998-15444-0000.flac', seconds: 13.31 };
const FLAC2 = { name: 'librispeech/3005-163389-0000.flac', seconds: 8.38 };
const MP3 = { name: 'demo_speaker1.mp3', seconds: 91.09 };

let browser: Browser;
let page: Page;
let key: string;

beforeAll(async () => {
  if (!PRESENT) return;
  browser = await launch();
  page = await openStudio(await browser.newContext(), '#/transcribe');
  await page.evaluate(async () => {
    const t = (globalThis as unknown as { __timbre: { models: { install(id: string): Promise<unknown> } } })
      .__timbre;
    await t.models.install('whisper-tiny-q8');
    await t.models.install('silero-vad-v5');
  });
  key = await createKeyInPage(page, { limits: { 'audio:process': 100 } });
});
afterAll(async () => {
  await browser?.close();
});

/** A multipart POST made by the page (through the Service Worker); JSON answers parsed. */
function post(path: string, name: string, fields: Record<string, string>) {
  return page.evaluate(
    async ({ path, name, b64, fields, key }) => {
      const form = new FormData();
      form.set('file', new Blob([Uint8Array.from(atob(b64), (c) => c.charCodeAt(0))]), name.split('/').pop());
      for (const [k, v] of Object.entries(fields)) form.append(k, v);
      const r = await fetch(path, {
        method: 'POST',
        headers: { Authorization: `Bearer ${key}` },
        body: form,
      });
      const text = await r.text();
      return { status: r.status, body: JSON.parse(text) as Record<string, unknown> };
    },
    { path, name, b64: read(name).toString('base64'), fields, key },
  );
}

async function drop(testId: string, name: string) {
  await page.evaluate(
    ({ testId, name, b64 }) => {
      const dt = new DataTransfer();
      dt.items.add(new File([Uint8Array.from(atob(b64), (c) => c.charCodeAt(0))], name));
      const el = document.querySelector(`[data-testid="${testId}"]`)!;
      el.dispatchEvent(new DragEvent('dragover', { dataTransfer: dt, bubbles: true, cancelable: true }));
      el.dispatchEvent(new DragEvent('drop', { dataTransfer: dt, bubbles: true, cancelable: true }));
    },
    { testId, name: name.split('/').pop()!, b64: read(name).toString('base64') },
  );
}

interface Verbose {
  duration: number;
  segments: { start: number; end: number; text: string }[];
}

describe.skipIf(!PRESENT)('real recordings through the API in Chromium', () => {
  it.each([FLAC, FLAC2, MP3])('POST /v1/audio/transcriptions: $name comes back whole', async (f) => {
    const r = await post('/v1/audio/transcriptions', f.name, {
      model: 'whisper-1',
      response_format: 'verbose_json',
    });
    expect(r.status, JSON.stringify(r.body).slice(0, 300)).toBe(200);
    const v = r.body as unknown as Verbose;
    expect(v.duration).toBeCloseTo(f.seconds, 1);
    // Every file is speech to within a second of its end.
    expect(v.segments.at(-1)!.end).toBeGreaterThan(f.seconds - 2);
  });

  it('trim-silence keeps ≥ 95 % of 91 s of continuous speech; split covers it; enhance gives a real SNR', async () => {
    const t = await post('/v1/audio/trim-silence', MP3.name, { response: 'json' });
    expect(t.status, JSON.stringify(t.body).slice(0, 300)).toBe(200);
    expect(t.body.original_duration as number).toBeCloseTo(MP3.seconds, 1);
    expect(t.body.duration as number).toBeGreaterThanOrEqual(0.95 * MP3.seconds);
    const s = await post('/v1/audio/split', MP3.name, {});
    expect(s.status).toBe(200);
    const pieces = s.body.pieces as { start: number; end: number }[];
    const covered = pieces.reduce((n, p) => n + p.end - p.start, 0);
    expect(covered).toBeGreaterThanOrEqual(0.9 * MP3.seconds);
    const e = await post('/v1/audio/enhance', MP3.name, { response: 'json' });
    expect(e.status).toBe(200);
    expect(e.body.snr_before as number).toBeGreaterThan(0);
    expect(e.body.snr_before as number).toBeLessThan(80);
    expect(e.body.duration as number).toBeCloseTo(MP3.seconds, 1);
  });
});

describe.skipIf(!PRESENT)('real recordings in the views', () => {
  it('the Transcribe view shows a 16 kHz FLAC whole (it showed 0:12.288 of 13.3 s)', async () => {
    await page.getByTestId('transcribe-drop').waitFor();
    await drop('transcribe-drop', FLAC.name);
    const tr = page.getByTestId('transcript');
    await expect
      .poll(() => tr.locator('h2').textContent(), { timeout: 60_000 })
      .toBe(FLAC.name.split('/').pop());
    await page.getByTestId('transcribe-progress').waitFor({ state: 'detached', timeout: 300_000 });
    expect(Number(await tr.getAttribute('data-duration'))).toBeCloseTo(FLAC.seconds, 1);
    const ends = await page
      .getByTestId('line')
      .evaluateAll((els) => els.map((e) => Number(e.getAttribute('data-end'))));
    expect(ends.length).toBeGreaterThan(0);
    expect(Math.max(...ends)).toBeGreaterThan(FLAC.seconds - 2);
  });

  it('the Tools view trims the 91 s MP3 to nearly all of it (it kept 0:00.5–0:57.0)', async () => {
    await page.goto(page.url().replace(/#.*$/, '') + '#/tools');
    await page.getByTestId('tools-drop').waitFor();
    await drop('tools-drop', MP3.name);
    await page.getByTestId('tools-tab-silence').click();
    await page.getByTestId('trim-run').click();
    const result = page.getByTestId('trim-result');
    await result.waitFor({ timeout: 300_000 });
    const m = /· ([\d.]+) s/.exec((await result.textContent()) ?? '');
    expect(m, (await result.textContent()) ?? '').not.toBeNull();
    expect(Number(m![1])).toBeGreaterThanOrEqual(0.95 * MP3.seconds);
    await page.getByTestId('split-run').click();
    await expect
      .poll(() => page.getByTestId('pieces').locator('li').count(), { timeout: 300_000 })
      .toBeGreaterThan(0);
    expect(await page.getByTestId('tools-error').count()).toBe(0);
  });
});
