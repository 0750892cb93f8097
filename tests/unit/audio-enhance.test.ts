// Enhancement, SNR estimate and silence tools: RNNoise on Kokoro speech plus white noise (Node), and the
// routes through the real router with the real operations running in-process.
import 'fake-indexeddb/auto';
import * as ort from 'onnxruntime-web';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { createApiContext, type ApiContext } from '../../src/lib/api/context';
import { createRouter } from '../../src/lib/api/routes';
import { denoise } from '../../src/lib/audio/denoise';
import { runAudioEnhance, runAudioSilence, type ToolDeps } from '../../src/lib/audio/enhance-op';
import { type AudioEnhanceArgs, type AudioSilenceArgs } from '../../src/lib/audio/contract';
import { integratedLoudness } from '../../src/lib/dsp/loudness';
import { estimateSnr } from '../../src/lib/audio/snr';
import { splitOnPauses, trimSilence } from '../../src/lib/audio/silence';
import { Transcoder } from '../../src/lib/codec/transcoder';
import { resample } from '../../src/lib/dsp/resample';
import { CancelledError, type RunOptions } from '../../src/lib/core/run';
import { installRuntime } from '../../src/lib/runtime/host';
import { decodeWav, encodeWav } from '../../src/lib/dsp/wav';
import { concat, HAVE_KOKORO, kokoroSpeech, silence } from './asr-helpers';
import { NodeCoreProvider } from './ffmpeg-node';
import { FACTS, setup } from './helpers';
import { tone } from './tone';
import { caller, errorOf, HIGH_LIMITS, okJson, toBase64 } from './test-utils';
import { addNoise, levels as levelsAt } from './noise-levels';

const levels = (x: Float32Array, ref: Float32Array) => levelsAt(x, ref, R);

vi.setConfig({ testTimeout: 300_000, hookTimeout: 300_000 });

const R = 48000;
let clean: Float32Array; // 48 kHz: 1 s silence, sentence, 1.2 s pause, sentence, 1 s silence
let noisy: Float32Array;

beforeAll(async () => {
  installRuntime({ loadOrt: async () => ort, isolated: true, cores: 2 });
  if (!HAVE_KOKORO) return;
  const a = await kokoroSpeech('The quick brown fox jumps over the lazy dog.', 'af_heart');
  const b = await kokoroSpeech('Clean audio makes every recording easier to follow.', 'af_heart');
  const s = (x: Float32Array) => resample(x, 24000, R);
  clean = concat([silence(1, R), s(a.samples), silence(1.2, R), s(b.samples), silence(1, R)]);
  noisy = addNoise(clean, R, 10);
});

describe.skipIf(!HAVE_KOKORO)('RNNoise on speech plus white noise at 10 dB SNR', () => {
  it('lowers the noise floor by over 15 dB and keeps the speech level within 3 dB', async () => {
    const before = levels(noisy, clean);
    const y = await denoise(noisy, { strength: 2 });
    expect(y.length).toBe(noisy.length);
    const after = levels(y, clean);
    expect(before.noise - after.noise).toBeGreaterThan(15);
    expect(Math.abs(after.speech - levels(clean, clean).speech)).toBeLessThan(3);
  });

  it('strength orders the result: 1 keeps some noise (¼ original, gate −6 dB), 3 removes more than 2', async () => {
    const n1 = levels(await denoise(noisy, { strength: 1 }), clean).noise;
    const n2 = levels(await denoise(noisy, { strength: 2 }), clean).noise;
    const n3 = levels(await denoise(noisy, { strength: 3 }), clean).noise;
    const n0 = levels(noisy, clean).noise;
    // ¼ of the original under a −6 dB gate: about 18 dB down, never more than 12 + 6 + a little.
    expect(n0 - n1).toBeGreaterThan(12);
    expect(n0 - n1).toBeLessThan(19);
    expect(n2).toBeLessThan(n1 - 10);
    expect(n3).toBeLessThan(n2);
  });

  it('is time-aligned with its input (no latency shift)', async () => {
    const y = await denoise(clean, { strength: 2 });
    const corr = (lag: number) => {
      let s = 0;
      for (let i = R; i < clean.length - R; i += 3) s += clean[i]! * y[i + lag]!;
      return s;
    };
    const best = [-480, -240, -1, 0, 1, 240, 480].reduce((a, b) => (corr(b) > corr(a) ? b : a));
    expect(best).toBe(0);
  });

  it('honours the abort signal and reports progress', async () => {
    const ac = new AbortController();
    const seen: number[] = [];
    const long = concat([noisy, noisy, noisy, noisy]);
    await expect(
      denoise(long, {
        signal: ac.signal,
        onProgress: (p) => {
          seen.push(p.done / p.total);
          if (p.done > 0) ac.abort();
        },
      }),
    ).rejects.toBeInstanceOf(CancelledError);
    expect(seen.length).toBeGreaterThan(1);
  });

  it('estimated SNR: about 10 dB on the noisy clip with the speech regions known', () => {
    // Regions from the clean clip's construction (with the VAD's 0.2 s padding).
    const d1 = 1 + (clean.length / R - 4.2) / 2;
    const regions = [
      { start: 0.8, end: d1 + 0.2 },
      { start: d1 + 1.0, end: clean.length / R - 0.8 },
    ];
    const e = estimateSnr(noisy, R, regions);
    // The regions include pauses inside speech, which lowers S a little.
    expect(e.snr_db!).toBeGreaterThan(6);
    expect(e.snr_db!).toBeLessThan(12);
  });
});

