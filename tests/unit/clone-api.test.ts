// Voice cloning through the real router, storage (fake-indexeddb) and the real clone.* ops on the tiny v2
// fixture converter (onnxruntime-web WASM in Node). The speech engine for cloned speech is a stand-in (the
// fixture's source clip) so the converter path is what is tested here; the browser test speaks with Kokoro.
import 'fake-indexeddb/auto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as ort from 'onnxruntime-web';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { createApiContext, type ApiContext } from '../../src/lib/api/context';
import { createRouter } from '../../src/lib/api/routes';
import type { RunOptions } from '../../src/lib/core/run';
import { MemoryModelStore } from '../../src/lib/models/store';
import type { InstalledModel } from '../../src/lib/storage/records';
import type { CloneDeps } from '../../src/lib/clone/deps';
import { resetClone } from '../../src/lib/clone/converter';
import { runCloneInstall } from '../../src/lib/clone/install';
import { runCloneStatus } from '../../src/lib/clone/status';
import { runCloneExtract } from '../../src/lib/clone/extract';
import { runCloneConvert } from '../../src/lib/clone/convert';
import { runCloneSpeak } from '../../src/lib/clone/speak';
import { deviation, graphsFromCheckpoint } from '../../src/lib/openvoice';
import { fastIsDefault } from '../../src/lib/clone/contract';
import { decodeWav, encodeWav } from '../../src/lib/dsp/wav';
import { Transcoder } from '../../src/lib/codec/transcoder';
import type { AudioEncodeArgs } from '../../src/lib/audio/contract';
import { NodeCoreProvider } from './ffmpeg-node';
import { FACTS, setup } from './helpers';
import { caller, errorOf, HIGH_LIMITS, okJson, toBase64 } from './test-utils';

vi.setConfig({ testTimeout: 600_000, hookTimeout: 600_000 });

const dir = join(import.meta.dirname, '..', 'fixtures', 'openvoice-v2-tiny');
const read = async (n: string) => new Uint8Array(await readFile(join(dir, n)));
const SR = 22050;

/** `seconds` of a clip looped with 0.3 s pauses (as a person speaking). */
function looped(clip: Float32Array, seconds: number): Float32Array {
  const out = new Float32Array(Math.round(seconds * SR));
  const gap = Math.round(0.3 * SR);
  for (let o = 0; o < out.length; o += clip.length + gap)
    out.set(clip.subarray(0, Math.min(clip.length, out.length - o)), o);
  return out;
}

let files: Record<string, Uint8Array>;
let reference: Float32Array;
let source: Float32Array;
const served: string[] = [];

function deps(): CloneDeps {
  const records = new Map<string, InstalledModel>();
  return {
    registry: { get: async (id) => records.get(id), put: async (r) => void records.set(r.id, r) },
    store: new MemoryModelStore(),
    ort,
    // The release layout on a fake origin.
    fetch: (async (url: string) => {
      served.push(String(url));
      const m = /\/converter\/(config\.json|checkpoint\.pth)$/.exec(String(url));
      if (!m || !String(url).startsWith('http://release.test/')) return new Response('no', { status: 404 });
      return new Response(files[m[1]!] as Uint8Array<ArrayBuffer>, {
        headers: { 'content-length': String(files[m[1]!]!.byteLength) },
      });
    }) as typeof fetch,
    speak: async () => ({ samples: looped(source, 6), sampleRate: SR }),
    vadModel: async () => null,
  };
}

let d: CloneDeps;
let ctx: ApiContext;
const transcoder = new Transcoder(new NodeCoreProvider());
let call: ReturnType<typeof caller>;
let key: string;

