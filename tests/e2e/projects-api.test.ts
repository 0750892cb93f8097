// A three-voice project through the API end to end: created from a script with three Kokoro presets,
// rendered as a job in the Service Worker (speech by this page's engine worker), the mixdown fetched, its
// length checked against the project's timeline, and each line's span transcribed by Whisper back to the
// script's words.
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { createKeyInPage, launch, openStudio, pageFetch } from './browser';
import { decodeWav, encodeWav } from '../../src/lib/dsp/wav';
import { wer } from '../unit/asr-helpers';

vi.setConfig({ testTimeout: 900_000, hookTimeout: 900_000 });

const LINES = [
  { speaker: 'Narrator', voice: 'af_heart', text: 'The lighthouse keeper climbed the stairs.' },
  { speaker: 'Anna', voice: 'bf_emma', text: 'Is the storm coming tonight?' },
  { speaker: 'George', voice: 'bm_george', text: 'Yes, close every window now.' },
];
const SCRIPT = LINES.map((l) => `[${l.speaker}] ${l.text}`).join('\n');
const CAST = Object.fromEntries(LINES.map((l) => [l.speaker, l.voice]));
/** Per-line word error rate allowed (Whisper tiny on clean synthetic speech). */
const LINE_WER = 0.25;

interface RenderResult {
  duration: number;
  sample_rate: number;
  clips: { id: string; start: number; end: number; speaker?: string; text?: string }[];
  spoken: number;
  reused: number;
  content_type: string;
}

let browser: Browser;
let page: Page;
let key: string;

beforeAll(async () => {
  browser = await launch();
  page = await openStudio(await browser.newContext());
  await page.evaluate(async () => {
    const t = (globalThis as unknown as { __timbre: { models: { install(id: string): Promise<unknown> } } })
      .__timbre;
    await t.models.install('kokoro-82m-q8');
    await t.models.install('whisper-tiny-q8');
    await t.models.install('silero-vad-v5');
  });
  key = await createKeyInPage(page, {
    limits: { 'audio:process': 100, 'tts:generate': 100, 'tts:timeline': 100, 'projects:read': 600 },
  });
});
afterAll(async () => {
  await browser?.close();
});

const auth = () => ({ 'X-API-Key': key });

/** Polls a job until it ends; fails with its error. */
async function finished(jobId: string): Promise<RenderResult> {
  for (;;) {
    const r = await pageFetch(page, `/api/jobs/${jobId}`, { headers: auth() });
    const j = r.body as { status: string; result: RenderResult; error: { message: string } | null };
    if (j.status === 'succeeded') return j.result;
    if (j.status === 'failed' || j.status === 'cancelled')
      throw new Error(`render ${j.status}: ${j.error?.message}`);
    await page.waitForTimeout(1000);
  }
}

/** Fetches a file through the page (the Service Worker) and hands back its bytes and Content-Type. */
async function fetchBytes(path: string): Promise<{ bytes: Uint8Array; type: string; status: number }> {
  const r = await page.evaluate(
    async ({ path, key }) => {
      const res = await fetch(path, { headers: { 'X-API-Key': key } });
      const b = new Uint8Array(await res.arrayBuffer());
      let bin = '';
      for (let i = 0; i < b.length; i += 0x8000) bin += String.fromCharCode(...b.subarray(i, i + 0x8000));
      return { b64: btoa(bin), type: res.headers.get('Content-Type') ?? '', status: res.status };
    },
    { path, key },
  );
  return { bytes: new Uint8Array(Buffer.from(r.b64, 'base64')), type: r.type, status: r.status };
}

/** Transcribes a WAV through /v1/audio/transcriptions (multipart, the page's fetch). */
function transcribe(wav: Uint8Array): Promise<{ status: number; text: string }> {
  return page.evaluate(
    async ({ b64, key }) => {
      const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
      const form = new FormData();
      form.set('file', new Blob([bytes], { type: 'audio/wav' }), 'line.wav');
      form.set('model', 'whisper-1');
      form.set('language', 'en');
      const r = await fetch('/v1/audio/transcriptions', {
        method: 'POST',
        headers: { 'X-API-Key': key },
        body: form,
      });
      const body = (await r.json()) as { text?: string; error?: { message: string } };
      return { status: r.status, text: body.text ?? body.error?.message ?? '' };
    },
    { b64: Buffer.from(wav).toString('base64'), key },
  );
}

