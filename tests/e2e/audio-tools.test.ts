// The audio tools' routes end to end in Chromium, through the Service Worker and the engine worker:
// /v1/audio/analyze finds the tempo (±1 BPM), metre and key of synthetic music made here with known
// answers (also when it arrives as mp3), /v1/audio/convert round-trips a tone through every format it
// writes (each answer converted back to WAV and measured in Node), and the Tools view shows an analysis.
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { createKeyInPage, launch, openStudio } from './browser';
import { decodeWav, encodeWav } from '../../src/lib/dsp/wav';
import { CONVERT_FORMATS } from '../../src/lib/api/handlers/audio-tools';
import { FORMATS } from '../../src/lib/codec/formats';
import { camelot } from '../../src/lib/dsp/analyze';
import { chords, drums, majorProgression, minorProgression, mix, SR } from '../unit/music-clips';

vi.setConfig({ testTimeout: 600_000, hookTimeout: 600_000 });

let browser: Browser;
let page: Page;
let key: string;

interface Answer {
  status: number;
  type: string | null;
  headers: Record<string, string>;
  b64: string;
  text: string;
}

/** POST raw bytes (as JSON {audio} base64, the route's JSON form) with fields; the answer's bytes back. */
async function post(path: string, bytes: Uint8Array, fields: Record<string, unknown> = {}): Promise<Answer> {
  return page.evaluate(
    async ({ path, b64, fields, key }) => {
      const res = await fetch(path, {
        method: 'POST',
        headers: { 'X-API-Key': key, 'Content-Type': 'application/json' },
        body: JSON.stringify({ audio: b64, ...fields }),
      });
      const buf = new Uint8Array(await res.arrayBuffer());
      let s = '';
      for (let i = 0; i < buf.length; i += 0x8000) s += String.fromCharCode(...buf.subarray(i, i + 0x8000));
      return {
        status: res.status,
        type: res.headers.get('Content-Type'),
        headers: Object.fromEntries(res.headers.entries()),
        b64: btoa(s),
        text: res.headers.get('Content-Type')?.includes('json') ? new TextDecoder().decode(buf) : '',
      };
    },
    { path, b64: Buffer.from(bytes).toString('base64'), fields, key },
  );
}

const bytesOf = (a: Answer) => Uint8Array.from(Buffer.from(a.b64, 'base64'));

/** Crossings of zero going up per second: the frequency of a pure tone. */
function toneHz(x: Float32Array, rate: number): number {
  let n = 0;
  for (let i = 1; i < x.length; i++) if (x[i - 1]! < 0 && x[i]! >= 0) n++;
  return n / (x.length / rate);
}

const rms = (x: Float32Array) => Math.sqrt(x.reduce((s, v) => s + v * v, 0) / Math.max(1, x.length));

beforeAll(async () => {
  browser = await launch();
  page = await openStudio(await browser.newContext());
  key = await createKeyInPage(page, { limits: { 'audio:process': 200 } });
});
afterAll(async () => {
  await browser?.close();
});

describe('POST /v1/audio/analyze in Chromium', () => {
  const clips = [
    { name: 'G major at 120 BPM', bpm: 120, tonic: 67, scale: 'major' as const, key: 'G', metre: 4 },
    { name: 'A minor at 96 BPM in 3/4', bpm: 96, tonic: 57, scale: 'minor' as const, key: 'A', metre: 3 },
  ];
  for (const c of clips) {
    it(`finds ${c.name} (WAV, and the same clip as mp3)`, async () => {
      const prog = c.scale === 'major' ? majorProgression(c.tonic) : minorProgression(c.tonic);
      const clip = mix(drums(c.bpm, 24, c.metre, c.metre === 4), chords(prog, c.bpm, 24, c.metre));
      const wav = encodeWav(clip, SR, 's16');
      const mp3 = await post('/v1/audio/convert', wav, { format: 'mp3', bitrate: 192 });
      expect(mp3.status, mp3.text).toBe(200);
      for (const [label, bytes] of [
        ['wav', wav],
        ['mp3', bytesOf(mp3)],
      ] as const) {
        const r = await post('/v1/audio/analyze', bytes);
        expect(r.status, `${label}: ${r.text}`).toBe(200);
        const a = JSON.parse(r.text) as {
          key: string;
          scale: string;
          bpm: number;
          time_signature: string;
          camelot: string;
          compatible_keys: string[];
          duration: number;
        };
        expect(Math.abs(a.bpm - c.bpm), `${label}: ${a.bpm} BPM`).toBeLessThanOrEqual(1);
        expect(`${a.key} ${a.scale.toLowerCase()}`, label).toBe(`${c.key} ${c.scale}`);
        expect(a.camelot, label).toBe(camelot(c.tonic % 12, c.scale));
        expect(a.time_signature, label).toBe(`${c.metre}/4`);
        expect(a.compatible_keys).toHaveLength(4);
        expect(a.compatible_keys[0], label).toBe(`${a.key} ${a.scale}`);
        expect(Math.abs(a.duration - 24), label).toBeLessThan(0.1);
      }
    });
  }

  it('answers a file that is not audio with 415 in the documented error shape', async () => {
    const r = await post('/v1/audio/analyze', new TextEncoder().encode('not audio at all, just words'));
    expect(r.status).toBe(415);
    const e = JSON.parse(r.text) as { error: { code: string; message: string } };
    expect(e.error.code).toBe('unsupported_media_type');
    expect(e.error.message).toMatch(/not audio/);
  });
});