beforeAll(async () => {
  files = { 'config.json': await read('config.json'), 'checkpoint.pth': await read('checkpoint.pth') };
  reference = decodeWav(await read('reference.wav')).samples;
  source = decodeWav(await read('source.wav')).samples;
  await resetClone();
  d = deps();
  const base = await setup();
  ctx = createApiContext({
    db: base.db,
    engine: {
      hostCount: async () => 1,
      run: (async (op: string, args: never, o: RunOptions = {}) => {
        if (op === 'clone.status') return runCloneStatus(d);
        if (op === 'clone.extract') return runCloneExtract(args, o, d);
        if (op === 'clone.convert') return runCloneConvert(args, o, d);
        if (op === 'clone.speak') return runCloneSpeak(args, o, d);
        if (op === 'audio.encode') {
          const a = args as AudioEncodeArgs;
          return transcoder.encode(a.samples, a.sampleRate, a.options, o);
        }
        throw new Error(`unexpected op ${op}`);
      }) as ApiContext['engine']['run'],
    },
    system: async () => FACTS,
    version: 'test',
  });
  call = caller(createRouter(), ctx);
  key = (await ctx.keys.create({ name: 'k', limits: HIGH_LIMITS, now: Date.now() })).secret;
});

const wavB64 = (x: Float32Array) => toBase64(encodeWav(x, SR, 's16'));
function form(fields: Record<string, string>, fileField: string, wav?: Float32Array) {
  const f = new FormData();
  if (wav)
    f.set(
      fileField,
      new Blob([encodeWav(wav, SR, 's16') as Uint8Array<ArrayBuffer>], { type: 'audio/wav' }),
      'a.wav',
    );
  for (const [k, v] of Object.entries(fields)) f.set(k, v);
  return f;
}

describe('before the converter is installed', () => {
  it('every clone route answers 503 model_not_installed saying how to install it', async () => {
    const routes: [string, unknown][] = [
      ['/api/clone/create', { audio: wavB64(reference), name: 'x' }],
      ['/api/clone/create-multi', { samples: [wavB64(reference)] }],
      ['/api/generate/clone', { voice_id: 'none', text: 'hi' }],
      ['/v1/tts/clone', form({ text: 'hi' }, 'reference_audio', reference)],
      ['/v1/voice-convert', form({ target_voice: 'x' }, 'file', source)],
      ['/v1/speech-to-speech', form({ voice: 'x' }, 'file', source)],
    ];
    for (const [path, body] of routes) {
      const r =
        body instanceof FormData
          ? await call('POST', path, { key, raw: body })
          : await call('POST', path, { key, body });
      if (['/api/generate/clone', '/v1/voice-convert', '/v1/speech-to-speech'].includes(path)) {
        // The request is checked first: no such voice is a 404; with a voice it would be the 503 below.
        await errorOf(r, 404, 'not_found');
        continue;
      }
      const e = await errorOf(r, 503, 'model_not_installed');
      expect(e.message, path).toMatch(/Models view/);
    }
    const r = await call('POST', '/api/clone', {
      key,
      body: { target_audio: wavB64(reference), source_audio: wavB64(source) },
    });
    expect(r.status).toBe(503);
    const b = (await r.json()) as { success: boolean; error: { code: string } };
    expect(b.success).toBe(false);
    expect(b.error.code).toBe('model_not_installed');
    expect((await okJson<{ installed: boolean }>(await call('GET', '/api/info', { key }))).installed).toBe(
      false,
    );
  });

  it('a bad request is a 400 naming the field, not the 503, on every clone route (#21)', async () => {
    const ref = wavB64(reference);
    const cases: [string, unknown, string][] = [
      ['/api/clone', { target_audio: '%%%not base64%%%', source_audio: ref, tau: 3 }, 'target_audio'],
      ['/api/clone', { target_audio: ref, source_audio: ref, tau: 3 }, 'tau'],
      ['/api/clone/create', { name: 'x' }, 'audio'],
      ['/api/clone/create-multi', { samples: 'one' }, 'samples'],
      ['/api/generate/clone', { voice_id: 'x', text: 'hi', tau: 3 }, 'tau'],
      ['/v1/tts/clone', form({ tau: '3', text: 'hi' }, 'reference_audio', reference), 'tau'],
      ['/v1/tts/clone', form({ text: '' }, 'reference_audio', reference), 'text'],
      ['/v1/voice-convert', form({ target_voice: 'x', tau: '3' }, 'file', source), 'tau'],
      ['/v1/speech-to-speech', form({ voice: 'x', emotion: 'angry' }, 'file', source), 'emotion'],
    ];
    for (const [path, body, field] of cases) {
      const r =
        body instanceof FormData
          ? await call('POST', path, { key, raw: body })
          : await call('POST', path, { key, body });
      const e = await errorOf(r, 400, 'bad_request');
      expect(e.field, `${path}: ${e.message}`).toBe(field);
    }
  });
});

