// "Import from disk": dropped files (or a folder) matched to a catalogue entry, verified, all or nothing.
import { describe, expect, it } from 'vitest';
import { importModelFiles, matchImportFiles, type ImportFile } from '../../src/lib/models/import-files';
import { listModels } from '../../src/lib/models/inventory';
import {
  ModelImportError,
  ModelIntegrityError,
  ModelQuotaError,
  type CatalogEntry,
} from '../../src/lib/models/types';
import { CancelledError } from '../../src/lib/core/run';
import { blobBytes, freshDeps, prngBytes, sha } from './models-helpers';

const A = prngBytes(300_000, 11);
const B = prngBytes(20_000, 12);
const C = prngBytes(5_000, 13);

function entry(pinned = true): CatalogEntry {
  const file = (path: string, bytes: Uint8Array) => ({
    path,
    bytes: bytes.length,
    sha256: pinned ? sha(bytes) : null,
    url: `https://example.invalid/${path}`,
  });
  return {
    id: 'imp',
    name: 'Import test',
    kind: 'asr',
    languages: [],
    sample_rate: 16000,
    licence: 'MIT',
    source: [],
    bundled: false,
    total_bytes: A.length + B.length + C.length,
    files: [file('onnx/encoder.onnx', A), file('config.json', B), file('voices/af_heart.bin', C)],
  };
}

/** A dropped file as the page hands it over: a Blob with a name and maybe a folder path. */
function dropped(name: string, bytes: Uint8Array<ArrayBuffer>, path?: string): ImportFile {
  const blob = new Blob([bytes]);
  return { name, path, size: blob.size, stream: () => blob.stream() as ReadableStream<Uint8Array> };
}

