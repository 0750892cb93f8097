// Voices that persist: a mix and a designed voice made through the API survive a page reload (IndexedDB)
// and speak the same sentence twice alike in pitch and pace. Kokoro draws random numbers, so two runs are
// not bit-identical: median F0 within 3 %, duration within 5 %. A "deep man" design is lower than the
// brightest measured American female preset.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { createKeyInPage, launch, openStudio, pageFetch } from './browser';
import { estimatePitch } from '../../src/lib/dsp/pitch';
import { decodeWav } from '../../src/lib/dsp/wav';
import traitsFile from '../../src/lib/voices/traits.json';

const TEXT = 'The river was calm and clear this morning.';
const MIX = 'af_heart*0.6 + bf_emma*0.4';
const DEEP = 'a deep, calm American man, slow';

let browser: Browser;
let page: Page;
let key: string;

beforeAll(async () => {
  browser = await launch();
  page = await openStudio(await browser.newContext());
  await page.evaluate(() =>
    (
      globalThis as unknown as { __timbre: { models: { install(id: string): Promise<unknown> } } }
    ).__timbre.models.install('kokoro-82m-q8'),
  );
  key = await createKeyInPage(page, { limits: { 'tts:generate': 100, 'clone:create': 10 } });
}, 600_000);
afterAll(async () => {
  await browser?.close();
});

interface Spoken {
  duration: number;
  f0: number;
}

/** Speaks TEXT through a route and measures the WAV it returns. */
async function say(path: string, body: Record<string, unknown>): Promise<Spoken> {
  const r = await pageFetch(page, path, {
    method: 'POST',
    headers: { 'X-API-Key': key },
    body: { text: TEXT, ...body },
  });
  expect(r.status, JSON.stringify(r.body).slice(0, 300)).toBe(200);
  const wav = decodeWav(Buffer.from((r.body as { audio_base64: string }).audio_base64, 'base64'));
  const f0 = estimatePitch(wav.samples, wav.sampleRate).median_hz;
  expect(f0).not.toBeNull();
  return { duration: wav.samples.length / wav.sampleRate, f0: f0! };
}

/** Relative difference of two positive measures. */
const rel = (a: number, b: number) => Math.abs(a - b) / Math.min(a, b);

async function reload(): Promise<void> {
  await page.reload();
  await page.waitForFunction(
    () => navigator.serviceWorker.controller !== null && '__timbre' in globalThis,
    null,
    { timeout: 30_000 },
  );
  await page.evaluate(() => navigator.serviceWorker.controller?.postMessage({ type: 'timbre:engine-host' }));
}

describe('mixed and designed voices', () => {
  it('persist across a reload and regenerate alike in pitch and pace', async () => {
    // a mix, through the import route; a design, through /api/design/create
    const now = Date.now();
    const imported = await pageFetch(page, '/api/voices/import', {
      method: 'POST',
      headers: { 'X-API-Key': key },
      body: {
        format: 'timbre-voices',
        version: 1,
        exported_at: now,
        voices: [
          {
            id: 'mix_e2e',
            name: 'Heart and Emma',
            description: 'A mix',
            tags: [],
            language: 'en-us',
            gender: 'female',
            kind: 'mixed',
            model: 'kokoro',
            samples: [],
            recipe: { formula: MIX },
            favorite: false,
            created_at: now,
            updated_at: now,
          },
        ],
      },
    });
    expect(imported.status).toBe(201);
    const mixId = (imported.body as { ids: string[] }).ids[0]!;
    const designed = await pageFetch(page, '/api/design/create', {
      method: 'POST',
      headers: { 'X-API-Key': key },
      body: { description: DEEP, name: 'Deep narrator' },
    });
    expect(designed.status, JSON.stringify(designed.body).slice(0, 300)).toBe(201);
    const d = designed.body as { voice_id: string; voice: { recipe: { formula: string; speed: number } } };
    expect(d.voice.recipe.speed).toBeLessThan(1); // "slow"

    await reload();
    const after = await pageFetch(page, `/api/voices/${d.voice_id}`, { headers: { 'X-API-Key': key } });
    expect(after.status).toBe(200);
    expect((after.body as { recipe: unknown }).recipe).toEqual(d.voice.recipe);
    const mixAfter = await pageFetch(page, `/api/voices/${mixId}`, { headers: { 'X-API-Key': key } });
    expect((mixAfter.body as { recipe: { formula: string } }).recipe.formula).toBe(MIX);

    const mix1 = await say('/api/generate/preset', { voice_id: mixId });
    const mix2 = await say('/api/generate/preset', { voice_id: mixId });
    const des1 = await say('/api/generate/design', { voice_id: d.voice_id });
    const des2 = await say('/api/generate/design', { voice_id: d.voice_id });
    console.log(
      `mix: F0 ${mix1.f0.toFixed(1)} / ${mix2.f0.toFixed(1)} Hz, ${mix1.duration.toFixed(2)} / ${mix2.duration.toFixed(2)} s; ` +
        `designed (${d.voice.recipe.formula} @ ${d.voice.recipe.speed}): F0 ${des1.f0.toFixed(1)} / ${des2.f0.toFixed(1)} Hz, ` +
        `${des1.duration.toFixed(2)} / ${des2.duration.toFixed(2)} s`,
    );
    expect(rel(mix1.f0, mix2.f0)).toBeLessThanOrEqual(0.03);
    expect(rel(mix1.duration, mix2.duration)).toBeLessThanOrEqual(0.05);
    expect(rel(des1.f0, des2.f0)).toBeLessThanOrEqual(0.03);
    expect(rel(des1.duration, des2.duration)).toBeLessThanOrEqual(0.05);

    // the deep man is lower than the brightest (highest spectral centroid) measured American female preset
    const traits = (traitsFile as unknown as { voices: Record<string, { language: string; gender: string; centroid_hz: number }> }).voices; // prettier-ignore
    const bright = Object.keys(traits)
      .filter((id) => traits[id]!.language === 'en-us' && traits[id]!.gender === 'female')
      .sort((a, b) => traits[b]!.centroid_hz - traits[a]!.centroid_hz)[0]!;
    const female = await say('/api/generate/preset', { voice_id: bright });
    console.log(`${bright}: F0 ${female.f0.toFixed(1)} Hz`);
    expect(des1.f0).toBeLessThan(female.f0 * 0.75);
  }, 900_000);
});
