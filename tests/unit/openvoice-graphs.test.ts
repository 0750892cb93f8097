// config.json parsing, weight-norm folding and the ONNX graphs at sizes other than the fixtures' (nothing
// may assume width 48): symbolic lengths, shapes read from the tensors, clear errors when they disagree.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import * as ort from 'onnxruntime-web';
import { readCheckpoint } from '../../src/lib/openvoice/checkpoint';
import { parseConfig } from '../../src/lib/openvoice/config';
import { OpenVoiceConfigError, OpenVoiceWeightsError } from '../../src/lib/openvoice/errors';
import { buildOpenVoiceGraphs } from '../../src/lib/openvoice/graphs';
import { RELEASED_V2_CONFIG, randomConverterTensors } from '../../src/lib/openvoice/random';
import { foldWeightNorm } from '../../src/lib/openvoice/weights';
import { OpenVoiceConverter } from '../../src/lib/openvoice/converter';
import { seededFloats } from '../../src/lib/core/random';
import { rawBytes } from '../../src/lib/runtime/onnx-builder';
import onnxProto from 'onnx-proto';

const fixture = (v: 1 | 2, name: string) =>
  readFileSync(join(import.meta.dirname, '..', 'fixtures', `openvoice-v${v}-tiny`, name));

describe('parseConfig', () => {
  it('reads v1 and v2 fixture configs', () => {
    const v1 = parseConfig(fixture(1, 'config.json').toString());
    const v2 = parseConfig(fixture(2, 'config.json').toString());
    expect(v1).toMatchObject({
      version: 'v1',
      zeroG: false,
      interChannels: 48,
      specChannels: 513,
      hopLength: 256,
    });
    expect(v2).toMatchObject({ version: 'v2', zeroG: true, upsampleInitialChannel: 64, ginChannels: 256 });
    expect(v2.upsampleRates).toEqual([8, 8, 2, 2]);
  });

  it('reads the released v2 config at width 192', () => {
    const c = parseConfig(RELEASED_V2_CONFIG);
    expect(c).toMatchObject({
      interChannels: 192,
      hiddenChannels: 192,
      upsampleInitialChannel: 512,
      zeroG: true,
    });
  });

  it('names what is wrong', () => {
    const base = JSON.parse(fixture(2, 'config.json').toString());
    const bad = (patch: (c: typeof base) => void) => {
      const c = structuredClone(base);
      patch(c);
      return () => parseConfig(c);
    };
    expect(() => parseConfig('{not json')).toThrow(OpenVoiceConfigError);
    expect(bad((c) => (c.model.upsample_rates = [8, 8, 2, 4]))).toThrow(
      /multiply to 512, not hop_length 256/,
    );
    expect(bad((c) => (c.model.resblock = '2'))).toThrow(/resblock "2" is not supported/);
    expect(bad((c) => delete c.model.inter_channels)).toThrow(/model\.inter_channels/);
    expect(bad((c) => (c.data.n_speakers = 10))).toThrow(/n_speakers/);
    expect(bad((c) => (c._version_ = 'v3'))).toThrow(/_version_/);
    expect(bad((c) => (c.model.resblock_dilation_sizes = [[1, 3, 5]]))).toThrow(
      /one list of positive integers per/,
    );
  });
});

describe('foldWeightNorm', () => {
  it('scales each dim-0 slice to norm g', () => {
    const w = foldWeightNorm(
      { shape: [2, 1, 1], data: new Float32Array([10, -1]) },
      { shape: [2, 2, 1], data: new Float32Array([3, 4, 1, 2]) },
    );
    expect([...w.data].map((x) => +x.toFixed(6))).toEqual([6, 8, -0.447214, -0.894427]);
    expect(w.shape).toEqual([2, 2, 1]);
  });

  it('normalises a ConvTranspose1d weight [in, out, k] per input channel', () => {
    // in = 2, out = 3, k = 2: each input channel's 6 values share one norm.
    const v = seededFloats(12, 5);
    const w = foldWeightNorm(
      { shape: [2, 1, 1], data: new Float32Array([2, 3]) },
      { shape: [2, 3, 2], data: v },
    );
    for (const [i, g] of [2, 3].entries()) {
      const slice = w.data.subarray(i * 6, i * 6 + 6);
      expect(Math.hypot(...slice)).toBeCloseTo(g, 5);
    }
  });

  it("gives the fixture's folded layers the norms their weight_g says", async () => {
    const t = await readCheckpoint(new Uint8Array(fixture(2, 'checkpoint.pth')));
    for (const prefix of [
      'dec.ups.1',
      'ref_enc.convs.3',
      'enc_q.enc.in_layers.7',
      'dec.resblocks.11.convs2.2',
    ]) {
      const g = t.get(`${prefix}.weight_g`)!;
      const w = foldWeightNorm(g, t.get(`${prefix}.weight_v`)!);
      const per = w.data.length / g.data.length;
      for (let o = 0; o < g.data.length; o++)
        expect(Math.hypot(...w.data.subarray(o * per, (o + 1) * per))).toBeCloseTo(Math.abs(g.data[o]!), 4);
    }
  });

  it('refuses g and v that do not match', () => {
    expect(() =>
      foldWeightNorm(
        { shape: [3, 1, 1], data: new Float32Array(3) },
        { shape: [2, 2, 1], data: new Float32Array(4) },
      ),
    ).toThrow(OpenVoiceWeightsError);
  });
});

