// Shared pieces of the model manager tests: a real HTTP server on 127.0.0.1 whose behaviour each test
// scripts, generated files with their SHA-256, catalogue entries, and in-memory fakes of OPFS and Cache
// Storage (structural, as the stores see them).
import 'fake-indexeddb/auto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createHash } from 'node:crypto';
import { openTimbreDB } from '../../src/lib/storage/db';
import { ModelRegistry } from '../../src/lib/storage/models';
import { MemoryModelStore } from '../../src/lib/models/store';
import type {
  CacheLike,
  CacheStorageLike,
  OpfsDirHandle,
  OpfsFileHandle,
  OpfsSyncHandle,
  OpfsWritable,
} from '../../src/lib/models/store';
import type { CatalogEntry } from '../../src/lib/models/types';
import { afterEach, beforeEach } from 'vitest';
import { mulberry32, sleep } from './test-utils';

/** `n` bytes from a seeded PRNG. */
export function prngBytes(n: number, seed: number): Uint8Array<ArrayBuffer> {
  const rnd = mulberry32(seed);
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = Math.floor(rnd() * 256);
  return out;
}

export const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

export interface Seen {
  path: string;
  range: string | undefined;
}

/** What a scripted route does with one request; `n` counts requests to this path, from 0. */
export type Behaviour = (req: IncomingMessage, res: ServerResponse, n: number) => void | Promise<void>;

export interface ServeOpts {
  chunk?: number;
  delayMs?: number;
  ignoreRange?: boolean;
  /** Destroy the connection after this many body bytes (Content-Length still says the full length). */
  dropAfter?: number;
  /** Stop sending after this many bytes and keep the connection open (a stall). */
  stallAfter?: number;
}

/** Serves `body`, honouring `Range: bytes=N-` unless told not to, in chunks with optional delays. */
export async function serve(
  req: IncomingMessage,
  res: ServerResponse,
  body: Uint8Array,
  o: ServeOpts = {},
): Promise<void> {
  const chunk = o.chunk ?? 16 * 1024;
  let start = 0;
  const m = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
  if (m && !o.ignoreRange) {
    start = Number(m[1]);
    if (start >= body.length) {
      res.writeHead(416, { 'Content-Range': `bytes */${body.length}` });
      res.end();
      return;
    }
    res.writeHead(206, {
      'Content-Range': `bytes ${start}-${body.length - 1}/${body.length}`,
      'Content-Length': String(body.length - start),
      'Content-Type': 'application/octet-stream',
    });
  } else {
    res.writeHead(200, { 'Content-Length': String(body.length), 'Content-Type': 'application/octet-stream' });
  }
  let sent = 0;
  for (let at = start; at < body.length; at += chunk) {
    if (res.destroyed) return;
    let piece = body.subarray(at, Math.min(body.length, at + chunk));
    const limit = o.dropAfter ?? o.stallAfter;
    if (limit !== undefined && sent + piece.length > limit) piece = piece.subarray(0, limit - sent);
    if (piece.length) await new Promise<void>((r) => res.write(piece, () => r()));
    sent += piece.length;
    if (o.dropAfter !== undefined && sent >= o.dropAfter) {
      res.destroy();
      return;
    }
    if (o.stallAfter !== undefined && sent >= o.stallAfter) return; // never ends; the client gives up
    if (o.delayMs) await sleep(o.delayMs);
  }
  res.end();
}

export class TestServer {
  readonly seen: Seen[] = [];
  private routes = new Map<string, { behaviour: Behaviour; n: number }>();
  private server: Server | null = null;
  base = '';

  /** Scripts `path`; a plain Uint8Array serves it normally. */
  route(path: string, what: Behaviour | Uint8Array): this {
    const behaviour: Behaviour = what instanceof Uint8Array ? (req, res) => serve(req, res, what) : what;
    this.routes.set(path, { behaviour, n: 0 });
    return this;
  }

  hasRoute(path: string): boolean {
    return this.routes.has(path);
  }

  url(path: string): string {
    return this.base + path;
  }

  requestsTo(path: string): Seen[] {
    return this.seen.filter((s) => s.path === path);
  }

