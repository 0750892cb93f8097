// The transcription routes through the real router, jobs and (fake-indexeddb) storage, with the engine
// running the real 'asr.transcribe' (bundled Whisper tiny and Silero VAD from .cache/models) in-process.
import 'fake-indexeddb/auto';
import * as ort from 'onnxruntime-web';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { createApiContext, type ApiContext } from '../../src/lib/api/context';
import { createRouter } from '../../src/lib/api/routes';
import { runAsrTranscribe } from '../../src/lib/asr/operation';
import { type AsrTranscribeArgs, type AsrTranscribeResult } from '../../src/lib/asr/contract';
import { LANGUAGE_UNCERTAIN_BELOW } from '../../src/lib/documents/transcript-warnings';
import type { RunOptions } from '../../src/lib/core/run';
import { installRuntime } from '../../src/lib/runtime/host';
import { encodeWav } from '../../src/lib/dsp/wav';
import { cacheDeps, concat, HAVE_KOKORO, HAVE_TINY, kokoroSpeech, silence, wer } from './asr-helpers';
import { expectOrdered, parseSrt, parseVtt } from './asr-subtitles';
import { ENGLISH } from './asr-corpus';
import { FACTS, setup } from './helpers';
import { caller, errorOf, HIGH_LIMITS, okJson, toBase64, until } from './test-utils';

vi.setConfig({ testTimeout: 900_000, hookTimeout: 900_000 });

const TEXT = 'The quick brown fox jumps over the lazy dog. She sells sea shells by the sea shore.';
const deps = cacheDeps(['whisper-tiny-q8', 'silero-vad-v5']);

function asrEngine(): ApiContext['engine'] {
  return {
    hostCount: async () => 1,
    run: (async (op: string, args: unknown, o: RunOptions = {}) => {
      if (op !== 'asr.transcribe') throw new Error(`unexpected op ${op}`);
      return runAsrTranscribe(args as AsrTranscribeArgs, o, deps);
    }) as ApiContext['engine']['run'],
  };
}

async function env(engine = asrEngine()) {
  const base = await setup();
  const ctx = createApiContext({
    db: base.db,
    engine,
    system: async () => FACTS,
    version: 'test',
  });
  const call = caller(createRouter(), ctx);
  const key = (await ctx.keys.create({ name: 'k', limits: HIGH_LIMITS, now: Date.now() })).secret;
  return { ctx, call, key, makeKey: base.makeKey };
}

function multipart(
  fields: Record<string, string | string[]>,
  file?: { bytes: Uint8Array; name: string; type: string },
) {
  const form = new FormData();
  if (file)
    form.set('file', new Blob([file.bytes as Uint8Array<ArrayBuffer>], { type: file.type }), file.name);
  for (const [k, v] of Object.entries(fields)) for (const x of Array.isArray(v) ? v : [v]) form.append(k, x);
  return form;
}

let wav: Uint8Array;
let e: Awaited<ReturnType<typeof env>>;

beforeAll(async () => {
  installRuntime({ loadOrt: async () => ort, isolated: true, cores: 2 });
  e = await env();
  if (HAVE_KOKORO) {
    const a = await kokoroSpeech(TEXT, 'af_heart');
    wav = encodeWav(concat([silence(0.6, 24000), a.samples, silence(0.8, 24000)]), 24000, 's16');
  }
});

const post = (path: string, body: FormData | BodyInit, key = e.key, headers: Record<string, string> = {}) =>
  e.call('POST', path, { key, raw: body, headers, bearer: true });

