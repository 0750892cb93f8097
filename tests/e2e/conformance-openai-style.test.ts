// Conformance with the OpenAI-style document (../shared/seeds/003_*.txt, TTS.ai): every request example it
// gives — its cURL, Python and JavaScript calls, and the request tables of the routes it shows no code for —
// replayed as in-page fetch through the Service Worker with the document's own bodies, field names and
// Bearer header, real audio from ../shared/audio for its uploads, and the real models (Kokoro, Whisper tiny,
// Silero VAD, the tiny OpenVoice v2 fixture as the converter). Each checks the document's status, content
// type and response fields, or the documented, specific error where the studio differs.
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { createKeyInPage, launch, openStudio } from './browser';
import { serveRelease, type ReleaseServer } from './release-server';
import { sniffContainer } from '../../src/lib/codec/formats';

vi.setConfig({ testTimeout: 900_000, hookTimeout: 900_000 });

const AUDIO = '../shared/audio';
const HAVE_AUDIO = existsSync(`${AUDIO}/demo_speaker0.mp3`) && existsSync(`${AUDIO}/demo_speaker2.mp3`);
if (!HAVE_AUDIO) console.warn(`[conformance] ${AUDIO} is absent: the document's examples are skipped`);
const FIXTURE = 'tests/fixtures/openvoice-v2-tiny';

let browser: Browser;
let page: Page;
let release: ReleaseServer | undefined;
let key: string;
/** The uploads, as base64, by the names the document's examples give them. */
const files: Record<string, { b64: string; type: string }> = {};

interface Answer {
  status: number;
  headers: Record<string, string>;
  /** The body as text (JSON answers) or, for audio, empty. */
  text: string;
  bytes: Uint8Array;
  json: Record<string, unknown>;
}

type Part = string | { file: string; name: string };

/**
 * One request as the document writes it: `json` as `-d '{…}'` / `json=` / `JSON.stringify`, `form` as
 * `-F` / `files=` + `data=` / FormData (a `{file}` value uploads one of `files`). Always with the
 * document's `Authorization: Bearer` header (unless `auth` is false).
 */
async function call(
  method: string,
  path: string,
  o: { json?: unknown; form?: Record<string, Part>; auth?: boolean } = {},
): Promise<Answer> {
  const r = await page.evaluate(
    async ({ method, path, o, key, files }) => {
      const headers: Record<string, string> = {};
      if (o.auth !== false) headers.Authorization = `Bearer ${key}`;
      let body: BodyInit | undefined;
      if (o.json !== undefined) {
        headers['Content-Type'] = 'application/json';
        body = JSON.stringify(o.json);
      } else if (o.form) {
        const f = new FormData();
        for (const [k, v] of Object.entries(o.form)) {
          if (typeof v === 'string') f.append(k, v);
          else {
            const src = files[v.file]!;
            f.append(
              k,
              new Blob([Uint8Array.from(atob(src.b64), (c) => c.charCodeAt(0))], { type: src.type }),
              v.name,
            );
          }
        }
        body = f;
      }
      const res = await fetch(path, { method, headers, body });
      const h: Record<string, string> = {};
      res.headers.forEach((v, k) => (h[k] = v));
      const bytes = new Uint8Array(await res.arrayBuffer());
      let bin = '';
      for (let i = 0; i < bytes.length; i += 0x8000)
        bin += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
      return { status: res.status, headers: h, b64: btoa(bin) };
    },
    { method, path, o, key, files },
  );
  const bytes = new Uint8Array(Buffer.from(r.b64, 'base64'));
  const type = r.headers['content-type'] ?? '';
  const text = /json|text/.test(type) ? new TextDecoder().decode(bytes) : '';
  let json: Record<string, unknown> = {};
  if (/json/.test(type)) json = JSON.parse(text) as Record<string, unknown>;
  return { status: r.status, headers: r.headers, text, bytes, json };
}

/** An audio answer: the status, the Content-Type, and bytes that really are that container. */
function expectAudio(a: Answer, type: string, container: string) {
  expect(a.status, a.text.slice(0, 300)).toBe(200);
  expect(a.headers['content-type']).toBe(type);
  expect(sniffContainer(a.bytes)).toBe(container);
  expect(a.bytes.byteLength).toBeGreaterThan(1000);
}

