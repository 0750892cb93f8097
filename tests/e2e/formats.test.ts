// Audio formats through the self-hosted ffmpeg.wasm core in the studio's audio worker: a 440 Hz tone
// round-trips through every format (encode → probe → decode), errors are named and readable, a cancel
// stops the worker, both cores work, and the core files come only from our own origin.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { BASE, launch, openStudio } from './browser';
import { FORMATS, type EncodeOptions, type FormatId } from '../../src/lib/codec/formats';

interface Case {
  name: string;
  opts: EncodeOptions;
  /** What ffprobe should say (null: raw PCM, which has no container to probe). */
  codec: string | null;
  decode: { sampleRate: number; mono: boolean };
  /** How much longer than 1 s the decode may be (encoder delay and padding the container does not trim). */
  slack?: number;
}

const CASES: Case[] = [
  { name: 'wav16', opts: { format: 'wav' }, codec: 'pcm_s16le', decode: { sampleRate: 16000, mono: true } },
  {
    name: 'wav float',
    opts: { format: 'wav', sampleFormat: 'f32' },
    codec: 'pcm_f32le',
    decode: { sampleRate: 16000, mono: true },
  },
  { name: 'pcm', opts: { format: 'pcm' }, codec: null, decode: { sampleRate: 24000, mono: true } },
  {
    name: 'mp3 128k 44.1k stereo',
    opts: { format: 'mp3', bitrate: 128, sampleRate: 44100, channels: 2 },
    codec: 'mp3',
    decode: { sampleRate: 44100, mono: false },
  },
  { name: 'opus', opts: { format: 'opus' }, codec: 'opus', decode: { sampleRate: 16000, mono: true } },
  { name: 'ogg', opts: { format: 'ogg' }, codec: 'vorbis', decode: { sampleRate: 16000, mono: true } },
  { name: 'flac', opts: { format: 'flac' }, codec: 'flac', decode: { sampleRate: 16000, mono: true } },
  // ADTS has no field for the encoder delay (1024 samples) nor the end padding: ~67 ms more at 24 kHz.
  {
    name: 'aac',
    opts: { format: 'aac' },
    codec: 'aac',
    decode: { sampleRate: 16000, mono: true },
    slack: 0.07,
  },
  // MP4 trims the delay (edit list) but not the padding of the last frame: 24 ms.
  {
    name: 'm4a',
    opts: { format: 'm4a' },
    codec: 'aac',
    decode: { sampleRate: 16000, mono: true },
    slack: 0.03,
  },
  { name: 'webm', opts: { format: 'webm' }, codec: 'opus', decode: { sampleRate: 16000, mono: true } },
];

interface RoundTrip {
  name: string;
  mime: string;
  extension: string;
  format: string;
  bytes: number;
  encodedRate: number;
  encodedChannels: number;
  probe: { codec: string; sampleRate: number; channels: number; format: string } | null;
  decoded: { sampleRate: number; channels: number; duration: number; dominant: number; rms: number };
  ms: number;
}

let browser: Browser;
let context: BrowserContext;
let page: Page;
const requests: string[] = [];

beforeAll(async () => {
  browser = await launch();
  context = await browser.newContext();
  // Every request of the page, its workers (the audio worker and the core's pthread workers) and the
  // Service Worker.
  context.on('request', (r) => requests.push(r.url()));
  page = await openStudio(context);
  page.on('request', (r) => requests.push(r.url()));
});
afterAll(async () => {
  await browser?.close();
});

