// The OpenVoice tone-colour converter as two ONNX graphs built from config.json and the checkpoint's
// tensors (see docs/models.md, "OpenVoice tone-colour converter"):
//   tone extractor  spec [1, T, bins] → se [1, gin, 1]          (ref_enc)
//   converter       spec [1, bins, T], noise [1, inter, T], src_se, tgt_se [1, gin, 1], tau [1]
//                   → audio [1, 1, T · hop]                     (enc_q → flow → flow⁻¹ → dec)
// Every size comes from the config or the tensors; T is symbolic, so one graph runs any length. The
// noise is an input so a conversion is reproducible from a seed (upstream draws it inside enc_q).
import { GraphBuilder, attr } from '../runtime/onnx-builder';
import type { CheckpointTensor } from './checkpoint';
import type { OpenVoiceConfig } from './config';
import { OpenVoiceWeightsError } from './errors';
import { OpenVoiceWeights } from './weights';

/** HiFi-GAN's slope everywhere but before conv_post, where upstream calls F.leaky_relu's default. */
export const LRELU_SLOPE = 0.1;
export const LAST_SLOPE = 0.01;
/** Hard-coded in upstream's SynthesizerTrn, not in config.json: WaveNet dilation rate 1 everywhere. */
const WN_DILATION_RATE = 1;
/** ref_enc: Conv2d 3×3, stride 2, padding 1 (upstream constants). */
const REF_KERNEL = 3;
const REF_STRIDE = 2;
const REF_PAD = 1;
const LAYERNORM_EPS = 1e-5;

export interface GraphOptions {
  /** Decoder's last leaky-ReLU slope (tests only: shows that parity catches a wrong one). */
  lastSlope?: number;
  /** Upsamplers as ONNX ConvTranspose instead of the equivalent polyphase Conv (tests compare them). */
  convTranspose?: boolean;
}

interface ConvOpts {
  inC: number;
  outC: number;
  dilation?: number;
  stride?: number;
  /** Default: "same" padding dilation · (k − 1) / 2. */
  padding?: number;
}

/** A GraphBuilder with the checkpoint at hand: layers by their state-dict prefix. */
class Net {
  readonly g: GraphBuilder;
  private readonly consts = new Map<string, string>();
  private seq = 0;

  constructor(
    name: string,
    readonly w: OpenVoiceWeights,
  ) {
    this.g = new GraphBuilder(name, 17);
  }

  private tensorInit(name: string, t: CheckpointTensor): string {
    if (!this.consts.has(name)) this.consts.set(name, this.g.init(name, t.data, t.shape));
    return name;
  }

  int64(values: readonly number[]): string {
    const key = `i64:${values.join(',')}`;
    let n = this.consts.get(key);
    if (!n) {
      n = this.g.init(
        `const_${this.seq++}`,
        BigInt64Array.from(values.map((v) => BigInt(v))),
        [values.length],
        'int64',
      );
      this.consts.set(key, n);
    }
    return n;
  }

  scalar(value: number): string {
    const key = `f32:${value}`;
    let n = this.consts.get(key);
    if (!n) {
      n = this.g.init(`const_${this.seq++}`, new Float32Array([value]), [1]);
      this.consts.set(key, n);
    }
    return n;
  }

  op(op: string, inputs: readonly string[], attrs?: Parameters<GraphBuilder['op']>[2]): string {
    return this.g.op(op, inputs, attrs);
  }

  conv1d(x: string, prefix: string, o: ConvOpts, withBias = true): string {
    const w = this.w.weight(prefix, [o.outC, o.inC, -1]);
    const k = w.shape[2]!;
    const d = o.dilation ?? 1;
    const p = o.padding ?? (d * (k - 1)) / 2;
    if (!Number.isInteger(p))
      throw new OpenVoiceWeightsError(`${prefix}: kernel ${k} has no centred padding.`);
    const inputs = [x, this.tensorInit(`${prefix}.weight`, w)];
    if (withBias) {
      const b = this.w.bias(prefix, o.outC);
      if (!b) throw new OpenVoiceWeightsError(`The checkpoint has no tensor "${prefix}.bias".`);
      inputs.push(this.tensorInit(`${prefix}.bias`, b));
    }
    return this.op('Conv', inputs, {
      kernel_shape: attr.ints([k]),
      dilations: attr.ints([d]),
      strides: attr.ints([o.stride ?? 1]),
      pads: attr.ints([p, p]),
    });
  }