/** The document's error shape: `{"error": {"code", "message"}}` with the status it lists for the code. */
function expectError(
  a: Answer,
  status: number,
  code: string,
): { code: string; message: string } & Record<string, unknown> {
  expect(a.status, a.text.slice(0, 300)).toBe(status);
  expect(a.headers['content-type']).toMatch(/^application\/json/);
  const e = a.json.error as { code: string; message: string };
  expect(e.code).toBe(code);
  expect(e.message.length).toBeGreaterThan(20);
  return e;
}

beforeAll(async () => {
  if (!HAVE_AUDIO) return;
  const b64 = async (p: string) => (await readFile(p)).toString('base64');
  // The document's file names, played by real recordings.
  files['recording.mp3'] = { b64: await b64(`${AUDIO}/demo_speaker0.mp3`), type: 'audio/mpeg' };
  // 19 s: within the document's 10–30 s for a reference, and quick to embed.
  files['reference.wav'] = { b64: await b64(`${AUDIO}/demo_speaker0.mp3`), type: 'audio/mpeg' };
  files['source_audio.mp3'] = { b64: await b64(`${AUDIO}/demo_speaker0.mp3`), type: 'audio/mpeg' };
  files['noisy_audio.mp3'] = { b64: await b64(`${AUDIO}/demo_speaker2.mp3`), type: 'audio/mpeg' };
  files['speech.flac'] = { b64: await b64(`${AUDIO}/librispeech/2414-128291-0000.flac`), type: 'audio/flac' };
  // The converter's release, served locally in the official layout.
  release = await serveRelease(FIXTURE);
  browser = await launch();
  page = await openStudio(await browser.newContext());
  key = await createKeyInPage(page, {
    limits: {
      'tts:generate': 1000,
      'clone:create': 1000,
      'audio:process': 1000,
      'system:read': 1000,
      'voices:read': 1000,
    },
  });
  await page.evaluate(async (base) => {
    const t = (
      globalThis as unknown as {
        __timbre: {
          models: { install(id: string): Promise<unknown> };
          engine: { run(op: string, args: unknown): Promise<unknown> };
        };
      }
    ).__timbre;
    for (const id of ['kokoro-82m-q8', 'whisper-tiny-q8', 'silero-vad-v5']) await t.models.install(id);
    await t.engine.run('clone.install', { source: { kind: 'url', base } });
  }, release.url);
});

afterAll(async () => {
  await browser?.close();
  await release?.close();
});