describe('graphs from random weights at other sizes', () => {
  it('has the released size: 486 tensors, 32,792,226 parameters', () => {
    const t = randomConverterTensors(parseConfig(RELEASED_V2_CONFIG));
    expect(t.size).toBe(486);
    expect([...t.values()].reduce((a, x) => a + x.data.length, 0)).toBe(32_792_226);
  });

  it('builds and runs at width 32 with another upsampler layout, any length', async () => {
    const base = JSON.parse(fixture(1, 'config.json').toString());
    Object.assign(base.model, {
      inter_channels: 32,
      hidden_channels: 40,
      upsample_rates: [4, 4, 4, 4],
      upsample_kernel_sizes: [8, 8, 8, 8],
      upsample_initial_channel: 32,
      resblock_kernel_sizes: [3, 5],
      resblock_dilation_sizes: [
        [1, 2],
        [1, 3],
      ],
    });
    const cfg = parseConfig(base);
    const graphs = buildOpenVoiceGraphs(cfg, randomConverterTensors(cfg, 9));
    const model = await OpenVoiceConverter.create(ort, { config: cfg, ...graphs });
    try {
      const se = [] as Float32Array[];
      for (const frames of [1, 40]) {
        const spec = { bins: 513, frames, data: seededFloats(513 * frames, frames, 2).map(Math.abs) };
        const e = await model.embed(spec);
        expect(e).toHaveLength(256);
        expect(e.every(Number.isFinite)).toBe(true);
        se.push(e);
      }
      for (const frames of [5, 17]) {
        const spec = { bins: 513, frames, data: seededFloats(513 * frames, 3, 2).map(Math.abs) };
        const audio = await model.convert(spec, seededFloats(32 * frames, 4), se[0]!, se[1]!, 0.3);
        expect(audio).toHaveLength(frames * 256);
        expect(audio.every((x) => Number.isFinite(x) && Math.abs(x) <= 1)).toBe(true);
        expect(Math.max(...audio.map(Math.abs))).toBeGreaterThan(1e-4);
      }
    } finally {
      await model.release();
    }
  }, 120_000);

  it('runs the upsamplers as polyphase Convs with the output of ConvTranspose, kernels a multiple of the rate or not', async () => {
    const base = JSON.parse(fixture(1, 'config.json').toString());
    Object.assign(base.model, {
      inter_channels: 32,
      hidden_channels: 40,
      // k = 14 with rate 8 (not a multiple, padding 3), k = rate (no overlap), k = 6 with rate 4.
      upsample_rates: [8, 8, 4],
      upsample_kernel_sizes: [14, 8, 6],
      upsample_initial_channel: 32,
      resblock_kernel_sizes: [3],
      resblock_dilation_sizes: [[1, 3]],
    });
    const cfg = parseConfig(base);
    const tensors = randomConverterTensors(cfg, 5);
    const poly = buildOpenVoiceGraphs(cfg, tensors);
    const convT = buildOpenVoiceGraphs(cfg, tensors, { convTranspose: true });
    const ops = (bytes: Uint8Array) =>
      onnxProto.onnx.ModelProto.decode(bytes).graph!.node!.map((n) => n.opType);
    expect(ops(poly.converter)).not.toContain('ConvTranspose');
    expect(ops(convT.converter).filter((o) => o === 'ConvTranspose')).toHaveLength(3);
    const a = await OpenVoiceConverter.create(ort, { config: cfg, ...poly });
    const b = await OpenVoiceConverter.create(ort, { config: cfg, ...convT });
    try {
      for (const frames of [1, 23]) {
        const spec = { bins: 513, frames, data: seededFloats(513 * frames, frames, 2).map(Math.abs) };
        const se = await a.embed(spec);
        const noise = seededFloats(32 * frames, 4);
        const x = await a.convert(
          spec,
          noise,
          se,
          se.map((v) => -v),
          0.3,
        );
        const y = await b.convert(
          spec,
          noise,
          se,
          se.map((v) => -v),
          0.3,
        );
        expect(x).toHaveLength(frames * 256);
        expect(y).toHaveLength(frames * 256);
        let diff = 0;
        for (let i = 0; i < x.length; i++) diff = Math.max(diff, Math.abs(x[i]! - y[i]!));
        expect(diff).toBeLessThan(1e-5);
        expect(Math.max(...x.map(Math.abs))).toBeGreaterThan(1e-3);
      }
    } finally {
      await a.release();
      await b.release();
    }
  }, 120_000);

  it('names the tensor when a checkpoint does not fit its config', async () => {
    const t = await readCheckpoint(new Uint8Array(fixture(2, 'checkpoint.pth')));
    const cfg = JSON.parse(fixture(2, 'config.json').toString());
    cfg.model.inter_channels = 64;
    expect(() => buildOpenVoiceGraphs(parseConfig(cfg), t)).toThrow(
      /"dec\.conv_pre\.weight" has shape \[64, 48, 7\]; the config needs \[64, 64, \*\]/,
    );
    const partial = new Map(t);
    partial.delete('enc_q.proj.bias');
    expect(() => buildOpenVoiceGraphs(parseConfig(fixture(2, 'config.json').toString()), partial)).toThrow(
      /no tensor "enc_q\.proj\.bias"/,
    );
  });
});

describe('rawBytes fast path', () => {
  it('copies typed arrays to the same bytes the per-value path writes', () => {
    const f = seededFloats(33, 2);
    const i64 = BigInt64Array.from([1n, -2n, 1n << 40n]);
    const i8 = Int8Array.from([-128, 5, 127]);
    expect(rawBytes('float32', f)).toEqual(rawBytes('float32', Array.from(f)));
    expect(rawBytes('int64', i64)).toEqual(rawBytes('int64', [1, -2, 2 ** 40]));
    expect(rawBytes('int8', i8)).toEqual(rawBytes('int8', [-128, 5, 127]));
    // A copy, not a view: later changes to the weights do not leak into a built model.
    const bytes = rawBytes('float32', f);
    f[0] = 123;
    expect(new Float32Array(bytes.buffer)[0]).not.toBe(123);
  });
});