  /** ConvTranspose1d(k, stride u, padding (k − u) / 2): T → T · u. Weight [in, out, k] as stored. */
  convT1d(
    x: string,
    prefix: string,
    inC: number,
    outC: number,
    k: number,
    u: number,
    asConvT = false,
  ): string {
    const w = this.w.weight(prefix, [inC, outC, k]);
    const b = this.w.bias(prefix, outC);
    if (!b) throw new OpenVoiceWeightsError(`The checkpoint has no tensor "${prefix}.bias".`);
    const p = (k - u) / 2;
    if (!asConvT) return this.polyphaseUp(x, prefix, w, b, inC, outC, k, u, p);
    return this.op(
      'ConvTranspose',
      [x, this.tensorInit(`${prefix}.weight`, w), this.tensorInit(`${prefix}.bias`, b)],
      {
        kernel_shape: attr.ints([k]),
        strides: attr.ints([u]),
        pads: attr.ints([p, p]),
      },
    );
  }

  /**
   * The same transposed convolution as u interleaved ordinary ones: output sample q·u + r is
   * Σ_t x[q − t] · W[t·u + r] (t < m = ⌈k/u⌉), one Conv of kernel m with outC·u channels over the input,
   * then the phases interleaved (Reshape, Transpose, Reshape) and the padding sliced off. The same
   * multiply-adds, but onnxruntime-web runs Conv at about twice ConvTranspose's speed (its col2im path),
   * and a Conv can be quantized like the others.
   */
  private polyphaseUp(
    x: string,
    prefix: string,
    w: CheckpointTensor,
    b: CheckpointTensor,
    inC: number,
    outC: number,
    k: number,
    u: number,
    p: number,
  ): string {
    const m = Math.ceil(k / u);
    // Weight [outC·u, inC, m]: channel co·u + r, tap τ reads x[q − (m − 1) + τ], i.e. t = m − 1 − τ.
    const v = new Float32Array(outC * u * inC * m);
    for (let co = 0; co < outC; co++)
      for (let r = 0; r < u; r++)
        for (let ci = 0; ci < inC; ci++)
          for (let tau = 0; tau < m; tau++) {
            const kk = (m - 1 - tau) * u + r;
            if (kk < k) v[((co * u + r) * inC + ci) * m + tau] = w.data[(ci * outC + co) * k + kk]!;
          }
    const bias = new Float32Array(outC * u);
    for (let co = 0; co < outC; co++) bias.fill(b.data[co]!, co * u, (co + 1) * u);
    const y = this.op(
      'Conv',
      [
        x,
        this.tensorInit(`${prefix}.phases.weight`, { shape: [outC * u, inC, m], data: v }),
        this.tensorInit(`${prefix}.phases.bias`, { shape: [outC * u], data: bias }),
      ],
      { kernel_shape: attr.ints([m]), pads: attr.ints([m - 1, m - 1]) },
    );
    // [1, outC·u, L + m − 1] → [1, outC, u, Q] → [1, outC, Q, u] → [1, outC, Q·u]
    let z = this.op('Reshape', [y, this.int64([0, outC, u, -1])]);
    z = this.op('Transpose', [z], { perm: attr.ints([0, 1, 3, 2]) });
    z = this.op('Reshape', [z, this.int64([0, outC, -1])]);
    // ConvTranspose's output is the first (L − 1)·u + k samples of the full one, less p at each end.
    const tail = p + (m * u - k);
    return this.op('Slice', [z, this.int64([p]), this.int64([tail > 0 ? -tail : 2 ** 53]), this.int64([2])]);
  }