describe('refusals before any decoding', () => {
  it('415 for a file that is not audio, 400 for a damaged WAV, 413 over 100 MB, 400 without a file', async () => {
    const text = new TextEncoder().encode('this is not audio at all, just text in a file');
    const r1 = await post(
      '/v1/audio/transcriptions',
      multipart({ model: 'whisper-1' }, { bytes: text, name: 'a.txt', type: 'text/plain' }),
    );
    const b1 = await errorOf(r1, 415, 'unsupported_media_type');
    expect(b1.message).toMatch(/not audio/);
    const broken = new Uint8Array(64);
    broken.set(new TextEncoder().encode('RIFF\0\0\0\0WAVEjunk'));
    const r2 = await post('/v1/stt', multipart({}, { bytes: broken, name: 'b.wav', type: 'audio/wav' }));
    expect((await errorOf(r2, 400, 'bad_request')).message).toMatch(/damaged|could not/);
    const r3 = await post('/v1/audio/transcriptions', new Uint8Array(16), e.key, {
      'Content-Type': 'multipart/form-data; boundary=x',
      'Content-Length': String(101 * 1024 * 1024),
    });
    await errorOf(r3, 413, 'file_too_large');
    const r4 = await post('/v1/audio/transcriptions', multipart({ model: 'whisper-1' }));
    expect((await errorOf(r4, 400)).message).toMatch(/file/);
  });

  it('400 for an unknown response_format, word timing outside verbose_json, a bad diarize or speaker hint', async () => {
    const f = {
      bytes: new Uint8Array(encodeWav(new Float32Array(1600), 16000, 's16')),
      name: 'a.wav',
      type: 'audio/wav',
    };
    const r1 = await post(
      '/v1/audio/transcriptions',
      multipart({ model: 'whisper-1', response_format: 'xml' }, f),
    );
    expect((await errorOf(r1, 400)).field).toBe('response_format');
    const r2 = await post(
      '/v1/audio/transcriptions',
      multipart({ model: 'whisper-1', 'timestamp_granularities[]': 'word' }, f),
    );
    expect((await errorOf(r2, 400)).message).toMatch(/verbose_json/);
    // Diarization is offered now; its fields are checked before anything is decoded.
    const r3 = await post('/v1/stt', multipart({ diarize: 'perhaps' }, f));
    expect((await errorOf(r3, 400)).field).toBe('diarize');
    const r4 = await post('/v1/stt', multipart({ diarize: 'true', max_speakers: '0' }, f));
    expect((await errorOf(r4, 400)).field).toBe('max_speakers');
    // A model name no table knows, and no installed model has, is a 400 listing the accepted names.
    for (const path of ['/v1/stt', '/v1/audio/transcriptions']) {
      const r5 = await errorOf(await post(path, multipart({ model: 'parakeet-tdt' }, f)), 400, 'bad_request');
      expect(r5.field).toBe('model');
      expect(r5.message).toMatch(/parakeet-tdt.*Accepted: .*faster-whisper.*sensevoice/);
    }
  });

  it('needs the audio:process scope', async () => {
    const narrow = await e.makeKey({ scopes: ['voices:read'] });
    const r = await post(
      '/v1/audio/transcriptions',
      multipart({}, { bytes: new Uint8Array(8), name: 'a', type: 'audio/wav' }),
      narrow,
    );
    await errorOf(r, 403, 'forbidden');
  });
});

