// Transcription end to end: the page calls the routes through the Service Worker, which runs Whisper tiny
// and Silero VAD (installed into OPFS from the app's own origin) in this page's engine worker. The speech is
// made by the project's own Kokoro pipeline in Node from a known sentence (cached by the unit tests).
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import * as ort from 'onnxruntime-web';
import { createKeyInPage, launch, openAiScript, openStudio, pageFetch } from './browser';
import { installRuntime } from '../../src/lib/runtime/host';
import { encodeWav } from '../../src/lib/dsp/wav';
import { concat, kokoroSpeech, normWords, silence, wer } from '../unit/asr-helpers';
import { ENGLISH, SPANISH } from '../unit/asr-corpus';
import { expectOrdered, parseSrt, parseVtt } from '../unit/asr-subtitles';
import { longSpeech, WER_GOAL, type LongSpeech } from '../../scripts/lib/asr-speech';

vi.setConfig({ testTimeout: 900_000, hookTimeout: 900_000 });

const TEXT = 'The quick brown fox jumps over the lazy dog. She sells sea shells by the sea shore.';

let browser: Browser;
let page: Page;
let key: string;
let wavB64: string;
let longB64: string;
let minutes: LongSpeech;
let minutesB64: string;
let spanishB64: string;
const offOrigin: string[] = [];

beforeAll(async () => {
  installRuntime({ loadOrt: async () => ort, isolated: true, cores: 2 });
  const a = await kokoroSpeech(TEXT, 'af_heart');
  wavB64 = Buffer.from(
    encodeWav(concat([silence(0.6, 24000), a.samples, silence(0.8, 24000)]), 24000, 's16'),
  ).toString('base64');
  // A longer file (several sentences) for the cancel test.
  const parts: Float32Array[] = [];
  for (const s of ENGLISH) parts.push((await kokoroSpeech(s.text, s.voice)).samples, silence(0.7, 24000));
  longB64 = Buffer.from(encodeWav(concat(parts), 24000, 's16')).toString('base64');
  // Minutes of known text: the corpus three times in seeded orders with pauses (cached speech only).
  minutes = await longSpeech(3, { seed: 9 });
  minutesB64 = Buffer.from(encodeWav(minutes.samples, minutes.sampleRate, 's16')).toString('base64');
  const es = await kokoroSpeech(SPANISH.text, SPANISH.voice);
  spanishB64 = Buffer.from(
    encodeWav(concat([silence(0.5, 24000), es.samples, silence(0.5, 24000)]), 24000, 's16'),
  ).toString('base64');

  browser = await launch();
  const context = await browser.newContext();
  page = await openStudio(context);
  const origin = new URL(page.url()).origin;
  context.on('request', (r) => {
    if (!r.url().startsWith(origin) && !r.url().startsWith('data:') && !r.url().startsWith('blob:'))
      offOrigin.push(r.url());
  });
  await page.evaluate(async () => {
    const t = (globalThis as unknown as { __timbre: { models: { install(id: string): Promise<unknown> } } })
      .__timbre;
    await t.models.install('whisper-tiny-q8');
    await t.models.install('silero-vad-v5');
  });
  key = await createKeyInPage(page, { limits: { 'audio:process': 100, 'tts:generate': 100 } });
});
afterAll(async () => {
  await browser?.close();
});

/** A multipart POST made by the page (through the Service Worker); the body comes back as text. */
function postFile(path: string, b64: string, fields: Record<string, string>) {
  return page.evaluate(
    async ({ path, b64, fields, key }) => {
      const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
      const form = new FormData();
      form.set('file', new Blob([bytes], { type: 'audio/wav' }), 'speech.wav');
      for (const [k, v] of Object.entries(fields)) form.append(k, v);
      const t0 = performance.now();
      const r = await fetch(path, {
        method: 'POST',
        headers: { Authorization: `Bearer ${key}` },
        body: form,
      });
      return {
        status: r.status,
        type: r.headers.get('Content-Type'),
        model: r.headers.get('X-Model'),
        body: await r.text(),
        ms: performance.now() - t0,
      };
    },
    { path, b64, fields, key },
  );
}

