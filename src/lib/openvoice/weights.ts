// The checkpoint's tensors as the graphs need them: weight norm folded once (`w = g · v / ‖v‖`, the norm
// over every dim but dim 0, as torch.nn.utils.weight_norm(dim=0) does), and every lookup checked so a
// checkpoint that does not fit the config fails with the tensor's name instead of a shape error in ONNX.
import type { CheckpointTensor } from './checkpoint';
import { OpenVoiceWeightsError } from './errors';

/**
 * Folds a weight-normalised layer: g has shape [d0, 1, …], v [d0, …]; each slice along dim 0 is scaled to
 * norm g. For ConvTranspose1d dim 0 is the input-channel axis, as stored ([in, out, k]), which is also
 * what torch normalises over. Computed in float64, rounded once.
 */
export function foldWeightNorm(g: CheckpointTensor, v: CheckpointTensor, name = 'weight'): CheckpointTensor {
  const d0 = v.shape[0] ?? 0;
  if (g.data.length !== d0 || g.shape[0] !== d0)
    throw new OpenVoiceWeightsError(
      `${name}: weight_g [${g.shape.join(', ')}] does not match weight_v [${v.shape.join(', ')}] along dim 0.`,
    );
  const per = d0 ? v.data.length / d0 : 0;
  const out = new Float32Array(v.data.length);
  for (let o = 0; o < d0; o++) {
    let ss = 0;
    for (let i = 0; i < per; i++) {
      const x = v.data[o * per + i]!;
      ss += x * x;
    }
    // torch divides by the norm as is: a zero slice gives NaN there too, so keep the same behaviour.
    const scale = g.data[o]! / Math.sqrt(ss);
    for (let i = 0; i < per; i++) out[o * per + i] = v.data[o * per + i]! * scale;
  }
  return { shape: [...v.shape], data: out };
}

export class OpenVoiceWeights {
  private readonly folded = new Map<string, CheckpointTensor>();

  constructor(private readonly tensors: ReadonlyMap<string, CheckpointTensor>) {}

  has(name: string): boolean {
    return this.tensors.has(name);
  }

  /** A tensor by its state-dict name, optionally checked against an expected shape (-1 = any). */
  tensor(name: string, shape?: readonly number[]): CheckpointTensor {
    const t = this.tensors.get(name);
    if (!t) throw new OpenVoiceWeightsError(`The checkpoint has no tensor "${name}".`);
    if (shape) checkShape(name, t.shape, shape);
    return t;
  }

  /** `<prefix>.weight`, folded from weight_g/weight_v when the layer is weight-normalised. */
  weight(prefix: string, shape?: readonly number[]): CheckpointTensor {
    let w = this.folded.get(prefix);
    if (!w) {
      if (this.tensors.has(`${prefix}.weight_v`))
        w = foldWeightNorm(this.tensor(`${prefix}.weight_g`), this.tensor(`${prefix}.weight_v`), prefix);
      else w = this.tensor(`${prefix}.weight`);
      this.folded.set(prefix, w);
    }
    if (shape) checkShape(`${prefix}.weight`, w.shape, shape);
    return w;
  }

  /** `<prefix>.bias` when present. */
  bias(prefix: string, size?: number): CheckpointTensor | null {
    const b = this.tensors.get(`${prefix}.bias`);
    if (b && size !== undefined) checkShape(`${prefix}.bias`, b.shape, [size]);
    return b ?? null;
  }

  /** How many `<prefix>.<i>.…` modules there are, counting up from 0 (indices may skip, e.g. the flow's). */
  count(prefix: string, step = 1): number {
    let n = 0;
    while ([...this.tensors.keys()].some((k) => k.startsWith(`${prefix}.${n * step}.`))) n++;
    return n;
  }
}

function checkShape(name: string, got: readonly number[], want: readonly number[]): void {
  if (got.length !== want.length || got.some((d, i) => want[i] !== -1 && want[i] !== d))
    throw new OpenVoiceWeightsError(
      `Tensor "${name}" has shape [${got.join(', ')}]; the config needs [${want.map((d) => (d === -1 ? '*' : d)).join(', ')}].`,
    );
}
