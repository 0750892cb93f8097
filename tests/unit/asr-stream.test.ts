// Audio that arrives while it decodes: the streaming resampler, GrowingAudio, ffmpeg's streamed decode,
// the decode-worker wrapper, and a transcription that starts before its file has finished decoding.
import { existsSync, readFileSync } from 'node:fs';
import * as ort from 'onnxruntime-web';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  GrowingAudio,
  openAsrAudio,
  transcoderStreamDecoder,
  withFallback,
  workerStreamDecoder,
  DecodeWorkerError,
  type AsrStreamDecoder,
  type DecodeWorkerHandle,
} from '../../src/lib/codec/stream';
import { runAsrTranscribe } from '../../src/lib/asr/operation';
import { type AsrTranscribeResult } from '../../src/lib/asr/contract';
import { DecodeError } from '../../src/lib/codec/formats';
import { Transcoder } from '../../src/lib/codec/transcoder';
import { CancelledError, type Progress } from '../../src/lib/core/run';
import { installRuntime } from '../../src/lib/runtime/host';
import { encodeWav } from '../../src/lib/dsp/wav';
import { resample, resampleBlocks, StreamResampler } from '../../src/lib/dsp/resample';
import { ENGLISH } from './asr-corpus';
import {
  cacheDeps,
  concat,
  HAVE_KOKORO,
  HAVE_TINY,
  kokoroSpeech,
  MODELS,
  silence,
  SHARED_AUDIO,
} from './asr-helpers';
import { NodeCoreProvider } from './ffmpeg-node';

beforeAll(() => {
  installRuntime({ loadOrt: async () => ort, isolated: true, cores: 2 });
});

/** A deterministic test signal: tones and noise, so every filter tap matters. */
function signal(n: number, seed = 7): Float32Array {
  let s = seed;
  const x = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    s = (s * 1103515245 + 12345) >>> 0;
    x[i] = 0.4 * Math.sin(i * 0.031) + 0.3 * Math.sin(i * 1.7) + 0.2 * (s / 2 ** 32 - 0.5);
  }
  return x;
}

const delay = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('StreamResampler', () => {
  for (const rate of [44100, 48000, 22050, 8000]) {
    it(`gives resampleBlocks's samples exactly, however the ${rate} Hz input is pushed`, async () => {
      const x = signal(rate * 9 + 123);
      const whole = await resampleBlocks(x, rate, 16000);
      const rs = new StreamResampler(rate);
      const parts: Float32Array[] = [];
      // Pieces of odd sizes, as ffmpeg's writes and comlink's messages come.
      const sizes = [1, 1152, 4607, 77777, 3, rate * 2, 999];
      let at = 0;
      for (let k = 0; at < x.length; k++) {
        const n = sizes[k % sizes.length]!;
        parts.push(rs.push(x.subarray(at, Math.min(x.length, at + n))));
        at += n;
      }
      parts.push(rs.end());
      const got = concat(parts);
      expect(got.length).toBe(whole.length);
      let maxDiff = 0;
      for (let i = 0; i < got.length; i++) maxDiff = Math.max(maxDiff, Math.abs(got[i]! - whole[i]!));
      expect(maxDiff).toBe(0);
      // Output comes while the input does, not all at the end.
      expect(parts.slice(0, -1).some((p) => p.length > 0)).toBe(true);
    });
  }

  it('passes 16 kHz through as it comes', () => {
    const rs = new StreamResampler(16000);
    const x = signal(5000);
    expect(Array.from(rs.push(x))).toEqual(Array.from(x));
    expect(rs.end().length).toBe(0);
  });
});

describe('GrowingAudio', () => {
  it('waits for the seconds asked, and its total is never below what is still to come', async () => {
    const g = new GrowingAudio(10);
    expect(g.total).toBe(60);
    let got = false;
    const wait = g.until(2).then(() => (got = true));
    g.push(new Float32Array(16000));
    await delay(0);
    expect(got).toBe(false);
    expect(g.total).toBeGreaterThanOrEqual(61);
    g.push(new Float32Array(16000));
    await wait;
    expect(got).toBe(true);
    expect(g.samples.length).toBe(32000);
    // A file longer than its container said: the buffer grows.
    for (let k = 0; k < 12; k++) g.push(new Float32Array(16000).fill(k));
    expect(g.samples[13 * 16000]).toBe(11);
    expect(g.complete).toBe(false);
    g.end();
    expect(g.complete).toBe(true);
    expect(g.total).toBe(14);
    await expect(g.until(100)).resolves.toBeUndefined();
  });

  it('hands a decoding failure and a cancel to whoever waits', async () => {
    const g = new GrowingAudio(null);
    const ac = new AbortController();
    const cancelled = g.until(5, ac.signal);
    const failed = g.until(5);
    ac.abort();
    await expect(cancelled).rejects.toBeInstanceOf(CancelledError);
    g.fail(new DecodeError('The audio could not be decoded: broken frame.'));
    await expect(failed).rejects.toThrow(/broken frame/);
    await expect(g.until(1)).rejects.toBeInstanceOf(DecodeError);
    const empty = new GrowingAudio(3);
    const w = empty.whole();
    empty.end();
    await expect(w).rejects.toThrow(/holds no audio samples/);
  });
});

