// The audio tools through the real router and storage, with the engine running the real 'audio.convert'
// and 'audio.analyze' in-process (WAV read directly; everything else through the ffmpeg.wasm core in Node).
import 'fake-indexeddb/auto';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { createApiContext, type ApiContext } from '../../src/lib/api/context';
import { createRouter } from '../../src/lib/api/routes';
import { runAudioAnalyze } from '../../src/lib/audio/analyze-op';
import { type AudioAnalyzeArgs } from '../../src/lib/audio/contract';
import type { AudioConvertArgs, AudioEnhanceArgs } from '../../src/lib/audio/contract';
import { runAudioEnhance } from '../../src/lib/audio/enhance-op';
import { Transcoder } from '../../src/lib/codec/transcoder';
import type { RunOptions } from '../../src/lib/core/run';
import { decodeWav, encodeWav } from '../../src/lib/dsp/wav';
import { NodeCoreProvider } from './ffmpeg-node';
import { FACTS, setup } from './helpers';
import { chords, drums, minorProgression, mix, SR } from './music-clips';
import { caller, errorOf, HIGH_LIMITS, okJson, toBase64 } from './test-utils';

vi.setConfig({ testTimeout: 300_000, hookTimeout: 300_000 });

const transcoder = new Transcoder(new NodeCoreProvider());
const engine: ApiContext['engine'] = {
  hostCount: async () => 1,
  run: (async (op: string, args: unknown, o: RunOptions = {}) => {
    if (op === 'audio.convert') {
      const a = args as AudioConvertArgs;
      return transcoder.convert(a.audio, a.options, o);
    }
    if (op === 'audio.enhance')
      return runAudioEnhance(args as AudioEnhanceArgs, o, {
        transcoder: () => transcoder,
        vadModel: async () => null,
      });
    if (op !== 'audio.analyze') throw new Error(`unexpected op ${op}`);
    return runAudioAnalyze(args as AudioAnalyzeArgs, o, () => transcoder);
  }) as ApiContext['engine']['run'],
};

let call: ReturnType<typeof caller>;
let key: string;
let narrow: string;
let wav: Uint8Array;

interface AnalyzeBody {
  key: string;
  scale: string;
  bpm: number;
  time_signature: string;
  camelot: string;
  compatible_keys: string[];
  compatible_keys_detail: { key: string; scale: string; camelot: string; relation: string }[];
  duration: number;
}

beforeAll(async () => {
  const base = await setup();
  const ctx = createApiContext({ db: base.db, engine, system: async () => FACTS, version: 'test' });
  call = caller(createRouter(), ctx);
  key = (await ctx.keys.create({ name: 'k', limits: HIGH_LIMITS, now: Date.now() })).secret;
  narrow = (await ctx.keys.create({ name: 'n', scopes: ['voices:read'], now: Date.now() })).secret;
  // 126 BPM in E minor (i – iv – V – i), 20 s.
  wav = encodeWav(mix(drums(126, 20), chords(minorProgression(64), 126, 20)), SR, 's16');
});

const form = (bytes: Uint8Array, type: string, name: string) => {
  const f = new FormData();
  f.set('file', new Blob([bytes as Uint8Array<ArrayBuffer>], { type }), name);
  return f;
};

describe('POST /v1/audio/analyze', () => {
  it('a multipart WAV: tempo, key, Camelot code and the keys that mix with it', async () => {
    const r = await okJson<AnalyzeBody>(
      await call('POST', '/v1/audio/analyze', { key, raw: form(wav, 'audio/wav', 'loop.wav') }),
    );
    expect(Math.abs(r.bpm - 126)).toBeLessThanOrEqual(1);
    // The document's shape: "Minor", and the compatible keys as strings, the key itself first.
    expect(`${r.key} ${r.scale}`).toBe('E Minor');
    expect(r.camelot).toBe('9A');
    expect(r.compatible_keys).toEqual(['E Minor', 'B Minor', 'A Minor', 'G Major']);
    expect(r.compatible_keys_detail.map((k) => k.camelot)).toEqual(['9B', '10A', '8A']);
    expect(r.time_signature).toBe('4/4');
    expect(r.duration).toBeCloseTo(20, 1);
  });

  it('the same clip as MP3 in JSON base64 gives the same answer', async () => {
    const pcm = mix(drums(126, 20), chords(minorProgression(64), 126, 20));
    const mp3 = await transcoder.encode(pcm, SR, { format: 'mp3', bitrate: 128 });
    const r = await okJson<AnalyzeBody>(
      await call('POST', '/v1/audio/analyze', { key, body: { audio: toBase64(mp3.bytes) } }),
    );
    expect(Math.abs(r.bpm - 126)).toBeLessThanOrEqual(1);
    expect(`${r.key} ${r.scale}`).toBe('E Minor');
  });

  it('refuses what it cannot analyse, in the documented error shape', async () => {
    const text = new TextEncoder().encode('this is not audio at all, just some text.');
    await errorOf(
      await call('POST', '/v1/audio/analyze', { key, raw: form(text, 'text/plain', 'a.txt') }),
      415,
      'unsupported_media_type',
    );
    const short = encodeWav(drums(120, 2), SR, 's16');
    const e = await errorOf(
      await call('POST', '/v1/audio/analyze', { key, raw: form(short, 'audio/wav', 's.wav') }),
      400,
      'bad_request',
    );
    expect(e.message).toMatch(/at least 3 s/);
    await errorOf(await call('POST', '/v1/audio/analyze', { key, body: {} }), 400, 'bad_request');
    await errorOf(
      await call('POST', '/v1/audio/analyze', { key: narrow, raw: form(wav, 'audio/wav', 'x.wav') }),
      403,
      'forbidden',
    );
  });
});