  split(x: string, axis: number, sizes: readonly number[]): string[] {
    const outs = sizes.map(() => `split_${this.seq++}`);
    this.g.node({
      op: 'Split',
      inputs: [x, this.int64(sizes)],
      outputs: outs,
      attrs: { axis: attr.int(axis) },
    });
    return outs;
  }

  leaky(x: string, slope: number): string {
    return this.op('LeakyRelu', [x], { alpha: attr.float(slope) });
  }

  /** A constant tensor built from data (e.g. a permuted GRU weight). */
  constant(name: string, data: Float32Array, dims: readonly number[]): string {
    return this.tensorInit(name, { shape: [...dims], data });
  }
}

/** Sizes the graphs need, read from the config and checked against the tensors. */
export interface ConverterShape {
  spec: number;
  inter: number;
  hidden: number;
  gin: number;
  encLayers: number;
  encKernel: number;
  flows: number;
  flowLayers: number;
  flowKernel: number;
  decChannels: number;
}

function wnLayers(w: OpenVoiceWeights, prefix: string): number {
  const n = w.count(`${prefix}.in_layers`);
  if (!n) throw new OpenVoiceWeightsError(`The checkpoint has no WaveNet layers under "${prefix}".`);
  return n;
}

export function converterShape(cfg: OpenVoiceConfig, w: OpenVoiceWeights): ConverterShape {
  const spec = cfg.specChannels;
  const inter = cfg.interChannels;
  const hidden = cfg.hiddenChannels;
  const encKernel = w.weight('enc_q.enc.in_layers.0', [2 * hidden, hidden, -1]).shape[2]!;
  // Coupling layers sit at even indices; the flips between them have no weights.
  const flows = w.count('flow.flows', 2);
  if (!flows) throw new OpenVoiceWeightsError('The checkpoint has no flow coupling layers.');
  const flowKernel = w.weight('flow.flows.0.enc.in_layers.0', [2 * hidden, hidden, -1]).shape[2]!;
  const decChannels = w.weight('dec.conv_pre', [cfg.upsampleInitialChannel, inter, -1]).shape[0]!;
  return {
    spec,
    inter,
    hidden,
    gin: cfg.ginChannels,
    encLayers: wnLayers(w, 'enc_q.enc'),
    encKernel,
    flows,
    flowLayers: wnLayers(w, 'flow.flows.0.enc'),
    flowKernel,
    decChannels,
  };
}

/**
 * The WaveNet stack of VITS: per layer tanh(a)·σ(b) of the dilated conv plus its slice of the
 * conditioning, residual and skip 1×1 convs (the last layer skip only); returns the sum of skips.
 */
function waveNet(
  net: Net,
  x: string,
  prefix: string,
  hidden: number,
  layers: number,
  gin: number,
  g: string | null,
): string {
  let cond: string[] | null = null;
  if (g && net.w.has(`${prefix}.cond_layer.bias`)) {
    const c = net.conv1d(g, `${prefix}.cond_layer`, { inC: gin, outC: 2 * hidden * layers });
    cond = net.split(c, 1, new Array<number>(layers).fill(2 * hidden));
  }
  let out: string | null = null;
  for (let i = 0; i < layers; i++) {
    const dilation = WN_DILATION_RATE ** i;
    let xIn = net.conv1d(x, `${prefix}.in_layers.${i}`, { inC: hidden, outC: 2 * hidden, dilation });
    if (cond) xIn = net.op('Add', [xIn, cond[i]!]);
    const [a, b] = net.split(xIn, 1, [hidden, hidden]);
    const acts = net.op('Mul', [net.op('Tanh', [a!]), net.op('Sigmoid', [b!])]);
    const last = i === layers - 1;
    const rs = net.conv1d(acts, `${prefix}.res_skip_layers.${i}`, {
      inC: hidden,
      outC: last ? hidden : 2 * hidden,
    });
    let skip = rs;
    if (!last) {
      const [res, s] = net.split(rs, 1, [hidden, hidden]);
      x = net.op('Add', [x, res!]);
      skip = s!;
    }
    out = out ? net.op('Add', [out, skip]) : skip;
  }
  return out!;
}