/** Runs the round trips in the page: encode a 1 s, 440 Hz tone at 24 kHz, probe it, decode it back. */
function roundTrips(p: Page, cases: Case[]): Promise<{ firstMs: number; results: RoundTrip[] }> {
  return p.evaluate(async (cases) => {
    type Bridge = {
      encode(
        s: Float32Array,
        rate: number,
        o: unknown,
      ): Promise<{
        bytes: Uint8Array;
        mime: string;
        extension: string;
        format: string;
        sampleRate: number;
        channels: number;
      }>;
      probe(b: Uint8Array): Promise<{ codec: string; sampleRate: number; channels: number; format: string }>;
      decode(
        b: Uint8Array,
        o: unknown,
      ): Promise<{ samples: Float32Array; sampleRate: number; channels: number; duration: number }>;
    };
    const formats = (globalThis as unknown as { __timbre: { formats: Bridge } }).__timbre.formats;
    const rate = 24000;
    const tone = new Float32Array(rate);
    for (let i = 0; i < rate; i++) tone[i] = 0.5 * Math.sin((2 * Math.PI * 440 * i) / rate);
    // Goertzel power at one frequency, over the first channel.
    const power = (x: Float32Array, sr: number, f: number) => {
      const k = 2 * Math.cos((2 * Math.PI * f) / sr);
      let s1 = 0;
      let s2 = 0;
      for (let i = 0; i < x.length; i++) {
        const s = x[i]! + k * s1 - s2;
        s2 = s1;
        s1 = s;
      }
      return s1 * s1 + s2 * s2 - k * s1 * s2;
    };
    const dominant = (x: Float32Array, sr: number) => {
      let best = 0;
      let bestP = -1;
      for (let f = 100; f <= 2000; f += 2) {
        const pw = power(x, sr, f);
        if (pw > bestP) [best, bestP] = [f, pw];
      }
      return best;
    };
    const t0 = performance.now();
    await formats.probe(new Uint8Array(0)).catch(() => undefined); // validation only: no core yet
    const results: RoundTrip[] = [];
    let firstMs = 0;
    for (const c of cases) {
      const start = performance.now();
      const enc = await formats.encode(tone, rate, c.opts);
      if (!firstMs) firstMs = performance.now() - t0;
      const probe = c.codec === null ? null : await formats.probe(enc.bytes);
      const dec = await formats.decode(enc.bytes, {
        ...c.decode,
        ...(c.codec === null ? { input: { sampleRate: enc.sampleRate, channels: enc.channels } } : {}),
      });
      const first = new Float32Array(Math.floor(dec.samples.length / dec.channels));
      for (let i = 0; i < first.length; i++) first[i] = dec.samples[i * dec.channels]!;
      let sq = 0;
      for (const v of first) sq += v * v;
      results.push({
        name: c.name,
        mime: enc.mime,
        extension: enc.extension,
        format: enc.format,
        bytes: enc.bytes.byteLength,
        encodedRate: enc.sampleRate,
        encodedChannels: enc.channels,
        probe: probe && {
          codec: probe.codec,
          sampleRate: probe.sampleRate,
          channels: probe.channels,
          format: probe.format,
        },
        decoded: {
          sampleRate: dec.sampleRate,
          channels: dec.channels,
          duration: dec.duration,
          dominant: dominant(first, dec.sampleRate),
          rms: Math.sqrt(sq / first.length),
        },
        ms: Math.round(performance.now() - start),
      });
    }
    return { firstMs: Math.round(firstMs), results };
  }, cases);
}

const info = (p: Page = page) =>
  p.evaluate(() =>
    (
      globalThis as unknown as {
        __timbre: {
          formats: {
            info(): Promise<{ variant: string | null; fallbackReason: string | null; isolated: boolean }>;
          };
        };
      }
    ).__timbre.formats.info(),
  );

function check(results: RoundTrip[], cases: Case[]) {
  expect(results.map((r) => r.name)).toEqual(cases.map((c) => c.name));
  for (const [i, r] of results.entries()) {
    const c = cases[i]!;
    const label = `${r.name}: ${JSON.stringify(r)}`;
    expect(r.format, label).toBe(c.opts.format);
    expect(r.mime, label).toBe(FORMATS[c.opts.format].mime);
    expect(r.extension, label).toBe(FORMATS[c.opts.format].extension);
    expect(r.bytes, label).toBeGreaterThan(1000);
    expect([r.encodedRate, r.encodedChannels], label).toEqual([
      c.opts.sampleRate ?? 24000,
      c.opts.channels ?? 1,
    ]);
    if (c.codec) {
      expect(r.probe?.codec, label).toBe(c.codec);
      expect(r.probe?.channels, label).toBe(c.opts.channels ?? 1);
      // Opus always decodes at 48 kHz, whatever rate it was given.
      expect(r.probe?.sampleRate, label).toBe(c.codec === 'opus' ? 48000 : (c.opts.sampleRate ?? 24000));
    }
    expect(r.decoded.sampleRate, label).toBe(c.decode.sampleRate);
    expect(r.decoded.channels, label).toBe(c.decode.mono ? 1 : (c.opts.channels ?? 1));
    expect(r.decoded.duration, label).toBeGreaterThanOrEqual(0.999);
    expect(r.decoded.duration, label).toBeLessThanOrEqual(1 + (c.slack ?? 0.005));
    expect(Math.abs(r.decoded.dominant - 440), label).toBeLessThanOrEqual(2);
    expect(r.decoded.rms, label).toBeGreaterThan(0.3); // the tone's is 0.5 / √2 = 0.354
  }
}

