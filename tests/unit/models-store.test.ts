// The file stores (OPFS against a faithful in-memory fake, Cache Storage against a fake holding real
// Responses, memory), the choice between them, and the resumable hash.
import { describe, expect, it } from 'vitest';
import {
  CacheModelStore,
  MemoryModelStore,
  OpfsModelStore,
  pickModelStore,
  type ModelFileStore,
} from '../../src/lib/models/store';
import { hashChunks, resumeHash, sha256Hex, StreamingSha256 } from '../../src/lib/core/hash';
import { installModel } from '../../src/lib/models/install';
import { ModelNotFoundError } from '../../src/lib/models/types';
import {
  blobBytes,
  FakeCacheStorage,
  FakeDir,
  freshDeps,
  prngBytes,
  sha,
  TestServer,
} from './models-helpers';

const DATA = prngBytes(50_000, 31);

async function collect(it: AsyncIterable<Uint8Array>): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  for await (const c of it) parts.push(c);
  return new Uint8Array(Buffer.concat(parts));
}

/** What every store must do, whatever it keeps files in. */
async function contract(store: ModelFileStore) {
  expect(await store.partialSize('m', 'voices/a.bin')).toBe(0);
  expect(await store.size('m', 'voices/a.bin')).toBeNull();
  await store.append('m', 'voices/a.bin', DATA.subarray(0, 20_000), 0);
  await store.append('m', 'voices/a.bin', DATA.subarray(20_000), 20_000);
  await store.flush('m', 'voices/a.bin');
  expect(sha(await collect(store.readPartial('m', 'voices/a.bin')))).toBe(sha(DATA));
  await store.commit('m', 'voices/a.bin');
  expect(await store.partialSize('m', 'voices/a.bin')).toBe(0);
  expect(await store.size('m', 'voices/a.bin')).toBe(DATA.length);
  expect(sha(await blobBytes(await store.read('m', 'voices/a.bin')))).toBe(sha(DATA));
  // Writing at 0 starts a partial over.
  await store.append('m', 'b.bin', DATA.subarray(0, 100), 0);
  await store.append('m', 'b.bin', DATA.subarray(0, 10), 0);
  await store.commit('m', 'b.bin');
  expect(await store.size('m', 'b.bin')).toBe(10);
  await store.append('m', 'c.bin', DATA.subarray(0, 10), 0);
  await store.removePartial('m', 'c.bin');
  expect(await store.partialSize('m', 'c.bin')).toBe(0);
  expect(await store.usage()).toBe(DATA.length + 10);
  await store.remove('m');
  expect(await store.usage()).toBe(0);
  await expect(store.read('m', 'voices/a.bin')).rejects.toBeInstanceOf(ModelNotFoundError);
  await expect(store.append('m', '../escape', DATA, 0)).rejects.toBeInstanceOf(ModelNotFoundError);
  await expect(store.append('..', 'x', DATA, 0)).rejects.toBeInstanceOf(ModelNotFoundError);
}