/** One mean-only residual coupling layer: x1 ± post(WN(pre(x0))). */
function coupling(
  net: Net,
  x: string,
  s: ConverterShape,
  index: number,
  g: string,
  reverse: boolean,
): string {
  const half = s.inter / 2;
  const prefix = `flow.flows.${index}`;
  const [x0, x1] = net.split(x, 1, [half, half]);
  const h0 = net.conv1d(x0!, `${prefix}.pre`, { inC: half, outC: s.hidden });
  const h = waveNet(net, h0, `${prefix}.enc`, s.hidden, s.flowLayers, s.gin, g);
  const m = net.conv1d(h, `${prefix}.post`, { inC: s.hidden, outC: half });
  const y1 = reverse ? net.op('Sub', [x1!, m]) : net.op('Add', [m, x1!]);
  return net.op('Concat', [x0!, y1], { axis: attr.int(1) });
}

/** torch.flip(x, [1]): reverse the channels. */
function flip(net: Net, x: string, channels: number): string {
  const idx = net.int64(Array.from({ length: channels }, (_, i) => channels - 1 - i));
  return net.op('Gather', [x, idx], { axis: attr.int(1) });
}

function flow(net: Net, x: string, s: ConverterShape, g: string, reverse: boolean): string {
  if (!reverse) {
    for (let i = 0; i < s.flows; i++) x = flip(net, coupling(net, x, s, 2 * i, g, false), s.inter);
  } else {
    for (let i = s.flows - 1; i >= 0; i--) x = coupling(net, flip(net, x, s.inter), s, 2 * i, g, true);
  }
  return x;
}

/** HiFi-GAN generator: conv_pre (+ cond(g)), upsamplers each followed by averaged ResBlock1s, conv_post, tanh. */
function decoder(
  net: Net,
  x: string,
  cfg: OpenVoiceConfig,
  s: ConverterShape,
  g: string,
  lastSlope: number,
  asConvT = false,
): string {
  let ch = s.decChannels;
  x = net.conv1d(x, 'dec.conv_pre', { inC: s.inter, outC: ch });
  if (net.w.has('dec.cond.weight'))
    x = net.op('Add', [x, net.conv1d(g, 'dec.cond', { inC: s.gin, outC: ch })]);
  const nk = cfg.resblockKernelSizes.length;
  cfg.upsampleRates.forEach((u, i) => {
    x = net.leaky(x, LRELU_SLOPE);
    const out = ch / 2;
    x = net.convT1d(x, `dec.ups.${i}`, ch, out, cfg.upsampleKernelSizes[i]!, u, asConvT);
    ch = out;
    let xs: string | null = null;
    for (let j = 0; j < nk; j++) {
      const r = resBlock1(net, x, `dec.resblocks.${i * nk + j}`, ch, cfg.resblockDilationSizes[j]!);
      xs = xs ? net.op('Add', [xs, r]) : r;
    }
    x = net.op('Div', [xs!, net.scalar(nk)]);
  });
  x = net.leaky(x, lastSlope);
  x = net.conv1d(x, 'dec.conv_post', { inC: ch, outC: 1 }, false);
  return net.op('Tanh', [x]);
}

function resBlock1(net: Net, x: string, prefix: string, ch: number, dilations: readonly number[]): string {
  dilations.forEach((d, k) => {
    let xt = net.leaky(x, LRELU_SLOPE);
    xt = net.conv1d(xt, `${prefix}.convs1.${k}`, { inC: ch, outC: ch, dilation: d });
    xt = net.leaky(xt, LRELU_SLOPE);
    xt = net.conv1d(xt, `${prefix}.convs2.${k}`, { inC: ch, outC: ch });
    x = net.op('Add', [xt, x]);
  });
  return x;
}

