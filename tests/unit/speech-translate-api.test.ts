// POST /v1/speech-translate through the real router, jobs and (fake-indexeddb) storage, with the engine
// in-process on the real models: Whisper (tiny/base) and Silero VAD for 'asr.transcribe', Kokoro for
// 'tts.generate' (and as clone.speak's base speech), the ffmpeg core for 'audio.encode', and the tiny
// OpenVoice v2 fixture for 'clone.*'. The returned speech is transcribed again to check what it says.
import 'fake-indexeddb/auto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as ort from 'onnxruntime-web';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { createApiContext, type ApiContext } from '../../src/lib/api/context';
import { createRouter } from '../../src/lib/api/routes';
import { sniffContainer } from '../../src/lib/codec/formats';
import { runAsrTranscribe } from '../../src/lib/asr/operation';
import { type AsrTranscribeArgs } from '../../src/lib/asr/contract';
import type { RunOptions } from '../../src/lib/core/run';
import { installRuntime } from '../../src/lib/runtime/host';
import { runTtsGenerate } from '../../src/lib/tts/operation';
import { type TtsGenerateArgs } from '../../src/lib/tts/contract';
import { decodeWav, encodeWav } from '../../src/lib/dsp/wav';
import { decodeBase64 } from '../../src/lib/core/base64';
import { MemoryModelStore } from '../../src/lib/models/store';
import type { InstalledModel } from '../../src/lib/storage/records';
import type { AudioConvertArgs, AudioEncodeArgs } from '../../src/lib/audio/contract';
import type { CloneDeps } from '../../src/lib/clone/deps';
import { resetClone } from '../../src/lib/clone/converter';
import { runCloneInstall } from '../../src/lib/clone/install';
import { runCloneStatus } from '../../src/lib/clone/status';
import { runCloneExtract } from '../../src/lib/clone/extract';
import { runCloneSpeak } from '../../src/lib/clone/speak';
import type { CloneSpeakArgs } from '../../src/lib/clone/contract';
import { ENGLISH, SPANISH } from './asr-corpus';
import {
  cacheDeps,
  concat,
  HAVE_BASE,
  HAVE_KOKORO,
  HAVE_TINY,
  kokoroSpeech,
  normWords,
  silence,
} from './asr-helpers';
import { FACTS, setup } from './helpers';
import { caller, errorOf, HIGH_LIMITS, okJson, toBase64, until } from './test-utils';

vi.setConfig({ testTimeout: 900_000, hookTimeout: 900_000 });

const deps = cacheDeps(['whisper-tiny-q8', 'whisper-base-q8', 'silero-vad-v5', 'kokoro-82m-q8']);
const fixture = join(import.meta.dirname, '..', 'fixtures', 'openvoice-v2-tiny');
const SR = 24000;

/** Kokoro's speech for clone.speak, as the engine worker gives it. */
const kokoro = async (a: { text: string; voice: string; speed?: number }) => {
  const r = await runTtsGenerate({ text: a.text, voice: a.voice, speed: a.speed }, {}, deps);
  return { samples: r.samples, sampleRate: r.sampleRate };
};

function cloneDeps(): CloneDeps {
  const records = new Map<string, InstalledModel>();
  return {
    registry: { get: async (id) => records.get(id), put: async (r) => void records.set(r.id, r) },
    store: new MemoryModelStore(),
    ort,
    speak: kokoro,
    vadModel: async () => null,
  };
}

const calls: { op: string; args: unknown }[] = [];
let clone: CloneDeps;

function engine(): ApiContext['engine'] {
  return {
    hostCount: async () => 1,
    run: (async (op: string, args: never, o: RunOptions = {}) => {
      calls.push({ op, args });
      if (op === 'asr.transcribe') return runAsrTranscribe(args as AsrTranscribeArgs, o, deps);
      if (op === 'tts.generate') return runTtsGenerate(args as TtsGenerateArgs, o, deps);
      if (op === 'audio.encode') {
        const a = args as AudioEncodeArgs;
        return deps.transcoder().encode(a.samples, a.sampleRate, a.options, o);
      }
      if (op === 'audio.convert') {
        const a = args as AudioConvertArgs;
        return deps.transcoder().convert(a.audio, a.options, o);
      }
      if (op === 'clone.status') return runCloneStatus(clone);
      if (op === 'clone.extract') return runCloneExtract(args, o, clone);
      if (op === 'clone.speak') return runCloneSpeak(args, o, clone);
      throw new Error(`unexpected op ${op}`);
    }) as ApiContext['engine']['run'],
  };
}

