import { beforeAll, describe, expect, it } from 'vitest';
import { audioInfo, UndecodableAudioError } from '../../src/lib/codec/duration';
import { AUDIO_UPLOAD_LIMIT } from '../../src/lib/api/handlers/system';
import { setup } from './helpers';
import { errorOf, HIGH_LIMITS, makeWav, mulberry32, okJson, toBase64 } from './test-utils';

type Env = Awaited<ReturnType<typeof setup>>;
let env: Env;
let key: string;
const wav = makeWav({ seconds: 1, sampleRate: 16_000, freq: 440 });

interface Duration {
  duration: number;
  sample_rate: number | null;
  channels: number | null;
  format: string | null;
}

beforeAll(async () => {
  env = await setup();
  key = await env.makeKey({ limits: HIGH_LIMITS });
});

const post = (init: { body?: unknown; raw?: BodyInit; headers?: Record<string, string> }) =>
  env.call('POST', '/api/audio-duration', { key, ...init });

describe('the test WAV itself', () => {
  it('is a well-formed RIFF file of 1 s at 16 kHz, 16-bit mono', () => {
    expect(wav.byteLength).toBe(44 + 16_000 * 2);
    const v = new DataView(wav.buffer);
    expect(String.fromCharCode(...wav.subarray(0, 4))).toBe('RIFF');
    expect(String.fromCharCode(...wav.subarray(8, 12))).toBe('WAVE');
    expect(v.getUint32(4, true)).toBe(wav.byteLength - 8);
    expect(v.getUint32(24, true)).toBe(16_000);
    expect(v.getUint32(40, true)).toBe(32_000);
    // A sine: sample 0 is silent, a quarter period later (at 440 Hz) near its peak.
    expect(v.getInt16(44, true)).toBe(0);
  });
});