describe('audio formats through ffmpeg.wasm', () => {
  it('round-trips a 440 Hz tone through every format on the multi-threaded core', async () => {
    const { firstMs, results } = await roundTrips(page, CASES);
    console.log(
      `[formats] mt core: first encode (load included) ${firstMs} ms; per format (encode+probe+decode): ` +
        results.map((r) => `${r.name} ${r.ms} ms ${r.bytes} B`).join(', '),
    );
    check(results, CASES);
    const i = await info();
    expect(i).toMatchObject({ variant: 'mt', fallbackReason: null, isolated: true });
  });

  it('serves each format with its Content-Type', async () => {
    const table: Record<FormatId, string> = {
      wav: 'audio/wav',
      pcm: 'application/octet-stream',
      mp3: 'audio/mpeg',
      opus: 'audio/ogg; codecs=opus',
      ogg: 'audio/ogg',
      flac: 'audio/flac',
      aac: 'audio/aac',
      m4a: 'audio/mp4',
      webm: 'audio/webm',
    };
    for (const [id, mime] of Object.entries(table)) expect(FORMATS[id as FormatId].mime).toBe(mime);
    // What the browser itself makes of our output, by Content-Type.
    const playable = await page.evaluate(
      (mimes) => {
        const a = document.createElement('audio');
        return mimes.map((m) => a.canPlayType(m));
      },
      Object.values(table).filter((m) => m !== 'application/octet-stream'),
    );
    expect(playable.every((v) => v === 'probably' || v === 'maybe')).toBe(true);
  });

  it('names undecodable input, with a readable message', async () => {
    const e = await page.evaluate(async () => {
      const formats = (
        globalThis as unknown as {
          __timbre: { formats: { decode(b: Uint8Array, o: unknown): Promise<unknown> } };
        }
      ).__timbre.formats;
      const junk = new Uint8Array(4096);
      for (let i = 0; i < junk.length; i++) junk[i] = (i * 7919 + 13) & 255;
      try {
        await formats.decode(junk, { sampleRate: 16000 });
        return null;
      } catch (x) {
        return { name: (x as Error).name, message: (x as Error).message, isError: x instanceof Error };
      }
    });
    expect(e).toEqual({
      name: 'DecodeError',
      message: 'The audio could not be read: Invalid data found when processing input',
      isError: true,
    });
  });

  it('cancels a running job by stopping the worker, and the next job runs', async () => {
    const r = await page.evaluate(async () => {
      type Bridge = {
        starts: number;
        encode(
          s: Float32Array,
          r: number,
          o: unknown,
          run?: { signal?: AbortSignal },
        ): Promise<{ bytes: Uint8Array }>;
      };
      const formats = (globalThis as unknown as { __timbre: { formats: Bridge } }).__timbre.formats;
      const long = new Float32Array(24000 * 120).map((_, i) => Math.sin(i / 10) * 0.3);
      const ac = new AbortController();
      const starts = formats.starts;
      const t0 = performance.now();
      const job = formats.encode(long, 24000, { format: 'mp3' }, { signal: ac.signal });
      setTimeout(() => ac.abort(), 300);
      let name = 'resolved';
      try {
        await job;
      } catch (e) {
        name = (e as Error).name;
      }
      const cancelMs = performance.now() - t0;
      const next = await formats.encode(new Float32Array(2400), 24000, { format: 'flac' });
      return { name, cancelMs, restarted: formats.starts - starts, next: next.bytes.byteLength };
    });
    expect(r.name).toBe('CancelledError');
    expect(r.cancelMs).toBeLessThan(2000);
    expect(r.restarted).toBe(1);
    expect(r.next).toBeGreaterThan(100);
  });

  it('works on the single-thread core too (the one precached for offline use)', async () => {
    await page.evaluate(() =>
      (
        globalThis as unknown as { __timbre: { formats: { useCore(c: string): void } } }
      ).__timbre.formats.useCore('st'),
    );
    const cases = CASES.filter((c) => ['mp3 128k 44.1k stereo', 'opus', 'm4a'].includes(c.name));
    const { firstMs, results } = await roundTrips(page, cases);
    console.log(
      `[formats] st core: first encode (load included) ${firstMs} ms; ` +
        results.map((r) => `${r.name} ${r.ms} ms`).join(', '),
    );
    check(results, cases);
    expect((await info()).variant).toBe('st');
    await page.evaluate(() =>
      (
        globalThis as unknown as { __timbre: { formats: { useCore(c: string): void } } }
      ).__timbre.formats.useCore('auto'),
    );
  });

  it('reports progress through the bridge: loading, then seconds of audio encoded', async () => {
    const seen = await page.evaluate(async () => {
      type P = { stage: string; done: number; total: number };
      type Bridge = {
        useCore(c: string): void;
        encode(
          s: Float32Array,
          r: number,
          o: unknown,
          run?: { onProgress?: (p: P) => void },
        ): Promise<unknown>;
      };
      const formats = (globalThis as unknown as { __timbre: { formats: Bridge } }).__timbre.formats;
      formats.useCore('st'); // a fresh worker, so the load shows too
      const seen: P[] = [];
      const tone = new Float32Array(24000 * 5).map((_, i) => 0.3 * Math.sin(i / 5));
      await formats.encode(tone, 24000, { format: 'mp3' }, { onProgress: (p) => seen.push(p) });
      formats.useCore('auto');
      return seen;
    });
    expect(seen[0]).toMatchObject({ stage: 'load' });
    const enc = seen.filter((p) => p.stage === 'encode');
    expect(enc.length).toBeGreaterThanOrEqual(2);
    expect(enc.every((p) => p.total === 5)).toBe(true);
    expect(enc.at(-1)!.done).toBe(5);
  });

  it('precaches the single-thread core only', async () => {
    const cached = await page.evaluate(async () => {
      const urls: string[] = [];
      for (const name of await caches.keys())
        for (const req of await (await caches.open(name)).keys()) urls.push(new URL(req.url).pathname);
      return urls;
    });
    expect(cached).toContain('/ffmpeg/ffmpeg-core.wasm');
    expect(cached).toContain('/ffmpeg/ffmpeg-core.js');
    expect(cached.filter((u) => u.startsWith('/ffmpeg-mt/'))).toEqual([]);
  });

  it('falls back to the precached single-thread core when offline', async () => {
    const ctx = await browser.newContext();
    ctx.on('request', (r) => requests.push(r.url()));
    try {
      const p = await openStudio(ctx);
      // The Service Worker has precached the app shell and /ffmpeg/; /ffmpeg-mt/ was never fetched here.
      await p.waitForFunction(
        async () => {
          for (const name of await caches.keys())
            if (await (await caches.open(name)).match('/ffmpeg/ffmpeg-core.wasm', { ignoreSearch: true }))
              return true;
          return false;
        },
        null,
        { timeout: 30_000 },
      );
      await ctx.setOffline(true);
      const cases = CASES.filter((c) => c.name === 'ogg');
      const { results } = await roundTrips(p, cases);
      check(results, cases);
      const i = await info(p);
      expect(i.variant).toBe('st');
      expect(i.fallbackReason).toMatch(/^mt: /);
    } finally {
      await ctx.close();
    }
  });

  it('loaded the ffmpeg cores from our own origin only', () => {
    const origin = new URL(BASE).origin;
    const http = requests.filter((u) => /^https?:/.test(u));
    expect(http.filter((u) => new URL(u).origin !== origin)).toEqual([]);
    const paths = new Set(http.map((u) => new URL(u).pathname));
    for (const p of [
      '/ffmpeg-mt/ffmpeg-core.js',
      '/ffmpeg-mt/ffmpeg-core.wasm',
      '/ffmpeg-mt/ffmpeg-core.worker.js',
      '/ffmpeg/ffmpeg-core.js',
      '/ffmpeg/ffmpeg-core.wasm',
    ])
      expect(paths).toContain(p);
    // No other copy of a core anywhere (bundled into assets/, or from a CDN).
    expect([...paths].filter((p) => /ffmpeg-core/.test(p) && !/^\/ffmpeg(-mt)?\//.test(p))).toEqual([]);
  });
});