let call: ReturnType<typeof caller>;
let key: string;
let spanish: Uint8Array;
let george: Uint8Array;

const wavOf = (x: Float32Array) => encodeWav(concat([silence(0.5, SR), x, silence(0.5, SR)]), SR, 's16');

beforeAll(async () => {
  installRuntime({ loadOrt: async () => ort, isolated: true, cores: 2 });
  await resetClone();
  clone = cloneDeps();
  const base = await setup();
  const ctx = createApiContext({ db: base.db, engine: engine(), system: async () => FACTS, version: 'test' });
  call = caller(createRouter(), ctx);
  key = (await ctx.keys.create({ name: 'k', limits: HIGH_LIMITS, now: Date.now() })).secret;
  if (HAVE_KOKORO) {
    spanish = wavOf((await kokoroSpeech(SPANISH.text, SPANISH.voice)).samples);
    george = wavOf((await kokoroSpeech(ENGLISH[1]!.text, ENGLISH[1]!.voice)).samples);
  }
});

function form(fields: Record<string, string>, file?: { bytes: Uint8Array; name: string; type: string }) {
  const f = new FormData();
  if (file) f.set('file', new Blob([file.bytes as Uint8Array<ArrayBuffer>], { type: file.type }), file.name);
  for (const [k, v] of Object.entries(fields)) f.set(k, v);
  return f;
}
const wavFile = (bytes: Uint8Array) => ({ bytes, name: 'speech.wav', type: 'audio/wav' });
const post = (body: FormData | BodyInit, headers: Record<string, string> = {}) =>
  call('POST', '/v1/speech-translate', { key, raw: body, headers });
const since = (n: number, op: string) => calls.slice(n).filter((c) => c.op === op);

/** What Whisper hears in a WAV the route returned. */
async function heard(wav: Uint8Array): Promise<Set<string>> {
  const r = await runAsrTranscribe({ audio: wav, model: 'tiny', language: 'en' }, {}, deps);
  return new Set(normWords(r.text));
}

interface Answer {
  audio_base64: string;
  format: string;
  content_type: string;
  sample_rate: number;
  duration: number;
  source_text: string;
  source_language: string;
  text: string;
  voice: string;
  voice_choice: {
    voice: string;
    how: string;
    reason: string;
    base_voice?: string;
    measured?: { f0_median_hz: number | null };
    candidates?: { voice: string; distance: number }[];
  };
  segments: { start: number; end: number; text: string }[];
  history_id?: string;
  job_id?: string;
  original_text: string;
  translated_text: string;
  target_language: string;
  audio_url: string | null;
}