describe('OpfsModelStore', () => {
  it('keeps the contract, with nested folders and .part files', async () => {
    const root = new FakeDir();
    await contract(new OpfsModelStore(async () => root));
    const store = new OpfsModelStore(async () => root);
    await store.append('kokoro', 'voices/af_heart.bin', DATA, 0);
    await store.append('kokoro', 'onnx/encoder.onnx', DATA.subarray(0, 5), 0);
    await store.flush('kokoro', 'voices/af_heart.bin');
    await store.commit('kokoro', 'onnx/encoder.onnx');
    expect(root.tree()).toEqual({
      'models/kokoro/voices/af_heart.bin.part': DATA.length,
      'models/kokoro/onnx/encoder.onnx': 5,
    });
  });

  it('counts a file that went away after its handle was found as absent (a listing during an install)', async () => {
    const root = new FakeDir();
    const store = new OpfsModelStore(async () => root);
    await store.append('m', 'f.bin', DATA, 0);
    await store.flush('m', 'f.bin');
    await store.append('m', 'g.bin', DATA, 0);
    await store.commit('m', 'g.bin');
    // Stale handles, as Chromium gives when a commit moves the file or a delete removes it in between.
    for (const path of ['models/m/f.bin.part', 'models/m/g.bin'])
      root.file(path)!.getFile = async () => {
        throw new DOMException('A requested file or directory could not be found', 'NotFoundError');
      };
    const reader = new OpfsModelStore(async () => root);
    expect(await reader.size('m', 'g.bin')).toBeNull();
    expect(await reader.partialSize('m', 'f.bin')).toBe(0);
    expect(await reader.usage()).toBe(0);
  });

  it('batches writes, so a reload finds what was flushed and resumes from there', async () => {
    const root = new FakeDir();
    const store = new OpfsModelStore(async () => root, 16_000);
    for (let at = 0; at < 40_000; at += 5_000)
      await store.append('m', 'f.bin', DATA.subarray(at, at + 5_000), at);
    expect(await store.partialSize('m', 'f.bin')).toBe(40_000);
    // A new store over the same folder is a reload: only flushed bytes (every 16 kB+) are there.
    const reloaded = new OpfsModelStore(async () => root, 16_000);
    const kept = await reloaded.partialSize('m', 'f.bin');
    expect(kept).toBe(40_000);
    await store.append('m', 'f.bin', DATA.subarray(40_000, 45_000), 40_000);
    expect(await reloaded.partialSize('m', 'f.bin')).toBe(40_000);
    await store.flush('m', 'f.bin');
    expect(await reloaded.partialSize('m', 'f.bin')).toBe(45_000);
    expect(sha(await collect(reloaded.readPartial('m', 'f.bin')))).toBe(sha(DATA.subarray(0, 45_000)));
    // Resuming at the stored size, and truncating when asked to write earlier.
    await reloaded.append('m', 'f.bin', DATA.subarray(45_000), 45_000);
    await reloaded.append('m', 'f.bin', DATA.subarray(30_000, 31_000), 30_000);
    await reloaded.flush('m', 'f.bin');
    expect(await reloaded.partialSize('m', 'f.bin')).toBe(31_000);
    await expect(reloaded.append('m', 'f.bin', DATA, 99_999)).rejects.toThrow(RangeError);
  });

  it('writes in place through a sync access handle where there is one (dedicated workers)', async () => {
    const root = new FakeDir('', { sync: true });
    await contract(new OpfsModelStore(async () => root));
    const store = new OpfsModelStore(async () => root, 16_000);
    for (let at = 0; at < 40_000; at += 5_000)
      await store.append('m', 'f.bin', DATA.subarray(at, at + 5_000), at);
    const part = root.file('models/m/f.bin.part')!;
    expect(part.locked).toBe(true); // still open: the handle stays open between appends
    expect(part.data.length).toBe(40_000); // yet every byte is already in the file
    expect(await store.partialSize('m', 'f.bin')).toBe(40_000);
    expect(await store.usage()).toBe(40_000); // counted without reading the locked file
    await store.append('m', 'f.bin', DATA.subarray(20_000, 21_000), 20_000); // truncates
    expect(sha(await collect(store.readPartial('m', 'f.bin')))).toBe(sha(DATA.subarray(0, 21_000)));
    expect(part.locked).toBe(false);
    await store.append('m', 'f.bin', DATA.subarray(21_000), 21_000);
    await store.commit('m', 'f.bin');
    expect(root.tree()).toEqual({ 'models/m/f.bin': DATA.length });
    await store.append('m', 'g.bin', DATA, 0);
    await store.remove('m'); // closes the open handle first
    expect(root.tree()).toEqual({});
  });

  it('reopens a writable rarely as the file grows (each reopen copies the file)', async () => {
    const root = new FakeDir();
    const store = new OpfsModelStore(async () => root, 1_000);
    const big = prngBytes(400_000, 3);
    for (let at = 0; at < big.length; at += 1_000)
      await store.append('m', 'f.bin', big.subarray(at, at + 1_000), at);
    await store.flush('m', 'f.bin');
    const part = root.file('models/m/f.bin.part')!;
    expect(part.data.length).toBe(big.length);
    // A fixed 1 kB step would reopen 400 times; growing by a quarter needs about 25.
    expect(part.copies).toBeLessThan(30);
  });

  it('commits by copying where FileSystemHandle.move is missing', async () => {
    const root = new FakeDir('', { move: false });
    const store = new OpfsModelStore(async () => root);
    await store.append('m', 'a/b.bin', DATA, 0);
    await store.commit('m', 'a/b.bin');
    expect(root.tree()).toEqual({ 'models/m/a/b.bin': DATA.length });
    expect(sha(await blobBytes(await store.read('m', 'a/b.bin')))).toBe(sha(DATA));
    // Committing again replaces the file.
    await store.append('m', 'a/b.bin', DATA.subarray(0, 3), 0);
    await store.commit('m', 'a/b.bin');
    expect(await store.size('m', 'a/b.bin')).toBe(3);
  });

  it('installs over HTTP into OPFS and resumes after a "reload"', async () => {
    const server = await new TestServer().start();
    try {
      const big = prngBytes(200_000, 5);
      let served = 0;
      server.route('/m/o/onnx/model.onnx', (req, res) => {
        if (served++ === 0) {
          res.writeHead(200, { 'Content-Length': String(big.length) });
          res.write(big.subarray(0, 120_000), () => res.destroy());
          return;
        }
        const from = Number(/bytes=(\d+)-/.exec(req.headers.range ?? '')?.[1] ?? 0);
        res.writeHead(from ? 206 : 200, {
          'Content-Length': String(big.length - from),
          ...(from ? { 'Content-Range': `bytes ${from}-${big.length - 1}/${big.length}` } : {}),
        });
        res.end(big.subarray(from));
      });
      const d = await freshDeps();
      const root = new FakeDir();
      const entry = {
        id: 'o',
        name: 'OPFS model',
        kind: 'tts' as const,
        languages: [],
        sample_rate: 24000,
        licence: 'MIT',
        source: [],
        bundled: false,
        total_bytes: big.length,
        files: [
          {
            path: 'onnx/model.onnx',
            bytes: big.length,
            sha256: sha(big),
            url: server.url('/m/o/onnx/model.onnx'),
          },
        ],
      };
      // The first session only gets a part, and "reloads" (retries 0: the error ends it).
      await expect(
        installModel(entry, {
          ...d,
          store: new OpfsModelStore(async () => root, 32_000),
          retries: 0,
          quota: async () => null,
        }),
      ).rejects.toThrow(/after 1 attempt\b/);
      const partial = root.tree()['models/o/onnx/model.onnx.part'];
      expect(partial).toBeGreaterThan(0);
      const store = new OpfsModelStore(async () => root, 32_000);
      const rec = await installModel(entry, { ...d, store, quota: async () => null });
      expect(server.requestsTo('/m/o/onnx/model.onnx')[1]!.range).toBe(`bytes=${partial}-`);
      expect(rec.files[0]!.sha256).toBe(sha(big));
      expect(root.tree()).toEqual({ 'models/o/onnx/model.onnx': big.length });
    } finally {
      await server.close();
    }
  });
});