describe('POST /api/audio-duration', () => {
  const check = (d: Duration) => {
    expect(d.duration).toBeCloseTo(1.0, 2);
    expect(d.sample_rate).toBe(16_000);
    expect(d.channels).toBe(1);
    expect(d.format).toMatch(/WAVE/i);
  };

  it('JSON with base64', async () => {
    check(await okJson<Duration>(await post({ body: { audio: toBase64(wav) } })));
  });

  it('JSON with line-wrapped base64', async () => {
    const wrapped = toBase64(wav).replace(/.{76}/g, '$&\n');
    check(await okJson<Duration>(await post({ body: { audio: wrapped } })));
  });

  it('JSON with a data URL', async () => {
    check(await okJson<Duration>(await post({ body: { audio: `data:audio/wav;base64,${toBase64(wav)}` } })));
  });

  it('raw audio/wav body', async () => {
    check(await okJson<Duration>(await post({ raw: wav, headers: { 'Content-Type': 'audio/wav' } })));
  });

  it('raw application/octet-stream body', async () => {
    check(
      await okJson<Duration>(
        await post({ raw: wav, headers: { 'Content-Type': 'application/octet-stream' } }),
      ),
    );
  });

  it('multipart FormData with field "file"', async () => {
    const form = new FormData();
    form.set('note', 'a text field alongside');
    form.set('file', new Blob([wav], { type: 'audio/wav' }), 'tone.wav');
    check(await okJson<Duration>(await post({ raw: form })));
  });

  it('other lengths and layouts: 2.5 s stereo at 8 kHz, 0.25 s at 44.1 kHz', async () => {
    const stereo = await okJson<Duration>(
      await post({ body: { audio: toBase64(makeWav({ seconds: 2.5, sampleRate: 8000, channels: 2 })) } }),
    );
    expect(stereo.duration).toBeCloseTo(2.5, 2);
    expect(stereo.channels).toBe(2);
    expect(stereo.sample_rate).toBe(8000);
    const short = await okJson<Duration>(
      await post({
        raw: makeWav({ seconds: 0.25, sampleRate: 44_100 }),
        headers: { 'Content-Type': 'audio/x-wav' },
      }),
    );
    expect(short.duration).toBeCloseTo(0.25, 2);
  });

  it('bad base64 is 400 naming the audio field', async () => {
    for (const audio of [
      '!!!not base64!!!',
      'abcde',
      'ab=c',
      'data:audio/wav;base64,@@@@',
      'data:audio/wav,UklGRg==',
      '   ',
    ]) {
      const err = await errorOf(await post({ body: { audio } }), 400, 'bad_request');
      expect(err.field, audio).toBe('audio');
      expect(err.message).toContain('audio');
    }
  });

  it('bytes that are not audio are 400 (JSON, raw and multipart)', async () => {
    const rand = mulberry32(7);
    const junk = Uint8Array.from({ length: 4096 }, () => Math.floor(rand() * 256));
    const a = await errorOf(await post({ body: { audio: toBase64(junk) } }), 400, 'bad_request');
    expect(a.field).toBe('audio');
    expect(a.message).toMatch(/could not be decoded/);
    await errorOf(await post({ raw: junk, headers: { 'Content-Type': 'audio/wav' } }), 400, 'bad_request');
    const form = new FormData();
    form.set('file', new Blob([junk], { type: 'audio/mpeg' }), 'junk.mp3');
    const m = await errorOf(await post({ raw: form }), 400, 'bad_request');
    expect(m.field).toBe('file');
  });

  it('a truncated WAV header and a too-short file are 400', async () => {
    await errorOf(await post({ body: { audio: toBase64(wav.subarray(0, 10)) } }), 400, 'bad_request');
    const err = await errorOf(
      await post({ body: { audio: toBase64(wav.subarray(0, 30)) } }),
      400,
      'bad_request',
    );
    expect(err.field).toBe('audio');
  });

  it('a JSON body without a string "audio" is 400 naming it', async () => {
    for (const body of [{}, { audio: 42 }, { audio: null }, { file: toBase64(wav) }]) {
      const err = await errorOf(await post({ body }), 400, 'bad_request');
      expect(err.field).toBe('audio');
    }
    for (const body of [[toBase64(wav)], 'text', 3]) {
      const err = await errorOf(await post({ body }), 400, 'bad_request');
      expect(err.field).toBe('body');
    }
    const nonJson = await errorOf(
      await post({ raw: '{audio:', headers: { 'Content-Type': 'application/json' } }),
      400,
      'bad_request',
    );
    expect(nonJson.field).toBe('body');
  });

  it('an empty raw body is 400', async () => {
    const err = await errorOf(
      await post({ raw: new Uint8Array(0), headers: { 'Content-Type': 'audio/wav' } }),
      400,
      'bad_request',
    );
    expect(err.field).toBe('body');
  });

  it('multipart without a file, with a text "file", with an empty file, or garbled is 400', async () => {
    const none = new FormData();
    none.set('other', 'x');
    expect((await errorOf(await post({ raw: none }), 400, 'bad_request')).field).toBe('file');
    const text = new FormData();
    text.set('file', 'not a file');
    expect((await errorOf(await post({ raw: text }), 400, 'bad_request')).field).toBe('file');
    const empty = new FormData();
    empty.set('file', new Blob([]), 'empty.wav');
    expect((await errorOf(await post({ raw: empty }), 400, 'bad_request')).message).toMatch(/empty/);
    const garbled = await errorOf(
      await post({
        raw: 'this is not multipart at all',
        headers: { 'Content-Type': 'multipart/form-data; boundary=----xyz' },
      }),
      400,
      'bad_request',
    );
    expect(garbled.field).toBe('body');
  });

  it('a Content-Type that is not audio, JSON or multipart is 415', async () => {
    for (const ct of ['text/plain', 'image/png', 'application/xml']) {
      const err = await errorOf(
        await post({ raw: wav, headers: { 'Content-Type': ct } }),
        415,
        'unsupported_media_type',
      );
      expect(err.message).toContain(ct);
    }
  });

  it('a body over the limit is 413 file_too_large (declared, streamed, base64 and multipart)', async () => {
    const declared = await errorOf(
      await post({
        raw: wav,
        headers: { 'Content-Type': 'audio/wav', 'Content-Length': String(AUDIO_UPLOAD_LIMIT + 1) },
      }),
      413,
      'file_too_large',
    );
    expect(declared.limit_bytes).toBe(AUDIO_UPLOAD_LIMIT);

    // A real stream past the limit; the same 1 MiB chunk is reused so the test stays light.
    const chunk = new Uint8Array(1024 * 1024);
    let sent = 0;
    const stream = new ReadableStream<Uint8Array>({
      pull(c) {
        if (sent > AUDIO_UPLOAD_LIMIT + 2 * chunk.byteLength) return c.close();
        sent += chunk.byteLength;
        c.enqueue(chunk);
      },
    });
    const req = new Request('http://127.0.0.1:4173/api/audio-duration', {
      method: 'POST',
      headers: { 'X-API-Key': key, 'Content-Type': 'audio/wav' },
      body: stream,
      duplex: 'half',
    } as RequestInit);
    await errorOf(await env.router.handle(req, env.ctx), 413, 'file_too_large');
    expect(sent).toBeLessThanOrEqual(AUDIO_UPLOAD_LIMIT + 2 * chunk.byteLength);

    const form = new FormData();
    form.set('file', new Blob([wav], { type: 'audio/wav' }), 'tone.wav');
    const mp = await errorOf(
      await post({ raw: form, headers: { 'Content-Length': String(AUDIO_UPLOAD_LIMIT * 2) } }),
      413,
      'file_too_large',
    );
    expect(mp.field).toBe('file');
  });
});

describe('audioInfo', () => {
  it('reads the duration of the WAV directly, with and without a MIME type', async () => {
    expect((await audioInfo(wav)).duration).toBeCloseTo(1, 3);
    expect((await audioInfo(wav, 'audio/wav')).duration).toBeCloseTo(1, 3);
  });

  it('throws UndecodableAudioError for short or unknown input', async () => {
    await expect(audioInfo(new Uint8Array(8))).rejects.toBeInstanceOf(UndecodableAudioError);
    await expect(
      audioInfo(new TextEncoder().encode('hello, this is plain text and not audio at all')),
    ).rejects.toBeInstanceOf(UndecodableAudioError);
  });
});
