// Installing models over real HTTP (node:http on 127.0.0.1, global fetch): progress, resume, retries,
// integrity, quota and cancellation.
import { describe, expect, it } from 'vitest';
import { installModel } from '../../src/lib/models/install';
import { listModels } from '../../src/lib/models/inventory';
import {
  ModelDownloadError,
  ModelIntegrityError,
  ModelQuotaError,
  type InstallProgress,
} from '../../src/lib/models/types';
import { CancelledError } from '../../src/lib/core/run';
import { MemoryModelStore } from '../../src/lib/models/store';
import { blobBytes, entryFor, freshDeps, prngBytes, serve, sha, FAST, useTestServer } from './models-helpers';

const BIG = prngBytes(300_000, 1);
const SMALL = prngBytes(40_000, 2);
const servers = useTestServer();

describe('installModel', () => {
  it('downloads every file with streaming progress, verifies, stores and records the model', async () => {
    const d = await freshDeps();
    servers.current.route('/m/m1/model.bin', (req, res) =>
      serve(req, res, BIG, { chunk: 16_384, delayMs: 4 }),
    );
    const entry = entryFor(servers.current, 'm1', [
      { path: 'model.bin', bytes: BIG },
      { path: 'voices/af_heart.bin', bytes: SMALL },
    ]);
    const events: InstallProgress[] = [];
    const rec = await installModel(entry, {
      ...d,
      ...FAST,
      progressIntervalMs: 10,
      now: () => 1234,
      onProgress: (p) => events.push(p),
    });

    expect(rec).toMatchObject({ id: 'm1', origin: 'download', installed_at: 1234 });
    expect(rec.files).toEqual([
      { path: 'model.bin', bytes: BIG.length, sha256: sha(BIG), verified_at: 1234, pinned: true },
      {
        path: 'voices/af_heart.bin',
        bytes: SMALL.length,
        sha256: sha(SMALL),
        verified_at: 1234,
        pinned: true,
      },
    ]);
    expect(await d.registry.get('m1')).toEqual(rec);
    expect(sha(await blobBytes(await d.store.read('m1', 'model.bin')))).toBe(sha(BIG));
    expect(sha(await blobBytes(await d.store.read('m1', 'voices/af_heart.bin')))).toBe(sha(SMALL));
    expect(d.store.list()).toEqual(['m1/model.bin', 'm1/voices/af_heart.bin']);

    const downloads = events.filter((e) => e.stage === 'download');
    expect(downloads.length).toBeGreaterThan(3);
    const total = BIG.length + SMALL.length;
    for (const [i, e] of events.entries()) {
      if (i > 0 && e.stage !== 'check') expect(e.done).toBeGreaterThanOrEqual(events[i - 1]!.done);
      expect(e.done).toBeLessThanOrEqual(Math.max(e.total, total));
    }
    for (const e of downloads) {
      expect(e.total).toBe(total);
      expect(e.fileTotal).toBe(e.file === 'model.bin' ? BIG.length : SMALL.length);
      expect(e.fileDone).toBeLessThanOrEqual(e.fileTotal);
      expect(e.message).toMatch(/^Downloading /);
    }
    const timed = downloads.filter((e) => e.bytesPerSecond > 0 && typeof e.etaSeconds === 'number');
    expect(timed.length).toBeGreaterThan(0);
    expect(timed.every((e) => e.etaSeconds! >= 0)).toBe(true);
    const last = events.at(-1)!;
    expect(last).toMatchObject({ stage: 'done', done: total, total, etaSeconds: 0 });

    // Installed: a second install asks the server nothing.
    const before = servers.current.seen.length;
    expect(await installModel(entry, { ...d, ...FAST })).toEqual(rec);
    expect(servers.current.seen.length).toBe(before);
    const [status] = await listModels([entry], d);
    expect(status).toMatchObject({ installed: true, verified: true, bytes_on_disk: total, partial_bytes: 0 });
  });

  it('resumes with a Range request after the server drops the connection mid-file', async () => {
    const d = await freshDeps();
    servers.current.route('/m/r/model.bin', (req, res, n) =>
      serve(req, res, BIG, n === 0 ? { dropAfter: 150_000 } : {}),
    );
    const entry = entryFor(servers.current, 'r', [{ path: 'model.bin', bytes: BIG }]);
    const rec = await installModel(entry, { ...d, ...FAST });

    const reqs = servers.current.requestsTo('/m/r/model.bin');
    expect(reqs).toHaveLength(2);
    expect(reqs[0]!.range).toBeUndefined();
    const m = /^bytes=(\d+)-$/.exec(reqs[1]!.range ?? '');
    expect(m, `second request's Range: ${reqs[1]!.range}`).not.toBeNull();
    const from = Number(m![1]);
    expect(from).toBeGreaterThan(0);
    expect(from).toBeLessThanOrEqual(150_000);
    expect(rec.files[0]!.sha256).toBe(sha(BIG));
    expect(sha(await blobBytes(await d.store.read('r', 'model.bin')))).toBe(sha(BIG));
  });

  it('resumes a partial file left by an earlier session, hashing the stored bytes again', async () => {
    const d = await freshDeps();
    await d.store.append('p', 'model.bin', BIG.subarray(0, 100_000), 0);
    const entry = entryFor(servers.current, 'p', [{ path: 'model.bin', bytes: BIG }]);
    const rec = await installModel(entry, { ...d, ...FAST });
    expect(servers.current.requestsTo('/m/p/model.bin').map((r) => r.range)).toEqual(['bytes=100000-']);
    expect(rec.files[0]!.sha256).toBe(sha(BIG));
    expect(sha(await blobBytes(await d.store.read('p', 'model.bin')))).toBe(sha(BIG));
  });

  it('starts the file over when the server ignores the Range (200), and the result is still right', async () => {
    const d = await freshDeps();
    servers.current.route('/m/i/model.bin', (req, res, n) =>
      serve(req, res, BIG, { ignoreRange: true, ...(n === 0 ? { dropAfter: 120_000 } : {}) }),
    );
    const entry = entryFor(servers.current, 'i', [{ path: 'model.bin', bytes: BIG }]);
    const rec = await installModel(entry, { ...d, ...FAST });
    const reqs = servers.current.requestsTo('/m/i/model.bin');
    expect(reqs).toHaveLength(2);
    expect(reqs[1]!.range).toMatch(/^bytes=\d+-$/);
    expect(rec.files[0]).toMatchObject({ bytes: BIG.length, sha256: sha(BIG) });
    expect(sha(await blobBytes(await d.store.read('i', 'model.bin')))).toBe(sha(BIG));
  });

  it('treats 416 on a whole partial as complete (size not pinned) and records the computed hash', async () => {
    const d = await freshDeps();
    await d.store.append('w', 'model.bin', SMALL, 0);
    const entry = entryFor(servers.current, 'w', [{ path: 'model.bin', bytes: SMALL }], {
      pinned: false,
      sizes: false,
    });
    const rec = await installModel(entry, { ...d, ...FAST });
    expect(servers.current.requestsTo('/m/w/model.bin').map((r) => r.range)).toEqual([
      `bytes=${SMALL.length}-`,
    ]);
    expect(rec.files[0]).toMatchObject({ bytes: SMALL.length, sha256: sha(SMALL), pinned: false });
    const [status] = await listModels([entry], d);
    expect(status).toMatchObject({ installed: true, verified: false });
  });

  it('rejects corrupt bytes with ModelIntegrityError and keeps nothing', async () => {
    const d = await freshDeps();
    const bad = BIG.slice();
    bad[123_456] = bad[123_456]! ^ 0xff;
    servers.current.route('/m/c/model.bin', bad);
    const entry = entryFor(servers.current, 'c', [{ path: 'model.bin', bytes: BIG }]);
    const err = await installModel(entry, { ...d, ...FAST }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ModelIntegrityError);
    expect((err as Error).message).toMatch(/model\.bin does not match its pinned SHA-256.*discarded/);
    expect(d.store.list()).toEqual([]);
    expect(await d.store.usage()).toBe(0);
    expect(await d.registry.get('c')).toBeUndefined();
    expect(servers.current.requestsTo('/m/c/model.bin')).toHaveLength(1); // not retried: the bytes are wrong
  });

  it('rejects a file whose size differs from the pinned one before reading it all', async () => {
    const d = await freshDeps();
    servers.current.route('/m/s/model.bin', prngBytes(BIG.length + 10, 1));
    const entry = entryFor(servers.current, 's', [{ path: 'model.bin', bytes: BIG }]);
    await expect(installModel(entry, { ...d, ...FAST })).rejects.toThrow(
      /is 300010 bytes on the server, but 300000 are pinned/,
    );
    expect(d.store.list()).toEqual([]);
    expect(await d.registry.get('s')).toBeUndefined();
  });

  it('retries a body shorter than its Content-Length, then fails naming the URL', async () => {
    const d = await freshDeps();
    // Always half the file, and never honouring the Range: no attempt gets further than the last.
    servers.current.route('/m/t/model.bin', (req, res) =>
      serve(req, res, BIG, { ignoreRange: true, dropAfter: 150_000 }),
    );
    const entry = entryFor(servers.current, 't', [{ path: 'model.bin', bytes: BIG }]);
    const err = await installModel(entry, { ...d, ...FAST, retries: 2 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ModelDownloadError);
    expect((err as ModelDownloadError).url).toBe(servers.current.url('/m/t/model.bin'));
    expect((err as Error).message).toContain(servers.current.url('/m/t/model.bin'));
    expect((err as Error).message).toMatch(/after 3 attempts/);
    expect(servers.current.requestsTo('/m/t/model.bin')).toHaveLength(3);
    expect(await d.registry.get('t')).toBeUndefined();
  });

  it('fails at once on HTTP 404 with ModelDownloadError naming the status', async () => {
    const d = await freshDeps();
    const entry = entryFor(servers.current, 'nf', [{ path: 'model.bin', bytes: SMALL }]);
    entry.files[0]!.url = servers.current.url('/missing/model.bin');
    const err = await installModel(entry, { ...d, ...FAST }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ModelDownloadError);
    expect((err as ModelDownloadError).status).toBe(404);
    expect((err as Error).message).toMatch(/HTTP 404/);
    expect((err as Error).message).toContain('/missing/model.bin');
    expect(servers.current.requestsTo('/missing/model.bin')).toHaveLength(1);
  });

  it('retries 503 with backoff and succeeds', async () => {
    const d = await freshDeps();
    servers.current.route('/m/u/model.bin', (req, res, n) => {
      if (n < 2) {
        res.writeHead(503);
        res.end();
        return;
      }
      return serve(req, res, SMALL);
    });
    const entry = entryFor(servers.current, 'u', [{ path: 'model.bin', bytes: SMALL }]);
    const t0 = Date.now();
    const rec = await installModel(entry, { ...d, ...FAST, backoffMs: 20 });
    expect(Date.now() - t0).toBeGreaterThanOrEqual(55); // 20 + 40 ms of backoff
    expect(rec.files[0]!.sha256).toBe(sha(SMALL));
    expect(servers.current.requestsTo('/m/u/model.bin')).toHaveLength(3);
  });

  it('gives up on a stalled connection and retries it', async () => {
    const d = await freshDeps();
    servers.current.route('/m/st/model.bin', (req, res, n) =>
      serve(req, res, BIG, n === 0 ? { stallAfter: 50_000 } : {}),
    );
    const entry = entryFor(servers.current, 'st', [{ path: 'model.bin', bytes: BIG }]);
    const rec = await installModel(entry, { ...d, ...FAST, stallMs: 150 });
    expect(rec.files[0]!.sha256).toBe(sha(BIG));
    const reqs = servers.current.requestsTo('/m/st/model.bin');
    expect(reqs).toHaveLength(2);
    expect(reqs[1]!.range).toMatch(/^bytes=[1-9]\d*-$/);
  });

  it('refuses with ModelQuotaError before any request when the space is short', async () => {
    const d = await freshDeps();
    const entry = entryFor(servers.current, 'q', [
      { path: 'model.bin', bytes: BIG },
      { path: 'voices/af_heart.bin', bytes: SMALL },
    ]);
    const err = await installModel(entry, {
      ...d,
      ...FAST,
      quota: async () => ({ usage: 900_000, quota: 1_000_000 }),
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ModelQuotaError);
    expect((err as Error).message).toMatch(/needs 340\.0 kB, 100\.0 kB free/);
    expect((err as ModelQuotaError).needed).toBe(340_000);
    expect((err as ModelQuotaError).available).toBe(100_000);
    expect(servers.current.seen).toHaveLength(0);
    expect(d.store.list()).toEqual([]);
  });

  it('counts bytes already downloaded when checking the quota', async () => {
    const d = await freshDeps();
    await d.store.append('qq', 'model.bin', BIG.subarray(0, 250_000), 0);
    const entry = entryFor(servers.current, 'qq', [{ path: 'model.bin', bytes: BIG }]);
    const rec = await installModel(entry, {
      ...d,
      ...FAST,
      quota: async () => ({ usage: 0, quota: 60_000 }),
    });
    expect(rec.files[0]!.sha256).toBe(sha(BIG));
  });

  it('cancels promptly, keeps the partial, and a later install resumes from it', async () => {
    const d = await freshDeps();
    servers.current.route('/m/x/model.bin', (req, res, n) =>
      serve(req, res, BIG, n === 0 ? { chunk: 8_192, delayMs: 25 } : {}),
    );
    const entry = entryFor(servers.current, 'x', [{ path: 'model.bin', bytes: BIG }]);
    const ac = new AbortController();
    let abortedAt = 0;
    const err = await installModel(entry, {
      ...d,
      ...FAST,
      signal: ac.signal,
      progressIntervalMs: 0,
      onProgress: (p) => {
        if (p.fileDone >= 40_000 && !abortedAt) {
          abortedAt = Date.now();
          ac.abort();
        }
      },
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CancelledError);
    expect(Date.now() - abortedAt).toBeLessThan(200);
    const partial = await d.store.partialSize('x', 'model.bin');
    expect(partial).toBeGreaterThanOrEqual(40_000);
    expect(partial).toBeLessThan(BIG.length);
    expect(await d.registry.get('x')).toBeUndefined();

    const rec = await installModel(entry, { ...d, ...FAST });
    expect(servers.current.requestsTo('/m/x/model.bin').map((r) => r.range)).toEqual([
      undefined,
      `bytes=${partial}-`,
    ]);
    expect(rec.files[0]!.sha256).toBe(sha(BIG));
  });

  it('does nothing when cancelled before it starts', async () => {
    const d = await freshDeps();
    const entry = entryFor(servers.current, 'y', [{ path: 'model.bin', bytes: SMALL }]);
    const ac = new AbortController();
    ac.abort();
    await expect(installModel(entry, { ...d, ...FAST, signal: ac.signal })).rejects.toBeInstanceOf(
      CancelledError,
    );
    expect(servers.current.seen).toHaveLength(0);
  });

  it('a cancel during the backoff wait ends the install at once', async () => {
    const d = await freshDeps();
    servers.current.route('/m/b/model.bin', (_req, res) => {
      res.writeHead(503);
      res.end();
    });
    const entry = entryFor(servers.current, 'b', [{ path: 'model.bin', bytes: SMALL }]);
    const ac = new AbortController();
    const p = installModel(entry, { ...d, ...FAST, backoffMs: 10_000, signal: ac.signal });
    await new Promise((r) => setTimeout(r, 100));
    const t0 = Date.now();
    ac.abort();
    await expect(p).rejects.toBeInstanceOf(CancelledError);
    expect(Date.now() - t0).toBeLessThan(100);
  });

  it('after a failed file, verified files of the model are kept and the next install only fetches the rest', async () => {
    const d = await freshDeps();
    servers.current.route('/m/k/b.bin', (req, res, n) => {
      if (n === 0) {
        res.writeHead(500);
        res.end();
        return;
      }
      return serve(req, res, SMALL);
    });
    const entry = entryFor(servers.current, 'k', [
      { path: 'a.bin', bytes: BIG },
      { path: 'b.bin', bytes: SMALL },
    ]);
    await expect(installModel(entry, { ...d, ...FAST, retries: 0 })).rejects.toBeInstanceOf(
      ModelDownloadError,
    );
    expect(await d.registry.get('k')).toBeUndefined();
    expect(await d.store.size('k', 'a.bin')).toBe(BIG.length);
    const rec = await installModel(entry, { ...d, ...FAST });
    expect(servers.current.requestsTo('/m/k/a.bin')).toHaveLength(1);
    expect(rec.files.map((f) => f.sha256)).toEqual([sha(BIG), sha(SMALL)]);
  });

  it('records an unpinned file with the hash it computed', async () => {
    const d = await freshDeps();
    const entry = entryFor(servers.current, 'un', [{ path: 'model.bin', bytes: SMALL }], {
      pinned: false,
      sizes: false,
    });
    const events: InstallProgress[] = [];
    const rec = await installModel(entry, { ...d, ...FAST, onProgress: (p) => events.push(p) });
    expect(rec.files[0]).toMatchObject({ bytes: SMALL.length, sha256: sha(SMALL), pinned: false });
    expect(events.at(-1)).toMatchObject({ stage: 'done', done: SMALL.length, total: SMALL.length });
  });

  it('works with a store that cannot resume (Cache Storage semantics)', async () => {
    const d = await freshDeps();
    const store = new MemoryModelStore();
    // A store whose partial size is always 0, like CacheModelStore.
    const noResume = Object.assign(Object.create(store) as MemoryModelStore, {
      partialSize: async () => 0,
    });
    servers.current.route('/m/nr/model.bin', (req, res, n) =>
      serve(req, res, BIG, n === 0 ? { dropAfter: 100_000 } : {}),
    );
    const entry = entryFor(servers.current, 'nr', [{ path: 'model.bin', bytes: BIG }]);
    const rec = await installModel(entry, { ...d, store: noResume, ...FAST });
    expect(servers.current.requestsTo('/m/nr/model.bin').map((r) => r.range)).toEqual([undefined, undefined]);
    expect(rec.files[0]!.sha256).toBe(sha(BIG));
    expect(sha(await blobBytes(await store.read('nr', 'model.bin')))).toBe(sha(BIG));
  });
});