/** The converter graph: `spec, noise, src_se, tgt_se, tau → audio`. */
export function buildConverterGraph(
  cfg: OpenVoiceConfig,
  weights: OpenVoiceWeights,
  opts: GraphOptions = {},
): Uint8Array {
  const s = converterShape(cfg, weights);
  const net = new Net('openvoice-converter', weights);
  const g = net.g;
  const spec = g.input('spec', 'float32', [1, s.spec, 'T']);
  const noise = g.input('noise', 'float32', [1, s.inter, 'T']);
  const srcSe = g.input('src_se', 'float32', [1, s.gin, 1]);
  const tgtSe = g.input('tgt_se', 'float32', [1, s.gin, 1]);
  const tau = g.input('tau', 'float32', [1]);
  // v2 (zero_g): the encoder and the decoder see a zero embedding, i.e. only their cond biases.
  const zero = cfg.zeroG ? net.constant('zero_g', new Float32Array(s.gin), [1, s.gin, 1]) : null;

  // Posterior encoder: z = m + ε · tau · exp(logs).
  let h = net.conv1d(spec, 'enc_q.pre', { inC: s.spec, outC: s.hidden });
  h = waveNet(net, h, 'enc_q.enc', s.hidden, s.encLayers, s.gin, zero ?? srcSe);
  const stats = net.conv1d(h, 'enc_q.proj', { inC: s.hidden, outC: 2 * s.inter });
  const [m, logs] = net.split(stats, 1, [s.inter, s.inter]);
  const eps = net.op('Mul', [net.op('Mul', [noise, tau]), net.op('Exp', [logs!])]);
  const z = net.op('Add', [m!, eps]);

  const zp = flow(net, z, s, srcSe, false);
  const zHat = flow(net, zp, s, tgtSe, true);
  const audio = decoder(net, zHat, cfg, s, zero ?? tgtSe, opts.lastSlope ?? LAST_SLOPE, opts.convTranspose);
  g.op('Identity', [audio], undefined, 'audio');
  g.output('audio', 'float32', [1, 1, 'samples']);
  return g.build();
}

/** PyTorch GRU gates are stacked r, z, n; ONNX wants z, r, h. */
function gatesToOnnx(t: CheckpointTensor, hidden: number): Float32Array {
  const per = t.data.length / 3;
  if (t.shape[0] !== 3 * hidden)
    throw new OpenVoiceWeightsError(`GRU tensor rows ${t.shape[0]} ≠ 3 × ${hidden}.`);
  const out = new Float32Array(t.data.length);
  out.set(t.data.subarray(per, 2 * per), 0);
  out.set(t.data.subarray(0, per), per);
  out.set(t.data.subarray(2 * per), 2 * per);
  return out;
}

