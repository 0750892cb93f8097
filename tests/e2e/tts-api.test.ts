// The speech API end to end: the page calls the routes through the Service Worker, which runs Kokoro in
// this page's engine worker. Every route's audio is decoded and its length checked against the text;
// streams must deliver the first sentence before the last is made; cancel must stop a generation; the
// official `openai` package, bundled for the page, gets speech from audio.speech.create.
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { createKeyInPage, launch, openAiScript, openStudio, pageFetch } from './browser';
import { decodeWav } from '../../src/lib/dsp/wav';

// Kokoro runs at several times real time on this 2-core machine when it is shared: generous timeouts.
vi.setConfig({ testTimeout: 900_000, hookTimeout: 900_000 });

let browser: Browser;
let page: Page;
let key: string;

const SR = 24000;

/** Seconds of speech for `text`: about 2.5 words a second, within generous bounds. */
function expectSpeechLength(seconds: number, text: string) {
  const words = text.split(/\s+/).filter(Boolean).length;
  expect(seconds, `${seconds.toFixed(2)} s for ${words} words`).toBeGreaterThan((words / 2.5) * 0.4);
  expect(seconds, `${seconds.toFixed(2)} s for ${words} words`).toBeLessThan((words / 2.5) * 2 + 1);
}

interface Streamed {
  status: number;
  type: string | null;
  jobId: string | null;
  b64: string;
  /** ms from the request to each chunk. */
  chunks: number[];
  end: number;
  error: string | null;
  /** With `jobAfterFirst`: the job (`GET /api/jobs/{id}`) read right after the first chunk arrived. */
  jobAfterFirst: JobSeen | null;
}

interface JobSeen {
  status: string;
  progress: { stage: string; done: number; total: number } | null;
}

/**
 * Fetches in the page and reads the body chunk by chunk, timing each chunk on the page clock;
 * `jobAfterFirst` also reads the job named in X-Job-Id once the first chunk is in.
 */
function streamInPage(
  path: string,
  body: unknown,
  apiKey: string,
  o: { jobAfterFirst?: boolean } = {},
): Promise<Streamed> {
  return page.evaluate(
    async ({ path, body, apiKey, jobAfter }) => {
      const t0 = performance.now();
      const r = await fetch(path, {
        method: 'POST',
        headers: { 'X-API-Key': apiKey, 'Content-Type': 'application/json' },
        body: JSON.stringify(body),
      });
      const parts: Uint8Array[] = [];
      const chunks: number[] = [];
      let error: string | null = null;
      let jobAfterFirst: JobSeen | null = null;
      const reader = r.body!.getReader();
      try {
        for (;;) {
          const { done, value } = await reader.read();
          if (done) break;
          chunks.push(performance.now() - t0);
          parts.push(value);
          const jobId = r.headers.get('X-Job-Id');
          if (jobAfter && parts.length === 1 && jobId) {
            const j = await fetch(`/api/jobs/${jobId}`, { headers: { 'X-API-Key': apiKey } });
            jobAfterFirst = (await j.json()) as JobSeen;
          }
        }
      } catch (e) {
        error = String(e);
      }
      const all = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
      let at = 0;
      for (const p of parts) {
        all.set(p, at);
        at += p.length;
      }
      let bin = '';
      for (let i = 0; i < all.length; i += 0x8000) bin += String.fromCharCode(...all.subarray(i, i + 0x8000));
      return {
        status: r.status,
        type: r.headers.get('Content-Type'),
        jobId: r.headers.get('X-Job-Id'),
        b64: btoa(bin),
        chunks,
        end: performance.now() - t0,
        error,
        jobAfterFirst,
      };
    },
    { path, body, apiKey, jobAfter: o.jobAfterFirst === true },
  );
}

const bytesOf = (b64: string) => new Uint8Array(Buffer.from(b64, 'base64'));

/** Probes compressed audio with the app's ffmpeg.wasm formats worker (ffprobe's reading). */
function probeInPage(b64: string) {
  return page.evaluate(async (b64) => {
    const bin = atob(b64);
    const bytes = Uint8Array.from(bin, (c) => c.charCodeAt(0));
    const timbre = (
      globalThis as unknown as {
        __timbre: {
          formats: { probe(b: Uint8Array): Promise<{ codec: string; duration: number; sampleRate: number }> };
        };
      }
    ).__timbre;
    return timbre.formats.probe(bytes);
  }, b64);
}

