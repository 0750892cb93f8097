// Enhancement end to end: Kokoro speech made in the page through the API, white noise added here at
// 10 dB SNR, POST /v1/audio/enhance through the Service Worker (RNNoise in the page's engine worker); the
// noise floor of the answer, measured where the clean speech is silent, must drop by a clear margin while
// the speech level holds. Also: the Tools view enhances a dropped file and shows its figures, and stereo
// opus from /v1/audio/convert decodes in Chromium with both channels.
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { createKeyInPage, launch, openStudio, pageFetch } from './browser';
import { decodeWav, encodeWav } from '../../src/lib/dsp/wav';
import { resample } from '../../src/lib/dsp/resample';
import { addNoise, levels as levelsAt } from '../unit/noise-levels';

vi.setConfig({ testTimeout: 600_000, hookTimeout: 600_000 });

let browser: Browser;
let page: Page;
let key: string;
let clean: Float32Array; // 48 kHz
let noisyWav: Uint8Array;
const R = 48000;
const levels = (x: Float32Array, ref: Float32Array) => levelsAt(x, ref, R);

const fromB64 = (s: string) => Uint8Array.from(Buffer.from(s, 'base64'));

beforeAll(async () => {
  browser = await launch();
  page = await openStudio(await browser.newContext());
  await page.evaluate(() =>
    (
      globalThis as unknown as { __timbre: { models: { install(id: string): Promise<unknown> } } }
    ).__timbre.models.install('kokoro-82m-q8'),
  );
  key = await createKeyInPage(page, { limits: { 'tts:generate': 100, 'audio:process': 100 } });
  const say = async (text: string) => {
    const r = await pageFetch(page, '/api/generate/preset', {
      method: 'POST',
      headers: { 'X-API-Key': key },
      body: { text, voice_id: 'af_heart', format: 'wav' },
    });
    expect(r.status, JSON.stringify(r.body).slice(0, 300)).toBe(200);
    const w = decodeWav(fromB64((r.body as { audio_base64: string }).audio_base64));
    return resample(w.samples, w.sampleRate, R);
  };
  const a = await say('The quick brown fox jumps over the lazy dog.');
  const b = await say('Clean audio makes every recording easier to follow.');
  const gap = (s: number) => new Float32Array(Math.round(s * R));
  const parts = [gap(1), a, gap(1.2), b, gap(1)];
  clean = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    clean.set(p, at);
    at += p.length;
  }
  // White noise 10 dB below the speech frames' mean power.
  const noisy = addNoise(clean, R, 10, 11);
  noisyWav = encodeWav(noisy, R, 's16');
});
afterAll(async () => {
  await browser?.close();
});

describe('POST /v1/audio/enhance in Chromium', () => {
  it('lowers the noise floor of speech plus noise by at least 15 dB; speech level within 3 dB', async () => {
    const r = await pageFetch(page, '/v1/audio/enhance', {
      method: 'POST',
      headers: { 'X-API-Key': key },
      body: { audio: Buffer.from(noisyWav).toString('base64'), response: 'json' },
    });
    expect(r.status, JSON.stringify(r.body).slice(0, 300)).toBe(200);
    const body = r.body as {
      audio_base64: string;
      snr_before: number;
      snr_after: number;
      sample_rate: number;
    };
    const out = decodeWav(fromB64(body.audio_base64));
    expect(out.sampleRate).toBe(R);
    expect(out.samples.length).toBe(clean.length);
    const before = levels(decodeWav(noisyWav).samples, clean);
    const after = levels(out.samples, clean);
    console.log(
      '[audio-enhance] noise floor',
      before.noise.toFixed(1),
      '→',
      after.noise.toFixed(1),
      'dB; speech',
      before.speech.toFixed(1),
      '→',
      after.speech.toFixed(1),
      'dB; estimated SNR',
      body.snr_before,
      '→',
      body.snr_after,
    );
    expect(before.noise - after.noise).toBeGreaterThanOrEqual(15);
    expect(Math.abs(after.speech - levels(clean, clean).speech)).toBeLessThan(3);
    expect(body.snr_after - body.snr_before).toBeGreaterThan(10);
  });

  it('the audio answer carries the loudness and SNR headers; super_resolution is a 400', async () => {
    const r = await page.evaluate(
      async ({ b64, key }) => {
        const f = new FormData();
        f.set(
          'file',
          new Blob([Uint8Array.from(atob(b64), (c) => c.charCodeAt(0))], { type: 'audio/wav' }),
          'n.wav',
        );
        f.set('target_lufs', '-16');
        const res = await fetch('/v1/audio/enhance', {
          method: 'POST',
          headers: { 'X-API-Key': key },
          body: f,
        });
        const g = new FormData();
        g.set('file', f.get('file')!);
        g.set('super_resolution', 'true');
        const bad = await fetch('/v1/audio/enhance', {
          method: 'POST',
          headers: { 'X-API-Key': key },
          body: g,
        });
        return {
          status: res.status,
          type: res.headers.get('content-type'),
          after: res.headers.get('x-loudness-after'),
          snrBefore: res.headers.get('x-snr-before'),
          snrAfter: res.headers.get('x-snr-after'),
          bytes: (await res.arrayBuffer()).byteLength,
          bad: bad.status,
          badBody: await bad.json(),
        };
      },
      { b64: Buffer.from(noisyWav).toString('base64'), key },
    );
    expect(r.status).toBe(200);
    expect(r.type).toBe('audio/wav');
    expect(Math.abs(Number(r.after) + 16)).toBeLessThan(0.6);
    expect(Number(r.snrAfter)).toBeGreaterThan(Number(r.snrBefore));
    expect(r.bytes).toBe(44 + clean.length * 2);
    expect(r.bad).toBe(400);
    expect(r.badBody.error.field).toBe('super_resolution');
  });
});