describe('projects API in the browser', () => {
  it('a three-voice project renders to a file whose duration equals the timeline and whose lines transcribe to the script', async () => {
    const created = await pageFetch(page, '/api/projects', {
      method: 'POST',
      headers: auth(),
      body: { name: 'Storm', script: SCRIPT, cast: CAST, gap: 0.6 },
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const project = created.body as { id: string; tracks: { clips: { content: { voice: string } }[] }[] };
    expect(project.tracks[0]!.clips.map((c) => c.content.voice)).toEqual(LINES.map((l) => l.voice));

    const started = await pageFetch(page, `/api/projects/${project.id}/render`, {
      method: 'POST',
      headers: auth(),
      body: { format: 'wav' },
    });
    expect(started.status, JSON.stringify(started.body)).toBe(202);
    const { job_id, audio_url } = started.body as { job_id: string; audio_url: string };
    const result = await finished(job_id);
    expect(result.spoken).toBe(3);

    // The timeline as stored now (measured lengths) and the file agree to within 10 ms.
    const saved = (await pageFetch(page, `/api/projects/${project.id}`, { headers: auth() })).body as {
      duration: number;
    };
    const file = await fetchBytes(audio_url);
    expect(file.status).toBe(200);
    expect(file.type).toBe('audio/wav');
    const mix = decodeWav(file.bytes);
    const fileSeconds = mix.samples.length / mix.sampleRate;
    expect(Math.abs(fileSeconds - saved.duration)).toBeLessThan(0.01);
    expect(Math.abs(fileSeconds - result.duration)).toBeLessThan(0.01);

    // Lines follow each other with the gap, in script order, and each span transcribes to its line.
    const clips = [...result.clips].sort((a, b) => a.start - b.start);
    expect(clips.map((c) => c.speaker)).toEqual(LINES.map((l) => l.speaker));
    for (let i = 1; i < clips.length; i++) expect(clips[i]!.start - clips[i - 1]!.end).toBeCloseTo(0.6, 6);
    const report: { line: string; heard: string; wer: number }[] = [];
    for (const [i, c] of clips.entries()) {
      const a = Math.max(0, Math.round((c.start - 0.1) * mix.sampleRate));
      const b = Math.min(mix.samples.length, Math.round((c.end + 0.1) * mix.sampleRate));
      // The piece carries energy: speech, not silence, sits where the result says.
      let energy = 0;
      for (let j = a; j < b; j++) energy += mix.samples[j]! ** 2;
      expect(Math.sqrt(energy / (b - a))).toBeGreaterThan(0.01);
      const heard = await transcribe(encodeWav(mix.samples.subarray(a, b), mix.sampleRate, 's16'));
      expect(heard.status, heard.text).toBe(200);
      report.push({ line: LINES[i]!.text, heard: heard.text, wer: wer(LINES[i]!.text, heard.text) });
    }
    console.log(JSON.stringify(report));
    for (const r of report) expect(r.wer, `${r.line} → ${r.heard}`).toBeLessThanOrEqual(LINE_WER);

    // A second render in another format reuses the generated speech and keeps the same length.
    const again = await pageFetch(page, `/api/projects/${project.id}/render`, {
      method: 'POST',
      headers: auth(),
      body: { format: 'mp3', bitrate: 128 },
    });
    expect(again.status).toBe(202);
    const r2 = await finished((again.body as { job_id: string }).job_id);
    expect([r2.spoken, r2.reused]).toEqual([0, 3]);
    expect(r2.content_type).toBe('audio/mpeg');
    expect(Math.abs(r2.duration - result.duration)).toBeLessThan(1e-9);
  });
});