beforeAll(async () => {
  browser = await launch();
  page = await openStudio(await browser.newContext());
  await page.evaluate(() =>
    (
      globalThis as unknown as { __timbre: { models: { install(id: string): Promise<unknown> } } }
    ).__timbre.models.install('kokoro-82m-q8'),
  );
  // Load and warm the model once, so stream timings measure speech, not session creation.
  await page.evaluate(() =>
    (
      globalThis as unknown as { __timbre: { engine: { run(op: string, args: unknown): Promise<unknown> } } }
    ).__timbre.engine.run('tts.generate', { text: 'Hi.', voice: 'af_heart' }),
  );
  key = await createKeyInPage(page, { limits: { 'tts:generate': 1000, 'ws:connect': 100 } });
});
afterAll(async () => {
  await browser?.close();
});

describe('speech routes through the Service Worker', () => {
  it('POST /v1/audio/speech (wav) streams: the first sentence arrives well before the last', async () => {
    const text = 'One sentence here. Then a second. And a third.';
    const r = await streamInPage(
      '/v1/audio/speech',
      { model: 'tts-1', input: text, voice: 'alloy', response_format: 'wav' },
      key,
    );
    expect(r.status).toBe(200);
    expect(r.type).toBe('audio/wav');
    expect(r.error).toBeNull();
    expect(r.chunks.length).toBeGreaterThan(1);
    const wav = decodeWav(bytesOf(r.b64));
    expect(wav.sampleRate).toBe(SR);
    expectSpeechLength(wav.samples.length / SR, text);
    // The first sentence left before the rest was made: at least one more sentence's worth of compute.
    expect(r.chunks[0]!).toBeLessThan(r.end * 0.8);
    console.log(
      `stream wav: first chunk ${r.chunks[0]!.toFixed(0)} ms, end ${r.end.toFixed(0)} ms, ${r.chunks.length} chunks, ${(wav.samples.length / SR).toFixed(2)} s of audio`,
    );
  });

  it('POST /v1/audio/speech stream_format sse: delta events per sentence, then done with usage', async () => {
    const text = 'Events come. Each has audio.';
    const r = await streamInPage(
      '/v1/audio/speech',
      {
        model: 'gpt-4o-mini-tts',
        input: text,
        voice: 'af_heart',
        response_format: 'pcm',
        stream_format: 'sse',
      },
      key,
    );
    expect(r.status).toBe(200);
    expect(r.type).toBe('text/event-stream');
    const events = Buffer.from(r.b64, 'base64')
      .toString('utf8')
      .split('\n\n')
      .filter((b) => b.trim())
      .map((b) => JSON.parse(b.replace(/^data: /, '')) as { type: string; audio?: string; usage?: unknown });
    const deltas = events.filter((e) => e.type === 'speech.audio.delta');
    expect(deltas.length).toBeGreaterThan(1);
    expect(events.at(-1)!.type).toBe('speech.audio.done');
    expect(events.at(-1)!.usage).toMatchObject({ input_tokens: text.length });
    const pcmBytes = deltas.reduce((n, d) => n + Buffer.from(d.audio!, 'base64').length, 0);
    expectSpeechLength(pcmBytes / 2 / SR, text);
    expect(r.chunks[0]!).toBeLessThan(r.end * 0.8);
    console.log(`stream sse: first event ${r.chunks[0]!.toFixed(0)} ms, end ${r.end.toFixed(0)} ms`);
  });

  it('POST /api/v1/tts/stream (pcm) and POST /v1/tts stream=true (wav) stream chunked audio', async () => {
    const text = 'It streams. In pieces.';
    const a = await streamInPage(
      '/api/v1/tts/stream',
      { text, voice_id: 'bf_emma', format: 'pcm', latency: 'low' },
      key,
    );
    expect(a.status).toBe(200);
    expect(a.type).toBe('application/octet-stream');
    expect(a.chunks.length).toBeGreaterThan(1);
    expectSpeechLength(bytesOf(a.b64).length / 2 / SR, text);
    const b = await streamInPage(
      '/v1/tts',
      { model: 'kokoro', text, voice: 'am_adam', format: 'wav', stream: true },
      key,
    );
    expect(b.type).toBe('audio/wav');
    expect(b.chunks.length).toBeGreaterThan(1);
    expectSpeechLength(decodeWav(bytesOf(b.b64)).samples.length / SR, text);
  });

  it('POST /v1/tts (mp3, the default) and POST /api/v1/tts (wav, opus) answer whole files that decode', async () => {
    const text = 'Hello from the studio.';
    const mp3 = await streamInPage('/v1/tts', { model: 'kokoro', text, voice: 'af_bella' }, key);
    expect(mp3.status).toBe(200);
    expect(mp3.type).toBe('audio/mpeg');
    const p = await probeInPage(mp3.b64);
    expect(p.codec).toBe('mp3');
    expectSpeechLength(p.duration, text);

    const wav = await streamInPage(
      '/api/v1/tts',
      { text, voice_id: 'am_michael', format: 'wav', volume: -6 },
      key,
    );
    expect(wav.status).toBe(200);
    expect(wav.type).toBe('audio/wav');
    expectSpeechLength(decodeWav(bytesOf(wav.b64)).samples.length / SR, text);

    const opus = await streamInPage('/api/v1/tts', { text, format: 'opus' }, key);
    expect(opus.type).toBe('audio/ogg; codecs=opus');
    const po = await probeInPage(opus.b64);
    expect(po.codec).toBe('opus');
    expectSpeechLength(po.duration, text);
  });

  it('unknown voice is 404; empty and over-long text are 400 naming the limit', async () => {
    const h = { 'X-API-Key': key };
    const v = await pageFetch(page, '/api/v1/tts', {
      method: 'POST',
      headers: h,
      body: { text: 'Hi.', voice_id: 'nobody' },
    });
    expect(v.status).toBe(404);
    const empty = await pageFetch(page, '/v1/tts', { method: 'POST', headers: h, body: { text: '' } });
    expect(empty.status).toBe(400);
    expect((empty.body as { error: { message: string } }).error.message).toContain('5000');
    const long = await pageFetch(page, '/v1/audio/speech', {
      method: 'POST',
      headers: h,
      body: { model: 'tts-1', voice: 'alloy', input: 'x'.repeat(4097) },
    });
    expect(long.status).toBe(400);
    expect((long.body as { error: { message: string } }).error.message).toContain('4096');
  });

  it('the history lists the generations made, with their audio', async () => {
    const h = { 'X-API-Key': key };
    const list = await pageFetch(page, '/api/v1/tts/history?limit=100', { headers: h });
    expect(list.status).toBe(200);
    const items = (list.body as { items: { id: string; route: string; text: string; duration: number }[] })
      .items;
    // Newest first: the whole-file calls of the test before, then the streams.
    expect(items.map((i) => i.route)).toEqual([
      'POST /api/v1/tts',
      'POST /api/v1/tts',
      'POST /v1/tts',
      'POST /v1/tts',
      'POST /api/v1/tts/stream',
      'POST /v1/audio/speech',
      'POST /v1/audio/speech',
    ]);
    const one = await pageFetch(page, `/api/v1/tts/history/${items[0]!.id}`, { headers: h });
    const rec = one.body as { audio_base64: string; duration: number };
    expect(decodeWav(bytesOf(rec.audio_base64)).samples.length / SR).toBeCloseTo(rec.duration, 2);
    const del = await pageFetch(page, `/api/v1/tts/history/${items[0]!.id}`, {
      method: 'DELETE',
      headers: h,
    });
    expect(del.status).toBe(200);
    const after = await pageFetch(page, '/api/v1/tts/history', { headers: h });
    expect((after.body as { total: number }).total).toBe(items.length - 1);
  });
});

