import * as ort from 'onnxruntime-web';
import { it, vi } from 'vitest';
import { readFileSync } from 'node:fs';
import { Transcoder } from '../../src/lib/audio/transcoder';
import { installRuntime } from '../../src/lib/runtime/host';
import { cacheDeps, MODELS } from './asr-helpers';
import { NodeCoreProvider } from './ffmpeg-node';
import { checkInput, realFiles } from './inputs';
vi.setConfig({ testTimeout: 600_000 });
it('one', async () => {
  installRuntime({ loadOrt: async () => ort, isolated: true, cores: 2 });
  const transcoder = new Transcoder(new NodeCoreProvider());
  const vad = new Uint8Array(readFileSync(`${MODELS}/silero-vad-v5/silero_vad_v5.onnx`));
  const deps = { transcoder: () => transcoder, vad: async () => vad, asr: cacheDeps(['whisper-tiny-q8', 'silero-vad-v5'], transcoder) };
  for (const f of realFiles()!.filter((f) => f.name.includes(process.env.ONE ?? '2033'))) {
    const t0 = performance.now();
    const r = await checkInput(f.bytes, deps);
    console.log(f.name, Math.round(performance.now() - t0), JSON.stringify(r, null, 1));
  }
});