describe('CacheModelStore', () => {
  it('keeps the contract, storing whole files at commit and never resuming', async () => {
    const caches = new FakeCacheStorage();
    await contract(new CacheModelStore(caches));
    const store = new CacheModelStore(caches);
    await store.append('m', 'x/y.bin', DATA, 0);
    expect(await store.partialSize('m', 'x/y.bin')).toBe(0);
    expect(caches.caches.get('timbre-models')?.size ?? 0).toBe(0);
    await store.commit('m', 'x/y.bin');
    expect([...caches.caches.get('timbre-models')!.keys()]).toEqual([
      'https://models.timbre.invalid/m/x/y.bin',
    ]);
    expect(await new CacheModelStore(caches).size('m', 'x/y.bin')).toBe(DATA.length);
    await expect(store.append('m', 'z.bin', DATA, 5)).rejects.toThrow(RangeError);
  });
});

describe('MemoryModelStore', () => {
  it('keeps the contract', async () => {
    await contract(new MemoryModelStore());
  });
});

describe('pickModelStore', () => {
  it('prefers OPFS, then Cache Storage, then memory', async () => {
    const root = new FakeDir();
    const opfs = await pickModelStore({ navigator: { storage: { getDirectory: async () => root } } });
    expect(opfs.kind).toBe('opfs');
    expect(root.tree()).toEqual({}); // the probe file is gone

    // An engine with OPFS but without createWritable (older Safari): Cache Storage instead.
    const models = { getFileHandle: async () => ({ kind: 'file' }), removeEntry: async () => undefined };
    const probe = await pickModelStore({
      navigator: { storage: { getDirectory: async () => ({ getDirectoryHandle: async () => models }) } },
      caches: new FakeCacheStorage(),
    });
    expect(probe.kind).toBe('cache');

    const refused = await pickModelStore({
      navigator: { storage: { getDirectory: () => Promise.reject(new DOMException('no', 'SecurityError')) } },
    });
    expect(refused.kind).toBe('memory');
    expect((await pickModelStore({})).kind).toBe('memory');

    // A full disk refuses the probe file, not OPFS: the models installed there must still be found.
    const quota = () => Promise.reject(new DOMException('full', 'QuotaExceededError'));
    const full = await pickModelStore({
      navigator: {
        storage: {
          getDirectory: async () => ({ getDirectoryHandle: async () => ({ getFileHandle: quota }) }),
        },
      },
      caches: new FakeCacheStorage(),
    });
    expect(full.kind).toBe('opfs');
  });
});

describe('streaming SHA-256', () => {
  it('matches node:crypto, in one piece or many', async () => {
    expect(await sha256Hex(DATA)).toBe(sha(DATA));
    const h = new StreamingSha256();
    for (let at = 0; at < DATA.length; at += 777) h.update(DATA.subarray(at, at + 777));
    expect(h.bytes).toBe(DATA.length);
    expect(h.hex()).toBe(sha(DATA));
    expect(await sha256Hex(new Uint8Array(0))).toBe(
      'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
    );
  });

  it('a resumed hash (stored part re-hashed, then the rest) is the hash of the whole file', async () => {
    const store = new MemoryModelStore();
    await store.append('m', 'f', DATA.subarray(0, 12_345), 0);
    const h = await resumeHash(store.readPartial('m', 'f'));
    expect(h.bytes).toBe(12_345);
    h.update(DATA.subarray(12_345));
    expect(h.hex()).toBe(sha(DATA));
    const whole = await hashChunks(
      (async function* () {
        yield DATA;
      })(),
    );
    expect(whole.hex()).toBe(sha(DATA));
  });
});