describe('mp3 streaming (POST /api/v1/tts/stream, its default format)', () => {
  it('each sentence goes out as it is spoken, and the stream decodes to the length of the same WAV', async () => {
    const k = await createKeyInPage(page, { name: 'mp3-stream', limits: { 'tts:generate': 100 } });
    const text =
      'The first sentence is long enough to keep the engine busy for a while. ' +
      'A second sentence follows after a short pause, and it is not short either. ' +
      'The third one comes next, spoken while the first is already playing. ' +
      'A fourth sentence keeps the engine at work a little longer. And a fifth one ends the stream.';
    const mp3 = await streamInPage('/api/v1/tts/stream', { text, voice_id: 'af_heart' }, k, {
      jobAfterFirst: true,
    });
    expect(mp3.status).toBe(200);
    expect(mp3.type).toBe('audio/mpeg');
    expect(mp3.error).toBeNull();
    // The first sentence's mp3 arrived while Kokoro was still speaking the rest (the encodes used to wait
    // behind the whole synthesis on the engine worker, so the job had always ended by then) …
    expect(mp3.jobAfterFirst?.status, JSON.stringify(mp3.jobAfterFirst)).toBe('running');
    // … and well before the stream's end: four more sentences of compute came after it.
    expect(mp3.chunks[0]!).toBeLessThan(mp3.end * 0.6);

    const wav = await streamInPage('/api/v1/tts/stream', { text, voice_id: 'af_heart', format: 'wav' }, k);
    expect(wav.type).toBe('audio/wav');
    const wavSeconds = decodeWav(bytesOf(wav.b64)).samples.length / SR;
    expectSpeechLength(wavSeconds, text);
    // The joined pieces decode (the studio's own decoder, ffmpeg.wasm) as one file of the WAV's length.
    const decoded = await page.evaluate(async (b64) => {
      const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
      const timbre = (
        globalThis as unknown as {
          __timbre: {
            formats: {
              decodeInput(
                b: Uint8Array,
              ): Promise<{ samples: Float32Array; sampleRate: number; decoder: string }>;
            };
          };
        }
      ).__timbre;
      const d = await timbre.formats.decodeInput(bytes);
      return { seconds: d.samples.length / d.sampleRate, decoder: d.decoder };
    }, mp3.b64);
    expect(decoded.decoder).toBe('ffmpeg');
    expect(
      Math.abs(decoded.seconds - wavSeconds),
      `mp3 ${decoded.seconds} s, wav ${wavSeconds} s`,
    ).toBeLessThan(0.2);
    console.log(
      `stream mp3: first piece ${mp3.chunks[0]!.toFixed(0)} ms (job ${JSON.stringify(mp3.jobAfterFirst?.progress)}), end ${mp3.end.toFixed(0)} ms, ${mp3.chunks.length} reads; ${decoded.seconds.toFixed(3)} s decoded against the WAV's ${wavSeconds.toFixed(3)} s`,
    );
  });
});

