// Chunked conversion on the tiny fixture converter (onnxruntime-web WASM in Node): a 60 s source
// converted in chunks matches one whole-file conversion and shows no step at any join, and the same seed
// gives the same audio.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import * as ort from 'onnxruntime-web';
import { graphsFromCheckpoint, OpenVoiceConverter } from '../../src/lib/openvoice';
import { decodeWav } from '../../src/lib/dsp/wav';
import { convertChunked, planCuts } from '../../src/lib/clone/chunks';
import { seededNormals } from '../../src/lib/core/random';

const dir = join(import.meta.dirname, '..', 'fixtures', 'openvoice-v2-tiny');
const read = async (n: string) => new Uint8Array(await readFile(join(dir, n)));

let model: OpenVoiceConverter;
let source: Float32Array;
let srcSe: Float32Array;
let tgtSe: Float32Array;
const HOP = 256;
const SR = 22050;

beforeAll(async () => {
  const graphs = await graphsFromCheckpoint(
    new TextDecoder().decode(await read('config.json')),
    await read('checkpoint.pth'),
  );
  model = await OpenVoiceConverter.create(ort, graphs);
  const one = decodeWav(await read('source.wav')).samples;
  // 60 s: the clip looped, with a short pause between repeats as in real speech.
  const gap = Math.round(0.15 * SR);
  source = new Float32Array(60 * SR);
  for (let o = 0; o < source.length; o += one.length + gap)
    source.set(one.subarray(0, Math.min(one.length, source.length - o)), o);
  srcSe = await model.embed(model.spectrogram(one));
  tgtSe = await model.embed(model.spectrogram(decodeWav(await read('reference.wav')).samples));
}, 120_000);

const channels = () => model.config.interChannels;
let whole60: Promise<Float32Array> | null = null;
/** One conversion of the whole 60 s (seed 7), shared by the tests that compare against it. */
const wholeFile = () =>
  (whole60 ??= model.convert(
    model.spectrogram(source),
    seededNormals(channels() * Math.floor(source.length / HOP), 7),
    srcSe,
    tgtSe,
    0.3,
  ));
const conv = (span: Float32Array, noise: Float32Array) =>
  model.convert(model.spectrogram(span), noise, srcSe, tgtSe, 0.3);

function diffs(y: Float32Array, a: number, b: number): number {
  let m = 0;
  for (let t = Math.max(1, a); t < Math.min(y.length, b); t++) m = Math.max(m, Math.abs(y[t]! - y[t - 1]!));
  return m;
}

function percentile(y: Float32Array, q: number): number {
  const d = new Float32Array(y.length - 1);
  for (let t = 1; t < y.length; t++) d[t - 1] = Math.abs(y[t]! - y[t - 1]!);
  d.sort();
  return d[Math.floor(q * (d.length - 1))]!;
}

describe('chunked conversion of 60 s', () => {
  it('cuts fall on hop multiples, in pauses, about 10 s apart', () => {
    const cuts = planCuts(source, { hop: HOP, sampleRate: SR });
    expect(cuts[0]).toBe(0);
    expect(cuts.at(-1)).toBe(source.length);
    expect(cuts.length).toBeGreaterThanOrEqual(6);
    for (const c of cuts.slice(1, -1)) {
      expect(c % HOP).toBe(0);
      // In the inserted pause or a quiet stretch: the 20 ms around the cut is far below the clip's RMS.
      let e = 0;
      for (let i = c - 220; i < c + 220; i++) e += source[i]! ** 2;
      let all = 0;
      for (const v of source) all += v * v;
      expect(Math.sqrt(e / 440)).toBeLessThan(0.25 * Math.sqrt(all / source.length));
    }
  });

  it('streams chunks in order, matches the whole-file conversion, and has no seam at the joins', async () => {
    const whole = await wholeFile();
    const got: { offset: number; samples: Float32Array }[] = [];
    const r = await convertChunked(source, conv, {
      hop: HOP,
      sampleRate: SR,
      channels: channels(),
      seed: 7,
      onChunk: (c) => got.push(c),
    });
    expect(r.samples.length).toBe(whole.length);
    expect(r.chunks).toBeGreaterThanOrEqual(6);
    // The streamed pieces tile the output in order and carry its samples.
    let at = 0;
    for (const c of got) {
      expect(c.offset).toBe(at);
      expect(Array.from(c.samples.subarray(0, 50))).toEqual(Array.from(r.samples.subarray(at, at + 50)));
      at += c.samples.length;
    }
    expect(at).toBe(whole.length);
    expect(got[0]!.samples.length / SR).toBeLessThan(6);
    let rms = 0;
    for (const v of whole) rms += v * v;
    rms = Math.sqrt(rms / whole.length);
    expect(rms).toBeGreaterThan(1e-3);
    // Chunked vs whole: close everywhere, joins included (relative to the signal's RMS).
    let maxDev = 0;
    for (let t = 0; t < whole.length; t++) maxDev = Math.max(maxDev, Math.abs(r.samples[t]! - whole[t]!));
    expect(maxDev / rms).toBeLessThan(1e-3);
    // No step at any join: the largest sample-to-sample difference near a cut is within the signal's
    // typical large difference (its 99.9th percentile).
    const typical = percentile(whole, 0.999);
    for (const c of r.cuts.slice(1, -1))
      expect(diffs(r.samples, c - 200, c + 200)).toBeLessThanOrEqual(typical);
    console.log(JSON.stringify({ chunks: r.chunks, max_dev_over_rms: maxDev / rms, typical_step: typical }));
  }, 300_000);

  it('without context and crossfade the joins deviate (so the check above can fail)', async () => {
    const whole = await wholeFile();
    const r = await convertChunked(source, conv, {
      hop: HOP,
      sampleRate: SR,
      channels: channels(),
      seed: 7,
      contextSeconds: 0,
      crossfadeSeconds: 0,
    });
    let rms = 0;
    for (const v of whole) rms += v * v;
    rms = Math.sqrt(rms / whole.length);
    let maxDev = 0;
    for (let t = 0; t < whole.length; t++) maxDev = Math.max(maxDev, Math.abs(r.samples[t]! - whole[t]!));
    expect(maxDev / rms).toBeGreaterThan(0.2);
  }, 300_000);

  it('the same seed gives the same audio, another seed other audio', async () => {
    const part = source.subarray(0, 12 * SR);
    const run = (seed: number) =>
      convertChunked(part, conv, { hop: HOP, sampleRate: SR, channels: channels(), seed });
    const [a, b, c] = [await run(3), await run(3), await run(4)];
    expect(Array.from(a.samples)).toEqual(Array.from(b.samples));
    let d = 0;
    for (let t = 0; t < a.samples.length; t++) d = Math.max(d, Math.abs(a.samples[t]! - c.samples[t]!));
    expect(d).toBeGreaterThan(1e-3);
  }, 300_000);
});