/** The tone extractor graph: `spec [1, T, bins] → se [1, gin, 1]`. */
export function buildExtractorGraph(cfg: OpenVoiceConfig, weights: OpenVoiceWeights): Uint8Array {
  const net = new Net('openvoice-tone-extractor', weights);
  const g = net.g;
  const bins = cfg.specChannels;
  const spec = g.input('spec', 'float32', [1, 'T', bins]);
  let x = net.op('Unsqueeze', [spec, net.int64([1])]); // [1, 1, T, bins]
  if (weights.has('ref_enc.layernorm.weight')) {
    const scale = weights.tensor('ref_enc.layernorm.weight', [bins]);
    const bias = weights.tensor('ref_enc.layernorm.bias', [bins]);
    x = net.op(
      'LayerNormalization',
      [
        x,
        net.constant('ref_enc.layernorm.weight', scale.data, [bins]),
        net.constant('ref_enc.layernorm.bias', bias.data, [bins]),
      ],
      {
        axis: attr.int(-1),
        epsilon: attr.float(LAYERNORM_EPS),
      },
    );
  }
  const layers = weights.count('ref_enc.convs');
  if (!layers) throw new OpenVoiceWeightsError('The checkpoint has no reference encoder convolutions.');
  let inC = 1;
  let freq = bins;
  for (let i = 0; i < layers; i++) {
    const prefix = `ref_enc.convs.${i}`;
    const w = weights.weight(prefix, [-1, inC, REF_KERNEL, REF_KERNEL]);
    const outC = w.shape[0]!;
    const b = weights.bias(prefix, outC);
    if (!b) throw new OpenVoiceWeightsError(`The checkpoint has no tensor "${prefix}.bias".`);
    x = net.op(
      'Conv',
      [x, net.constant(`${prefix}.weight`, w.data, w.shape), net.constant(`${prefix}.bias`, b.data, b.shape)],
      {
        kernel_shape: attr.ints([REF_KERNEL, REF_KERNEL]),
        strides: attr.ints([REF_STRIDE, REF_STRIDE]),
        pads: attr.ints([REF_PAD, REF_PAD, REF_PAD, REF_PAD]),
      },
    );
    x = net.op('Relu', [x]);
    inC = outC;
    freq = Math.floor((freq + 2 * REF_PAD - REF_KERNEL) / REF_STRIDE) + 1;
  }
  // [1, C, T', F] → [T', 1, C·F]: time-major GRU input, channels outer, frequency inner (as upstream's view).
  x = net.op('Transpose', [x], { perm: attr.ints([2, 0, 1, 3]) });
  x = net.op('Reshape', [x, net.int64([0, 0, -1])]);
  const wih = weights.tensor('ref_enc.gru.weight_ih_l0', [-1, inC * freq]);
  const hidden = wih.shape[0]! / 3;
  const whh = weights.tensor('ref_enc.gru.weight_hh_l0', [3 * hidden, hidden]);
  const bih = weights.tensor('ref_enc.gru.bias_ih_l0', [3 * hidden]);
  const bhh = weights.tensor('ref_enc.gru.bias_hh_l0', [3 * hidden]);
  const bias = new Float32Array(6 * hidden);
  bias.set(gatesToOnnx(bih, hidden), 0);
  bias.set(gatesToOnnx(bhh, hidden), 3 * hidden);
  const [, hLast] = g.node({
    op: 'GRU',
    inputs: [
      x,
      net.constant('gru_W', gatesToOnnx(wih, hidden), [1, 3 * hidden, inC * freq]),
      net.constant('gru_R', gatesToOnnx(whh, hidden), [1, 3 * hidden, hidden]),
      net.constant('gru_B', bias, [1, 6 * hidden]),
    ],
    outputs: ['gru_y', 'gru_h'],
    // PyTorch applies the reset gate after the recurrent matmul (r ⊙ (W_hn h + b_hn)).
    attrs: { hidden_size: attr.int(hidden), linear_before_reset: attr.int(1) },
  });
  const h = net.op('Reshape', [hLast!, net.int64([1, hidden])]);
  const pw = weights.tensor('ref_enc.proj.weight', [cfg.ginChannels, hidden]);
  const pb = weights.tensor('ref_enc.proj.bias', [cfg.ginChannels]);
  const se = net.op(
    'Gemm',
    [
      h,
      net.constant('ref_enc.proj.weight', pw.data, pw.shape),
      net.constant('ref_enc.proj.bias', pb.data, pb.shape),
    ],
    {
      transB: attr.int(1),
    },
  );
  g.op('Unsqueeze', [se, net.int64([2])], undefined, 'se');
  g.output('se', 'float32', [1, cfg.ginChannels, 1]);
  return g.build();
}

/** Both graphs from a parsed config and the checkpoint's tensors. */
export function buildOpenVoiceGraphs(
  cfg: OpenVoiceConfig,
  tensors: ReadonlyMap<string, CheckpointTensor>,
  opts: GraphOptions = {},
): { extractor: Uint8Array; converter: Uint8Array } {
  const w = new OpenVoiceWeights(tensors);
  return { extractor: buildExtractorGraph(cfg, w), converter: buildConverterGraph(cfg, w, opts) };
}
