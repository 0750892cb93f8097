// asr.prepare: the Whisper sessions are created ahead of a transcription (real tiny model from
// .cache/models), an uninstalled model is refused by name, and the engine op table routes it.
import { beforeAll, describe, expect, it } from 'vitest';
import * as ort from 'onnxruntime-web';
import { installRuntime } from '../../src/lib/runtime/host';
import { runAsrPrepare } from '../../src/lib/asr/operation';
import { ENGINE_OPS } from '../../src/lib/engine/ops';
import { ModelNotInstalledError } from '../../src/lib/models/types';
import { cacheDeps, HAVE_TINY } from './asr-helpers';

beforeAll(() => {
  installRuntime({ loadOrt: async () => ort, isolated: true, cores: 2 });
});

describe.skipIf(!HAVE_TINY)('asr.prepare', () => {
  it('creates the tiny model’s sessions once, so a second prepare is immediate', async () => {
    const deps = cacheDeps(['whisper-tiny-q8']);
    const stages: string[] = [];
    const first = await runAsrPrepare({ model: 'tiny' }, { onProgress: (p) => stages.push(p.stage) }, deps);
    expect(first.model).toBe('whisper-tiny-q8');
    // It also runs the sessions once (a first run is a few times slower than the next).
    expect(stages).toContain('warmup');
    const second = await runAsrPrepare({ model: 'default' }, {}, deps);
    expect(second.model).toBe('whisper-tiny-q8');
    // The sessions are kept: the second call does no session creation.
    expect(second.elapsed_ms).toBeLessThan(first.elapsed_ms);
    expect(ENGINE_OPS['asr.prepare'].queue).toBe(ENGINE_OPS['asr.transcribe'].queue);
  }, 120_000);

  it('refuses a model that is not installed, naming it', async () => {
    await expect(runAsrPrepare({ model: 'base' }, {}, cacheDeps(['whisper-tiny-q8']))).rejects.toThrow(
      ModelNotInstalledError,
    );
    await expect(runAsrPrepare({ model: 'base' }, {}, cacheDeps(['whisper-tiny-q8']))).rejects.toThrow(
      /Whisper base is not installed/,
    );
  });
});
