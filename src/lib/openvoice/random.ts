// A converter's full state dict with seeded random weights, laid out exactly as a real checkpoint
// (same names, weight_g/weight_v for weight-normalised layers): for benchmarks at the released size and
// for tests at sizes other than the fixtures'. The numbers are meaningless; the shapes and costs are real.
import { seededFloats } from '../core/random';
import type { CheckpointTensor } from './checkpoint';
import { parseConfig, type OpenVoiceConfig } from './config';
import { buildOpenVoiceGraphs } from './graphs';

/** Architecture constants hard-coded in upstream's SynthesizerTrn / ReferenceEncoder (not in config.json). */
export const UPSTREAM_ARCH = {
  wnKernel: 5,
  encLayers: 16,
  flowLayers: 4,
  flows: 4,
  refFilters: [32, 32, 64, 64, 128, 128],
  gruHidden: 128,
  decPreKernel: 7,
  decPostKernel: 7,
} as const;

/** The released v2 converter's config.json (myshell-ai/OpenVoiceV2 converter/config.json, model part). */
export const RELEASED_V2_CONFIG = {
  _version_: 'v2',
  data: { sampling_rate: 22050, filter_length: 1024, hop_length: 256, win_length: 1024, n_speakers: 0 },
  model: {
    zero_g: true,
    inter_channels: 192,
    hidden_channels: 192,
    filter_channels: 768,
    n_heads: 2,
    n_layers: 6,
    kernel_size: 3,
    p_dropout: 0.1,
    resblock: '1',
    resblock_kernel_sizes: [3, 7, 11],
    resblock_dilation_sizes: [
      [1, 3, 5],
      [1, 3, 5],
      [1, 3, 5],
    ],
    upsample_rates: [8, 8, 2, 2],
    upsample_initial_channel: 512,
    upsample_kernel_sizes: [16, 16, 4, 4],
    gin_channels: 256,
  },
} as const;