  async start(): Promise<this> {
    this.server = createServer((req, res) => {
      const path = new URL(req.url ?? '/', 'http://x').pathname;
      this.seen.push({ path, range: req.headers.range });
      const r = this.routes.get(path);
      if (!r) {
        res.writeHead(404, { 'Content-Type': 'text/plain' });
        res.end('not found');
        return;
      }
      const n = r.n++;
      Promise.resolve(r.behaviour(req, res, n)).catch(() => res.destroy());
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.base = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  async close(): Promise<void> {
    if (!this.server) return;
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server!.close(() => resolve()));
    this.server = null;
  }
}

let dbn = 0;

/** A fresh database (fake-indexeddb), registry and memory store. */
export async function freshDeps() {
  const db = await openTimbreDB(`models-${process.pid}-${++dbn}`);
  return { db, registry: new ModelRegistry(db), store: new MemoryModelStore() };
}

export interface TestFile {
  path: string;
  bytes: Uint8Array<ArrayBuffer>;
}

/** A catalogue entry for `files` served by `server` under /m/<id>/<path>; pinned unless told otherwise. */
export function entryFor(
  server: TestServer,
  id: string,
  files: TestFile[],
  opts: { pinned?: boolean; sizes?: boolean; bundled?: boolean; required?: boolean } = {},
): CatalogEntry {
  const pinned = opts.pinned ?? true;
  const sizes = opts.sizes ?? true;
  for (const f of files)
    if (!server.hasRoute(`/m/${id}/${f.path}`)) server.route(`/m/${id}/${f.path}`, f.bytes);
  return {
    id,
    name: `Test model ${id}`,
    kind: 'tts',
    languages: ['en'],
    sample_rate: 24000,
    licence: 'MIT',
    source: ['test'],
    bundled: opts.bundled ?? false,
    required: opts.required,
    total_bytes: sizes ? files.reduce((a, f) => a + f.bytes.length, 0) : null,
    files: files.map((f) => ({
      path: f.path,
      bytes: sizes ? f.bytes.length : null,
      sha256: pinned ? sha(f.bytes) : null,
      url: server.url(`/m/${id}/${f.path}`),
    })),
  };
}

export async function blobBytes(b: Blob): Promise<Uint8Array> {
  return new Uint8Array(await b.arrayBuffer());
}

// ---------------------------------------------------------------------------------------------------------
// A fake Origin Private File System with the semantics the store relies on: a writable works on a copy
// that replaces the file only on close(); abort() drops it.

const notFound = (name: string) => new DOMException(`${name} was not found`, 'NotFoundError');

export interface FakeOpfsOptions {
  /** FileSystemHandle.move (missing in older engines). */
  move?: boolean;
  /** createSyncAccessHandle, as in a dedicated worker (the file is locked while a handle is open). */
  sync?: boolean;
}

export class FakeFile implements OpfsFileHandle {
  readonly kind = 'file';
  data = new Uint8Array(0);
  /** Times a writable was opened with keepExistingData (each copies the file in a real browser). */
  copies = 0;
  locked = false;
  constructor(
    public name: string,
    private parent: FakeDir,
    o: FakeOpfsOptions,
  ) {
    if (o.move === false) this.move = undefined;
    if (!o.sync) this.createSyncAccessHandle = undefined;
  }

  async getFile(): Promise<Blob> {
    if (this.locked) throw new DOMException('locked by an access handle', 'NoModificationAllowedError');
    return new Blob([this.data.slice()]);
  }

  async createWritable(o: { keepExistingData?: boolean } = {}): Promise<OpfsWritable> {
    if (this.locked) throw new DOMException('locked by an access handle', 'NoModificationAllowedError');
    if (o.keepExistingData) this.copies++;
    let buf = o.keepExistingData ? this.data.slice() : new Uint8Array(0);
    let pos = 0;
    const resize = (n: number) => {
      const next = new Uint8Array(n);
      next.set(buf.subarray(0, Math.min(n, buf.length)));
      buf = next;
    };
    return {
      seek: async (p) => {
        pos = p;
      },
      write: async (d) => {
        if (pos + d.length > buf.length) resize(pos + d.length);
        buf.set(d, pos);
        pos += d.length;
      },
      truncate: async (n) => {
        resize(n);
        pos = Math.min(pos, n);
      },
      close: async () => {
        this.data = buf;
      },
      abort: async () => undefined,
    };
  }

  createSyncAccessHandle?: () => Promise<OpfsSyncHandle> = async () => {
    if (this.locked) throw new DOMException('already open', 'NoModificationAllowedError');
    this.locked = true;
    const file = this as FakeFile;
    const resize = (n: number) => {
      const next = new Uint8Array(n);
      next.set(file.data.subarray(0, Math.min(n, file.data.length)));
      file.data = next;
    };
    return {
      getSize: () => file.data.length,
      truncate: (n) => resize(n),
      write: (d, { at }) => {
        if (at + d.length > file.data.length) resize(at + d.length);
        file.data.set(d, at);
        return d.length;
      },
      flush: () => undefined,
      close: () => {
        file.locked = false;
      },
    };
  };

  move?: (newName: string) => Promise<void> = async (newName) => {
    if (this.locked) throw new DOMException('locked by an access handle', 'NoModificationAllowedError');
    this.parent.entries.delete(this.name);
    this.name = newName;
    this.parent.entries.set(newName, this);
  };
}

export class FakeDir implements OpfsDirHandle {
  readonly kind = 'directory';
  entries = new Map<string, FakeDir | FakeFile>();
  constructor(
    public name = '',
    private o: FakeOpfsOptions = {},
  ) {}

  async getDirectoryHandle(name: string, o: { create?: boolean } = {}): Promise<OpfsDirHandle> {
    const e = this.entries.get(name);
    if (e instanceof FakeDir) return e;
    if (e) throw new DOMException(`${name} is a file`, 'TypeMismatchError');
    if (!o.create) throw notFound(name);
    const d = new FakeDir(name, this.o);
    this.entries.set(name, d);
    return d;
  }

  async getFileHandle(name: string, o: { create?: boolean } = {}): Promise<OpfsFileHandle> {
    const e = this.entries.get(name);
    if (e instanceof FakeFile) return e;
    if (e) throw new DOMException(`${name} is a directory`, 'TypeMismatchError');
    if (!o.create) throw notFound(name);
    const f = new FakeFile(name, this, this.o);
    this.entries.set(name, f);
    return f;
  }

  async removeEntry(name: string, o: { recursive?: boolean } = {}): Promise<void> {
    const e = this.entries.get(name);
    if (!e) throw notFound(name);
    if (e instanceof FakeDir && e.entries.size && !o.recursive)
      throw new DOMException('not empty', 'InvalidModificationError');
    if (e instanceof FakeFile && e.locked) throw new DOMException('locked', 'NoModificationAllowedError');
    this.entries.delete(name);
  }

  async *values(): AsyncGenerator<FakeDir | FakeFile> {
    yield* [...this.entries.values()];
  }

  /** Every file below this folder as "a/b/c" → size (for assertions). */
  tree(prefix = ''): Record<string, number> {
    const out: Record<string, number> = {};
    for (const [n, e] of this.entries)
      if (e instanceof FakeFile) out[prefix + n] = e.data.length;
      else Object.assign(out, e.tree(`${prefix}${n}/`));
    return out;
  }

  file(path: string): FakeFile | undefined {
    const [head, ...rest] = path.split('/');
    const e = this.entries.get(head!);
    return rest.length
      ? e instanceof FakeDir
        ? e.file(rest.join('/'))
        : undefined
      : e instanceof FakeFile
        ? e
        : undefined;
  }
}

/** A fake Cache Storage holding real Response objects. */
export class FakeCacheStorage implements CacheStorageLike {
  caches = new Map<string, Map<string, Response>>();
  async open(name: string): Promise<CacheLike> {
    let m = this.caches.get(name);
    if (!m) this.caches.set(name, (m = new Map()));
    const map = m;
    return {
      match: async (url) => map.get(url)?.clone(),
      put: async (url, res) => {
        map.set(url, new Response(await res.arrayBuffer(), { headers: res.headers }));
      },
      delete: async (url) => map.delete(url),
      keys: async () => [...map.keys()].map((url) => ({ url })),
    };
  }
}

/** Install options that keep tests quick: short backoff, no quota check. */
export const FAST = { backoffMs: 5, quota: async () => null };

/** A fresh test server for every test of the calling file; `.current` is the running one. */
export function useTestServer(): { current: TestServer } {
  const ref = {} as { current: TestServer };
  beforeEach(async () => {
    ref.current = await new TestServer().start();
  });
  afterEach(async () => {
    await ref.current.close();
  });
  return ref;
}