/** A 16-bit stereo WAV: 440 Hz left, 660 Hz right, `seconds` long at `rate`. */
function stereoWav(seconds: number, rate: number): Uint8Array {
  const n = Math.round(seconds * rate);
  const x = new Float32Array(2 * n);
  for (let i = 0; i < n; i++) {
    x[2 * i] = (13000 / 32767) * Math.sin((2 * Math.PI * 440 * i) / rate);
    x[2 * i + 1] = (13000 / 32767) * Math.sin((2 * Math.PI * 660 * i) / rate);
  }
  return encodeWav(x, rate, 's16', 2);
}

/** A mono sine. */
const tone = (hz: number, seconds: number, rate: number) =>
  Float32Array.from(
    { length: Math.round(seconds * rate) },
    (_, i) => 0.4 * Math.sin((2 * Math.PI * hz * i) / rate),
  );

/** Frequency of a mono signal from its zero crossings (enough for one pure tone). */
function toneHz(x: Float32Array, rate: number): number {
  let crossings = 0;
  for (let i = 1; i < x.length; i++) if (x[i - 1]! < 0 && x[i]! >= 0) crossings++;
  return crossings / (x.length / rate);
}

describe('POST /v1/audio/convert', () => {
  const src = () => stereoWav(3, 44100);
  const convert = (
    bytes: Uint8Array,
    fields: Record<string, string>,
    type = 'audio/wav',
    name = 'in.wav',
  ) => {
    const f = form(bytes, type, name);
    for (const [k, v] of Object.entries(fields)) f.set(k, v);
    return call('POST', '/v1/audio/convert', { key, raw: f });
  };
  const TYPES: Record<string, RegExp> = {
    wav: /^audio\/wav/,
    mp3: /^audio\/mpeg/,
    ogg: /^audio\/ogg/,
    opus: /^audio\/ogg/,
    flac: /^audio\/flac/,
    m4a: /^audio\/mp4/,
    aac: /^audio\/aac/,
    webm: /^audio\/webm/,
  };

  // Every format round-trips distinct stereo channels (opus and webm through mapping family 255, which
  // keeps the bundled libopus off the path where it crashed on them).
  const MONO_ONLY = new Set<string>();
  for (const format of Object.keys(TYPES)) {
    const channels = MONO_ONLY.has(format) ? 1 : 2;
    it(`round-trips a ${channels === 2 ? 'stereo' : 'mono'} WAV through ${format} and back: same length, channels and tones`, async () => {
      const input = channels === 2 ? src() : encodeWav(tone(440, 3, 44100), 44100, 's16');
      const res = await convert(input, { format });
      expect(res.status, await res.clone().text()).toBe(200);
      expect(res.headers.get('Content-Type')).toMatch(TYPES[format]!);
      expect(res.headers.get('Content-Disposition')).toContain(`in.`);
      const bytes = new Uint8Array(await res.arrayBuffer());
      const probe = await transcoder.probe(bytes);
      expect(probe.channels).toBe(channels);
      expect(probe.duration ?? 3).toBeGreaterThan(2.9);
      expect(probe.duration ?? 3).toBeLessThan(3.15);
      const back = await convert(
        bytes,
        { format: 'wav', sample_rate: '16000' },
        'application/octet-stream',
        `x.${format}`,
      );
      expect(back.status).toBe(200);
      const w = await transcoder.decode(new Uint8Array(await back.arrayBuffer()), { mono: false });
      expect(w.sampleRate).toBe(16000);
      expect(w.channels).toBe(channels);
      const frames = w.samples.length / channels;
      expect(Math.abs(frames / 16000 - 3)).toBeLessThan(0.15);
      const left = new Float32Array(frames);
      const right = new Float32Array(frames);
      for (let i = 0; i < frames; i++) {
        left[i] = w.samples[channels * i]!;
        right[i] = w.samples[channels * i + channels - 1]!;
      }
      expect(Math.abs(toneHz(left, 16000) - 440)).toBeLessThan(8);
      if (channels === 2) expect(Math.abs(toneHz(right, 16000) - 660)).toBeLessThan(8);
    });
  }

  it('honours sample rate, channels and bitrate, and names them in headers', async () => {
    const res = await convert(src(), { format: 'wav', sample_rate: '22050', channels: 'mono' });
    expect(res.headers.get('X-Sample-Rate')).toBe('22050');
    expect(res.headers.get('X-Channels')).toBe('1');
    const w = decodeWav(new Uint8Array(await res.arrayBuffer()));
    expect([w.sampleRate, w.channels]).toEqual([22050, 1]);
    expect(Math.abs(w.samples.length / 22050 - 3)).toBeLessThan(0.01);
    const mp3 = await convert(src(), { format: 'mp3', bitrate: '96' });
    expect(mp3.headers.get('X-Bitrate')).toBe('96');
    const size = (await mp3.arrayBuffer()).byteLength;
    // 96 kbps for 3 s is 36 kB (plus headers and padding).
    expect(size).toBeGreaterThan(30_000);
    expect(size).toBeLessThan(45_000);
  });

  it('refuses bad options and non-audio with the field named', async () => {
    const bad = async (fields: Record<string, string>, field: string) => {
      const e = await errorOf(await convert(src(), fields), 400, 'bad_request');
      expect(e.message).toMatch(new RegExp(`^${field}`));
    };
    await bad({ format: 'xyz' }, 'format');
    await bad({ format: 'mp3', bitrate: '500' }, 'bitrate');
    await bad({ format: 'wav', sample_rate: '1000' }, 'sample_rate');
    await bad({ format: 'wav', channels: 'quad' }, 'channels');
    const junk = new TextEncoder().encode('not audio, not at all, just text');
    await errorOf(
      await convert(junk, { format: 'wav' }, 'text/plain', 'a.txt'),
      415,
      'unsupported_media_type',
    );
  });
});

