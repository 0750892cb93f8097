// The speech routes through the real router, jobs and (fake-indexeddb) storage, over a scripted engine
// whose 'tts.generate' hands out chunks when the test says so: streaming, SSE, cancel, history, limits,
// Content-Types, the lexicon and storage-full handling.
import { afterEach, describe, expect, it } from 'vitest';
import { createApiContext, type ApiContext } from '../../src/lib/api/context';
import { createRouter } from '../../src/lib/api/routes';
import { streamTiming } from '../../src/lib/api/handlers/speech-stream';
import { decodeWav } from '../../src/lib/dsp/wav';
import { CancelledError, type RunOptions } from '../../src/lib/core/run';
import type { SynthesizeParams } from '../../src/lib/tts/contract';
import { LexiconStore } from '../../src/lib/storage/lexicon';
import { FACTS, setup } from './helpers';
import { caller, errorOf, HIGH_LIMITS, okJson, sleep, until } from './test-utils';

const SR = 24000;
/** Each scripted chunk: 0.25 s of a tone whose level tells the chunks apart. */
const CHUNK = SR / 4;
const chunkSamples = (i: number) =>
  Float32Array.from({ length: CHUNK }, (_, n) => Math.sin(n / 5) * (0.1 + 0.1 * i));

/**
 * 'tts.generate' gives `chunks` chunks; with `hold`, each chunk after the first waits for `release()`.
 * 'audio.encode' returns tagged bytes per format. Cancellation rejects at once, as the real bridge does.
 */
function scriptedEngine(opts: { chunks?: number; hold?: boolean; holdFirst?: boolean; fail?: string } = {}) {
  const calls: { op: string; args: unknown }[] = [];
  let released = 0;
  const waiters: (() => void)[] = [];
  const release = (n = 1) => {
    released += n;
    waiters.splice(0).forEach((w) => w());
  };
  const gate = async (i: number, signal?: AbortSignal) => {
    while ((opts.hold && i > released) || (opts.holdFirst && i >= released)) {
      await new Promise<void>((r) => waiters.push(r));
      if (signal?.aborted) throw new CancelledError();
    }
  };
  const engine: ApiContext['engine'] = {
    hostCount: async () => 1,
    run: (async (op: string, args: unknown, o: RunOptions = {}) => {
      calls.push({ op, args });
      if (op === 'audio.encode') {
        const a = args as { samples: Float32Array; options: { format: string } };
        const tag = new TextEncoder().encode(`${a.options.format}:${a.samples.length}`);
        const mime = {
          mp3: 'audio/mpeg',
          opus: 'audio/ogg; codecs=opus',
          aac: 'audio/aac',
          flac: 'audio/flac',
        }[a.options.format]!;
        return { bytes: tag, mime };
      }
      if (op !== 'tts.generate') throw new Error(`unexpected op ${op}`);
      const onAbort = new Promise<never>((_, reject) => {
        const stop = () => {
          release(0);
          reject(new CancelledError());
        };
        if (o.signal?.aborted) stop();
        o.signal?.addEventListener('abort', stop, { once: true });
      });
      const work = (async () => {
        await sleep(1);
        if (opts.fail) {
          const e = new Error(opts.fail);
          e.name = 'UnknownVoiceError';
          throw e;
        }
        const n = opts.chunks ?? 3;
        const parts: Float32Array[] = [];
        for (let i = 0; i < n; i++) {
          await gate(i, o.signal);
          const samples = chunkSamples(i);
          parts.push(samples);
          o.onProgress?.({
            stage: 'chunk',
            done: i + 1,
            total: n,
            data: { index: i, total: n, samples: samples.slice(), sampleRate: SR, text: `s${i}` },
          });
        }
        const all = new Float32Array(n * CHUNK);
        parts.forEach((p, i) => all.set(p, i * CHUNK));
        return { samples: all, sampleRate: SR, chunks: [], dropped_chars: 0 };
      })();
      return Promise.race([work, onAbort]);
    }) as ApiContext['engine']['run'],
  };
  return { engine, calls, release };
}

async function env(engineOpts: Parameters<typeof scriptedEngine>[0] = {}) {
  const base = await setup();
  const s = scriptedEngine(engineOpts);
  const ctx = createApiContext({
    db: base.db,
    engine: s.engine,
    system: async () => FACTS,
    version: 'test',
    now: () => Date.now(),
  });
  const call = caller(createRouter(), ctx);
  const key = (await ctx.keys.create({ name: 'k', limits: HIGH_LIMITS, now: Date.now() })).secret;
  return { ...s, ctx, call, key, db: base.db };
}