describe.skipIf(!HAVE_TINY || !HAVE_KOKORO)('transcripts from real speech', () => {
  const file = () => ({ bytes: wav, name: 'speech.wav', type: 'audio/wav' });

  it('OpenAI json (whisper-1 = the default installed Whisper) and text', async () => {
    const r = await post('/v1/audio/transcriptions', multipart({ model: 'whisper-1' }, file()));
    const body = await okJson<{ text: string; usage: { seconds: number } }>(r);
    expect(wer(TEXT, body.text)).toBeLessThan(0.1);
    expect(r.headers.get('X-Model')).toBe('whisper-tiny-q8');
    const t = await post(
      '/v1/audio/transcriptions',
      multipart({ model: 'gpt-4o-transcribe', response_format: 'text' }, file()),
    );
    expect(t.headers.get('Content-Type')).toMatch(/^text\/plain/);
    expect(wer(TEXT, await t.text())).toBeLessThan(0.1);
  });

  it('SRT and VTT that a strict reader accepts, with the words of the speech', async () => {
    for (const format of ['srt', 'vtt'] as const) {
      const r = await post(
        '/v1/audio/transcriptions',
        multipart({ model: 'whisper-1', response_format: format }, file()),
      );
      expect(r.status).toBe(200);
      const body = await r.text();
      const cues = format === 'srt' ? parseSrt(body) : parseVtt(body);
      expect(cues.length).toBeGreaterThan(0);
      expectOrdered(cues);
      expect(cues[0]!.start).toBeGreaterThan(0.2); // the speech starts after 0.6 s of silence
      expect(wer(TEXT, cues.map((c) => c.text).join(' '))).toBeLessThan(0.1);
    }
  });

  it('verbose_json with word and segment granularities', async () => {
    const r = await post(
      '/v1/audio/transcriptions',
      multipart(
        { model: 'tiny', response_format: 'verbose_json', 'timestamp_granularities[]': ['word', 'segment'] },
        file(),
      ),
    );
    const v = await okJson<{
      task: string;
      language: string;
      duration: number;
      segments: { start: number; end: number; text: string }[];
      words: { word: string; start: number; end: number }[];
    }>(r);
    expect(v.task).toBe('transcribe');
    expect(v.language).toBe('english');
    expect(v.duration).toBeGreaterThan(5);
    expect(v.segments.length).toBeGreaterThan(0);
    expect(v.words.length).toBeGreaterThanOrEqual(15);
    for (let i = 1; i < v.words.length; i++)
      expect(v.words[i]!.start).toBeGreaterThanOrEqual(v.words[i - 1]!.end);
  });

  it('/v1/stt answers {text, language, duration, segments[{start, end, text, speaker}]}', async () => {
    const r = await post('/v1/stt', multipart({ model: 'whisper', language: 'auto' }, file()));
    const b = await okJson<{
      text: string;
      language: string;
      language_probability: number;
      duration: number;
      warnings: string[];
      segments: Record<string, unknown>[];
    }>(r);
    expect(Object.keys(b).sort()).toEqual([
      'duration',
      'language',
      'language_probability',
      'segments',
      'text',
      'warnings',
    ]);
    expect(b.language).toBe('en');
    // Clean English speech: detected with confidence, nothing to warn about, no X-Warning.
    expect(b.language_probability).toBeGreaterThanOrEqual(LANGUAGE_UNCERTAIN_BELOW);
    expect(b.warnings).toEqual([]);
    expect(r.headers.get('X-Warning')).toBeNull();
    expect(wer(TEXT, b.text)).toBeLessThan(0.1);
    for (const s of b.segments) expect(Object.keys(s).sort()).toEqual(['end', 'speaker', 'start', 'text']);
    expect(r.headers.get('X-Timbre-Model')).toBe('whisper-tiny-q8 (asked: whisper)');
  });

  it("/v1/stt takes the document's model names (faster-whisper, sensevoice) and says which Whisper ran", async () => {
    for (const model of ['faster-whisper', 'sensevoice']) {
      const r = await post('/v1/stt', multipart({ model, timestamps: 'true' }, file()));
      const b = await okJson<{ text: string; segments: { words: unknown[] }[] }>(r);
      expect(r.headers.get('X-Timbre-Model')).toBe(`whisper-tiny-q8 (asked: ${model})`);
      expect(wer(TEXT, b.text)).toBeLessThan(0.1);
      expect(b.segments[0]!.words.length).toBeGreaterThan(0);
    }
  });

  it('/api/transcribe takes base64 JSON; async answers 202 and the job holds the transcript', async () => {
    const r = await e.call('POST', '/api/transcribe', {
      key: e.key,
      body: { audio: toBase64(wav), async: true },
    });
    const accepted = await okJson<{ job_id: string; poll: string }>(r, 202);
    const job = await until(async () => {
      const j = await okJson<{ status: string; result: { text: string; segments: unknown[] } }>(
        await e.call('GET', accepted.poll, { key: e.key }),
      );
      return j.status === 'succeeded' ? j : null;
    }, 600_000);
    expect(wer(TEXT, job.result.text)).toBeLessThan(0.1);
    expect(job.result.segments.length).toBeGreaterThan(0);
  });
});

