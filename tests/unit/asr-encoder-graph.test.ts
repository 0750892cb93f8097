// The encoder graph the runner makes sessions from: the export's attention-weight outputs dropped, its
// hidden state unchanged.
import { existsSync, readFileSync } from 'node:fs';
import * as ort from 'onnxruntime-web';
import { describe, expect, it } from 'vitest';
import { encoderGraph } from '../../src/lib/asr/whisper';
import { HAVE_TINY, MODELS } from './asr-helpers';

const FILE = `${MODELS}/whisper-tiny-q8/onnx/encoder_model_quantized.onnx`;

describe.skipIf(!HAVE_TINY || !existsSync(FILE))('encoderGraph', () => {
  it('keeps last_hidden_state only, with the same values as the graph as shipped', async () => {
    ort.env.wasm.numThreads = 1;
    const bytes = new Uint8Array(readFileSync(FILE));
    const shipped = await ort.InferenceSession.create(bytes);
    expect(shipped.outputNames.filter((n) => n.startsWith('encoder_attentions.')).length).toBe(4);
    const pruned = await ort.InferenceSession.create(encoderGraph(bytes));
    expect(pruned.outputNames).toEqual(['last_hidden_state']);
    const x = new Float32Array(80 * 3000);
    for (let i = 0; i < x.length; i++) x[i] = Math.sin(i * 0.37) * 0.5;
    const feeds = { input_features: new ort.Tensor('float32', x, [1, 80, 3000]) };
    const a = (await shipped.run(feeds, ['last_hidden_state'])).last_hidden_state!.data as Float32Array;
    const b = (await pruned.run(feeds)).last_hidden_state!.data as Float32Array;
    expect(b.length).toBe(a.length);
    expect(b.every((v, i) => v === a[i])).toBe(true);
  }, 60_000);

  it('passes a graph without those outputs through unchanged', () => {
    const bytes = new Uint8Array(readFileSync(FILE));
    const once = encoderGraph(bytes);
    expect(encoderGraph(once)).toBe(once);
  });
});
