// Named errors of the OpenVoice loader: a file that cannot be read, a config that does not describe a
// converter we can build, and weights that do not fit the config.

/** The checkpoint file is not a readable PyTorch zip checkpoint (or holds something we cannot load). */
export class CheckpointError extends Error {
  override name = 'CheckpointError';
}

/** config.json is not a converter config we can build. */
export class OpenVoiceConfigError extends Error {
  override name = 'OpenVoiceConfigError';
}

/** The checkpoint's tensors do not match what the config (or the architecture) needs. */
export class OpenVoiceWeightsError extends Error {
  override name = 'OpenVoiceWeightsError';
}