describe.skipIf(!HAVE_AUDIO)('document 003 (TTS.ai, OpenAI-style /v1): every example', () => {
  describe('POST /v1/tts/ (Text a veu)', () => {
    it('cURL: {model kokoro, text, voice af_bella, format mp3} → audio/mpeg, rate-limit headers', async () => {
      const a = await call('POST', '/v1/tts/', {
        json: {
          model: 'kokoro',
          text: 'Hello from TTS.ai! This is a test.',
          voice: 'af_bella',
          format: 'mp3',
        },
      });
      expectAudio(a, 'audio/mpeg', 'mp3');
      expect(Number(a.headers['content-length'])).toBe(a.bytes.byteLength);
      for (const h of ['x-ratelimit-limit', 'x-ratelimit-remaining', 'x-ratelimit-reset'])
        expect(a.headers[h], h).toMatch(/^\d+$/);
      expect(a.headers['x-timbre-model']).toBe('kokoro-82m-q8 (asked: kokoro)');
      // Credits have no meaning on a device: no X-Credits-* headers (README, Conformance).
      expect(a.headers['x-credits-used']).toBeUndefined();
    });

    it('Python requests and JavaScript fetch: {model, text "Hello from TTS.ai!", voice, format mp3}', async () => {
      const a = await call('POST', '/v1/tts/', {
        json: { model: 'kokoro', text: 'Hello from TTS.ai!', voice: 'af_bella', format: 'mp3' },
      });
      expectAudio(a, 'audio/mpeg', 'mp3');
    });

    it('cURL (short): {"model":"kokoro","text":"Hello!","voice":"af_bella","format":"mp3"}', async () => {
      expectAudio(
        await call('POST', '/v1/tts/', {
          json: { model: 'kokoro', text: 'Hello!', voice: 'af_bella', format: 'mp3' },
        }),
        'audio/mpeg',
        'mp3',
      );
    });

    it('the table: speed, language, stream and the webhook_url of long tasks (named as not honoured)', async () => {
      const a = await call('POST', '/v1/tts/', {
        json: {
          model: 'kokoro',
          text: 'Hello! This is a test.',
          voice: 'af_bella',
          format: 'wav',
          speed: 1.2,
          language: 'en',
          stream: true,
          webhook_url: 'https://example.com/hook',
        },
      });
      expectAudio(a, 'audio/wav', 'wav');
      expect(a.headers['x-timbre-ignored-parameters']).toBe('webhook_url');
      const pcm = await call('POST', '/v1/tts/', {
        json: { model: 'kokoro', text: 'Hello!', voice: 'af_bella', format: 'pcm' },
      });
      expect(pcm.status).toBe(200);
      expect(pcm.headers['x-sample-rate']).toBe('24000');
      // Errors as the document lists them: 401 without the key, 400 for a model no table knows.
      expectError(
        await call('POST', '/v1/tts/', { json: { model: 'kokoro', text: 'Hi' }, auth: false }),
        401,
        'unauthorized',
      );
      const e = expectError(
        await call('POST', '/v1/tts/', { json: { model: 'no-such-model', text: 'Hi', voice: 'af_bella' } }),
        400,
        'bad_request',
      );
      expect(e.message).toMatch(/Accepted: .*kokoro/);
    });
  });

  describe('POST /v1/stt/ (Paraula a text)', () => {
    type Stt = { text: string; language: string; duration: number; segments: Record<string, unknown>[] };
    const check = (a: Answer, words: boolean) => {
      expect(a.status, a.text.slice(0, 300)).toBe(200);
      expect(a.headers['content-type']).toMatch(/^application\/json/);
      const b = a.json as unknown as Stt;
      expect(b.text.split(/\s+/).length).toBeGreaterThan(10);
      expect(b.language).toBe('en');
      expect(b.duration).toBeGreaterThan(15);
      expect(b.segments.length).toBeGreaterThan(0);
      for (const s of b.segments) {
        expect(Object.keys(s)).toEqual(expect.arrayContaining(['start', 'end', 'text', 'speaker']));
        if (words) expect((s.words as unknown[]).length).toBeGreaterThan(0);
      }
      expect(a.headers['x-timbre-model']).toBe('whisper-tiny-q8 (asked: faster-whisper)');
    };

    it('Python requests and cURL: file recording.mp3, model faster-whisper, timestamps true', async () => {
      check(
        await call('POST', '/v1/stt/', {
          form: {
            file: { file: 'recording.mp3', name: 'recording.mp3' },
            model: 'faster-whisper',
            timestamps: 'true',
          },
        }),
        true,
      );
    });

    it('JavaScript fetch: FormData file + model faster-whisper', async () => {
      check(
        await call('POST', '/v1/stt/', {
          form: { file: { file: 'recording.mp3', name: 'recording.mp3' }, model: 'faster-whisper' },
        }),
        false,
      );
    });

    it('the table: model sensevoice, language, diarize', async () => {
      const a = await call('POST', '/v1/stt/', {
        form: {
          file: { file: 'speech.flac', name: 'speech.flac' },
          model: 'sensevoice',
          language: 'en',
          diarize: 'true',
        },
      });
      expect(a.status, a.text.slice(0, 300)).toBe(200);
      const b = a.json as unknown as Stt;
      expect(b.segments.every((s) => s.speaker === 'SPEAKER_00')).toBe(true);
      expect(a.headers['x-timbre-model']).toBe('whisper-tiny-q8 (asked: sensevoice)');
    });
  });

  describe('POST /v1/tts/clone/ (Clon de veu)', () => {
    it('Python requests: reference_audio + {text, model chatterbox} → the mp3 default', async () => {
      const a = await call('POST', '/v1/tts/clone/', {
        form: {
          reference_audio: { file: 'reference.wav', name: 'reference.wav' },
          text: 'This speech uses a cloned voice.',
          model: 'chatterbox',
        },
      });
      expectAudio(a, 'audio/mpeg', 'mp3');
      expect(a.headers['x-timbre-model']).toBe('openvoice (asked: chatterbox)');
    });

    it('cURL: reference_audio, text "This uses a cloned voice.", model chatterbox', async () => {
      const a = await call('POST', '/v1/tts/clone/', {
        form: {
          reference_audio: { file: 'reference.wav', name: 'reference.wav' },
          text: 'This uses a cloned voice.',
          model: 'chatterbox',
        },
      });
      expectAudio(a, 'audio/mpeg', 'mp3');
    });
  });

  it('POST /v1/voice-convert/ cURL: file, target_voice af_bella (a preset), model openvoice → the wav default', async () => {
    const a = await call('POST', '/v1/voice-convert/', {
      form: {
        file: { file: 'source_audio.mp3', name: 'source_audio.mp3' },
        target_voice: 'af_bella',
        model: 'openvoice',
      },
    });
    expectAudio(a, 'audio/wav', 'wav');
    expect(a.headers['x-sample-rate']).toBe('22050');
    expect(a.headers['x-timbre-model']).toBe('openvoice');
  });

  describe('POST /v1/speech-translate/ (Traducció de veu)', () => {
    it('the table: file, target_language en, voice → the JSON answer with audio_url', async () => {
      const a = await call('POST', '/v1/speech-translate/', {
        form: {
          file: { file: 'speech.flac', name: 'speech.flac' },
          target_language: 'en',
          voice: 'af_bella',
        },
      });
      expect(a.status, a.text.slice(0, 300)).toBe(200);
      expect(a.headers['content-type']).toMatch(/^application\/json/);
      const b = a.json as Record<string, string>;
      expect(typeof b.translated_text).toBe('string');
      expect(Object.keys(b)).toEqual(
        expect.arrayContaining([
          'original_text',
          'translated_text',
          'source_language',
          'target_language',
          'audio_url',
        ]),
      );
      expect(b.source_language).toBe('en');
      expect(b.target_language).toBe('en');
      expect(b.translated_text!.length).toBeGreaterThan(5);
      // audio_url: the history's copy, served by the Service Worker.
      const audio = await call('GET', b.audio_url!);
      expectAudio(audio, 'audio/wav', 'wav');
    });

    it('target_language other than English is the documented 400 naming the available targets', async () => {
      const e = expectError(
        await call('POST', '/v1/speech-translate/', {
          form: { file: { file: 'speech.flac', name: 'speech.flac' }, target_language: 'es' },
        }),
        400,
        'bad_request',
      );
      expect(e.message).toMatch(/Available targets: en/);
    });
  });

  it('POST /v1/speech-to-speech/ the table: file, voice af_bella, model openvoice, speed 1.25; emotion refused', async () => {
    const slow = await call('POST', '/v1/speech-to-speech/', {
      form: { file: { file: 'speech.flac', name: 'speech.flac' }, voice: 'af_bella', model: 'openvoice' },
    });
    expectAudio(slow, 'audio/wav', 'wav');
    const fast = await call('POST', '/v1/speech-to-speech/', {
      form: {
        file: { file: 'speech.flac', name: 'speech.flac' },
        voice: 'af_bella',
        model: 'openvoice',
        speed: '1.25',
      },
    });
    expectAudio(fast, 'audio/wav', 'wav');
    // Time-stretched: 1 / 1.25 of the length (the WAV data after its 44-byte header).
    expect(Math.abs((fast.bytes.byteLength - 44) / (slow.bytes.byteLength - 44) - 0.8)).toBeLessThan(0.03);
    const e = expectError(
      await call('POST', '/v1/speech-to-speech/', {
        form: { file: { file: 'speech.flac', name: 'speech.flac' }, voice: 'af_bella', emotion: 'happy' },
      }),
      400,
      'bad_request',
    );
    expect(e.message).toMatch(/emotion is not supported/);
  });

  describe("Eines d'àudio", () => {
    it('POST /v1/audio/enhance/ cURL: file, denoise=true, enhance_clarity=true', async () => {
      const a = await call('POST', '/v1/audio/enhance/', {
        form: {
          file: { file: 'noisy_audio.mp3', name: 'noisy_audio.mp3' },
          denoise: 'true',
          enhance_clarity: 'true',
        },
      });
      expectAudio(a, 'audio/wav', 'wav');
      expect(Number(a.headers['x-snr-after'])).toBeGreaterThan(Number(a.headers['x-snr-before']));
      // super_resolution (the table): no such model, the documented 400.
      expectError(
        await call('POST', '/v1/audio/enhance/', {
          form: { file: { file: 'noisy_audio.mp3', name: 'noisy_audio.mp3' }, super_resolution: 'true' },
        }),
        400,
        'bad_request',
      );
    });

    it('POST /v1/audio/analyze/: {key, scale Major|Minor, bpm, time_signature, camelot, compatible_keys: strings}', async () => {
      const a = await call('POST', '/v1/audio/analyze/', {
        form: { file: { file: 'recording.mp3', name: 'recording.mp3' } },
      });
      expect(a.status, a.text.slice(0, 300)).toBe(200);
      const b = a.json as {
        key: string;
        scale: string;
        bpm: number;
        time_signature: string;
        camelot: string;
        compatible_keys: string[];
      };
      expect(b.key).toMatch(/^[A-G][#b]?$/);
      expect(['Major', 'Minor']).toContain(b.scale);
      expect(b.bpm).toBeGreaterThan(0);
      expect(b.time_signature).toMatch(/^[34]\/4$/);
      expect(b.camelot).toMatch(/^\d{1,2}[AB]$/);
      expect(b.compatible_keys).toHaveLength(4);
      expect(b.compatible_keys[0]).toBe(`${b.key} ${b.scale}`);
      for (const k of b.compatible_keys) expect(k).toMatch(/^[A-G][#b]? (Major|Minor)$/);
    });

    it('POST /v1/audio/convert/: format mp3, bitrate 128, sample_rate 44100, channels mono', async () => {
      const a = await call('POST', '/v1/audio/convert/', {
        form: {
          file: { file: 'speech.flac', name: 'speech.flac' },
          format: 'mp3',
          bitrate: '128',
          sample_rate: '44100',
          channels: 'mono',
        },
      });
      expectAudio(a, 'audio/mpeg', 'mp3');
      expect(a.headers['x-sample-rate']).toBe('44100');
    });

    it('POST /v1/audio/separate/ and /v1/audio/dereverb/: 501 saying why they are absent', async () => {
      const sep = expectError(
        await call('POST', '/v1/audio/separate/', {
          form: { file: { file: 'recording.mp3', name: 'recording.mp3' }, model: 'demucs', stems: '2' },
        }),
        501,
        'not_implemented',
      );
      expect(sep.message).toMatch(/separation/);
      const der = expectError(
        await call('POST', '/v1/audio/dereverb/', {
          form: { file: { file: 'recording.mp3', name: 'recording.mp3' }, type: 'reverb', intensity: '3' },
        }),
        501,
        'not_implemented',
      );
      expect(der.message).toMatch(/[Dd]ereverberation/);
    });
  });

  it('POST /v1/voice-chat/: 501 saying there is no language model here', async () => {
    const e = expectError(
      await call('POST', '/v1/voice-chat/', {
        json: { text: 'What is the capital of France?', voice: 'af_bella' },
      }),
      501,
      'not_implemented',
    );
    expect(e.message).toMatch(/language model/);
  });

  it('GET /v1/models/: {models: [{id, name, type, languages, supports_cloning, supports_streaming}]}', async () => {
    const a = await call('GET', '/v1/models/');
    expect(a.status, a.text.slice(0, 300)).toBe(200);
    const models = a.json.models as Record<string, unknown>[];
    expect(models.length).toBeGreaterThan(0);
    for (const m of models)
      expect(Object.keys(m)).toEqual(
        expect.arrayContaining(['id', 'name', 'type', 'languages', 'supports_cloning', 'supports_streaming']),
      );
    expect(models.find((m) => m.id === 'kokoro-82m-q8')).toMatchObject({
      type: 'tts',
      supports_streaming: true,
    });
  });

  it('GET /v1/voices/?model=kokoro&language=en&gender=female: {voices: [{id, name, model, language, gender}], total}', async () => {
    const a = await call('GET', '/v1/voices/?model=kokoro&language=en&gender=female');
    expect(a.status, a.text.slice(0, 300)).toBe(200);
    const b = a.json as { voices: Record<string, unknown>[]; total: number };
    expect(b.total).toBe(b.voices.length);
    expect(b.voices.find((v) => v.id === 'af_bella')).toMatchObject({ model: 'kokoro', gender: 'female' });
    for (const v of b.voices)
      expect(Object.keys(v)).toEqual(expect.arrayContaining(['id', 'name', 'model', 'language', 'gender']));
  });
});
