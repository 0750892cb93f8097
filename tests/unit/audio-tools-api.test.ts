// POST /v1/audio/analyze through the real router and storage, with the engine running the real
// 'audio.analyze' in-process (WAV read directly; MP3 decoded by the ffmpeg.wasm core in Node).
import 'fake-indexeddb/auto';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { createApiContext, type ApiContext } from '../../src/lib/api/context';
import { createRouter } from '../../src/lib/api/routes';
import { runAudioAnalyze, type AudioAnalyzeArgs } from '../../src/lib/audio/analyze-op';
import { Transcoder } from '../../src/lib/audio/transcoder';
import type { RunOptions } from '../../src/lib/engine/types';
import { encodeWav } from '../../src/lib/tts/wav';
import { NodeCoreProvider } from './ffmpeg-node';
import { FACTS, setup } from './helpers';
import { chords, drums, minorProgression, mix, SR } from './music-clips';
import { caller, errorOf, HIGH_LIMITS, okJson, toBase64 } from './test-utils';

vi.setConfig({ testTimeout: 300_000, hookTimeout: 300_000 });

const transcoder = new Transcoder(new NodeCoreProvider());
const engine: ApiContext['engine'] = {
  hostCount: async () => 1,
  run: (async (op: string, args: unknown, o: RunOptions = {}) => {
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
  compatible_keys: { key: string; scale: string; camelot: string; relation: string }[];
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
    expect(`${r.key} ${r.scale}`).toBe('E minor');
    expect(r.camelot).toBe('9A');
    expect(r.compatible_keys.map((k) => k.camelot)).toEqual(['9B', '10A', '8A']);
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
    expect(`${r.key} ${r.scale}`).toBe('E minor');
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
