/// <reference lib="webworker" />
// The encoder worker: runs the encode operation ('audio.encode', src/lib/audio/encode-op.ts) on a
// single-thread ffmpeg core of its own, beside the engine worker, whose thread a model run holds until it
// ends: a streamed answer's sentences are encoded while the next ones are spoken. Nothing else lives here.
import { expose } from 'comlink';
import { createEngineContext } from '../lib/engine/context';
import { opRunner } from './op-runner';

// Only its ffmpeg core is ever opened (on the first encode): the operations here use nothing else of it.
const context = createEngineContext({ base: new URL('/', self.location.href).href });
const ops = opRunner(context, { worker: 'encoder' });

const api = {
  run: ops.run,
  cancel: ops.cancel,
  ping(): string {
    return 'pong';
  },
};

export type EncoderWorkerApi = typeof api;

expose(api);
