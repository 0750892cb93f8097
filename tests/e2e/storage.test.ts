import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, readFileSync } from 'node:fs';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { createKeyInPage, launch, openStudio, pageFetch } from './browser';

let browser: Browser;
let context: BrowserContext;
let page: Page;
let key: string;

beforeAll(async () => {
  browser = await launch();
  context = await browser.newContext();
  page = await openStudio(context);
  key = await createKeyInPage(page, {
    limits: { 'audio:process': 100, 'voices:write': 100, 'voices:read': 100 },
  });
});
afterAll(async () => {
  await browser?.close();
});

/** An export file with one cloned voice carrying `bytes` of sample data. */
function exportFile(id: string, bytes: number) {
  const data = Buffer.alloc(bytes, 7).toString('base64');
  const now = Date.now();
  return {
    format: 'timbre-voices',
    version: 1,
    exported_at: now,
    voices: [
      {
        id,
        name: `Voice ${id}`,
        description: '',
        tags: [],
        language: 'en-us',
        gender: 'female',
        kind: 'cloned',
        model: 'kokoro',
        favorite: false,
        created_at: now,
        updated_at: now,
        samples: [{ id: 's1', name: 'take1.wav', mime: 'audio/wav', duration: 1, data_base64: data }],
      },
      {
        id: `${id}-b`,
        name: `Voice ${id} b`,
        description: '',
        tags: [],
        language: 'en-us',
        gender: 'male',
        kind: 'mixed',
        model: 'kokoro',
        favorite: false,
        created_at: now,
        updated_at: now,
        samples: [],
        recipe: { formula: 'af_heart*0.5 + am_adam*0.5' },
      },
    ],
  };
}

describe('voice storage in the real browser', () => {
  it('imports a voice file whole and exports it back identically', async () => {
    const file = exportFile('imported', 2000);
    const r = await pageFetch(page, '/api/voices/import', {
      method: 'POST',
      headers: { 'X-API-Key': key },
      body: file,
    });
    expect(r.status).toBe(201);
    expect((r.body as { imported: number }).imported).toBe(2);
    const ex = await pageFetch(page, '/api/voices/export?ids=imported', { headers: { 'X-API-Key': key } });
    const v = (ex.body as { voices: { samples: { data_base64: string }[] }[] }).voices[0]!;
    expect(v.samples[0]!.data_base64).toBe(file.voices[0]!.samples[0]!.data_base64);
  });

  it('measures audio duration through the Service Worker for WAV and MP3', async () => {
    // 1.5 s of 16-bit mono silence-with-a-tone at 8 kHz, built here.
    const n = 12_000;
    const wav = Buffer.alloc(44 + n * 2);
    wav.write('RIFF', 0);
    wav.writeUInt32LE(36 + n * 2, 4);
    wav.write('WAVEfmt ', 8);
    wav.writeUInt32LE(16, 16);
    wav.writeUInt16LE(1, 20);
    wav.writeUInt16LE(1, 22);
    wav.writeUInt32LE(8000, 24);
    wav.writeUInt32LE(16000, 28);
    wav.writeUInt16LE(2, 32);
    wav.writeUInt16LE(16, 34);
    wav.write('data', 36);
    wav.writeUInt32LE(n * 2, 40);
    for (let i = 0; i < n; i++)
      wav.writeInt16LE(Math.round(8000 * Math.sin((2 * Math.PI * 440 * i) / 8000)), 44 + i * 2);
    const r = await pageFetch(page, '/api/audio-duration', {
      method: 'POST',
      headers: { 'X-API-Key': key },
      body: { audio: `data:audio/wav;base64,${wav.toString('base64')}` },
    });
    expect(r.status).toBe(200);
    expect((r.body as { duration: number }).duration).toBeCloseTo(1.5, 3);

    const mp3 = new URL('../../../shared/audio/demo_speaker0.mp3', import.meta.url);
    if (existsSync(mp3)) {
      const m = await pageFetch(page, '/api/audio-duration', {
        method: 'POST',
        headers: { 'X-API-Key': key },
        body: { audio: readFileSync(mp3).toString('base64') },
      });
      expect(m.status).toBe(200);
      expect((m.body as { duration: number }).duration).toBeGreaterThan(17);
    }
    const bad = await pageFetch(page, '/api/audio-duration', {
      method: 'POST',
      headers: { 'X-API-Key': key },
      body: { audio: Buffer.from('not audio at all, just text').toString('base64') },
    });
    expect(bad.status).toBe(400);
    expect((bad.body as { error: { message: string } }).error.message).toMatch(/could not be decoded/);
  });
});