describe('trim and split by regions', () => {
  const rate = 16000;
  const x = concat([silence(1, rate), tone(rate, 1), silence(2, rate), tone(rate, 1), silence(0.5, rate)]);
  const regions = [
    { start: 0.8, end: 2.2 },
    { start: 4.0, end: 5.2 },
  ];
  it('trim: keeps first speech start to last speech end; max_pause shortens the 1.8 s pause to 0.6 s', () => {
    const t = trimSilence(x, rate, regions);
    expect(t.samples.length / rate).toBeCloseTo(5.2 - 0.8, 2);
    const s = trimSilence(x, rate, regions, 0.6);
    expect(s.pauses_shortened).toBe(1);
    // 1.4 + 0.6 + 1.2 s, less one 10 ms crossfade.
    expect(s.samples.length / rate).toBeCloseTo(1.4 + 0.6 + 1.2 - 0.01, 2);
    expect(trimSilence(x, rate, []).samples.length).toBe(0);
  });
  it('split: two pieces at a 1.8 s pause with min_pause 1, one piece with min_pause 2', () => {
    const p = splitOnPauses(x, rate, regions, 1);
    expect(p.map((q) => [q.start, q.end])).toEqual([
      [0.8, 2.2],
      [4, 5.2],
    ]);
    expect(p[1]!.samples.length).toBe(Math.round(1.2 * rate));
    expect(splitOnPauses(x, rate, regions, 2)).toHaveLength(1);
  });
});

