// A model being installed (#21, "The API during the first start"): a run waits for it a bounded time, then
// says it is on its way (ModelLoadingError → 503 model_loading with Retry-After and the install's progress);
// "not installed" is said only of a model that no install brings.
import 'fake-indexeddb/auto';
import { describe, expect, it } from 'vitest';
import { installedModelFiles, type ModelFileDeps } from '../../src/lib/models/files';
import { resolveAsrModel } from '../../src/lib/asr/operation';
import { WHISPER_TINY } from '../../src/lib/asr/contract';
import { InstallBoard, installStatus, type InstallStatus } from '../../src/lib/models/installing';
import type { InstalledModel } from '../../src/lib/storage/records';
import type { InstallProgress } from '../../src/lib/models/types';
import { errorKind } from '../../src/lib/core/errors';
import { createApiContext, type ApiContext } from '../../src/lib/api/context';
import { createRouter } from '../../src/lib/api/routes';
import { openTimbreDB } from '../../src/lib/storage/db';
import { FACTS } from './helpers';
import { caller, errorOf, HIGH_LIMITS } from './test-utils';

const BYTES = new Uint8Array([1, 2, 3, 4]);
const record = (id: string, path = 'model.onnx'): InstalledModel => ({
  id,
  files: [{ path, bytes: BYTES.length, sha256: 'x', verified_at: 0, pinned: false }],
  installed_at: 0,
  origin: 'bundled',
});

/** A registry another worker writes to (the models worker), and an install that holds its lock until `end`. */
function scene(opts: { installing: boolean; waitMs?: number }) {
  const records = new Map<string, InstalledModel>();
  let underWay = opts.installing;
  const deps: ModelFileDeps = {
    registry: { get: async (id) => records.get(id) },
    store: { read: async () => new Blob([BYTES]) },
    installing: async () => underWay,
    installWaitMs: opts.waitMs ?? 5000,
  };
  return {
    deps,
    install: (id: string, path?: string) => records.set(id, record(id, path)),
    end: () => (underWay = false),
  };
}

const thrown = async (p: Promise<unknown>) => {
  try {
    await p;
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected a failure');
};

describe('a run whose model is on its way', () => {
  it('waits for the install and reads the model once it is written', async () => {
    const s = scene({ installing: true });
    setTimeout(() => s.install('kokoro'), 400);
    const t0 = Date.now();
    const read = await installedModelFiles('kokoro', 'Kokoro-82M', s.deps);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(300);
    expect([...(await read('model.onnx'))]).toEqual([...BYTES]);
  });

  it('is "being installed" (model_loading), not "not installed", when the install outlasts the wait', async () => {
    const s = scene({ installing: true, waitMs: 600 });
    const e = await thrown(installedModelFiles('kokoro', 'Kokoro-82M', s.deps));
    expect(e.name).toBe('ModelLoadingError');
    expect(errorKind(e)).toBe('model_loading');
    expect(e.message).toMatch(/Kokoro-82M is being installed/);
    expect(e.message).not.toMatch(/not installed/);
  });

  it('is "not installed" when no install brings it, or the install ended without it', async () => {
    const none = scene({ installing: false });
    const e1 = await thrown(installedModelFiles('kokoro', 'Kokoro-82M', none.deps));
    expect(errorKind(e1)).toBe('model_not_installed');
    const s = scene({ installing: true });
    setTimeout(() => s.end(), 300);
    const e2 = await thrown(installedModelFiles('kokoro', 'Kokoro-82M', s.deps));
    expect(errorKind(e2)).toBe('model_not_installed');
    expect(e2.message).toMatch(/Kokoro-82M is not installed/);
  });

  it('transcription picks the Whisper on its way when none is installed yet', async () => {
    const s = scene({ installing: true });
    setTimeout(() => s.install(WHISPER_TINY), 300);
    expect(await resolveAsrModel(undefined, s.deps)).toBe(WHISPER_TINY);
    const none = scene({ installing: false });
    expect(errorKind(await thrown(resolveAsrModel(undefined, none.deps)))).toBe('model_not_installed');
  });
});

describe('the install figures the API reports', () => {
  const files = ['kokoro/model.onnx', 'kokoro/voices.bin', 'whisper/encoder.onnx', 'whisper/decoder.onnx'];
  const p = (file: string, stage: string, done: number, total: number): InstallProgress => ({
    stage,
    file,
    done,
    total,
    fileDone: 0,
    fileTotal: 0,
    bytesPerSecond: 1000,
    etaSeconds: 7,
  });

  it('counts files done by the one being written, bytes and percent of the whole set', () => {
    expect(
      installStatus(['kokoro', 'whisper'], files, p('whisper/encoder.onnx', 'download', 250, 1000)),
    ).toEqual({
      models: ['kokoro', 'whisper'],
      files_done: 2,
      files_total: 4,
      bytes_done: 250,
      bytes_total: 1000,
      percent: 25,
      eta_seconds: 7,
    });
    // A model of the set finished: reported by its id.
    expect(installStatus(['kokoro', 'whisper'], files, p('kokoro', 'done', 500, 1000)).files_done).toBe(2);
    // One model's own install names its files by path.
    expect(installStatus(['kokoro'], files.slice(0, 2), p('voices.bin', 'download', 1, 3)).files_done).toBe(
      1,
    );
  });

  it('the board keeps the latest news, forgets an ended install and one gone silent', () => {
    const clock = { t: 0 };
    const board = new InstallBoard(null, () => clock.t, 30_000);
    const status: InstallStatus = installStatus(['kokoro'], ['kokoro/a'], p('a', 'download', 1, 2));
    board.hear({ type: 'progress', status });
    expect(board.status('kokoro')).toEqual(status);
    expect(board.status('whisper')).toBeNull();
    board.hear({ type: 'ended', models: ['kokoro'] });
    expect(board.status()).toBeNull();
    board.hear({ type: 'progress', status });
    clock.t = 31_000;
    expect(board.status()).toBeNull();
  });
});

describe('the API while a model is being installed', () => {
  it('answers 503 model_loading with Retry-After and the install progress', async () => {
    const db = await openTimbreDB(`loading-${process.pid}`);
    const install: InstallStatus = {
      models: ['kokoro'],
      files_done: 1,
      files_total: 3,
      bytes_done: 40_000_000,
      bytes_total: 100_000_000,
      percent: 40,
      eta_seconds: 12,
    };
    const ctx = createApiContext({
      db,
      engine: {
        hostCount: async () => 1,
        run: (async () => {
          throw Object.assign(new Error('Kokoro-82M is being installed on this device…'), {
            name: 'ModelLoadingError',
          });
        }) as ApiContext['engine']['run'],
      },
      system: async () => FACTS,
      version: 'test',
      installs: () => install,
    });
    const call = caller(createRouter(), ctx);
    const key = (await ctx.keys.create({ name: 'k', limits: HIGH_LIMITS, now: Date.now() })).secret;
    for (const [path, body] of [
      ['/v1/audio/speech', { model: 'tts-1', input: 'Hello there.', voice: 'alloy' }],
      ['/api/generate/preset', { text: 'Hello there.', voice_id: 'af_heart' }],
    ] as const) {
      const res = await call('POST', path, { key, body });
      expect(res.headers.get('Retry-After'), path).toBe('12');
      const err = await errorOf(res, 503, 'model_loading');
      expect(err.message).toMatch(/being installed/);
      expect(err.retry_after).toBe(12);
      expect(err.install).toEqual(install);
    }
  });
});