describe('POST /v1/audio/convert in Chromium', () => {
  it('round-trips a 440 Hz tone through every format it writes, each with its Content-Type', async () => {
    const rate = 24000;
    const tone = Float32Array.from(
      { length: rate * 2 },
      (_, i) => 0.5 * Math.sin((2 * Math.PI * 440 * i) / rate),
    );
    const wav = encodeWav(tone, rate, 's16');
    const seen: string[] = [];
    for (const format of CONVERT_FORMATS) {
      const out = await post('/v1/audio/convert', wav, { format });
      expect(out.status, `${format}: ${out.text}`).toBe(200);
      expect(out.type, format).toBe(FORMATS[format].mime);
      const back = await post('/v1/audio/convert', bytesOf(out), { format: 'wav', sample_rate: rate });
      expect(back.status, `${format} → wav: ${back.text}`).toBe(200);
      const w = decodeWav(bytesOf(back));
      const seconds = w.samples.length / w.sampleRate;
      // Lossy coders pad a few frames; none may lose audio.
      expect(seconds, format).toBeGreaterThanOrEqual(1.99);
      expect(seconds, format).toBeLessThan(2.1);
      // Away from the edges (coder delay and padding), the tone is there at its pitch and level.
      const mid = w.samples.subarray(Math.round(0.25 * w.sampleRate), Math.round(1.75 * w.sampleRate));
      expect(Math.abs(toneHz(mid, w.sampleRate) - 440), format).toBeLessThan(3);
      expect(rms(mid), format).toBeGreaterThan(0.3);
      expect(rms(mid), format).toBeLessThan(0.4);
      seen.push(format);
    }
    expect(seen).toEqual([...CONVERT_FORMATS]);
  });
});

describe('the Tools view', () => {
  it('analyses a dropped clip and shows its key and tempo', async () => {
    await page.goto(page.url().replace(/#.*$/, '') + '#/tools');
    await page.getByTestId('tools-drop').waitFor();
    const clip = mix(drums(128, 20), chords(majorProgression(62), 128, 20));
    await page.evaluate(
      ({ b64 }) => {
        const dt = new DataTransfer();
        dt.items.add(
          new File([Uint8Array.from(atob(b64), (c) => c.charCodeAt(0))], 'loop.wav', { type: 'audio/wav' }),
        );
        const el = document.querySelector('[data-testid="tools-drop"]')!;
        el.dispatchEvent(new DragEvent('dragover', { dataTransfer: dt, bubbles: true, cancelable: true }));
        el.dispatchEvent(new DragEvent('drop', { dataTransfer: dt, bubbles: true, cancelable: true }));
      },
      { b64: Buffer.from(encodeWav(clip, SR, 's16')).toString('base64') },
    );
    await page.getByTestId('tools-tab-analyse').click();
    await page.getByTestId('analyse-run').click();
    await page.getByTestId('analysis').waitFor({ timeout: 120_000 });
    expect(await page.getByTestId('analysis-key').textContent()).toContain('D major');
    const bpm = /([\d.]+) BPM/.exec((await page.getByTestId('analysis-bpm').textContent()) ?? '');
    expect(bpm).not.toBeNull();
    expect(Math.abs(Number(bpm![1]) - 128)).toBeLessThanOrEqual(1);
    expect(await page.getByTestId('tools-error').count()).toBe(0);
  });
});