describe.skipIf(!HAVE_TINY || !HAVE_KOKORO)('speech in, English speech out', () => {
  it('Spanish (ef_dora) → English speech in the nearest English preset, a female one; the JSON answer by default', async () => {
    const n = calls.length;
    const res = await post(
      form({ model: HAVE_BASE ? 'base' : 'tiny', format: 'wav', target_language: 'en' }, wavFile(spanish)),
    );
    const a = await okJson<Answer>(res);
    // The document's fields, and its audio_url: the history's copy, served while the entry is kept.
    expect(a.original_text).toBe(a.source_text);
    expect(a.translated_text).toBe(a.text);
    expect(a.target_language).toBe('en');
    expect(a.audio_url).toBe(`/api/v1/tts/history/${a.history_id}/audio`);
    expect(res.headers.get('X-Timbre-Model')).toBe(
      `whisper-${HAVE_BASE ? 'base' : 'tiny'}-q8 (asked: ${HAVE_BASE ? 'base' : 'tiny'})`,
    );
    const kept = await call('GET', a.audio_url!, { key });
    expect(kept.status).toBe(200);
    expect(kept.headers.get('Content-Type')).toBe('audio/wav');
    expect(decodeWav(new Uint8Array(await kept.arrayBuffer())).samples.length).toBeGreaterThan(SR);
    console.log(`[speech-translate] ${a.source_text} → ${a.text} (${a.voice}: ${a.voice_choice.reason})`);
    expect(a.source_language).toBe('es');
    const src = new Set(normWords(a.source_text));
    expect(SPANISH.spanishWords.filter((w) => src.has(w)).length).toBeGreaterThanOrEqual(4);
    const en = new Set(normWords(a.text));
    expect(SPANISH.english.filter((w) => en.has(w)).length).toBeGreaterThanOrEqual(3);
    expect(SPANISH.spanishWords.filter((w) => en.has(w)).length).toBeLessThanOrEqual(1);
    // One transcribe pass for the source text, one translate pass for the English.
    expect(since(n, 'asr.transcribe').map((c) => (c.args as AsrTranscribeArgs).task)).toEqual([
      'transcribe',
      'translate',
    ]);
    expect(a.voice_choice.how).toBe('nearest_preset');
    expect(a.voice).toMatch(/^[ab]f_/);
    expect(a.voice_choice.candidates![0]!.voice).toBe(a.voice);
    expect(a.voice_choice.reason).toMatch(/F0 \d+ Hz/);
    expect(a.voice_choice.measured!.f0_median_hz).toBeGreaterThan(0);
    const tts = since(n, 'tts.generate').map((c) => c.args as TtsGenerateArgs);
    expect(tts.map((t) => t.voice)).toEqual([a.voice]);
    expect(a.segments.length).toBeGreaterThan(0);
    expect(typeof a.history_id).toBe('string');
    // The audio says the English.
    const wav = decodeBase64(a.audio_base64)!;
    expect(decodeWav(wav).sampleRate).toBe(a.sample_rate);
    expect(a.duration).toBeGreaterThan(1);
    const words = await heard(wav);
    console.log(`[speech-translate] heard: ${[...words].join(' ')}`);
    expect(SPANISH.english.filter((w) => words.has(w)).length).toBeGreaterThanOrEqual(3);
  });

  it('async: 202 with a job whose result is the JSON answer, its progress telling the passes', async () => {
    const n = calls.length;
    const res = await post(form({ model: 'tiny', format: 'wav', async: 'true' }, wavFile(spanish)));
    const acc = await okJson<{ job_id: string; poll: string; estimated_seconds: number }>(res, 202);
    expect(res.headers.get('Location')).toBe(`/api/jobs/${acc.job_id}`);
    expect(acc.estimated_seconds).toBeGreaterThan(0);
    const stages = new Set<string>();
    const job = await until(
      async () => {
        const j = await okJson<{
          status: string;
          op: string;
          progress: { stage: string } | null;
          result: Answer;
        }>(await call('GET', acc.poll, { key }));
        if (j.progress) stages.add(j.progress.stage);
        expect(j.status).not.toBe('failed');
        return j.status === 'succeeded' ? j : null;
      },
      600_000,
      50,
    );
    expect(job.op).toBe('speech.translate');
    expect(job.result.source_language).toBe('es');
    const en = new Set(normWords(job.result.text));
    expect(SPANISH.english.filter((w) => en.has(w)).length).toBeGreaterThanOrEqual(3);
    // The same work as the answer in one request: both passes, then the speech, inside this one job.
    expect(since(n, 'asr.transcribe').map((c) => (c.args as AsrTranscribeArgs).task)).toEqual([
      'transcribe',
      'translate',
    ]);
    expect(since(n, 'tts.generate')).toHaveLength(1);
    expect(job.result.job_id).toBe(acc.job_id);
    expect(typeof job.result.history_id).toBe('string');
    const wav = decodeBase64(job.result.audio_base64)!;
    expect(decodeWav(wav).samples.length / decodeWav(wav).sampleRate).toBeCloseTo(job.result.duration, 2);
    expect(stages.size).toBeGreaterThan(1);
  });

  it('a running speech.translate job stops on cancel, keeping nothing', async () => {
    const res = await post(form({ model: 'tiny', format: 'wav', async: 'true' }, wavFile(spanish)));
    const acc = await okJson<{ job_id: string; poll: string }>(res, 202);
    // Once it is working on the first pass.
    await until(async () => {
      const j = await okJson<{ status: string }>(await call('GET', acc.poll, { key }));
      return j.status === 'running';
    }, 60_000);
    const t0 = Date.now();
    await okJson(await call('POST', '/api/generation/cancel', { key, body: { job_id: acc.job_id } }));
    const j = await until(async () => {
      const r = await okJson<{ status: string; result?: unknown }>(await call('GET', acc.poll, { key }));
      return r.status === 'running' || r.status === 'queued' ? null : r;
    }, 10_000);
    expect(j.status).toBe('cancelled');
    expect(j.result ?? null).toBeNull();
    expect(Date.now() - t0).toBeLessThan(2000);
  });

  it('a male speaker (bm_george) gets a male preset; response=audio answers mp3 with X- headers', async () => {
    const n = calls.length;
    const res = await post(form({ response: 'audio' }, wavFile(george)));
    expect(res.status).toBe(200);
    expect(res.headers.get('Content-Type')).toBe('audio/mpeg');
    const bytes = new Uint8Array(await res.arrayBuffer());
    expect(sniffContainer(bytes)).toBe('mp3');
    expect(res.headers.get('X-Voice')).toMatch(/^[ab]m_/);
    expect(res.headers.get('X-Voice-Choice')).toBe('nearest_preset');
    expect(res.headers.get('X-Source-Language')).toBe('en');
    const translation = decodeURIComponent(res.headers.get('X-Translation')!);
    const transcript = decodeURIComponent(res.headers.get('X-Transcript')!);
    expect(normWords(translation)).toEqual(expect.arrayContaining(['garden', 'stone', 'house']));
    // English needs no translation: one pass gives both texts.
    expect(transcript).toBe(translation);
    expect(since(n, 'asr.transcribe')).toHaveLength(1);
    expect(decodeURIComponent(res.headers.get('X-Voice-Reason')!)).toMatch(/Gender male/);
    expect(since(n, 'audio.encode')).toHaveLength(1);
  });

  it('a FLAC upload is decoded by the engine to measure the speaker: a male preset again', async () => {
    const flac = (await deps.transcoder().convert(george, { format: 'flac' })).bytes;
    const n = calls.length;
    const res = await post(
      form({ format: 'wav', response: 'audio' }, { bytes: flac, name: 'george.flac', type: 'audio/flac' }),
    );
    expect(res.status).toBe(200);
    expect(since(n, 'audio.convert')).toHaveLength(1);
    expect(res.headers.get('X-Voice-Choice')).toBe('nearest_preset');
    expect(res.headers.get('X-Voice')).toMatch(/^[ab]m_/);
  });

  it('a named voice is used as given (JSON body with base64 audio)', async () => {
    const n = calls.length;
    const res = await call('POST', '/v1/speech-translate', {
      key,
      body: {
        file: toBase64(spanish),
        voice: 'bf_emma',
        format: 'wav',
        speed: 1.2,
        model: 'tiny',
        response: 'audio',
      },
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('Content-Type')).toBe('audio/wav');
    expect(res.headers.get('X-Voice')).toBe('bf_emma');
    expect(res.headers.get('X-Voice-Choice')).toBe('given');
    const tts = since(n, 'tts.generate').map((c) => c.args as TtsGenerateArgs);
    expect(tts).toHaveLength(1);
    expect(tts[0]).toMatchObject({ voice: 'bf_emma', language: 'en-gb', speed: 1.2 });
    expect(tts[0]!.text).toBe(decodeURIComponent(res.headers.get('X-Translation')!));
    const w = decodeWav(new Uint8Array(await res.arrayBuffer()));
    expect(w.sampleRate).toBe(SR);
    expect(w.samples.length / SR).toBeGreaterThan(1);
  });

  it('an upload with no speech is a 400 saying the translation is empty', async () => {
    const quiet = encodeWav(silence(3, 16000), 16000, 's16');
    const e = await errorOf(await post(form({ format: 'wav' }, wavFile(quiet))), 400, 'bad_request');
    expect(e.message).toMatch(/no speech/i);
    expect(e.field).toBe('file');
  });
});

describe('refusals', () => {
  it('415 not audio, 400 damaged WAV, 413 over 100 MB, 400 bad fields, 404 unknown voice', async () => {
    const text = new TextEncoder().encode('this is not audio at all, just text in a file');
    const n = calls.length;
    await errorOf(await post(form({}, { bytes: text, name: 'a.txt', type: 'text/plain' })), 415);
    const broken = new Uint8Array(64);
    broken.set(new TextEncoder().encode('RIFF\0\0\0\0WAVEjunk'));
    const e2 = await errorOf(await post(form({}, wavFile(broken))), 400, 'bad_request');
    expect(e2.message).toMatch(/damaged|could not/);
    await errorOf(
      await post(new Uint8Array(16), {
        'Content-Type': 'multipart/form-data; boundary=x',
        'Content-Length': String(101 * 1024 * 1024),
      }),
      413,
      'file_too_large',
    );
    const ok = encodeWav(silence(1, 16000), 16000, 's16');
    expect((await errorOf(await post(form({ format: 'ogg' }, wavFile(ok))), 400)).field).toBe('format');
    expect((await errorOf(await post(form({ response: 'xml' }, wavFile(ok))), 400)).field).toBe('response');
    expect((await errorOf(await post(form({ speed: '3' }, wavFile(ok))), 400)).field).toBe('speed');
    expect((await errorOf(await post(form({ preserve_voice: 'maybe' }, wavFile(ok))), 400)).field).toBe(
      'preserve_voice',
    );
    await errorOf(await post(form({ voice: 'no_such_voice' }, wavFile(ok))), 404, 'not_found');
    // Only English is a target (Whisper's translate task); others are refused naming what is available.
    const t = await errorOf(await post(form({ target_language: 'es' }, wavFile(ok))), 400, 'bad_request');
    expect(t.field).toBe('target_language');
    expect(t.message).toMatch(/"es" is not available\. Available targets: en/);
    expect(t.available).toEqual(['en']);
    expect((await errorOf(await post(form({ model: 'nonesuch' }, wavFile(ok))), 400)).field).toBe('model');
    expect((await errorOf(await post(form({})), 400)).field).toBe('file');
    // None of these reached a model.
    expect(calls.slice(n).filter((c) => c.op !== 'clone.status')).toHaveLength(0);
  });

  it('preserve_voice without the converter is 503 model_not_installed saying how to install it', async () => {
    const n = calls.length;
    const e = await errorOf(
      await post(form({ preserve_voice: 'true' }, wavFile(encodeWav(silence(1, SR), SR, 's16')))),
      503,
      'model_not_installed',
    );
    expect(e.message).toMatch(/Models view/);
    expect(since(n, 'asr.transcribe')).toHaveLength(0);
  });
});

describe.skipIf(!HAVE_TINY || !HAVE_KOKORO)('preserve_voice with the converter (tiny fixture)', () => {
  beforeAll(async () => {
    const read = async (f: string) => new Uint8Array(await readFile(join(fixture, f)));
    await runCloneInstall(
      {
        source: {
          kind: 'files',
          config: await read('config.json'),
          checkpoint: await read('checkpoint.pth'),
        },
      },
      {},
      clone,
    );
  });

  it("speaks the English in the speaker's cloned voice, at the converter's rate", async () => {
    const status = await runCloneStatus(clone);
    expect(status.installed).toBe(true);
    const n = calls.length;
    const a = await okJson<Answer>(
      await post(form({ preserve_voice: 'true', format: 'wav', response: 'json' }, wavFile(spanish))),
    );
    expect(a.voice_choice.how).toBe('cloned');
    expect(a.voice).toBe('cloned');
    expect(a.voice_choice.base_voice).toMatch(/^[ab]f_/);
    expect(a.sample_rate).toBe(status.sampleRate);
    const w = decodeWav(decodeBase64(a.audio_base64)!);
    expect(w.sampleRate).toBe(status.sampleRate);
    expect(w.samples.length / w.sampleRate).toBeGreaterThan(1);
    expect(since(n, 'clone.extract')).toHaveLength(1);
    const speak = since(n, 'clone.speak').map((c) => c.args as CloneSpeakArgs);
    expect(speak).toHaveLength(1);
    expect(speak[0]!.embedding).toHaveLength(status.toneDimension!);
    expect(speak[0]).toMatchObject({ baseVoice: a.voice_choice.base_voice, text: a.text });
    expect(since(n, 'tts.generate')).toHaveLength(0);
  });
});