describe('install', () => {
  it('a wrong ONNX pair is refused with a clear error', async () => {
    const g = await graphsFromCheckpoint(
      new TextDecoder().decode(files['config.json']),
      files['checkpoint.pth']!,
    );
    const other = deps();
    await expect(
      runCloneInstall(
        {
          source: {
            kind: 'onnx',
            config: files['config.json']!,
            extractor: g.converter,
            converter: g.extractor,
          },
        },
        {},
        other,
      ),
    ).rejects.toMatchObject({ name: 'ConverterGraphError', message: expect.stringMatching(/extractor/) });
    expect((await runCloneStatus(other)).installed).toBe(false);
    // The right pair is accepted as is (not rebuilt).
    const ok = await runCloneInstall(
      {
        source: {
          kind: 'onnx',
          config: files['config.json']!,
          extractor: g.extractor,
          converter: g.converter,
        },
      },
      {},
      other,
    );
    expect(ok.built).toBe(false);
    await resetClone();
  });

  it('from the release layout by URL, with download and build progress; the ONNX graphs are stored', async () => {
    const stages = new Set<string>();
    const r = await runCloneInstall(
      { source: { kind: 'url', base: 'http://release.test/' } },
      { onProgress: (p) => stages.add(p.stage) },
      d,
    );
    expect(r).toMatchObject({
      id: 'openvoice-v2-converter',
      version: 'v2',
      sampleRate: 22050,
      toneDimension: 256,
      built: true,
    });
    expect([...stages]).toEqual(expect.arrayContaining(['download', 'build', 'tune', 'store', 'done']));
    expect(served).toContain('http://release.test/converter/checkpoint.pth');
    const rec = await d.registry.get('openvoice-v2-converter');
    expect(rec!.files.map((f) => f.path).sort()).toEqual([
      'config.json',
      'converter-int8.json',
      'converter-int8.onnx',
      'converter.onnx',
      'extractor.onnx',
    ]);
    // The int8 variant, tuned on the speech engine's output and measured against fp32 on held-out speech.
    expect(r.fastUnavailable).toBeUndefined();
    expect(r.fast!.convs).toBeGreaterThan(20);
    expect(r.fast!.snr_db).toBeGreaterThanOrEqual(25);
    expect(r.fast!.snr_db).toBeLessThan(99);
    expect(r.fast!.speedup).toBeGreaterThan(0);
    // The default only when measured steady and ≥ 1.15× faster here (the tiny fixture may well not be).
    expect(r.fast!.recommended).toBe(fastIsDefault(r.fast));
    expect(typeof r.fast!.steady).toBe('boolean');
    expect(r.fast!.calibration_seconds).toBeGreaterThan(10);
    expect(await runCloneStatus(d)).toMatchObject({
      installed: true,
      version: 'v2',
      toneDimension: 256,
      fast: r.fast,
    });
    const info = await okJson<Record<string, unknown>>(await call('GET', '/api/info', { key }));
    expect(info).toMatchObject({
      installed: true,
      model: 'OpenVoice Tone Clone',
      version: 'v2',
      sample_rate: 22050,
      // The installed converter's filter_length (config.json).
      target_length: 1024,
      tone_dimension: 256,
      fast_converter: { snr_db: r.fast!.snr_db, default: fastIsDefault(r.fast) },
    });
  });
});

