// The converter's config.json (OpenVoice v1 and v2 share one schema; v2 adds `"_version_": "v2"` and
// `model.zero_g: true`). Only what shapes the graphs is read; everything is checked, nothing defaulted to
// the released sizes.
import { OpenVoiceConfigError } from './errors';

export interface OpenVoiceConfig {
  version: 'v1' | 'v2';
  /** v2: the posterior encoder and the decoder see a zero embedding. */
  zeroG: boolean;
  samplingRate: number;
  filterLength: number;
  hopLength: number;
  winLength: number;
  /** filter_length / 2 + 1: the spectrogram's bins. */
  specChannels: number;
  interChannels: number;
  hiddenChannels: number;
  ginChannels: number;
  resblock: '1';
  resblockKernelSizes: number[];
  resblockDilationSizes: number[][];
  upsampleRates: number[];
  upsampleInitialChannel: number;
  upsampleKernelSizes: number[];
}

type Json = Record<string, unknown>;

function obj(x: unknown, where: string): Json {
  if (!x || typeof x !== 'object' || Array.isArray(x))
    throw new OpenVoiceConfigError(`config.json: "${where}" must be an object.`);
  return x as Json;
}

function posInt(o: Json, key: string, where: string): number {
  const v = o[key];
  if (typeof v !== 'number' || !Number.isInteger(v) || v <= 0)
    throw new OpenVoiceConfigError(
      `config.json: "${where}.${key}" must be a positive integer (got ${JSON.stringify(v)}).`,
    );
  return v;
}

function intList(o: Json, key: string, where: string): number[] {
  const v = o[key];
  if (
    !Array.isArray(v) ||
    !v.length ||
    !v.every((n) => typeof n === 'number' && Number.isInteger(n) && n > 0)
  )
    throw new OpenVoiceConfigError(
      `config.json: "${where}.${key}" must be a non-empty list of positive integers.`,
    );
  return v as number[];
}

/** Parses and checks config.json (text or already parsed). */
export function parseConfig(input: string | unknown): OpenVoiceConfig {
  let raw: unknown = input;
  if (typeof input === 'string') {
    try {
      raw = JSON.parse(input);
    } catch (e) {
      throw new OpenVoiceConfigError(`config.json is not valid JSON: ${(e as Error).message}`);
    }
  }
  const root = obj(raw, '(root)');
  const data = obj(root.data, 'data');
  const model = obj(root.model, 'model');

  const version = root._version_ === undefined ? 'v1' : root._version_;
  if (version !== 'v1' && version !== 'v2')
    throw new OpenVoiceConfigError(`config.json: unknown "_version_" ${JSON.stringify(version)} (v1 or v2).`);
  const zeroG = model.zero_g ?? false;
  if (typeof zeroG !== 'boolean')
    throw new OpenVoiceConfigError('config.json: "model.zero_g" must be true or false.');
  const nSpeakers = data.n_speakers ?? model.n_speakers ?? 0;
  if (nSpeakers !== 0)
    throw new OpenVoiceConfigError(
      `config.json: n_speakers is ${JSON.stringify(nSpeakers)}; only the tone-colour converter (n_speakers 0) is supported.`,
    );

  const filterLength = posInt(data, 'filter_length', 'data');
  const hopLength = posInt(data, 'hop_length', 'data');
  const winLength = posInt(data, 'win_length', 'data');
  if (winLength !== filterLength)
    throw new OpenVoiceConfigError(
      'config.json: win_length must equal filter_length (the converter pads no window).',
    );
  if (filterLength & (filterLength - 1))
    throw new OpenVoiceConfigError('config.json: filter_length must be a power of two.');
  if ((filterLength - hopLength) % 2)
    throw new OpenVoiceConfigError(
      'config.json: filter_length − hop_length must be even (the STFT pads half each side).',
    );

  const resblock = model.resblock;
  if (resblock !== '1')
    throw new OpenVoiceConfigError(
      `config.json: resblock ${JSON.stringify(resblock)} is not supported (only "1").`,
    );
  const resblockKernelSizes = intList(model, 'resblock_kernel_sizes', 'model');
  const dil = model.resblock_dilation_sizes;
  if (
    !Array.isArray(dil) ||
    dil.length !== resblockKernelSizes.length ||
    !dil.every(
      (d) =>
        Array.isArray(d) &&
        d.length > 0 &&
        d.every((n) => typeof n === 'number' && Number.isInteger(n) && n > 0),
    )
  )
    throw new OpenVoiceConfigError(
      'config.json: "model.resblock_dilation_sizes" must hold one list of positive integers per resblock kernel.',
    );
  const upsampleRates = intList(model, 'upsample_rates', 'model');
  const upsampleKernelSizes = intList(model, 'upsample_kernel_sizes', 'model');
  if (upsampleKernelSizes.length !== upsampleRates.length)
    throw new OpenVoiceConfigError('config.json: upsample_rates and upsample_kernel_sizes differ in length.');
  upsampleRates.forEach((u, i) => {
    if ((upsampleKernelSizes[i]! - u) % 2 || upsampleKernelSizes[i]! < u)
      throw new OpenVoiceConfigError(
        `config.json: upsample kernel ${upsampleKernelSizes[i]} does not fit rate ${u}.`,
      );
  });
  const product = upsampleRates.reduce((a, b) => a * b, 1);
  if (product !== hopLength)
    throw new OpenVoiceConfigError(
      `config.json: the upsample rates multiply to ${product}, not hop_length ${hopLength}.`,
    );
  const upsampleInitialChannel = posInt(model, 'upsample_initial_channel', 'model');
  if (upsampleInitialChannel % 2 ** upsampleRates.length)
    throw new OpenVoiceConfigError(
      'config.json: upsample_initial_channel must halve evenly at every upsampler.',
    );
  const interChannels = posInt(model, 'inter_channels', 'model');
  if (interChannels % 2)
    throw new OpenVoiceConfigError('config.json: inter_channels must be even (the flow splits it).');

  return {
    version,
    zeroG,
    samplingRate: posInt(data, 'sampling_rate', 'data'),
    filterLength,
    hopLength,
    winLength,
    specChannels: filterLength / 2 + 1,
    interChannels,
    hiddenChannels: posInt(model, 'hidden_channels', 'model'),
    ginChannels: posInt(model, 'gin_channels', 'model'),
    resblock: '1',
    resblockKernelSizes: [...resblockKernelSizes],
    resblockDilationSizes: (dil as number[][]).map((d) => [...d]),
    upsampleRates: [...upsampleRates],
    upsampleInitialChannel,
    upsampleKernelSizes: [...upsampleKernelSizes],
  };
}