const MP3 = `${SHARED_AUDIO}/demo_speaker0.mp3`;
const HAVE_MP3 = existsSync(MP3);

describe.skipIf(!HAVE_MP3)("ffmpeg's streamed decode", () => {
  it('gives the samples of a whole decode, in blocks, after saying the rate and channels', async () => {
    const tc = new Transcoder(new NodeCoreProvider());
    const bytes = new Uint8Array(readFileSync(MP3));
    const whole = await tc.decode(bytes, { mono: true });
    const events: string[] = [];
    const blocks: Float32Array[] = [];
    const frames = await tc.decodeStream(
      bytes,
      { mono: true },
      {
        onStart: (f) => events.push(`start ${f.sampleRate} ${f.channels} ${Math.round(f.duration ?? 0)}`),
        onSamples: (x) => {
          events.push('samples');
          blocks.push(x);
        },
      },
    );
    expect(events[0]).toBe(`start ${whole.sampleRate} 1 19`);
    expect(blocks.length).toBeGreaterThan(5);
    const got = concat(blocks);
    expect(frames).toBe(whole.samples.length);
    expect(got.length).toBe(whole.samples.length);
    expect(got.every((v, i) => v === whole.samples[i])).toBe(true);
    // The same core runs the next command as usual.
    const again = await tc.decode(bytes, { mono: true });
    expect(again.samples.length).toBe(whole.samples.length);
  });

  it('rejects a file that is not audio before any samples, with the decoder error', async () => {
    const tc = new Transcoder(new NodeCoreProvider());
    const junk = new TextEncoder().encode('this is not audio at all '.repeat(200));
    let started = false;
    await expect(
      openAsrAudio(
        junk,
        transcoderStreamDecoder(() => tc),
        {},
      ).then(() => (started = true)),
    ).rejects.toMatchObject({ name: expect.stringMatching(/DecodeError|UnsupportedFormatError/) });
    expect(started).toBe(false);
  });

  it('opens an mp3 as 16 kHz audio equal to the whole-file route', async () => {
    const tc = new Transcoder(new NodeCoreProvider());
    const bytes = new Uint8Array(readFileSync(MP3));
    const { audio, sourceRate, decoder } = await openAsrAudio(
      bytes,
      transcoderStreamDecoder(() => tc),
    );
    const whole = await tc.decode(bytes, { mono: true });
    const expected = await resampleBlocks(whole.samples, whole.sampleRate, 16000);
    const got = await audio.whole();
    expect({ sourceRate, decoder }).toEqual({ sourceRate: whole.sampleRate, decoder: 'ffmpeg' });
    expect(got.length).toBe(expected.length);
    expect(got.every((v, i) => v === expected[i])).toBe(true);
    expect(audio.total).toBeCloseTo(expected.length / 16000, 6);
  });
});

describe('openAsrAudio on WAV', () => {
  it('resolves before a long 44.1 kHz file is resampled, then gives resampleBlocks of it', async () => {
    const x = signal(44100 * 120);
    const bytes = encodeWav(x, 44100, 'f32');
    const decode: AsrStreamDecoder = () => Promise.reject(new Error('WAV never reaches ffmpeg'));
    const { audio, decoder } = await openAsrAudio(bytes, decode);
    expect(decoder).toBe('wav');
    expect(audio.complete).toBe(false);
    expect(audio.total).toBeCloseTo(120, 3);
    const got = await audio.whole();
    const expected = await resampleBlocks(x, 44100, 16000);
    expect(got.length).toBe(expected.length);
    expect(got.every((v, i) => v === expected[i])).toBe(true);
  });
});