describe('the official openai package in the page', () => {
  it('audio.speech.create gets speech (wav) and streams it as SSE', async () => {
    await page.addScriptTag({ content: await openAiScript() });
    const text = 'The client works.';
    const r = await page.evaluate(
      async ({ key, text }) => {
        const { OpenAI } = (globalThis as unknown as { OpenAISDK: { OpenAI: new (o: object) => unknown } })
          .OpenAISDK as unknown as {
          OpenAI: new (o: object) => {
            audio: { speech: { create(b: object): Promise<Response> } };
          };
        };
        const client = new OpenAI({
          apiKey: key,
          baseURL: location.origin + '/v1',
          dangerouslyAllowBrowser: true,
          maxRetries: 0,
        });
        const res = await client.audio.speech.create({
          model: 'tts-1',
          voice: 'coral',
          input: text,
          response_format: 'wav',
        });
        const wav = new Uint8Array(await res.arrayBuffer());
        let bin = '';
        for (let i = 0; i < wav.length; i += 0x8000)
          bin += String.fromCharCode(...wav.subarray(i, i + 0x8000));
        const sse = await client.audio.speech.create({
          model: 'gpt-4o-mini-tts',
          voice: 'nova',
          input: text + ' As events.',
          response_format: 'pcm',
          stream_format: 'sse',
        });
        return {
          type: res.headers.get('Content-Type'),
          b64: btoa(bin),
          sseType: sse.headers.get('Content-Type'),
          sse: await sse.text(),
        };
      },
      { key, text },
    );
    expect(r.type).toBe('audio/wav');
    expectSpeechLength(decodeWav(bytesOf(r.b64)).samples.length / SR, text);
    expect(r.sseType).toBe('text/event-stream');
    const events = r.sse
      .split('\n\n')
      .filter((b) => b.trim())
      .map((b) => JSON.parse(b.replace(/^data: /, '')) as { type: string; audio?: string });
    expect(events.at(-1)!.type).toBe('speech.audio.done');
    const pcm = events
      .filter((e) => e.type === 'speech.audio.delta')
      .reduce((n, e) => n + Buffer.from(e.audio!, 'base64').length, 0);
    expectSpeechLength(pcm / 2 / SR, text + ' As events.');
  });
});