describe.skipIf(!HAVE_KOKORO)('the routes', () => {
  const transcoder = new Transcoder(new NodeCoreProvider());
  const deps: ToolDeps = { transcoder: () => transcoder, vadModel: async () => null };
  const engine: ApiContext['engine'] = {
    hostCount: async () => 1,
    run: (async (op: string, args: unknown, o: RunOptions = {}) => {
      if (op === 'audio.enhance') return runAudioEnhance(args as AudioEnhanceArgs, o, deps);
      if (op === 'audio.silence') return runAudioSilence(args as AudioSilenceArgs, o, deps);
      throw new Error(`unexpected op ${op}`);
    }) as ApiContext['engine']['run'],
  };
  let call: ReturnType<typeof caller>;
  let key: string;
  let wav: Uint8Array;
  beforeAll(async () => {
    const base = await setup();
    const ctx = createApiContext({ db: base.db, engine, system: async () => FACTS, version: 'test' });
    call = caller(createRouter(), ctx);
    key = (await ctx.keys.create({ name: 'k', limits: HIGH_LIMITS, now: Date.now() })).secret;
    wav = encodeWav(noisy, R, 's16');
  });
  const form = (bytes: Uint8Array, fields: Record<string, string> = {}) => {
    const f = new FormData();
    f.set('file', new Blob([bytes as Uint8Array<ArrayBuffer>], { type: 'audio/wav' }), 'noisy.wav');
    for (const [k, v] of Object.entries(fields)) f.set(k, v);
    return f;
  };

  it('enhance: WAV back with loudness and SNR headers; the SNR rises and the noise floor drops', async () => {
    const res = await call('POST', '/v1/audio/enhance', { key, raw: form(wav, { target_lufs: '-16' }) });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('audio/wav');
    const w = decodeWav(new Uint8Array(await res.arrayBuffer()));
    expect(w.sampleRate).toBe(R);
    expect(w.samples.length).toBe(noisy.length);
    const after = Number(res.headers.get('x-loudness-after'));
    expect(Math.abs(after - -16)).toBeLessThan(0.6);
    expect(Math.abs(integratedLoudness(w.samples, R) - -16)).toBeLessThan(0.6);
    expect(Number(res.headers.get('x-loudness-before'))).toBeCloseTo(integratedLoudness(noisy, R), 0);
    const snrBefore = Number(res.headers.get('x-snr-before'));
    const snrAfter = Number(res.headers.get('x-snr-after'));
    expect(snrBefore).toBeGreaterThan(4);
    expect(snrBefore).toBeLessThan(14);
    expect(snrAfter - snrBefore).toBeGreaterThan(12);
    const lv = levels(w.samples, clean);
    const lv0 = levels(noisy, clean);
    // Loudness went up by the normalisation gain; the noise still fell relative to the speech.
    expect(lv.speech - lv.noise - (lv0.speech - lv0.noise)).toBeGreaterThan(15);
  });

  it('enhance: a stereo WAV keeps its duration (its channels mixed once, to mono)', async () => {
    // Left the noisy speech, right silent: interleaved as a 16-bit stereo file.
    const st = new Float32Array(noisy.length * 2);
    for (let i = 0; i < noisy.length; i++) st[2 * i] = noisy[i]!;
    const res = await call('POST', '/v1/audio/enhance', { key, raw: form(encodeWav(st, R, 's16', 2)) });
    expect(res.status).toBe(200);
    const w = decodeWav(new Uint8Array(await res.arrayBuffer()));
    expect(w.samples.length).toBe(noisy.length);
    expect(Number(res.headers.get('x-snr-after'))).toBeGreaterThan(Number(res.headers.get('x-snr-before')));
  });

  it('enhance JSON (base64 in): figures, clarity, and mp3 out', async () => {
    const r = await okJson<{
      audio_base64: string;
      format: string;
      loudness_before: number;
      loudness_after: number;
      snr_before: number;
      snr_after: number;
      steps: string[];
      vad: string;
    }>(
      await call('POST', '/v1/audio/enhance', {
        key,
        body: { audio: toBase64(wav), enhance_clarity: true, format: 'mp3', response: 'json', strength: 3 },
      }),
    );
    expect(r.format).toBe('mp3');
    expect(r.steps).toHaveLength(2);
    expect(r.vad).toBe('energy');
    expect(r.snr_after).toBeGreaterThan(r.snr_before);
    const mp3 = Uint8Array.from(atob(r.audio_base64), (c) => c.charCodeAt(0));
    const dec = await transcoder.decode(mp3, { mono: true });
    expect(Math.abs(dec.duration - noisy.length / R)).toBeLessThan(0.1);
  });

  it('enhance: clarity is on unless enhance_clarity=false (the TTS.ai document default)', async () => {
    const steps = async (fields: Record<string, string>) =>
      (
        await okJson<{ steps: string[] }>(
          await call('POST', '/v1/audio/enhance', { key, raw: form(wav, { ...fields, response: 'json' }) }),
        )
      ).steps;
    expect((await steps({})).some((s) => s.startsWith('clarity'))).toBe(true);
    expect((await steps({ enhance_clarity: 'false' })).some((s) => s.startsWith('clarity'))).toBe(false);
  });

  it('enhance: bad fields are 400 naming the field, super_resolution is refused, non-audio 415', async () => {
    const bad = async (fields: Record<string, string>, field: string) => {
      const e = await errorOf(await call('POST', '/v1/audio/enhance', { key, raw: form(wav, fields) }), 400);
      expect(e.field).toBe(field);
      return e;
    };
    expect((await bad({ super_resolution: 'true' }, 'super_resolution')).message).toMatch(/not supported/);
    await bad({ strength: '5' }, 'strength');
    await bad({ strength: '1.5' }, 'strength');
    await bad({ target_lufs: '-5' }, 'target_lufs');
    await bad({ denoise: 'maybe' }, 'denoise');
    await bad({ format: 'xyz' }, 'format');
    await errorOf(
      await call('POST', '/v1/audio/enhance', {
        key,
        body: { audio: toBase64(new TextEncoder().encode('hello')) },
      }),
      415,
    );
  });

  it('trim-silence and split: VAD pieces match the sentences', async () => {
    const t = await okJson<{ start: number; end: number; duration: number; audio_base64: string }>(
      await call('POST', '/v1/audio/trim-silence', {
        key,
        raw: form(encodeWav(clean, R, 's16'), { response: 'json' }),
      }),
    );
    expect(t.start).toBeGreaterThan(0.5);
    expect(t.start).toBeLessThan(1.05);
    expect(clean.length / R - t.end).toBeGreaterThan(0.5);
    const tw = decodeWav(Uint8Array.from(atob(t.audio_base64), (c) => c.charCodeAt(0)));
    expect(tw.samples.length / tw.sampleRate).toBeCloseTo(t.duration, 2);
    const s = await okJson<{ pieces: { start: number; end: number; audio_base64: string }[] }>(
      await call('POST', '/v1/audio/split', {
        key,
        raw: form(encodeWav(clean, R, 's16'), { min_pause: '0.8' }),
      }),
    );
    expect(s.pieces).toHaveLength(2);
    expect(s.pieces[0]!.end).toBeLessThan(s.pieces[1]!.start);
    // The pause between the sentences is 1.2 s; the pieces' gap holds it less the VAD's padding.
    expect(s.pieces[1]!.start - s.pieces[0]!.end).toBeGreaterThan(0.6);
  });
});