describe('stereo opus', () => {
  it('/v1/audio/convert to opus and webm keeps two distinct channels that Chromium decodes', async () => {
    const n = R * 2;
    const L = Float32Array.from({ length: n }, (_, i) => 0.5 * Math.sin((2 * Math.PI * 440 * i) / R));
    const Rt = Float32Array.from({ length: n }, (_, i) => 0.1 * Math.sin((2 * Math.PI * 660 * i) / R));
    const inter = new Float32Array(n * 2);
    for (let i = 0; i < n; i++) {
      inter[2 * i] = L[i]!;
      inter[2 * i + 1] = Rt[i]!;
    }
    // The mono writer's file, its header turned into stereo (the interleaved samples are already so).
    const wav = encodeWav(inter, R, 's16');
    const v = new DataView(wav.buffer, wav.byteOffset);
    v.setUint16(22, 2, true);
    v.setUint32(28, R * 4, true);
    v.setUint16(32, 4, true);
    for (const format of ['opus', 'webm']) {
      const r = await page.evaluate(
        async ({ b64, key, format }) => {
          const res = await fetch('/v1/audio/convert', {
            method: 'POST',
            headers: { 'X-API-Key': key, 'Content-Type': 'application/json' },
            body: JSON.stringify({ audio: b64, format, channels: 'stereo' }),
          });
          if (res.status !== 200) return { status: res.status, text: await res.text() };
          const buf = await res.arrayBuffer();
          const ctx = new OfflineAudioContext(2, 1, 48000);
          const a = await ctx.decodeAudioData(buf);
          const rms = (c: Float32Array) => Math.sqrt(c.reduce((s, v) => s + v * v, 0) / c.length);
          return {
            status: 200,
            channels: a.numberOfChannels,
            duration: a.duration,
            left: rms(a.getChannelData(0)),
            right: rms(a.getChannelData(1)),
          };
        },
        { b64: Buffer.from(wav).toString('base64'), key, format },
      );
      expect(r.status, JSON.stringify(r)).toBe(200);
      const d = r as { channels: number; duration: number; left: number; right: number };
      expect(d.channels).toBe(2);
      expect(Math.abs(d.duration - 2)).toBeLessThan(0.1);
      // 0.5 and 0.1 peak: RMS 0.354 and 0.071.
      expect(d.left).toBeGreaterThan(0.3);
      expect(d.right).toBeLessThan(0.1);
      expect(d.right).toBeGreaterThan(0.05);
    }
  });
});

describe('the Tools view', () => {
  it('enhances a dropped file and shows loudness and SNR figures', async () => {
    await page.goto(page.url().replace(/#.*$/, '') + '#/tools');
    await page.getByTestId('tools-drop').waitFor();
    await page.evaluate(
      ({ b64 }) => {
        const dt = new DataTransfer();
        dt.items.add(
          new File([Uint8Array.from(atob(b64), (c) => c.charCodeAt(0))], 'noisy.wav', { type: 'audio/wav' }),
        );
        const el = document.querySelector('[data-testid="tools-drop"]')!;
        el.dispatchEvent(new DragEvent('dragover', { dataTransfer: dt, bubbles: true, cancelable: true }));
        el.dispatchEvent(new DragEvent('drop', { dataTransfer: dt, bubbles: true, cancelable: true }));
      },
      { b64: Buffer.from(noisyWav).toString('base64') },
    );
    await page.getByTestId('enhance-run').click();
    await page.getByTestId('enhance-figures').waitFor({ timeout: 300_000 });
    const snr = await page.getByTestId('fig-snr').textContent();
    const loud = await page.getByTestId('fig-loudness').textContent();
    const m = /(-?[\d.]+) dB → (-?[\d.]+) dB/.exec(snr ?? '');
    expect(m, snr ?? '').not.toBeNull();
    expect(Number(m![2]) - Number(m![1])).toBeGreaterThan(10);
    // Normalised to the default −16 LUFS.
    const l = /→ (-?[\d.]+) LUFS/.exec(loud ?? '');
    expect(Math.abs(Number(l![1]) + 16)).toBeLessThan(0.6);
    expect(await page.getByTestId('tools-error').count()).toBe(0);
  });
});
