// Honest labels for the converter's install (#21): an unreachable release site is said as such (with the
// import offered), a download from the official release is verified against the published files, and a
// checkpoint whose shapes are not the published weights installs with a note saying so.
import 'fake-indexeddb/auto';
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as ort from 'onnxruntime-web';
import { describe, expect, it, vi } from 'vitest';
import { MemoryModelStore } from '../../src/lib/models/store';
import type { InstalledModel } from '../../src/lib/storage/records';
import type { CloneDeps } from '../../src/lib/clone/deps';
import { runCloneInstall } from '../../src/lib/clone/install';
import { NOT_PUBLISHED_NOTE, PUBLISHED_V2 } from '../../src/lib/clone/contract';
import { isPublishedV2Shape, PUBLISHED_V2_SHAPE } from '../../src/lib/openvoice';
import { OFFICIAL_RELEASE_URL } from '../../src/lib/ui/clone-report';

vi.setConfig({ testTimeout: 300_000 });

const dir = join(import.meta.dirname, '..', 'fixtures', 'openvoice-v2-tiny');
const read = async (n: string) => new Uint8Array(await readFile(join(dir, n)));

function deps(fetch: typeof globalThis.fetch): CloneDeps & { records: Map<string, InstalledModel> } {
  const records = new Map<string, InstalledModel>();
  return {
    records,
    registry: { get: async (id) => records.get(id), put: async (r) => void records.set(r.id, r) },
    store: new MemoryModelStore(),
    ort,
    fetch,
    vadModel: async () => null,
  };
}

const failure = async (p: Promise<unknown>) => {
  try {
    await p;
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected a failure');
};

describe('installing the converter from the release URL', () => {
  it('with no network says the site could not be reached and offers the import, not "no config.json"', async () => {
    const offline = (async () => {
      throw new TypeError('Failed to fetch');
    }) as typeof fetch;
    const d = deps(offline);
    const e = await failure(runCloneInstall({ source: { kind: 'url', base: OFFICIAL_RELEASE_URL } }, {}, d));
    expect(e.message).toMatch(/^huggingface\.co could not be reached/);
    expect(e.message).toMatch(/Install from files/);
    expect(e.message).not.toMatch(/No converter\/config\.json/);
    expect(d.records.size).toBe(0);
  });

  it('a site that answers without the files still says which files are missing', async () => {
    const d = deps((async () => new Response('no', { status: 404 })) as typeof fetch);
    const e = await failure(runCloneInstall({ source: { kind: 'url', base: 'http://mirror.test/' } }, {}, d));
    expect(e.message).toMatch(/No converter\/config\.json \(v2\)/);
  });

  it('files from the official release are checked against the published ones (size and SHA-256)', async () => {
    const files: Record<string, Uint8Array> = {
      'converter/config.json': await read('config.json'),
      'converter/checkpoint.pth': await read('checkpoint.pth'),
    };
    const d = deps((async (url: string) => {
      const path = String(url).slice(PUBLISHED_V2.base.length);
      const b = files[path];
      return b ? new Response(b as Uint8Array<ArrayBuffer>) : new Response('no', { status: 404 });
    }) as typeof fetch);
    const e = await failure(runCloneInstall({ source: { kind: 'url', base: PUBLISHED_V2.base } }, {}, d));
    expect(e.name).toBe('ModelIntegrityError');
    expect(e.message).toMatch(/converter\/config\.json from the release is not the published file/);
    expect(d.records.size).toBe(0);
  });

  it('the catalogue pins the published V2 files', () => {
    const catalog = JSON.parse(
      readFileSync(new URL('../../public/models/catalog.json', import.meta.url), 'utf8'),
    ) as {
      models: { id: string; total_bytes: number; files: { path: string; bytes: number; sha256: string }[] }[];
    };
    const v2 = catalog.models.find((m) => m.id === 'openvoice-v2-converter')!;
    expect(v2.files.map((f) => ({ path: f.path, bytes: f.bytes, sha256: f.sha256 }))).toEqual([
      {
        path: 'converter/config.json',
        bytes: 838,
        sha256: '9dfff60350b8c63f2c664efd92a61b2516efb22671466960f0e5dfebd881fa47',
      },
      {
        path: 'converter/checkpoint.pth',
        bytes: 131_320_490,
        sha256: '9652c27e92b6b2a91632590ac9962ef7ae2b712e5c5b7f4c34ec55ee2b37ab9e',
      },
    ]);
    expect(v2.total_bytes).toBe(131_321_328);
    for (const f of v2.files)
      expect(PUBLISHED_V2.files[f.path]).toEqual({ bytes: f.bytes, sha256: f.sha256 });
  });
});

describe('the published weights', () => {
  it('only the published V2 shape counts as the published weights', () => {
    expect(isPublishedV2Shape(PUBLISHED_V2_SHAPE)).toBe(true);
    expect(isPublishedV2Shape({ tensors: 486, parameters: 32_792_225 })).toBe(false);
    expect(isPublishedV2Shape({ tensors: 485, parameters: 32_792_226 })).toBe(false);
  });

  it('a fixture checkpoint installs, with the "not the published weights" note', async () => {
    const d = deps((async () => new Response('no', { status: 404 })) as typeof fetch);
    const r = await runCloneInstall(
      {
        source: {
          kind: 'files',
          config: new TextDecoder().decode(await read('config.json')),
          checkpoint: await read('checkpoint.pth'),
        },
      },
      {},
      d,
    );
    expect(r.built).toBe(true);
    expect(r.weightsNote).toBe(NOT_PUBLISHED_NOTE);
    expect(r.weightsNote).toMatch(/not the published weights/);
    expect(d.records.get(r.id)).toBeDefined();
  });
});