describe('workerStreamDecoder', () => {
  function fakeWorkers(behaviour: (call: number) => 'ok' | 'hang') {
    const log: string[] = [];
    let spawned = 0;
    let calls = 0;
    const spawn = (): DecodeWorkerHandle => {
      const id = ++spawned;
      log.push(`spawn ${id}`);
      return {
        decode: async (_bytes, onStart, onBlock) => {
          log.push(`decode ${id}`);
          if (behaviour(++calls) === 'hang') return new Promise<number>(() => undefined);
          onStart({ sampleRate: 16000, channels: 1, sourceChannels: 1, duration: 1 });
          onBlock(new Float32Array(16000));
          return 1;
        },
        terminate: () => log.push(`terminate ${id}`),
      };
    };
    return { log, spawn };
  }
  const hooks = { onStart: () => undefined, onBlock: () => undefined };

  it('keeps the worker for the next file, warmed ahead', async () => {
    const w = fakeWorkers(() => 'ok');
    const d = workerStreamDecoder(w.spawn);
    d.warm();
    await d(new Uint8Array(4), hooks, {});
    await d(new Uint8Array(4), hooks, {});
    expect(w.log).toEqual(['spawn 1', 'decode 1', 'decode 1']);
  });

  it('delivers every block when the last ones (and the start) arrive after the worker has answered', async () => {
    // comlink sends each callback over a channel of its own: the answer can overtake the last blocks, and
    // a block can overtake onStart. The decode ends only once every posted block is in, in order.
    const spawn = (): DecodeWorkerHandle => ({
      decode: async (_bytes, onStart, onBlock) => {
        const later = (ms: number, f: () => void) => setTimeout(f, ms);
        later(30, () => onStart({ sampleRate: 16000, channels: 1, sourceChannels: 1, duration: null }));
        for (let i = 0; i < 4; i++) later(10 + 20 * i, () => onBlock(new Float32Array(100 + i)));
        return 4;
      },
      terminate: () => undefined,
    });
    const got: string[] = [];
    await workerStreamDecoder(spawn)(
      new Uint8Array(4),
      { onStart: () => void got.push('start'), onBlock: (b) => void got.push(String(b.length)) },
      {},
    );
    expect(got).toEqual(['start', '100', '101', '102', '103']);
  });

  it('terminates the worker on cancel at once, and starts a fresh one for the next file', async () => {
    const w = fakeWorkers((n) => (n === 1 ? 'hang' : 'ok'));
    const d = workerStreamDecoder(w.spawn);
    const ac = new AbortController();
    const run = d(new Uint8Array(4), hooks, { signal: ac.signal });
    await delay(10);
    ac.abort();
    await expect(run).rejects.toBeInstanceOf(CancelledError);
    await d(new Uint8Array(4), hooks, {});
    expect(w.log).toEqual(['spawn 1', 'decode 1', 'terminate 1', 'spawn 2', 'decode 2']);
  });
});

describe('withFallback', () => {
  const start = { sampleRate: 16000, channels: 1, sourceChannels: 1, duration: 1 };
  const fallback =
    (log: string[]): AsrStreamDecoder =>
    async (_b, hooks) => {
      log.push('fallback');
      hooks.onStart(start);
      hooks.onBlock(new Float32Array(16000));
    };

  it('decodes in this thread when the worker cannot run, then for every later file', async () => {
    const log: string[] = [];
    const worker: AsrStreamDecoder = async () => {
      log.push('worker');
      throw new DecodeWorkerError('The decode worker failed (it did not start).');
    };
    const d = withFallback(worker, fallback(log));
    const blocks: number[] = [];
    const hooks = { onStart: () => undefined, onBlock: (b: Float32Array) => void blocks.push(b.length) };
    await d(new Uint8Array(4), hooks, {});
    await d(new Uint8Array(4), hooks, {});
    expect(log).toEqual(['worker', 'fallback', 'fallback']);
    expect(blocks).toEqual([16000, 16000]);
  });

  it('does not hide what is wrong with the file, nor decode twice once samples have come', async () => {
    const log: string[] = [];
    const badFile: AsrStreamDecoder = async () => {
      throw new DecodeError('The audio could not be read: invalid data.');
    };
    const hooks = { onStart: () => undefined, onBlock: () => undefined };
    await expect(withFallback(badFile, fallback(log))(new Uint8Array(4), hooks, {})).rejects.toBeInstanceOf(
      DecodeError,
    );
    const diesLater: AsrStreamDecoder = async (_b, h) => {
      h.onStart(start);
      throw new DecodeWorkerError('The decode worker failed (crashed).');
    };
    await expect(withFallback(diesLater, fallback(log))(new Uint8Array(4), hooks, {})).rejects.toBeInstanceOf(
      DecodeWorkerError,
    );
    expect(log).toEqual([]);
  });

  it('a worker that cannot be constructed is a DecodeWorkerError', async () => {
    const d = workerStreamDecoder(() => {
      throw new Error('Worker is not defined');
    });
    d.warm();
    await expect(
      d(new Uint8Array(4), { onStart: () => undefined, onBlock: () => undefined }, {}),
    ).rejects.toThrow(/could not be started \(Worker is not defined\)/);
  });
});

