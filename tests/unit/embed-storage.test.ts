// Issue #20: what the embed on another site relies on. The studio's database opened through another
// IDBFactory (a Storage Access handle's), and installed models read across a boundary (the engine
// worker reading through its page) as if from the local store, with writes refused by name.
import 'fake-indexeddb/auto';
import { describe, expect, it } from 'vitest';
import { IDBFactory } from 'fake-indexeddb';
import { openTimbreDB, DB_VERSION } from '../../src/lib/storage/db';
import { ModelRegistry } from '../../src/lib/storage/models';
import { KeyStore } from '../../src/lib/storage/keys';
import { MemoryModelStore } from '../../src/lib/models/store';
import { installedModelFiles } from '../../src/lib/models/files';
import { modelFilesFrom, modelFilesSource, type ModelFilesSource } from '../../src/lib/models/source';
import { isCrossSite, siteOf } from '../../src/lib/embed/site';

describe('openTimbreDB over a given IndexedDB', () => {
  it('migrates and uses that factory, not the global one', async () => {
    const studio = new IDBFactory();
    const db = await openTimbreDB(undefined, studio);
    expect(db.version).toBe(DB_VERSION);
    const { secret } = await new KeyStore(db).create({ name: 'k', now: 1, allowed_origins: ['http://x'] });
    // The same factory opened again (the embed's handle) sees the key; another (its partition) does not.
    const again = await openTimbreDB(undefined, studio);
    expect((await new KeyStore(again).verify(secret))?.allowed_origins).toEqual(['http://x']);
    const other = await openTimbreDB(undefined, new IDBFactory());
    expect(await new KeyStore(other).verify(secret)).toBeUndefined();
    // Presets are seeded by the first migration there too.
    expect(await other.count('voices')).toBe(54);
    for (const d of [db, again, other]) d.close();
  });
});

/** A source as the worker sees it through comlink: every value structured-cloned, only an error's name and
 * message kept. */
function acrossBoundary(s: ModelFilesSource): ModelFilesSource {
  const cross =
    <A extends unknown[], R>(f: (...a: A) => Promise<R>) =>
    async (...a: A): Promise<R> => {
      try {
        return structuredClone(await f(...a));
      } catch (e) {
        const plain = new Error((e as Error).message);
        plain.name = (e as Error).name;
        throw plain;
      }
    };
  return {
    get: cross(s.get),
    list: cross(s.list),
    read: cross(s.read),
    size: cross(s.size),
    kind: cross(s.kind),
  };
}

describe('installed models read through a source', () => {
  async function studioFiles() {
    const db = await openTimbreDB(undefined, new IDBFactory());
    const store = new MemoryModelStore();
    await store.append('kokoro-82m-q8', 'model.onnx', new Uint8Array([1, 2, 3, 4]), 0);
    await store.commit('kokoro-82m-q8', 'model.onnx');
    const registry = new ModelRegistry(db);
    await registry.put({
      id: 'kokoro-82m-q8',
      files: [{ path: 'model.onnx', bytes: 4, sha256: 'x', verified_at: 1, pinned: false }],
      installed_at: 1,
      origin: 'bundled',
    });
    return { registry, store };
  }

  it('reads the bytes the studio installed, and says what is missing as the local store does', async () => {
    const files = modelFilesFrom(acrossBoundary(modelFilesSource(await studioFiles())), 'memory');
    const read = await installedModelFiles('kokoro-82m-q8', 'Kokoro', files);
    expect([...(await read('model.onnx'))]).toEqual([1, 2, 3, 4]);
    expect((await files.registry.list()).map((m) => m.id)).toEqual(['kokoro-82m-q8']);
    await expect(installedModelFiles('whisper-tiny-q8', 'Whisper tiny', files)).rejects.toMatchObject({
      name: 'ModelNotInstalledError',
    });
    await expect(files.store.read('kokoro-82m-q8', 'voices/af_x.bin')).rejects.toMatchObject({
      name: 'ModelNotFoundError',
    });
  });

  it('refuses to install or remove, saying where to do it', async () => {
    const files = modelFilesFrom(modelFilesSource(await studioFiles()), 'opfs');
    await expect(files.store.append('m', 'a', new Uint8Array(1), 0)).rejects.toThrow(/in the studio itself/);
    await expect(files.registry.delete('kokoro-82m-q8')).rejects.toMatchObject({
      name: 'ModelNotInstalledError',
    });
    expect(files.store.kind).toBe('opfs');
  });
});

describe('which embedding pages are on another site', () => {
  it('tells sites apart by scheme and registrable domain, not by port', () => {
    expect(isCrossSite('http://127.0.0.1:4311', 'http://127.0.0.1:4310')).toBe(false);
    expect(isCrossSite('http://localhost:4311', 'http://127.0.0.1:4310')).toBe(true);
    expect(isCrossSite('https://blog.example.com', 'https://studio.example.com')).toBe(false);
    expect(isCrossSite('https://example.org', 'https://example.com')).toBe(true);
    expect(isCrossSite('http://example.com', 'https://example.com')).toBe(true);
    expect(siteOf('https://a.b.example.com:8443')).toBe('https://example.com');
  });
});