export function randomConverterTensors(cfg: OpenVoiceConfig, seed = 1): Map<string, CheckpointTensor> {
  const out = new Map<string, CheckpointTensor>();
  let s = seed;
  const put = (name: string, shape: number[], scale: number) => {
    const n = shape.reduce((a, d) => a * d, 1);
    out.set(name, { shape, data: seededFloats(n, s++, scale) });
  };
  /** PyTorch's default init bound 1/sqrt(fan_in), so activations stay in range through deep stacks. */
  const conv = (
    prefix: string,
    shape: number[],
    opts: { norm?: boolean; bias?: boolean; transpose?: boolean } = {},
  ) => {
    const fanIn = shape[1]! * shape.slice(2).reduce((a, d) => a * d, 1);
    const bound = 1 / Math.sqrt(fanIn);
    if (opts.norm) {
      put(`${prefix}.weight_v`, shape, bound);
      // g = ‖v‖ per slice, so the folded weight equals v.
      const v = out.get(`${prefix}.weight_v`)!.data;
      const per = v.length / shape[0]!;
      const g = new Float32Array(shape[0]!);
      for (let o = 0; o < shape[0]!; o++) {
        let ss = 0;
        for (let i = 0; i < per; i++) ss += v[o * per + i]! ** 2;
        g[o] = Math.sqrt(ss);
      }
      out.set(`${prefix}.weight_g`, { shape: [shape[0]!, ...shape.slice(1).map(() => 1)], data: g });
    } else put(`${prefix}.weight`, shape, bound);
    if (opts.bias !== false) put(`${prefix}.bias`, [opts.transpose ? shape[1]! : shape[0]!], bound);
  };
  const wn = (prefix: string, hidden: number, layers: number) => {
    conv(`${prefix}.cond_layer`, [2 * hidden * layers, cfg.ginChannels, 1], { norm: true });
    for (let i = 0; i < layers; i++) {
      conv(`${prefix}.in_layers.${i}`, [2 * hidden, hidden, UPSTREAM_ARCH.wnKernel], { norm: true });
      conv(`${prefix}.res_skip_layers.${i}`, [i < layers - 1 ? 2 * hidden : hidden, hidden, 1], {
        norm: true,
      });
    }
  };
  const { specChannels: spec, interChannels: inter, hiddenChannels: hidden } = cfg;

  let ch = cfg.upsampleInitialChannel;
  conv('dec.conv_pre', [ch, inter, UPSTREAM_ARCH.decPreKernel]);
  cfg.upsampleRates.forEach((_, i) => {
    conv(`dec.ups.${i}`, [ch, ch / 2, cfg.upsampleKernelSizes[i]!], { norm: true, transpose: true });
    ch /= 2;
    cfg.resblockKernelSizes.forEach((k, j) => {
      const n = i * cfg.resblockKernelSizes.length + j;
      cfg.resblockDilationSizes[j]!.forEach((_d, c) => {
        conv(`dec.resblocks.${n}.convs1.${c}`, [ch, ch, k], { norm: true });
        conv(`dec.resblocks.${n}.convs2.${c}`, [ch, ch, k], { norm: true });
      });
    });
  });
  conv('dec.conv_post', [1, ch, UPSTREAM_ARCH.decPostKernel], { bias: false });
  conv('dec.cond', [cfg.upsampleInitialChannel, cfg.ginChannels, 1]);

  conv('enc_q.pre', [hidden, spec, 1]);
  wn('enc_q.enc', hidden, UPSTREAM_ARCH.encLayers);
  conv('enc_q.proj', [2 * inter, hidden, 1]);
  // logs = 0 keeps exp(logs) moderate whatever the input: the proj's log-std half starts at zero.
  const proj = out.get('enc_q.proj.weight')!;
  proj.data.fill(0, (proj.data.length / 2) | 0);
  out.get('enc_q.proj.bias')!.data.fill(0, inter);

  for (let f = 0; f < UPSTREAM_ARCH.flows; f++) {
    const prefix = `flow.flows.${2 * f}`;
    conv(`${prefix}.pre`, [hidden, inter / 2, 1]);
    wn(`${prefix}.enc`, hidden, UPSTREAM_ARCH.flowLayers);
    conv(`${prefix}.post`, [inter / 2, hidden, 1]);
  }

  let inC = 1;
  let freq = spec;
  UPSTREAM_ARCH.refFilters.forEach((outC, i) => {
    conv(`ref_enc.convs.${i}`, [outC, inC, 3, 3], { norm: true });
    inC = outC;
    freq = Math.floor((freq - 1) / 2) + 1;
  });
  const h = UPSTREAM_ARCH.gruHidden;
  const gb = 1 / Math.sqrt(h);
  put('ref_enc.gru.weight_ih_l0', [3 * h, inC * freq], gb);
  put('ref_enc.gru.weight_hh_l0', [3 * h, h], gb);
  put('ref_enc.gru.bias_ih_l0', [3 * h], gb);
  put('ref_enc.gru.bias_hh_l0', [3 * h], gb);
  conv('ref_enc.proj', [cfg.ginChannels, h]);
  out.set('ref_enc.layernorm.weight', { shape: [spec], data: new Float32Array(spec).fill(1) });
  out.set('ref_enc.layernorm.bias', { shape: [spec], data: new Float32Array(spec) });
  return out;
}

/**
 * Both graphs of a converter with random weights, at the released v2 size unless another config is given
 * (for `npm run bench:convert`: real shapes and costs without the 131 MB download).
 */
export function randomConverterGraphs(
  config: unknown = RELEASED_V2_CONFIG,
  seed = 1,
): { config: OpenVoiceConfig; extractor: Uint8Array; converter: Uint8Array } {
  const cfg = parseConfig(config);
  return { config: cfg, ...buildOpenVoiceGraphs(cfg, randomConverterTensors(cfg, seed)) };
}
