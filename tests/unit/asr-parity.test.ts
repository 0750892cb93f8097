// Our log-mel features against transformers.js's WhisperFeatureExtractor (the reference the bundled export
// was made for), on a chirp with noise: the same numbers to float precision.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { logMel, N_FRAMES, N_MELS } from '../../src/lib/asr/mel';
import { HAVE_TINY, MODELS } from './asr-helpers';

describe.skipIf(!HAVE_TINY)('log-mel parity with transformers.js', () => {
  it('matches WhisperFeatureExtractor to within 1e-5 on 12 s of a chirp with noise', async () => {
    const { WhisperFeatureExtractor } = await import('@huggingface/transformers');
    const config = JSON.parse(
      readFileSync(`${MODELS}/whisper-tiny-q8/preprocessor_config.json`, 'utf8'),
    ) as object;
    const fe = new WhisperFeatureExtractor(config);
    let seed = 7;
    const audio = Float32Array.from({ length: 16000 * 12 }, (_, i) => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      const t = i / 16000;
      return 0.3 * Math.sin(2 * Math.PI * (200 + 150 * t) * t) + 0.02 * (seed / 0x7fffffff - 0.5);
    });
    const ref = (await fe(audio)) as { input_features: { data: Float32Array; dims: number[] } };
    expect(ref.input_features.dims).toEqual([1, N_MELS, N_FRAMES]);
    const ours = logMel(audio);
    let max = 0;
    for (let i = 0; i < ours.length; i++)
      max = Math.max(max, Math.abs(ours[i]! - ref.input_features.data[i]!));
    console.log(`[asr] log-mel max |ours − transformers.js| = ${max.toExponential(2)}`);
    expect(max).toBeLessThan(1e-5);
  });
});