/** A finished transcription with two warnings, whatever the upload (the routes' answers are under test). */
const WARNED: AsrTranscribeResult = {
  language: 'la',
  language_probability: 0.42,
  duration: 3,
  text: 'lorem ipsum',
  segments: [],
  windows: 1,
  model: 'whisper-tiny-q8',
  vad: 'silero-vad-v5',
  task: 'transcribe',
  elapsed_ms: 1,
  rtf: 0.1,
  warnings: [
    'Language uncertain: detected Latin (la) with probability 0.42 on Whisper tiny.',
    'Audio left out.',
  ],
};

describe('warnings on every transcription route', () => {
  let w: Awaited<ReturnType<typeof env>>;
  const tone = () => ({
    bytes: new Uint8Array(
      encodeWav(
        new Float32Array(16000).map((_, i) => 0.1 * Math.sin(i / 5)),
        16000,
        's16',
      ),
    ),
    name: 'a.wav',
    type: 'audio/wav',
  });
  const call = (path: string, body: FormData) =>
    w.call('POST', path, { key: w.key, raw: body, bearer: true });
  beforeAll(async () => {
    w = await env({
      hostCount: async () => 1,
      run: (async () => WARNED) as ApiContext['engine']['run'],
    });
  });

  it('X-Warning holds every warning joined with "; ", in every response_format', async () => {
    for (const format of ['json', 'text', 'srt', 'vtt', 'verbose_json']) {
      const r = await call('/v1/audio/transcriptions', multipart({ response_format: format }, tone()));
      expect(r.status).toBe(200);
      expect(r.headers.get('X-Warning')?.split('; ')).toEqual(WARNED.warnings);
    }
    const t = await call('/v1/audio/translations', multipart({}, tone()));
    expect(t.headers.get('X-Warning')?.split('; ')).toEqual(WARNED.warnings);
  });

  it('the JSON answers carry warnings, and language_probability where they name the language', async () => {
    const j = await okJson<{ warnings: string[] }>(
      await call('/v1/audio/transcriptions', multipart({}, tone())),
    );
    expect(j.warnings).toEqual(WARNED.warnings);
    const v = await okJson<{ warnings: string[]; language_probability: number }>(
      await call('/v1/audio/transcriptions', multipart({ response_format: 'verbose_json' }, tone())),
    );
    expect(v.warnings).toEqual(WARNED.warnings);
    expect(v.language_probability).toBe(WARNED.language_probability);
    for (const path of ['/v1/stt', '/api/transcribe']) {
      const r = await call(path, multipart({}, tone()));
      expect(r.headers.get('X-Warning')?.split('; ')).toEqual(WARNED.warnings);
      const b = await okJson<{ warnings: string[]; language_probability: number }>(r);
      expect(b.warnings).toEqual(WARNED.warnings);
      expect(b.language_probability).toBe(WARNED.language_probability);
    }
  });
});

describe.skipIf(!HAVE_TINY || !HAVE_KOKORO)('an uncertain language through the route (tiny)', () => {
  it('speech in no language (played backwards) answers with language_probability and X-Warning', async () => {
    // The two sentences tests/unit/asr-warnings.test.ts plays backwards (tiny: 0.48 there).
    const parts = [];
    for (const s of ENGLISH.slice(0, 2)) parts.push((await kokoroSpeech(s.text, s.voice)).samples);
    const backwards = concat(parts).reverse();
    const bytes = encodeWav(concat([silence(0.5, 24000), backwards, silence(0.5, 24000)]), 24000, 's16');
    const r = await post(
      '/v1/audio/transcriptions',
      multipart(
        { model: 'tiny', response_format: 'verbose_json' },
        { bytes, name: 'b.wav', type: 'audio/wav' },
      ),
    );
    const v = await okJson<{ language_probability: number; warnings: string[] }>(r);
    expect(v.language_probability).toBeLessThan(LANGUAGE_UNCERTAIN_BELOW);
    const said = v.warnings.find((x) => x.startsWith('Language uncertain'));
    expect(said).toContain(v.language_probability.toFixed(2));
    expect(r.headers.get('X-Warning')?.split('; ')).toContain(said);
  });
});