describe('cancel', () => {
  const LONG =
    'This is a long text that would take a while to speak. It goes on for several sentences. ' +
    'Each of them takes the engine a moment. Nobody should have to wait for all of it. ' +
    'So the caller cancels it part of the way through. And the rest is never made.';

  it('a streamed generation: cancelled within 500 ms, and the stream aborts instead of ending as audio', async () => {
    const k = await createKeyInPage(page, { name: 'cancel-stream' });
    const r = await page.evaluate(
      async ({ k, text }) => {
        const h = { 'X-API-Key': k, 'Content-Type': 'application/json' };
        const res = await fetch('/api/v1/tts/stream', {
          method: 'POST',
          headers: h,
          body: JSON.stringify({ text, format: 'pcm' }),
        });
        const jobId = res.headers.get('X-Job-Id')!;
        const reader = res.body!.getReader();
        let bytes = (await reader.read()).value?.length ?? 0;
        const t0 = performance.now();
        const c = await fetch('/api/generation/cancel', {
          method: 'POST',
          headers: h,
          body: JSON.stringify({ job_id: jobId }),
        });
        const t1 = performance.now();
        const cancelled = ((await c.json()) as { cancelled: string[] }).cancelled;
        const job = (await (await fetch(`/api/jobs/${jobId}`, { headers: h })).json()) as { status: string };
        const t2 = performance.now();
        let outcome = 'ended';
        try {
          for (;;) {
            const { done, value } = await reader.read();
            if (done) break;
            bytes += value.length;
          }
        } catch (e) {
          outcome = `error: ${String(e)}`;
        }
        return {
          jobId,
          cancelled,
          status: job.status,
          cancelMs: t1 - t0,
          statusMs: t2 - t1,
          endedMs: performance.now() - t1,
          outcome,
          bytes,
        };
      },
      { k, text: LONG },
    );
    expect(r.cancelled).toEqual([r.jobId]);
    expect(r.status).toBe('cancelled');
    expect(r.cancelMs + r.statusMs).toBeLessThan(500);
    expect(r.outcome).toMatch(/^error/);
    // Far less than the whole text's audio arrived (≈ 20 s at 48 kB/s).
    expect(r.bytes).toBeLessThan(10 * SR * 2);
    console.log(
      `cancel (stream): cancel answered in ${r.cancelMs.toFixed(0)} ms, job read as cancelled ${r.statusMs.toFixed(0)} ms later; the stream aborted ${r.endedMs.toFixed(0)} ms after the cancel answer (${r.outcome})`,
    );
  });

  // After the streamed cancel the engine may be restarting (a stuck run is terminated): this one only
  // needs the job to be running.
  it('a synchronous generation: cancelled within 500 ms, and the request ends with an error, not audio', async () => {
    const k = await createKeyInPage(page, { name: 'cancel-sync' });
    const r = await page.evaluate(
      async ({ k, text }) => {
        const h = { 'X-API-Key': k, 'Content-Type': 'application/json' };
        let ended = 0;
        const req = fetch('/api/v1/tts', {
          method: 'POST',
          headers: h,
          body: JSON.stringify({ text, format: 'wav' }),
        }).then(async (res) => {
          ended = performance.now();
          return { status: res.status, type: res.headers.get('Content-Type'), body: await res.text() };
        });
        // Wait until the generation is running in the engine.
        const events = await fetch('/api/events', { headers: { 'X-API-Key': k } });
        const reader = events.body!.pipeThrough(new TextDecoderStream()).getReader();
        let jobId = '';
        for (let buf = ''; !jobId;) {
          buf += (await reader.read()).value ?? '';
          const blocks = buf.split('\n\n');
          buf = blocks.pop()!;
          for (const b of blocks) {
            const data = b.split('\n').find((l) => l.startsWith('data: '));
            const job = data
              ? (JSON.parse(data.slice(6)) as { id?: string; op?: string; status?: string })
              : {};
            if (job.op === 'tts.generate' && job.status === 'running') jobId = job.id!;
          }
        }
        await reader.cancel();
        await new Promise((r) => setTimeout(r, 1500));
        const t0 = performance.now();
        const c = await fetch('/api/generation/cancel', {
          method: 'POST',
          headers: h,
          body: JSON.stringify({ job_id: jobId }),
        });
        const t1 = performance.now();
        const cancelled = ((await c.json()) as { cancelled: string[] }).cancelled;
        const job = (await (await fetch(`/api/jobs/${jobId}`, { headers: h })).json()) as { status: string };
        const t2 = performance.now();
        const res = await req;
        return {
          jobId,
          cancelled,
          status: job.status,
          cancelMs: t1 - t0,
          statusMs: t2 - t1,
          endedMs: ended - t1,
          res,
        };
      },
      { k, text: LONG },
    );
    expect(r.cancelled).toEqual([r.jobId]);
    expect(r.status).toBe('cancelled');
    expect(r.cancelMs + r.statusMs).toBeLessThan(500);
    expect(r.res.status).toBe(499);
    expect(r.res.type).toMatch(/^application\/json/);
    expect(JSON.parse(r.res.body)).toMatchObject({ error: { code: 'cancelled' } });
    console.log(
      `cancel (sync): cancel answered in ${r.cancelMs.toFixed(0)} ms, job read as cancelled ${r.statusMs.toFixed(0)} ms later; the request ended ${r.endedMs.toFixed(0)} ms after the cancel answer`,
    );
  });
});