describe('importModelFiles', () => {
  it('imports a dropped folder, matching by relative path', async () => {
    const d = await freshDeps();
    const files = [
      dropped('encoder.onnx', A, 'my-model/onnx/encoder.onnx'),
      dropped('config.json', B, 'my-model/config.json'),
      dropped('af_heart.bin', C, 'my-model/voices/af_heart.bin'),
      dropped('README.md', prngBytes(10, 1), 'my-model/README.md'),
    ];
    const rec = await importModelFiles(entry(), files, { ...d, now: () => 7, quota: async () => null });
    expect(rec).toMatchObject({ id: 'imp', origin: 'import', installed_at: 7 });
    expect(rec.files.map((f) => [f.path, f.sha256, f.pinned])).toEqual([
      ['onnx/encoder.onnx', sha(A), true],
      ['config.json', sha(B), true],
      ['voices/af_heart.bin', sha(C), true],
    ]);
    expect(sha(await blobBytes(await d.store.read('imp', 'onnx/encoder.onnx')))).toBe(sha(A));
    expect(d.store.list()).toEqual(['imp/config.json', 'imp/onnx/encoder.onnx', 'imp/voices/af_heart.bin']);
    expect(await d.registry.get('imp')).toEqual(rec);
    const [status] = await listModels([entry()], d);
    expect(status).toMatchObject({ installed: true, verified: true, origin: 'import' });
  });

  it('matches loose files by name, and reads files that only offer arrayBuffer()', async () => {
    const d = await freshDeps();
    const files: ImportFile[] = [
      dropped('af_heart.bin', C),
      { name: 'encoder.onnx', size: A.length, arrayBuffer: async () => A.slice().buffer },
      dropped('config.json', B),
    ];
    const rec = await importModelFiles(entry(), files, { ...d, quota: async () => null });
    expect(rec.files.map((f) => f.sha256)).toEqual([sha(A), sha(B), sha(C)]);
  });

  it('names every missing file and imports nothing', async () => {
    const d = await freshDeps();
    const err = await importModelFiles(entry(), [dropped('encoder.onnx', A)], {
      ...d,
      quota: async () => null,
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ModelImportError);
    expect((err as Error).message).toMatch(
      /Missing .*: config\.json, voices\/af_heart\.bin\..*Nothing was imported/,
    );
    expect(d.store.list()).toEqual([]);
    expect(await d.registry.get('imp')).toBeUndefined();
  });

  it('rejects a file whose hash is wrong, keeping none of the others', async () => {
    const d = await freshDeps();
    const badC = C.slice();
    badC[0] = badC[0]! ^ 1;
    const files = [dropped('encoder.onnx', A), dropped('config.json', B), dropped('af_heart.bin', badC)];
    const err = await importModelFiles(entry(), files, { ...d, quota: async () => null }).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(ModelIntegrityError);
    expect((err as Error).message).toMatch(/af_heart\.bin is not voices\/af_heart\.bin .*SHA-256/);
    expect(d.store.list()).toEqual([]);
    expect(await d.store.usage()).toBe(0);
    expect(await d.registry.get('imp')).toBeUndefined();
  });

  it('rejects a file of the wrong size before writing anything', async () => {
    const d = await freshDeps();
    const files = [
      dropped('encoder.onnx', A),
      dropped('config.json', B.subarray(0, 100).slice()),
      dropped('af_heart.bin', C),
    ];
    await expect(importModelFiles(entry(), files, { ...d, quota: async () => null })).rejects.toThrow(
      /config\.json is 100 bytes, but config\.json of Import test is 20000 bytes/,
    );
    expect(d.store.list()).toEqual([]);
  });

  it('records computed hashes, unpinned, when the catalogue has none', async () => {
    const d = await freshDeps();
    const files = [dropped('encoder.onnx', A), dropped('config.json', B), dropped('af_heart.bin', C)];
    const rec = await importModelFiles(entry(false), files, { ...d, quota: async () => null });
    expect(rec.files.every((f) => !f.pinned)).toBe(true);
    expect(rec.files[0]!.sha256).toBe(sha(A));
    const [status] = await listModels([entry(false)], d);
    expect(status).toMatchObject({ installed: true, verified: false });
  });

  it('replaces an installed model only once the new files are all good', async () => {
    const d = await freshDeps();
    const good = [dropped('encoder.onnx', A), dropped('config.json', B), dropped('af_heart.bin', C)];
    const first = await importModelFiles(entry(), good, { ...d, quota: async () => null, now: () => 1 });
    const badA = A.slice();
    badA[5] = badA[5]! ^ 1;
    const bad = [dropped('encoder.onnx', badA), dropped('config.json', B), dropped('af_heart.bin', C)];
    await expect(importModelFiles(entry(), bad, { ...d, quota: async () => null })).rejects.toBeInstanceOf(
      ModelIntegrityError,
    );
    expect(await d.registry.get('imp')).toEqual(first);
    expect(sha(await blobBytes(await d.store.read('imp', 'onnx/encoder.onnx')))).toBe(sha(A));
    expect(d.store.list()).toEqual(['imp/config.json', 'imp/onnx/encoder.onnx', 'imp/voices/af_heart.bin']);
  });

  it('checks the quota before writing', async () => {
    const d = await freshDeps();
    const files = [dropped('encoder.onnx', A), dropped('config.json', B), dropped('af_heart.bin', C)];
    await expect(
      importModelFiles(entry(), files, { ...d, quota: async () => ({ usage: 0, quota: 1000 }) }),
    ).rejects.toThrow(ModelQuotaError);
    expect(d.store.list()).toEqual([]);
  });

  it('stops when cancelled and leaves nothing', async () => {
    const d = await freshDeps();
    const ac = new AbortController();
    const files = [dropped('encoder.onnx', A), dropped('config.json', B), dropped('af_heart.bin', C)];
    const p = importModelFiles(entry(), files, {
      ...d,
      signal: ac.signal,
      quota: async () => null,
      progressIntervalMs: 0,
      onProgress: (e) => {
        if (e.file === 'config.json') ac.abort();
      },
    });
    await expect(p).rejects.toBeInstanceOf(CancelledError);
    expect(d.store.list()).toEqual([]);
  });
});

describe('matchImportFiles', () => {
  it('prefers the exact relative path over deeper ones, and reports ambiguity', () => {
    const e = entry();
    const m = matchImportFiles(e, [
      dropped('encoder.onnx', A, 'm/onnx/encoder.onnx'),
      dropped('config.json', B, 'm/config.json'),
      dropped('config.json', B, 'm/sub/config.json'),
      dropped('af_heart.bin', C, 'm/voices/af_heart.bin'),
    ]);
    expect(m.get('config.json')!.path).toBe('m/config.json');

    expect(() =>
      matchImportFiles(e, [
        dropped('encoder.onnx', A),
        dropped('config.json', B, 'a/config.json'),
        dropped('config.json', B, 'b/config.json'),
        dropped('af_heart.bin', C),
      ]),
    ).toThrow(/More than one dropped file could be config\.json \(a\/config\.json, b\/config\.json\)/);
  });

  it('breaks a name tie by the pinned size', () => {
    const m = matchImportFiles(entry(), [
      dropped('encoder.onnx', A),
      dropped('config.json', prngBytes(7, 1)),
      dropped('config.json', B),
      dropped('af_heart.bin', C),
    ]);
    expect(m.get('config.json')!.size).toBe(B.length);
  });

  it('accepts Windows-style separators', () => {
    const m = matchImportFiles(entry(), [
      dropped('encoder.onnx', A, 'model\\onnx\\encoder.onnx'),
      dropped('config.json', B, 'model\\config.json'),
      dropped('af_heart.bin', C, 'model\\voices\\af_heart.bin'),
    ]);
    expect(m.size).toBe(3);
  });
});