describe('voices, conversion and the routes', () => {
  let voiceId: string;

  it('under 3 s of speech is a 400 with a clear message', async () => {
    const r = await call('POST', '/api/clone/create', {
      key,
      body: { audio: wavB64(reference.subarray(0, 2 * SR)), name: 'short' },
    });
    const e = await errorOf(r, 400, 'bad_request');
    expect(e.message).toMatch(/at least 3 s/);
  });

  it('/api/clone/create stores the embedding and the checks; clipping is warned about; samples kept only when asked', async () => {
    const r = await okJson<{
      voice_id: string;
      voice: { embedding: number[]; samples: unknown[]; kind: string };
      warnings: { code: string }[];
      speech_seconds: number;
    }>(
      await call('POST', '/api/clone/create', {
        key,
        body: { audio: wavB64(looped(reference, 12)), name: 'Ref', gender: 'female' },
      }),
      201,
    );
    expect(r.voice.kind).toBe('cloned');
    expect(r.voice.embedding).toHaveLength(256);
    expect(r.voice.samples).toHaveLength(0);
    expect(r.speech_seconds).toBeGreaterThan(8);
    expect(r.warnings.map((w) => w.code)).not.toContain('clipping');
    voiceId = r.voice_id;
    // The same speech, clipped hard.
    const bad = looped(reference, 12).map((v) => Math.max(-0.99, Math.min(0.99, v * 30)));
    const r2 = await okJson<{ warnings: { code: string }[]; voice: { samples: unknown[] } }>(
      await call('POST', '/api/clone/create', {
        key,
        body: { audio: wavB64(bad), name: 'Bad', keep_samples: true },
      }),
      201,
    );
    expect(r2.warnings.map((w) => w.code)).toContain('clipping');
    expect(r2.voice.samples).toHaveLength(1);
  });

  it('create-multi averages several samples (its embedding lies between the single ones)', async () => {
    const a = looped(reference, 8);
    const b = looped(source, 8);
    const one = async (x: Float32Array) =>
      (await runCloneExtract({ audio: [{ samples: x, sampleRate: SR }] }, {}, d)).embedding;
    const [ea, eb] = [await one(a), await one(b)];
    const r = await okJson<{ voice: { embedding: number[] }; samples_used: number }>(
      await call('POST', '/api/clone/create-multi', {
        key,
        body: { samples: [wavB64(a), wavB64(b)], name: 'Multi' },
      }),
      201,
    );
    expect(r.samples_used).toBe(2);
    const dist = (x: ArrayLike<number>, y: ArrayLike<number>) =>
      Math.hypot(...Array.from(x, (v, i) => v - y[i]!));
    const m = r.voice.embedding;
    expect(dist(m, ea)).toBeLessThan(dist(ea, eb));
    expect(dist(m, eb)).toBeLessThan(dist(ea, eb));
  });

  it('/api/clone (OpenVoice shape) converts a long source whole: base64 WAV at 22050 Hz with stats', async () => {
    const src = looped(source, 20);
    const r = await okJson<{ success: boolean; result_audio: string; stats: Record<string, string> }>(
      await call('POST', '/api/clone', {
        key,
        body: {
          target_audio: `data:audio/wav;base64,${wavB64(looped(reference, 10))}`,
          source_audio: wavB64(src),
          tau: 0.3,
        },
      }),
    );
    expect(r.success).toBe(true);
    expect(r.result_audio.startsWith('data:')).toBe(false);
    const w = decodeWav(Uint8Array.from(atob(r.result_audio), (c) => c.charCodeAt(0)));
    expect(w.sampleRate).toBe(22050);
    expect(Math.abs(w.samples.length - src.length)).toBeLessThan(256);
    // The document's strings: "1.23s".
    for (const k of ['extract_time', 'clone_time', 'total_time'])
      expect(r.stats[k], k).toMatch(/^\d+\.\d\ds$/);
    expect(parseFloat(r.stats.total_time!)).toBeGreaterThanOrEqual(parseFloat(r.stats.clone_time!));
    const bad = await call('POST', '/api/clone', {
      key,
      body: { target_audio: wavB64(reference), source_audio: wavB64(src), tau: 3 },
    });
    expect(bad.status).toBe(400);
  });

  it('/v1/voice-convert and /v1/speech-to-speech answer audio; emotion is refused with 400, speed time-stretches', async () => {
    const r = await call('POST', '/v1/voice-convert', {
      key,
      raw: form({ target_voice: voiceId }, 'file', looped(source, 5)),
    });
    expect(r.status).toBe(200);
    expect(r.headers.get('Content-Type')).toBe('audio/wav');
    expect(r.headers.get('X-Sample-Rate')).toBe('22050');
    const toClone = decodeWav(new Uint8Array(await r.arrayBuffer()));
    expect(toClone.sampleRate).toBe(22050);
    const e1 = await errorOf(
      await call('POST', '/v1/speech-to-speech', {
        key,
        raw: form({ voice: voiceId, emotion: 'happy' }, 'file', source),
      }),
      400,
    );
    expect(e1.message).toMatch(/emotion is not supported/);
    const ok = await call('POST', '/v1/speech-to-speech', {
      key,
      raw: form({ voice: voiceId, emotion: 'neutral' }, 'file', source),
    });
    expect(ok.status).toBe(200);
    const normal = decodeWav(new Uint8Array(await ok.arrayBuffer()));
    // speed 1.5: the same conversion, two thirds as long (atempo keeps the pitch).
    const fast = await call('POST', '/v1/speech-to-speech', {
      key,
      raw: form({ voice: voiceId, speed: '1.5', model: 'chatterbox' }, 'file', source),
    });
    expect(fast.status).toBe(200);
    expect(fast.headers.get('X-Timbre-Model')).toBe('openvoice (asked: chatterbox)');
    const quick = decodeWav(new Uint8Array(await fast.arrayBuffer()));
    expect(quick.sampleRate).toBe(22050);
    expect(Math.abs(quick.samples.length / normal.samples.length - 1 / 1.5)).toBeLessThan(0.03);
    await errorOf(
      await call('POST', '/v1/speech-to-speech', {
        key,
        raw: form({ voice: voiceId, speed: '3' }, 'file', source),
      }),
      400,
    );
    await errorOf(
      await call('POST', '/v1/voice-convert', {
        key,
        raw: form({ target_voice: voiceId, model: 'no-such-vc' }, 'file', source),
      }),
      400,
      'bad_request',
    );
  });

  it('/v1/voice-convert takes a preset voice as /v1/voices lists them (its tone measured once from its speech)', async () => {
    const spoken = served.length;
    let speaks = 0;
    const speak = d.speak!;
    d.speak = async (a, ...rest) => {
      speaks++;
      return speak(a, ...rest);
    };
    try {
      const src = looped(source, 5);
      const convert = async (target_voice: string, extra: Record<string, string> = {}) => {
        const res = await call('POST', '/v1/voice-convert', {
          key,
          raw: form({ target_voice, model: 'openvoice', format: 'pcm', ...extra }, 'file', src),
        });
        expect(res.status, target_voice).toBe(200);
        expect(res.headers.get('X-Sample-Rate')).toBe('22050');
        expect(res.headers.get('X-Timbre-Model')).toBe('openvoice');
        return new Int16Array(await res.arrayBuffer());
      };
      const bella = await convert('af_bella', { webhook_url: 'https://x.test/hook' });
      // OpenAI's shimmer is af_bella: the same tone, measured once.
      const shimmer = await convert('shimmer');
      expect(speaks).toBe(1);
      expect(shimmer).toEqual(bella);
      const cloned = await convert(voiceId);
      expect(cloned.length).toBe(bella.length);
      // A different target: a different result.
      let diff = 0;
      for (let i = 0; i < bella.length; i++) diff += Math.abs(bella[i]! - cloned[i]!);
      expect(diff / bella.length).toBeGreaterThan(10);
      await errorOf(
        await call('POST', '/v1/voice-convert', {
          key,
          raw: form({ target_voice: 'zz_nobody' }, 'file', src),
        }),
        404,
      );
    } finally {
      d.speak = speak;
    }
    expect(served.length).toBe(spoken);
  });

  it('/api/generate/clone and /v1/tts/clone speak through the converter (base voice by language and gender)', async () => {
    const r = await okJson<{
      base_voice: string;
      sample_rate: number;
      audio_base64: string;
      duration: number;
      job_id: string;
      history_id: string;
      audio_url: string;
    }>(await call('POST', '/api/generate/clone', { key, body: { voice_id: voiceId, text: 'Hello there.' } }));
    expect(r.base_voice).toBe('af_heart');
    expect(r.sample_rate).toBe(22050);
    expect(r.duration).toBeGreaterThan(5);
    // A job like every generation, kept in the history with its audio served at audio_url.
    const job = await okJson<{ op: string; status: string }>(
      await call('GET', `/api/jobs/${r.job_id}`, { key }),
    );
    expect(job).toMatchObject({ op: 'clone.generate', status: 'succeeded' });
    expect(r.audio_url).toBe(`/api/v1/tts/history/${r.history_id}/audio`);
    const kept = await call('GET', r.audio_url, { key });
    expect(kept.headers.get('Content-Type')).toBe('audio/wav');
    // duration is rounded to the millisecond.
    const keptSeconds = decodeWav(new Uint8Array(await kept.arrayBuffer())).samples.length / 22050;
    expect(Math.abs(keptSeconds - r.duration)).toBeLessThan(0.001);
    await call('DELETE', `/api/v1/tts/history/${r.history_id}`, { key });
    await errorOf(await call('GET', r.audio_url, { key }), 404, 'not_found');
    // async: 202 at once with the job to follow; its result is the same answer.
    const a = await okJson<{ job_id: string }>(
      await call('POST', '/api/generate/clone', {
        key,
        body: { voice_id: voiceId, text: 'Again.', async: true },
      }),
      202,
    );
    const done = await ctx.jobs.wait(a.job_id, 120_000);
    expect(done).toMatchObject({ op: 'clone.generate', status: 'succeeded' });
    expect((done!.result as { audio_url: string }).audio_url).toMatch(/^\/api\/v1\/tts\/history\/.+\/audio$/);
    const t = await call('POST', '/v1/tts/clone', {
      key,
      raw: form({ text: 'Hello there.', format: 'wav' }, 'reference_audio', looped(reference, 10)),
    });
    expect(t.status).toBe(200);
    expect(decodeWav(new Uint8Array(await t.arrayBuffer())).samples.length).toBeGreaterThan(5 * SR);
  });

  it('pcm on the clone routes: application/octet-stream, s16le mono at 22050 Hz (X-Sample-Rate), the WAV’s samples', async () => {
    const routes: [string, Record<string, string>, string, Float32Array][] = [
      ['/v1/voice-convert', { target_voice: voiceId }, 'file', looped(source, 4)],
      ['/v1/speech-to-speech', { voice: voiceId }, 'file', looped(source, 4)],
      ['/v1/tts/clone', { text: 'Hello there.' }, 'reference_audio', looped(reference, 10)],
    ];
    for (const [path, fields, fileField, audio] of routes) {
      const answer = (format: string) =>
        call('POST', path, { key, raw: form({ ...fields, format }, fileField, audio) });
      const pcm = await answer('pcm');
      expect(pcm.status, path).toBe(200);
      // The studio's one pcm: the speech routes' and the formats table's Content-Type (was audio/pcm here).
      expect(pcm.headers.get('Content-Type'), path).toBe('application/octet-stream');
      expect(pcm.headers.get('X-Sample-Rate'), path).toBe('22050');
      const raw = new Uint8Array(await pcm.arrayBuffer());
      const wavRes = await answer('wav');
      expect(wavRes.headers.get('X-Sample-Rate'), path).toBe('22050');
      const wavBytes = new Uint8Array(await wavRes.arrayBuffer());
      const wav = decodeWav(wavBytes);
      expect([wav.sampleRate, wav.channels], path).toEqual([22050, 1]);
      // Headerless 16-bit samples: the WAV's data, byte for byte.
      expect(raw.length, path).toBe(wav.samples.length * 2);
      expect(raw, path).toEqual(wavBytes.subarray(wavBytes.length - raw.length));
    }
    const g = await okJson<{ content_type: string; sample_rate: number; audio_base64: string }>(
      await call('POST', '/api/generate/clone', {
        key,
        body: { voice_id: voiceId, text: 'Hello there.', format: 'pcm' },
      }),
    );
    expect([g.content_type, g.sample_rate]).toEqual(['application/octet-stream', 22050]);
  });

  it('the speech routes speak in a cloned voice through clone.speak', async () => {
    const r = await call('POST', '/v1/audio/speech', {
      key,
      body: { model: 'tts-1', input: 'Hello there.', voice: voiceId, response_format: 'wav' },
    });
    expect(
      r.status,
      await r
        .clone()
        .text()
        .then((t) => t.slice(0, 200)),
    ).toBe(200);
    const w = decodeWav(new Uint8Array(await r.arrayBuffer()));
    // The converter's rate, not Kokoro's 24 kHz: the audio went through the converter.
    expect(w.sampleRate).toBe(22050);
  });

  it('conversion is reproducible from a seed and follows the target', async () => {
    const emb = (await runCloneExtract({ audio: [{ samples: looped(reference, 8), sampleRate: SR }] }, {}, d))
      .embedding;
    const run = (seed: number, tau = 0.3) =>
      runCloneConvert(
        { source: { samples: looped(source, 4), sampleRate: SR }, target: emb, seed, tau },
        {},
        d,
      );
    const [a, b, c] = [await run(5), await run(5), await run(6)];
    expect(Array.from(a.samples)).toEqual(Array.from(b.samples));
    expect(Array.from(a.samples)).not.toEqual(Array.from(c.samples));
    await expect(run(1, 1.5)).rejects.toMatchObject({ name: 'CloneParamError' });
  });

  it('runs the int8 variant by default, fp32 when asked, and the two stay close', async () => {
    const emb = (await runCloneExtract({ audio: [{ samples: looped(reference, 8), sampleRate: SR }] }, {}, d))
      .embedding;
    const run = (precision?: 'int8' | 'fp32') =>
      runCloneConvert(
        { source: { samples: looped(source, 4), sampleRate: SR }, target: emb, seed: 3, precision },
        {},
        d,
      );
    const [byDefault, int8, fp32] = [await run(), await run('int8'), await run('fp32')];
    const fastDefault = fastIsDefault((await runCloneStatus(d)).fast);
    expect(byDefault.precision).toBe(fastDefault ? 'int8' : 'fp32');
    expect(int8.precision).toBe('int8');
    expect(fp32.precision).toBe('fp32');
    expect(Array.from(byDefault.samples)).toEqual(Array.from((fastDefault ? int8 : fp32).samples));
    expect(Array.from(int8.samples)).not.toEqual(Array.from(fp32.samples));
    const dev = deviation(fp32.samples, int8.samples);
    expect(dev.snr_db).toBeGreaterThan(20);
    await expect(
      runCloneConvert(
        { source: { samples: source, sampleRate: SR }, target: emb, precision: 'fp16' as never },
        {},
        d,
      ),
    ).rejects.toThrow(/precision must be "fp32" or "int8"/);
    // The routes take it too, and say which ran.
    const f = form({ target_voice: voiceId, precision: 'fp32' }, 'file', looped(source, 2));
    const r = await call('POST', '/v1/voice-convert', { key, raw: f });
    expect(r.status).toBe(200);
    expect(r.headers.get('X-Converter-Precision')).toBe('fp32');
    const bad = await call('POST', '/v1/voice-convert', {
      key,
      raw: form({ target_voice: voiceId, precision: 'half' }, 'file', looped(source, 2)),
    });
    expect((await errorOf(bad, 400, 'bad_request')).message).toMatch(/precision/);
  });
});