describe('transcription in the browser', () => {
  it('POST /v1/audio/transcriptions: json, then SRT and VTT that validate', async () => {
    const j = await postFile('/v1/audio/transcriptions', wavB64, { model: 'whisper-1' });
    expect(j.status, j.body).toBe(200);
    expect(j.model).toBe('whisper-tiny-q8');
    const text = (JSON.parse(j.body) as { text: string }).text;
    console.log(`[asr e2e] json in ${j.ms.toFixed(0)} ms: ${text}`);
    expect(wer(TEXT, text)).toBeLessThan(0.1);
    for (const format of ['srt', 'vtt'] as const) {
      const r = await postFile('/v1/audio/transcriptions', wavB64, {
        model: 'whisper-1',
        response_format: format,
      });
      expect(r.status, r.body).toBe(200);
      expect(r.type).toMatch(format === 'srt' ? /subrip/ : /^text\/vtt/);
      const cues = format === 'srt' ? parseSrt(r.body) : parseVtt(r.body);
      expect(cues.length).toBeGreaterThan(0);
      expectOrdered(cues);
      expect(wer(TEXT, cues.map((c) => c.text).join(' '))).toBeLessThan(0.1);
    }
    expect(offOrigin).toEqual([]);
  });

  it('the official openai package in the page gets a transcription from audio.transcriptions.create', async () => {
    await page.addScriptTag({ content: await openAiScript() });
    const r = await page.evaluate(
      async ({ key, b64 }) => {
        const { OpenAI } = (globalThis as unknown as { OpenAISDK: unknown }).OpenAISDK as {
          OpenAI: new (o: object) => {
            audio: { transcriptions: { create(b: object): Promise<{ text: string } | string> } };
          };
        };
        const client = new OpenAI({
          apiKey: key,
          baseURL: location.origin + '/v1',
          dangerouslyAllowBrowser: true,
          maxRetries: 0,
          timeout: 600_000,
        });
        const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
        const file = new File([bytes], 'speech.wav', { type: 'audio/wav' });
        const json = await client.audio.transcriptions.create({ file, model: 'gpt-4o-mini-transcribe' });
        const srt = await client.audio.transcriptions.create({
          file,
          model: 'whisper-1',
          response_format: 'srt',
        });
        return { text: (json as { text: string }).text, srt: srt as string };
      },
      { key, b64: wavB64 },
    );
    expect(wer(TEXT, r.text)).toBeLessThan(0.1);
    expectOrdered(parseSrt(r.srt));
  });

  it('cancel stops a running transcription job', async () => {
    const started = await page.evaluate(
      async ({ key, b64 }) => {
        const r = await fetch('/api/transcribe', {
          method: 'POST',
          headers: { 'X-API-Key': key, 'Content-Type': 'application/json' },
          body: JSON.stringify({ audio: b64, async: true, model: 'tiny', language: 'en' }),
        });
        return { status: r.status, body: (await r.json()) as { job_id: string } };
      },
      { key, b64: longB64 },
    );
    expect(started.status).toBe(202);
    const id = started.body.job_id;
    // Wait until it is transcribing (past reading the file and finding speech).
    const seen: string[] = [];
    for (let i = 0; i < 3000; i++) {
      const j = await pageFetch(page, `/api/jobs/${id}`, { headers: { 'X-API-Key': key } });
      const b = j.body as { progress: { stage: string } | null; status: string };
      if (b.progress && seen[seen.length - 1] !== b.progress.stage) seen.push(b.progress.stage);
      if (b.status !== 'running' && b.status !== 'queued')
        throw new Error(`job ended (${b.status}) first: ${seen.join(' ')}`);
      // 'partial': a window's words while it decodes (the latest event is most often one of those).
      if (b.progress && ['language', 'transcribe', 'segment', 'partial'].includes(b.progress.stage)) break;
      await page.waitForTimeout(50);
    }
    console.log(`[asr e2e] stages before cancel: ${seen.join(' → ')}`);
    const t0 = Date.now();
    const c = await pageFetch(page, '/api/generation/cancel', {
      method: 'POST',
      headers: { 'X-API-Key': key },
      body: { job_id: id },
    });
    const ms = Date.now() - t0;
    console.log(`[asr e2e] cancel answered in ${ms} ms (the job has ended by then)`);
    expect(c.status).toBe(200);
    expect((c.body as { cancelled: string[] }).cancelled).toEqual([id]);
    const j = await pageFetch(page, `/api/jobs/${id}`, { headers: { 'X-API-Key': key } });
    expect((j.body as { status: string }).status).toBe('cancelled');
    // The engine is free again: a short transcription right after works.
    const again = await postFile('/v1/audio/transcriptions', wavB64, {
      model: 'tiny',
      response_format: 'text',
    });
    expect(again.status, again.body).toBe(200);
    expect(wer(TEXT, again.body)).toBeLessThan(0.1);
  });
  it('a file of minutes: verbose_json within the WER goal, segments in order, apart and inside the file', async () => {
    expect(minutes.seconds).toBeGreaterThan(120);
    const r = await postFile('/v1/audio/transcriptions', minutesB64, {
      model: 'tiny',
      language: 'en',
      response_format: 'verbose_json',
    });
    expect([200, 202], r.body).toContain(r.status);
    type Seg = { start: number; end: number; text: string };
    type Out = { text: string; duration: number; segments: Seg[] };
    type Job = { status: string; result: Out; error: unknown };
    let out: Out;
    if (r.status === 200) out = JSON.parse(r.body) as Out;
    else {
      // Long files answer 202 with a job: follow it to its result.
      const id = (JSON.parse(r.body) as { job_id: string }).job_id;
      let job: Job | undefined;
      for (let i = 0; i < 2400; i++) {
        const j = await pageFetch(page, `/api/jobs/${id}`, { headers: { 'X-API-Key': key } });
        job = j.body as Job;
        if (job.status !== 'running' && job.status !== 'queued') break;
        await page.waitForTimeout(500);
      }
      expect(job?.status, JSON.stringify(job?.error)).toBe('succeeded');
      out = job!.result;
    }
    const w = wer(minutes.text, out.text);
    console.log(
      `[asr e2e] ${minutes.seconds.toFixed(1)} s (${r.status}) in ${(r.ms / 1000).toFixed(1)} s to the answer; ` +
        `${out.segments.length} segments, WER ${(w * 100).toFixed(1)} %`,
    );
    expect(w).toBeLessThanOrEqual(WER_GOAL['whisper-tiny-q8']!);
    expect(out.duration).toBeCloseTo(minutes.seconds, 1);
    // At least one segment per sentence's worth of windows; each in the file, in order, none overlapping.
    expect(out.segments.length).toBeGreaterThanOrEqual(minutes.sentences.length / 2);
    out.segments.forEach((s, i) => {
      expect(s.start).toBeGreaterThanOrEqual(0);
      expect(s.end).toBeGreaterThan(s.start);
      expect(s.end).toBeLessThanOrEqual(minutes.seconds + 0.02);
      if (i) expect(s.start).toBeGreaterThanOrEqual(out.segments[i - 1]!.end);
      // Each segment covers some of the speech, not only a pause between sentences.
      const spoken = minutes.sentences.some((x) => s.start < x.end && s.end > x.start);
      expect(spoken, `segment ${i} [${s.start}, ${s.end}] "${s.text}"`).toBe(true);
    });
    // The segments' text is the transcript, in the same order.
    expect(wer(out.text, out.segments.map((s) => s.text).join(' '))).toBeLessThan(0.02);
  });

  it('POST /v1/audio/translations: a Spanish clip comes back in English', async () => {
    const r = await postFile('/v1/audio/translations', spanishB64, { model: 'tiny' });
    expect(r.status, r.body).toBe(200);
    const text = (JSON.parse(r.body) as { text: string }).text;
    console.log(`[asr e2e] translation in ${r.ms.toFixed(0)} ms: ${text}`);
    const words = new Set(normWords(text));
    expect(SPANISH.english.filter((x) => words.has(x)).length).toBeGreaterThanOrEqual(5);
    expect(SPANISH.spanishWords.filter((x) => words.has(x))).toEqual([]);
  });
});