describe.skipIf(!HAVE_TINY || !HAVE_KOKORO || !existsSync(`${MODELS}/silero-vad-v5`))(
  'a transcription over audio still decoding',
  () => {
    it('gives the transcript of the whole file, its first text before the decoding ends', async () => {
      // ~40 s of known sentences with pauses (two windows or more), at 16 kHz.
      const parts: Float32Array[] = [silence(0.6, 16000)];
      for (const e of [...ENGLISH, ...ENGLISH].slice(0, 8)) {
        const a = await kokoroSpeech(e.text, e.voice);
        parts.push(resample(a.samples, a.sampleRate, 16000), silence(0.9, 16000));
      }
      const x = concat(parts);
      const deps = cacheDeps(['whisper-tiny-q8', 'silero-vad-v5']);
      const whole = await runAsrTranscribe({ audio: encodeWav(x, 16000, 'f32') }, {}, deps);

      // A decoder that hands the audio on in 4 s blocks, 0.7 s apart (a slow decode of a long file).
      let decoderDone = -1;
      let firstText = -1;
      const t0 = performance.now();
      const slow: AsrStreamDecoder = async (_bytes, hooks) => {
        hooks.onStart({ sampleRate: 16000, channels: 1, sourceChannels: 1, duration: x.length / 16000 });
        for (let at = 0; at < x.length; at += 64000) {
          await delay(700);
          hooks.onBlock(x.slice(at, Math.min(x.length, at + 64000)));
        }
        decoderDone = performance.now() - t0;
      };
      const progress: Progress[] = [];
      const streamed: AsrTranscribeResult = await runAsrTranscribe(
        { audio: new Uint8Array([0x49, 0x44, 0x33, 0x04, 0, 0, 0, 0, 0, 0, 0, 0]) },
        {
          onProgress: (p) => {
            progress.push(p);
            if (p.stage === 'segment' && firstText < 0) firstText = performance.now() - t0;
          },
        },
        { ...deps, streamDecoder: slow },
      );
      expect(streamed.text).toBe(whole.text);
      expect(streamed.segments.map((s) => [s.start, s.end, s.text])).toEqual(
        whole.segments.map((s) => [s.start, s.end, s.text]),
      );
      expect(streamed.duration).toBeCloseTo(x.length / 16000, 2);
      expect(firstText).toBeGreaterThan(0);
      expect(firstText).toBeLessThan(decoderDone);
      // Progress never runs past the audio known at the time.
      expect(progress.every((p) => p.stage !== 'segment' || p.done <= p.total)).toBe(true);
    }, 120_000);

    it('a cancel reaches the decoder too (its worker would otherwise decode on for nobody)', async () => {
      const deps = cacheDeps(['whisper-tiny-q8', 'silero-vad-v5']);
      let decoderSawAbort = false;
      const endless: AsrStreamDecoder = async (_bytes, hooks, opts) => {
        hooks.onStart({ sampleRate: 16000, channels: 1, sourceChannels: 1, duration: 3600 });
        hooks.onBlock(silence(8, 16000));
        await new Promise<void>((_, reject) =>
          opts.signal?.addEventListener('abort', () => {
            decoderSawAbort = true;
            reject(new CancelledError());
          }),
        );
      };
      const ac = new AbortController();
      setTimeout(() => ac.abort(), 300);
      await expect(
        runAsrTranscribe(
          { audio: new Uint8Array([0x49, 0x44, 0x33, 0x04, 0, 0, 0, 0]) },
          { signal: ac.signal },
          { ...deps, streamDecoder: endless },
        ),
      ).rejects.toBeInstanceOf(CancelledError);
      expect(decoderSawAbort).toBe(true);
    }, 60_000);

    it('fails with the decoder error when the file breaks off mid-way, and stops waiting', async () => {
      const deps = cacheDeps(['whisper-tiny-q8', 'silero-vad-v5']);
      const broken: AsrStreamDecoder = async (_bytes, hooks) => {
        hooks.onStart({ sampleRate: 16000, channels: 1, sourceChannels: 1, duration: 600 });
        hooks.onBlock(silence(8, 16000));
        await delay(50);
        throw new DecodeError('The audio could not be decoded: invalid frame at 8 s.');
      };
      await expect(
        runAsrTranscribe(
          { audio: new Uint8Array([0x49, 0x44, 0x33, 0x04, 0, 0, 0, 0]) },
          {},
          { ...deps, streamDecoder: broken },
        ),
      ).rejects.toThrow(/invalid frame at 8 s/);
    }, 60_000);
  },
);