const ttsArgs = (calls: { op: string; args: unknown }[]) =>
  calls.filter((c) => c.op === 'tts.generate').map((c) => c.args as SynthesizeParams);

/** Reads a body chunk by chunk, with the time each arrived. */
async function readAll(res: Response) {
  const reader = res.body!.getReader();
  const parts: { at: number; bytes: Uint8Array }[] = [];
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    parts.push({ at: Date.now(), bytes: value });
  }
  const out = new Uint8Array(parts.reduce((n, p) => n + p.bytes.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p.bytes, at);
    at += p.bytes.length;
  }
  return { parts, bytes: out };
}

function sseEvents(text: string): Record<string, unknown>[] {
  return text
    .split('\n\n')
    .filter((b) => b.trim())
    .map((b) => {
      expect(b.startsWith('data: ')).toBe(true);
      return JSON.parse(b.slice(6)) as Record<string, unknown>;
    });
}

const int16 = (b: Uint8Array) => new Int16Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));

describe('streaming', () => {
  it('POST /v1/audio/speech wav: a streaming WAV header, then each sentence as soon as it exists', async () => {
    const e = await env({ chunks: 3, hold: true });
    const res = await e.call('POST', '/v1/audio/speech', {
      key: e.key,
      bearer: true,
      body: { model: 'tts-1', input: 'One. Two. Three.', voice: 'alloy', response_format: 'wav' },
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('Content-Type')).toBe('audio/wav');
    expect(res.headers.get('X-Sample-Rate')).toBe(String(SR));
    const jobId = res.headers.get('X-Job-Id')!;
    expect(jobId).toMatch(/^job_/);
    const reader = res.body!.getReader();
    // The first sentence arrives while the engine still holds the second.
    const first = (await reader.read()).value!;
    expect((await e.ctx.jobs.get(jobId))!.status).toBe('running');
    const head = new DataView(first.buffer, first.byteOffset, 44);
    expect(new TextDecoder().decode(first.subarray(0, 4))).toBe('RIFF');
    expect(head.getUint32(4, true)).toBe(0xffffffff);
    expect(head.getUint32(40, true)).toBe(0xffffffff);
    expect(head.getUint32(24, true)).toBe(SR);
    expect(first.length).toBe(44 + CHUNK * 2);
    const rest: Uint8Array[] = [];
    e.release(2);
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      rest.push(value);
    }
    expect(rest.length).toBe(2);
    const all = new Uint8Array([...first, ...rest.flatMap((r) => [...r])]);
    const wav = decodeWav(all);
    expect(wav.sampleRate).toBe(SR);
    expect(wav.samples.length).toBe(3 * CHUNK);
    // The third chunk is the loudest: the order is kept.
    const rms = (a: Float32Array) => Math.sqrt(a.reduce((s, x) => s + x * x, 0) / a.length);
    expect(rms(wav.samples.subarray(2 * CHUNK))).toBeGreaterThan(rms(wav.samples.subarray(0, CHUNK)) * 2);
    expect((await e.ctx.jobs.get(jobId))!.status).toBe('succeeded');
  });

  it('stream_format sse: speech.audio.delta per sentence (base64 pcm), then speech.audio.done with usage', async () => {
    const e = await env({ chunks: 4 });
    const res = await e.call('POST', '/v1/audio/speech', {
      key: e.key,
      body: {
        model: 'gpt-4o-mini-tts',
        input: 'A. B. C. D.',
        voice: 'af_heart',
        response_format: 'pcm',
        stream_format: 'sse',
      },
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('Content-Type')).toBe('text/event-stream');
    const events = sseEvents(await res.text());
    const deltas = events.filter((x) => x.type === 'speech.audio.delta');
    expect(deltas.length).toBe(4);
    expect(events.at(-1)!.type).toBe('speech.audio.done');
    expect(events.map((x) => Object.keys(x).sort()).slice(0, 4)).toEqual(Array(4).fill(['audio', 'type']));
    const pcm = deltas.map((d) => Buffer.from(d.audio as string, 'base64'));
    expect(pcm.map((b) => b.length)).toEqual(Array(4).fill(CHUNK * 2));
    const done = events.at(-1) as {
      usage: { input_tokens: number; output_tokens: number; total_tokens: number };
      duration: number;
      history_id: string;
    };
    expect(done.usage.input_tokens).toBe('A. B. C. D.'.length);
    expect(done.usage.total_tokens).toBe(done.usage.input_tokens + done.usage.output_tokens);
    expect(done.duration).toBeCloseTo((4 * CHUNK) / SR, 3);
    expect(done.history_id).toMatch(/^gen_/);
    const s0 = int16(new Uint8Array(pcm[0]!));
    expect(s0[5]).toBe(Math.round(chunkSamples(0)[5]! * 32767));
  });

  it('compressed formats over SSE come whole once encoded, as deltas that join into the file', async () => {
    const e = await env({ chunks: 2 });
    const res = await e.call('POST', '/v1/audio/speech', {
      key: e.key,
      body: { model: 'tts-1', input: 'Hi. There.', voice: 'nova', stream_format: 'sse' },
    });
    const events = sseEvents(await res.text());
    const bytes = Buffer.concat(
      events
        .filter((x) => x.type === 'speech.audio.delta')
        .map((d) => Buffer.from(d.audio as string, 'base64')),
    );
    expect(bytes.toString()).toBe(`mp3:${2 * CHUNK}`);
    expect(events.at(-1)!.type).toBe('speech.audio.done');
  });

  it('POST /api/v1/tts/stream (pcm) and POST /v1/tts stream=true deliver chunked audio', async () => {
    const e = await env({ chunks: 3 });
    const a = await e.call('POST', '/api/v1/tts/stream', {
      key: e.key,
      body: {
        text: 'One. Two. Three.',
        voice_id: 'bf_emma',
        format: 'pcm',
        latency: 'low',
        temperature: 0.7,
      },
    });
    expect(a.status).toBe(200);
    expect(a.headers.get('Content-Type')).toBe('application/octet-stream');
    const got = await readAll(a);
    expect(got.parts.length).toBe(3);
    expect(got.bytes.length).toBe(3 * CHUNK * 2);
    const b = await e.call('POST', '/v1/tts', {
      key: e.key,
      body: { model: 'kokoro', text: 'One. Two. Three.', voice: 'af_bella', format: 'wav', stream: true },
    });
    expect(b.headers.get('Content-Type')).toBe('audio/wav');
    const wb = await readAll(b);
    expect(wb.parts.length).toBe(3);
    expect(decodeWav(wb.bytes).samples.length).toBe(3 * CHUNK);
  });

  it('POST /api/v1/tts/stream mp3 (its default) sends each sentence encoded as soon as it exists', async () => {
    const e = await env({ chunks: 3, hold: true });
    const res = await e.call('POST', '/api/v1/tts/stream', {
      key: e.key,
      body: { text: 'One. Two. Three.' },
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('Content-Type')).toBe('audio/mpeg');
    const jobId = res.headers.get('X-Job-Id')!;
    const reader = res.body!.getReader();
    const dec = new TextDecoder();
    // The first sentence's mp3 arrives while the engine still holds the second.
    expect(dec.decode((await reader.read()).value!)).toBe(`mp3:${CHUNK}`);
    expect((await e.ctx.jobs.get(jobId))!.status).toBe('running');
    e.release(2);
    const rest: string[] = [];
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      rest.push(dec.decode(value));
    }
    expect(rest).toEqual([`mp3:${CHUNK}`, `mp3:${CHUNK}`]);
    // One encode per sentence, none of the whole.
    const encodes = e.calls.filter((c) => c.op === 'audio.encode');
    expect(encodes.map((c) => (c.args as { samples: Float32Array }).samples.length)).toEqual([
      CHUNK,
      CHUNK,
      CHUNK,
    ]);
  });

  it('cancelling the job ends a raw stream with an error and an SSE stream with an error event, no done', async () => {
    const e = await env({ chunks: 3, hold: true });
    const res = await e.call('POST', '/v1/audio/speech', {
      key: e.key,
      body: { model: 'tts-1', input: 'One. Two. Three.', voice: 'alloy', response_format: 'pcm' },
    });
    const reader = res.body!.getReader();
    expect((await reader.read()).value!.length).toBe(CHUNK * 2);
    const id = res.headers.get('X-Job-Id')!;
    const c = await okJson<{ cancelled: string[] }>(
      await e.call('POST', '/api/generation/cancel', { key: e.key, body: { job_id: id } }),
    );
    expect(c.cancelled).toEqual([id]);
    expect((await e.ctx.jobs.get(id))!.status).toBe('cancelled');
    await expect(reader.read()).rejects.toThrow(/cancelled/);

    const s = await e.call('POST', '/v1/audio/speech', {
      key: e.key,
      body: {
        model: 'tts-1',
        input: 'One. Two.',
        voice: 'alloy',
        response_format: 'wav',
        stream_format: 'sse',
      },
    });
    const sid = s.headers.get('X-Job-Id')!;
    const text = s.text();
    await e.call('POST', '/api/generation/cancel', { key: e.key, body: { job_id: sid } });
    const events = sseEvents(await text);
    expect(events.filter((x) => x.type === 'speech.audio.delta').length).toBe(1);
    expect(events.at(-1)).toMatchObject({ type: 'error', error: { code: 'cancelled', job_id: sid } });
    expect(events.some((x) => x.type === 'speech.audio.done')).toBe(false);
    // Nothing of a cancelled generation is kept.
    const h = await okJson<{ total: number }>(await e.call('GET', '/api/v1/tts/history', { key: e.key }));
    expect(h.total).toBe(0);
  });

  it('a reader that goes away cancels the generation', async () => {
    const e = await env({ chunks: 3, hold: true });
    const res = await e.call('POST', '/api/v1/tts/stream', {
      key: e.key,
      body: { text: 'One. Two. Three.', format: 'wav' },
    });
    const id = res.headers.get('X-Job-Id')!;
    await res.body!.cancel();
    await until(async () => (await e.ctx.jobs.get(id))?.status === 'cancelled');
  });

  it('a slow first sentence does not hold the response back: headers go out, a later error aborts the body', async () => {
    const before = streamTiming.holdMs;
    streamTiming.holdMs = 30;
    try {
      const e = await env({ chunks: 2, holdFirst: true });
      const res = await e.call('POST', '/api/v1/tts/stream', {
        key: e.key,
        body: { text: 'A. B.', format: 'wav' },
      });
      expect(res.status).toBe(200);
      const id = res.headers.get('X-Job-Id')!;
      expect((await e.ctx.jobs.get(id))!.status).toBe('running');
      const body = res.arrayBuffer();
      await e.call('POST', '/api/generation/cancel', { key: e.key, body: { job_id: id } });
      await expect(body).rejects.toThrow(/cancelled/);

      const e2 = await env({ chunks: 2, holdFirst: true });
      const ok = await e2.call('POST', '/v1/audio/speech', {
        key: e2.key,
        body: {
          model: 'tts-1',
          input: 'A. B.',
          voice: 'alloy',
          response_format: 'pcm',
          stream_format: 'sse',
        },
      });
      expect(ok.status).toBe(200);
      e2.release(2);
      const events = sseEvents(await ok.text());
      expect(events.map((x) => x.type)).toEqual([
        'speech.audio.delta',
        'speech.audio.delta',
        'speech.audio.done',
      ]);
    } finally {
      streamTiming.holdMs = before;
    }
  });

  it('an engine error before any audio answers with its own status, not a broken stream', async () => {
    const e = await env({ fail: 'No Kokoro voice "zz_nobody".' });
    const err = await errorOf(
      await e.call('POST', '/v1/audio/speech', {
        key: e.key,
        body: { model: 'tts-1', input: 'Hi.', voice: 'af_heart*0.5 + zz_nobody*0.5', response_format: 'wav' },
      }),
      404,
      'not_found',
    );
    expect(err.message).toContain('zz_nobody');
  });
});

describe('whole-file routes', () => {
  it('POST /api/v1/tts answers each format with its Content-Type; mp3 is the default', async () => {
    const e = await env({ chunks: 2 });
    const types: Record<string, string> = {};
    for (const format of [undefined, 'wav', 'pcm', 'opus'] as const) {
      const res = await e.call('POST', '/api/v1/tts', {
        key: e.key,
        body: { text: 'Hello. World.', format },
      });
      expect(res.status).toBe(200);
      types[format ?? 'default'] = res.headers.get('Content-Type')!;
      const bytes = new Uint8Array(await res.arrayBuffer());
      expect(res.headers.get('Content-Length')).toBe(String(bytes.length));
      if (format === 'wav') expect(decodeWav(bytes).samples.length).toBe(2 * CHUNK);
      if (format === 'pcm') expect(bytes.length).toBe(2 * CHUNK * 2);
      if (format === undefined) expect(new TextDecoder().decode(bytes)).toBe(`mp3:${2 * CHUNK}`);
    }
    expect(types).toEqual({
      default: 'audio/mpeg',
      wav: 'audio/wav',
      pcm: 'application/octet-stream',
      opus: 'audio/ogg; codecs=opus',
    });
    // The default voice of that family, and FR02's volume as volume_db.
    const args = ttsArgs(e.calls);
    expect(args[0]).toMatchObject({ voice: 'af_heart', volume_db: 0, speed: 1 });
  });

  it('POST /v1/tts: flac and aac; model aliases say which model ran, an unknown model is a 400 listing them', async () => {
    const e = await env({ chunks: 1 });
    for (const [format, type] of [
      ['flac', 'audio/flac'],
      ['aac', 'audio/aac'],
    ] as const) {
      const res = await e.call('POST', '/v1/tts/', {
        key: e.key,
        bearer: true,
        body: { model: 'kokoro', text: 'Hi.', voice: 'af_bella', format, speed: 1.5, language: 'en' },
      });
      expect(res.status).toBe(200);
      expect(res.headers.get('Content-Type')).toBe(type);
    }
    expect(ttsArgs(e.calls)[0]).toMatchObject({ voice: 'af_bella', speed: 1.5, language: 'en' });
    // Another speech model's name (the document lists chatterbox for /v1/tts) is spoken by Kokoro, and the
    // answer says so; webhook_url is accepted and named as not honoured.
    const aliased = await e.call('POST', '/v1/tts', {
      key: e.key,
      body: {
        model: 'chatterbox',
        text: 'Hi.',
        voice: 'af_bella',
        format: 'wav',
        webhook_url: 'https://x.test/h',
      },
    });
    expect(aliased.status).toBe(200);
    expect(aliased.headers.get('X-Timbre-Model')).toBe('kokoro-82m-q8 (asked: chatterbox)');
    expect(aliased.headers.get('X-Timbre-Ignored-Parameters')).toBe('webhook_url');
    const plain = await e.call('POST', '/v1/tts', {
      key: e.key,
      body: { model: 'kokoro', text: 'Hi.', voice: 'af_bella', format: 'wav' },
    });
    expect(plain.headers.get('X-Timbre-Model')).toBe('kokoro-82m-q8 (asked: kokoro)');
    expect(plain.headers.get('X-Timbre-Ignored-Parameters')).toBeNull();
    const err = await errorOf(
      await e.call('POST', '/v1/tts', {
        key: e.key,
        body: { model: 'no-such-tts', text: 'Hi.', voice: 'af_bella' },
      }),
      400,
      'bad_request',
    );
    expect(err.field).toBe('model');
    expect(err.message).toContain('no-such-tts');
    expect(err.message).toMatch(/Accepted: .*kokoro.*tts-1/);
    // A field no document names is still refused by the strict body.
    expect(
      (
        await errorOf(
          await e.call('POST', '/v1/tts', {
            key: e.key,
            body: { text: 'Hi.', voice: 'af_bella', colour: 'red' },
          }),
          400,
        )
      ).field,
    ).toBe('colour');
  });

  it('POST /v1/audio/speech names instructions as ignored (Kokoro takes no style prompt)', async () => {
    const e = await env({ chunks: 1 });
    const res = await e.call('POST', '/v1/audio/speech', {
      key: e.key,
      body: {
        model: 'gpt-4o-mini-tts',
        input: 'Hi.',
        voice: 'coral',
        instructions: 'Speak cheerfully.',
        response_format: 'wav',
      },
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('X-Timbre-Ignored-Parameters')).toBe('instructions');
    expect(res.headers.get('X-Timbre-Model')).toBe('kokoro-82m-q8 (asked: gpt-4o-mini-tts)');
    await res.arrayBuffer();
    await errorOf(
      await e.call('POST', '/v1/audio/speech', {
        key: e.key,
        body: { model: 'dall-e-3', input: 'Hi.', voice: 'coral' },
      }),
      400,
      'bad_request',
    );
  });

  it('OpenAI voices map to presets (also as {id}), speed is clamped to 0.5–2, unknown voices are 404', async () => {
    const e = await env({ chunks: 1 });
    const speak = (voice: unknown, speed?: number) =>
      e.call('POST', '/v1/audio/speech', {
        key: e.key,
        body: { model: 'tts-1-hd', input: 'Hi.', voice, speed, response_format: 'pcm' },
      });
    expect((await speak('onyx', 4)).status).toBe(200);
    expect((await speak({ id: 'shimmer' }, 0.25)).status).toBe(200);
    expect(ttsArgs(e.calls).map((a) => [a.voice, a.speed])).toEqual([
      ['am_onyx', 2],
      ['af_bella', 0.5],
    ]);
    const err = await errorOf(await speak('nobody'), 404, 'not_found');
    expect(err.message).toContain('nobody');
    await errorOf(
      await e.call('POST', '/api/v1/tts', { key: e.key, body: { text: 'x', voice_id: 'nobody' } }),
      404,
    );
  });

  it('the streaming-TTS voice_id "default" and null (its Python sends null) speak the default voice', async () => {
    const e = await env({ chunks: 1 });
    for (const voice_id of ['default', null, undefined]) {
      const res = await e.call('POST', '/api/v1/tts', {
        key: e.key,
        body: { text: 'Hi.', voice_id, format: 'wav' },
      });
      expect(res.status, String(voice_id)).toBe(200);
    }
    expect(ttsArgs(e.calls).map((a) => a.voice)).toEqual(['af_heart', 'af_heart', 'af_heart']);
  });

  it('empty and over-long text are 400s that name the limit', async () => {
    const e = await env();
    const cases: [string, Record<string, unknown>, string, number][] = [
      ['/v1/audio/speech', { model: 'tts-1', voice: 'alloy', input: '' }, 'input', 4096],
      ['/v1/audio/speech', { model: 'tts-1', voice: 'alloy', input: 'x'.repeat(4097) }, 'input', 4096],
      ['/v1/tts', { text: '   ' }, 'text', 5000],
      ['/v1/tts', { text: 'x'.repeat(5001) }, 'text', 5000],
      ['/api/v1/tts', { text: '' }, 'text', 5000],
      ['/api/v1/tts/stream', { text: 'y'.repeat(5001) }, 'text', 5000],
      ['/api/generate/preset', { voice_id: 'af_heart', text: 'z'.repeat(5001) }, 'text', 5000],
    ];
    for (const [path, body, field, limit] of cases) {
      const err = await errorOf(await e.call('POST', path, { key: e.key, body }), 400, 'bad_request');
      expect(err.field, path).toBe(field);
      expect(err.message, path).toContain(String(limit));
    }
    expect(e.calls).toEqual([]);
  });
});

describe('history', () => {
  it('keeps every API generation with its parameters and audio; a key sees only its own', async () => {
    const e = await env({ chunks: 2 });
    await e.call('POST', '/api/v1/tts', {
      key: e.key,
      body: { text: 'First one.', voice_id: 'am_adam', format: 'pcm', speed: 1.25, volume: -3 },
    });
    await (
      await e.call('POST', '/v1/audio/speech', {
        key: e.key,
        body: { model: 'tts-1', input: 'Second one.', voice: 'alloy', response_format: 'wav' },
      })
    ).arrayBuffer();
    const preset = await okJson<{ history_id: string }>(
      await e.call('POST', '/api/generate/preset', {
        key: e.key,
        body: { text: 'Third one.', voice_id: 'af_heart*0.5 + bf_emma*0.5' },
      }),
    );
    const other = (await e.ctx.keys.create({ name: 'other', limits: HIGH_LIMITS, now: Date.now() })).secret;
    await e.call('POST', '/api/v1/tts', { key: other, body: { text: 'Not yours.' } });

    type Item = {
      id: string;
      text: string;
      voice: string;
      voice_resolved: string;
      params: Record<string, unknown>;
      duration: number;
      elapsed_ms: number;
      source: string;
      route: string;
      key_id: string;
      bytes: number;
      audio_url: string;
    };
    const list = await okJson<{ items: Item[]; total: number }>(
      await e.call('GET', '/api/v1/tts/history', { key: e.key }),
    );
    expect(list.total).toBe(3);
    expect(list.items.map((i) => i.text)).toEqual(['Third one.', 'Second one.', 'First one.']);
    expect(list.items.map((i) => i.route)).toEqual([
      'POST /api/generate/preset',
      'POST /v1/audio/speech',
      'POST /api/v1/tts',
    ]);
    expect(list.items[0]!.id).toBe(preset.history_id);
    const first = list.items[2]!;
    expect(first).toMatchObject({
      voice: 'am_adam',
      voice_resolved: 'am_adam',
      params: { speed: 1.25, volume_db: -3, format: 'pcm' },
      source: 'api',
      duration: (2 * CHUNK) / SR,
    });
    expect(first.elapsed_ms).toBeGreaterThanOrEqual(0);
    expect(first.bytes).toBe(44 + 2 * CHUNK * 2);
    expect(list.items[1]).toMatchObject({ voice: 'alloy', voice_resolved: 'af_alloy' });
    expect((await e.ctx.keys.verify(e.key))!.id).toBe(first.key_id);

    const one = await okJson<{ audio_base64: string; content_type: string; text: string }>(
      await e.call('GET', `/api/v1/tts/history/${first.id}`, { key: e.key }),
    );
    expect(one.content_type).toBe('audio/wav');
    expect(decodeWav(new Uint8Array(Buffer.from(one.audio_base64, 'base64'))).samples.length).toBe(2 * CHUNK);
    const audio = await e.call('GET', first.audio_url, { key: e.key });
    expect(audio.headers.get('Content-Type')).toBe('audio/wav');
    expect((await audio.arrayBuffer()).byteLength).toBe(first.bytes);

    const paged = await okJson<{ items: Item[] }>(
      await e.call('GET', '/api/v1/tts/history?offset=1&limit=1', { key: e.key }),
    );
    expect(paged.items.map((i) => i.text)).toEqual(['Second one.']);
    const byVoice = await okJson<{ items: Item[] }>(
      await e.call('GET', '/api/v1/tts/history?voice=am_adam', { key: e.key }),
    );
    expect(byVoice.items.map((i) => i.text)).toEqual(['First one.']);

    // The other key's generation is not visible, readable or deletable.
    const theirs = await okJson<{ items: Item[] }>(
      await e.call('GET', '/api/v1/tts/history', { key: other }),
    );
    expect(theirs.items.map((i) => i.text)).toEqual(['Not yours.']);
    await errorOf(await e.call('GET', `/api/v1/tts/history/${theirs.items[0]!.id}`, { key: e.key }), 404);
    await errorOf(await e.call('DELETE', `/api/v1/tts/history/${theirs.items[0]!.id}`, { key: e.key }), 404);

    const del = await okJson<{ deleted: string }>(
      await e.call('DELETE', `/api/v1/tts/history/${first.id}`, { key: e.key }),
    );
    expect(del.deleted).toBe(first.id);
    await errorOf(await e.call('GET', `/api/v1/tts/history/${first.id}`, { key: e.key }), 404);
    expect(
      (await okJson<{ total: number }>(await e.call('GET', '/api/v1/tts/history', { key: e.key }))).total,
    ).toBe(2);
  });

  describe('storage full', () => {
    const realPut = IDBObjectStore.prototype.put;
    afterEach(() => {
      IDBObjectStore.prototype.put = realPut;
    });
    const fullHistory = () => {
      IDBObjectStore.prototype.put = function (
        this: IDBObjectStore,
        ...args: Parameters<IDBObjectStore['put']>
      ) {
        if (this.name === 'history')
          throw new DOMException('The quota has been exceeded.', 'QuotaExceededError');
        return realPut.apply(this, args);
      };
    };

    it('answers 507 storage_full and still returns the audio (base64 in the error)', async () => {
      const e = await env({ chunks: 2 });
      fullHistory();
      const res = await e.call('POST', '/api/v1/tts', {
        key: e.key,
        body: { text: 'Hi. There.', voice_id: 'alloy', format: 'wav' },
      });
      const err = await errorOf(res, 507, 'storage_full');
      expect(err.message).toMatch(/storage/i);
      expect(err.content_type).toBe('audio/wav');
      expect(
        decodeWav(new Uint8Array(Buffer.from(err.audio_base64 as string, 'base64'))).samples.length,
      ).toBe(2 * CHUNK);
      const preset = await errorOf(
        await e.call('POST', '/api/generate/preset', {
          key: e.key,
          body: { text: 'Hi.', voice_id: 'af_heart' },
        }),
        507,
        'storage_full',
      );
      expect(typeof preset.audio_base64).toBe('string');
      const mp3 = await errorOf(
        await e.call('POST', '/v1/audio/speech', {
          key: e.key,
          body: { model: 'tts-1', input: 'Hi.', voice: 'alloy' },
        }),
        507,
      );
      expect(mp3.content_type).toBe('audio/mpeg');
      expect(Buffer.from(mp3.audio_base64 as string, 'base64').toString()).toBe(`mp3:${2 * CHUNK}`);
      expect(preset.duration).toBeCloseTo((2 * CHUNK) / SR, 3);
      // A stream has sent its audio already: its done event says the history could not keep it.
      const sse = await e.call('POST', '/v1/audio/speech', {
        key: e.key,
        body: { model: 'tts-1', input: 'Hi.', voice: 'alloy', response_format: 'pcm', stream_format: 'sse' },
      });
      const done = sseEvents(await sse.text()).at(-1)!;
      expect(done).toMatchObject({ type: 'speech.audio.done', history_error: { code: 'storage_full' } });
      IDBObjectStore.prototype.put = realPut;
      expect(
        (await okJson<{ total: number }>(await e.call('GET', '/api/v1/tts/history', { key: e.key }))).total,
      ).toBe(0);
    });
  });
});

describe('lexicon and voices', () => {
  it('the stored lexicon (global and the voice’s own) goes to the engine with the voice id', async () => {
    const e = await env({ chunks: 1 });
    const lex = new LexiconStore(e.db);
    await lex.put([
      { word: 'Timbre', respelling: 'Tamber' },
      { word: 'Kokoro', phonemes: 'kˈOkəɹO', scope: 'bf_emma' },
      { word: 'Adam', respelling: 'Addum', scope: 'am_adam' },
    ]);
    await e.call('POST', '/v1/audio/speech', {
      key: e.key,
      body: { model: 'tts-1', input: 'Timbre and Kokoro.', voice: 'bf_emma', response_format: 'pcm' },
    });
    await e.call('POST', '/api/v1/tts', {
      key: e.key,
      body: { text: 'Hi.', voice_id: 'af_heart*0.5 + am_adam*0.5', format: 'pcm' },
    });
    const [emma, mix] = ttsArgs(e.calls);
    expect(emma!.voice_id).toBe('bf_emma');
    expect(emma!.lexicon!.map((x) => x.word).sort()).toEqual(['Kokoro', 'Timbre']);
    // A bare formula belongs to no voice: only the global entries apply.
    expect(mix!.voice_id).toBeUndefined();
    expect(mix!.lexicon!.map((x) => x.word)).toEqual(['Timbre']);
  });

  it('a library voice with a recipe speaks its formula and uses its own lexicon entries', async () => {
    const e = await env({ chunks: 1 });
    const now = Date.now();
    await e.ctx.voices.put({
      id: 'my_mix',
      name: 'My mix',
      description: '',
      tags: [],
      language: 'en-us',
      gender: 'female',
      kind: 'mixed',
      model: 'kokoro',
      samples: [],
      favorite: false,
      created_at: now,
      updated_at: now,
      recipe: { formula: 'af_heart*0.7 + af_bella*0.3' },
    } as never);
    await new LexiconStore(e.db).put([{ word: 'Mix', respelling: 'Micks', scope: 'my_mix' }]);
    const res = await e.call('POST', '/v1/tts', {
      key: e.key,
      body: { text: 'Mix.', voice: 'my_mix', format: 'wav' },
    });
    expect(res.status).toBe(200);
    expect(ttsArgs(e.calls)[0]).toMatchObject({ voice: 'af_heart*0.7 + af_bella*0.3', voice_id: 'my_mix' });
    expect(ttsArgs(e.calls)[0]!.lexicon!.map((x) => x.word)).toEqual(['Mix']);
  });

  it("a designed voice's recipe speed scales the caller's speed on every speech route, within 0.5–2", async () => {
    const e = await env({ chunks: 1 });
    const now = Date.now();
    await e.ctx.voices.put({
      id: 'slow_deep',
      name: 'Slow and deep',
      description: '',
      tags: [],
      language: 'en-gb',
      gender: 'male',
      kind: 'designed',
      model: 'kokoro',
      samples: [],
      favorite: false,
      created_at: now,
      updated_at: now,
      recipe: { formula: 'bm_george*0.6 + bm_lewis*0.4', speed: 0.8 },
    } as never);
    const a = await e.call('POST', '/v1/tts', {
      key: e.key,
      body: { text: 'One.', voice: 'slow_deep', format: 'wav' },
    });
    expect(a.status).toBe(200);
    const b = await e.call('POST', '/api/generate/preset', {
      key: e.key,
      body: { text: 'Two.', voice_id: 'slow_deep', speed: 1.5 },
    });
    expect(b.status).toBe(200);
    const c = await e.call('POST', '/v1/tts', {
      key: e.key,
      body: { text: 'Three.', voice: 'slow_deep', format: 'wav', speed: 0.5 },
    });
    expect(c.status).toBe(200);
    expect(ttsArgs(e.calls).map((x) => x.speed)).toEqual([0.8, 1.2, 0.5]);
  });

  it('GET /v1/voices filters by model, language and gender', async () => {
    const e = await env();
    type V = { voices: { id: string; model: string; language: string; gender: string }[]; total: number };
    const get = async (q: string) =>
      okJson<V>(await e.call('GET', `/v1/voices${q}`, { key: e.key, bearer: true }));
    expect((await get('')).total).toBe(54);
    const kokoro = await get('?model=kokoro');
    expect(kokoro.total).toBe(54);
    expect((await get('?model=chatterbox')).total).toBe(0);
    const gbMale = await get('?language=en-gb&gender=male');
    expect(gbMale.voices.map((v) => v.id).sort()).toEqual(['bm_daniel', 'bm_fable', 'bm_george', 'bm_lewis']);
    const en = await get('?language=en');
    expect(en.voices.every((v) => v.language.startsWith('en-'))).toBe(true);
    expect(en.total).toBe(28);
    const female = await get('?gender=female&language=ja');
    expect(female.voices.map((v) => v.id).sort()).toEqual([
      'jf_alpha',
      'jf_gongitsune',
      'jf_nezumi',
      'jf_tebukuro',
    ]);
    await errorOf(await e.call('GET', '/v1/voices?gender=robot', { key: e.key }), 400);
  });
});