describe('X-Timbre-Ignored-Parameters on /v1/audio/enhance, /v1/audio/convert and /v1/audio/analyze', () => {
  const IGNORED = 'X-Timbre-Ignored-Parameters';
  const send = (path: string, fields: Record<string, string>, bytes = stereoWav(1, 44100)) => {
    const f = form(bytes, 'audio/wav', 'in.wav');
    for (const [k, v] of Object.entries(fields)) f.set(k, v);
    return call('POST', path, { key, raw: f });
  };
  const ok = async (res: Response) => {
    expect(res.status, await res.clone().text()).toBe(200);
    return new Uint8Array(await res.arrayBuffer());
  };

  it('convert: the webhook and a bitrate for a lossless format are named, and change nothing', async () => {
    const plain = await send('/v1/audio/convert', { format: 'wav' });
    expect(plain.headers.get(IGNORED)).toBeNull();
    const asked = await send('/v1/audio/convert', {
      format: 'wav',
      bitrate: '128',
      webhook_url: 'https://x.test/hook',
    });
    expect(asked.headers.get(IGNORED)).toBe('webhook_url, bitrate');
    expect(await ok(asked)).toEqual(await ok(plain));
    const flac = await send('/v1/audio/convert', { format: 'flac', bitrate: '192' });
    expect(flac.headers.get(IGNORED)).toBe('bitrate');
    // A lossy format honours the bitrate: nothing is named.
    const mp3 = await send('/v1/audio/convert', { format: 'mp3', bitrate: '96' });
    expect(mp3.headers.get('X-Bitrate')).toBe('96');
    expect(mp3.headers.get(IGNORED)).toBeNull();
  });

  it('enhance: the webhook, a bitrate for WAV and strength with denoise off are named, and change nothing', async () => {
    const mono = encodeWav(tone(300, 1.5, 48000), 48000, 's16');
    const plain = await send('/v1/audio/enhance', { denoise: 'false' }, mono);
    expect(plain.headers.get(IGNORED)).toBeNull();
    const asked = await send(
      '/v1/audio/enhance',
      { denoise: 'false', strength: '3', bitrate: '128', webhook_url: 'https://x.test/hook' },
      mono,
    );
    expect(asked.headers.get(IGNORED)).toBe('webhook_url, bitrate, strength');
    expect(await ok(asked)).toEqual(await ok(plain));
    // strength sets the denoiser, which is on by default: honoured, not named (also in JSON answers).
    const json = await send('/v1/audio/enhance', { strength: '3', response: 'json' }, mono);
    expect(json.headers.get('Content-Type')).toMatch(/^application\/json/);
    expect(json.headers.get(IGNORED)).toBeNull();
    const jsonHook = await send(
      '/v1/audio/enhance',
      { denoise: 'false', response: 'json', webhook_url: 'https://x.test/hook' },
      mono,
    );
    expect(jsonHook.headers.get(IGNORED)).toBe('webhook_url');
  });

  it('analyze: the webhook is named (multipart and JSON); nothing else is', async () => {
    const plain = await send('/v1/audio/analyze', {}, wav);
    expect(plain.status).toBe(200);
    expect(plain.headers.get(IGNORED)).toBeNull();
    const hooked = await send('/v1/audio/analyze', { webhook_url: 'https://x.test/hook' }, wav);
    expect(hooked.status).toBe(200);
    expect(hooked.headers.get(IGNORED)).toBe('webhook_url');
    const j = await call('POST', '/v1/audio/analyze', {
      key,
      body: { audio: toBase64(wav), webhook_url: 'https://x.test/hook' },
    });
    expect(j.status).toBe(200);
    expect(j.headers.get(IGNORED)).toBe('webhook_url');
  });
});
