// Where model files live: the Origin Private File System (preferred; resumable), Cache Storage (fallback;
// no resume) or memory (tests, and browsers with neither). Files are models/<id>/<path>; a download in
// progress is <path>.part until it is verified and committed.
import { streamChunks } from '../core/hash';
import { ModelNotFoundError } from './types';
import { isQuotaError } from '../storage/errors';

export interface ModelFileStore {
  readonly kind: 'opfs' | 'cache' | 'memory';
  /** Whether partial files survive a reload (so downloads resume). */
  readonly resumable: boolean;
  /** Bytes already stored of an incomplete file (0 when none). */
  partialSize(id: string, path: string): Promise<number>;
  /** Writes `chunk` at `offset` of the partial file, dropping anything stored past `offset` first. */
  append(id: string, path: string, chunk: Uint8Array, offset: number): Promise<void>;
  /** Makes appended bytes durable (they are written in batches). Harmless when nothing is pending. */
  flush(id: string, path: string): Promise<void>;
  /** The partial file's bytes, in order (to re-hash them when a download resumes). */
  readPartial(id: string, path: string): AsyncIterable<Uint8Array>;
  /** The partial file becomes the complete file (replacing any older one). */
  commit(id: string, path: string): Promise<void>;
  /** A complete file. Throws ModelNotFoundError when there is none. */
  read(id: string, path: string): Promise<Blob>;
  /** Size of a complete file, or null when there is none. */
  size(id: string, path: string): Promise<number | null>;
  /** Removes every file of a model, complete and partial. */
  remove(id: string): Promise<void>;
  removePartial(id: string, path: string): Promise<void>;
  /** Bytes of all model files, complete and partial. */
  usage(): Promise<number>;
}

const PART = '.part';

/** Checks an id or a relative path from a catalogue or a dropped folder: no "..", no absolute paths. */
export function pathSegments(id: string, path: string): string[] {
  const bad = (s: string) => !s || s === '.' || s === '..' || /[\\/\0]/.test(s);
  if (bad(id)) throw new ModelNotFoundError(`"${id}" is not a valid model id.`);
  const segs = path.split('/');
  if (segs.some(bad)) throw new ModelNotFoundError(`"${path}" is not a valid model file path.`);
  return segs;
}

function keyOf(id: string, path: string): string {
  pathSegments(id, path);
  return `${id}/${path}`;
}

/** Size of a file, or 0 while another context holds it open with a sync access handle (it is locked). */
/**
 * A file's size; null when it went away after its handle was found (an install's commit moved it, a
 * delete removed it): a listing taken during an install must not fail on that race.
 */
async function sizeOf(h: OpfsFileHandle): Promise<number | null> {
  try {
    return (await h.getFile()).size;
  } catch (e) {
    if ((e as { name?: unknown } | null)?.name === 'NoModificationAllowedError') return 0;
    if (isNotFound(e)) return null;
    throw e;
  }
}

function isNotFound(e: unknown): boolean {
  const name = (e as { name?: unknown } | null)?.name;
  return name === 'NotFoundError' || name === 'TypeMismatchError';
}

function concat(chunks: Uint8Array[], size: number): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(size);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.byteLength;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------------
// Memory

interface MemPartial {
  chunks: Uint8Array[];
  size: number;
}

/** Keeps files in memory. Resumable within the life of the object (tests use it to simulate reloads). */
export class MemoryModelStore implements ModelFileStore {
  readonly kind = 'memory';
  readonly resumable = true;
  private partials = new Map<string, MemPartial>();
  private files = new Map<string, Uint8Array<ArrayBuffer>>();

  async partialSize(id: string, path: string): Promise<number> {
    return this.partials.get(keyOf(id, path))?.size ?? 0;
  }

  async append(id: string, path: string, chunk: Uint8Array, offset: number): Promise<void> {
    const key = keyOf(id, path);
    let p = this.partials.get(key);
    if (!p) this.partials.set(key, (p = { chunks: [], size: 0 }));
    if (offset > p.size)
      throw new RangeError(`Cannot write ${path} at ${offset}: only ${p.size} bytes stored.`);
    if (offset < p.size) {
      const kept = concat(p.chunks, p.size).subarray(0, offset);
      p.chunks = offset ? [kept] : [];
      p.size = offset;
    }
    p.chunks.push(chunk.slice());
    p.size += chunk.byteLength;
  }

  async flush(_id: string, _path: string): Promise<void> {}

  async *readPartial(id: string, path: string): AsyncGenerator<Uint8Array> {
    const p = this.partials.get(keyOf(id, path));
    if (p) yield* [...p.chunks];
  }

  async commit(id: string, path: string): Promise<void> {
    const key = keyOf(id, path);
    const p = this.partials.get(key);
    if (!p) throw new ModelNotFoundError(`No partial file ${id}/${path} to commit.`);
    this.files.set(key, concat(p.chunks, p.size));
    this.partials.delete(key);
  }

  async read(id: string, path: string): Promise<Blob> {
    const f = this.files.get(keyOf(id, path));
    if (!f) throw new ModelNotFoundError(`${id}/${path} is not installed.`);
    return new Blob([f]);
  }

  async size(id: string, path: string): Promise<number | null> {
    return this.files.get(keyOf(id, path))?.byteLength ?? null;
  }

  async remove(id: string): Promise<void> {
    pathSegments(id, 'x');
    for (const map of [this.files, this.partials])
      for (const k of [...map.keys()]) if (k.startsWith(`${id}/`)) map.delete(k);
  }

  async removePartial(id: string, path: string): Promise<void> {
    this.partials.delete(keyOf(id, path));
  }

  async usage(): Promise<number> {
    let n = 0;
    for (const f of this.files.values()) n += f.byteLength;
    for (const p of this.partials.values()) n += p.size;
    return n;
  }

  /** Every stored name, partial ones ending in ".part" (for tests and diagnostics). */
  list(): string[] {
    return [...this.files.keys(), ...[...this.partials.keys()].map((k) => k + PART)].sort();
  }
}

// ---------------------------------------------------------------------------------------------------------
// Origin Private File System

/** The parts of the File System Access API used here (structural, so tests can pass a fake). */
export interface OpfsWritable {
  seek(position: number): Promise<void>;
  write(data: Uint8Array): Promise<void>;
  truncate(size: number): Promise<void>;
  close(): Promise<void>;
  abort(reason?: unknown): Promise<void>;
}

/** A dedicated worker's synchronous access handle: writes in place, no copy of the file on open. */
export interface OpfsSyncHandle {
  getSize(): number;
  truncate(size: number): void;
  write(data: Uint8Array, options: { at: number }): number;
  flush(): void;
  close(): void;
}

export interface OpfsFileHandle {
  readonly kind: 'file';
  readonly name: string;
  getFile(): Promise<Blob>;
  createWritable(options?: { keepExistingData?: boolean }): Promise<OpfsWritable>;
  /** Only in dedicated workers. */
  createSyncAccessHandle?(): Promise<OpfsSyncHandle>;
  move?(newName: string): Promise<void>;
}

export interface OpfsDirHandle {
  readonly kind: 'directory';
  readonly name: string;
  getDirectoryHandle(name: string, options?: { create?: boolean }): Promise<OpfsDirHandle>;
  getFileHandle(name: string, options?: { create?: boolean }): Promise<OpfsFileHandle>;
  removeEntry(name: string, options?: { recursive?: boolean }): Promise<void>;
  values(): AsyncIterable<OpfsDirHandle | OpfsFileHandle>;
}

/** A partial file open for appending. */
interface OpenPartial {
  size: number;
  write(chunk: Uint8Array, offset: number): Promise<void>;
  /** Makes what was written durable; true when the file had to be closed to do so. */
  persist(): Promise<boolean>;
  close(): Promise<void>;
  abort(): Promise<void>;
}

/** In a dedicated worker: writes land in place and flush() makes them durable without closing. */
async function openSync(h: OpfsFileHandle): Promise<OpenPartial> {
  const a = await h.createSyncAccessHandle!();
  const o: OpenPartial = {
    size: a.getSize(),
    async write(chunk, offset) {
      if (offset < o.size) a.truncate(offset);
      let at = 0;
      while (at < chunk.byteLength) at += a.write(chunk.subarray(at), { at: offset + at });
      o.size = offset + chunk.byteLength;
    },
    async persist() {
      a.flush();
      return false;
    },
    async close() {
      a.flush();
      a.close();
    },
    async abort() {
      a.close();
    },
  };
  return o;
}

/**
 * Elsewhere (pages): createWritable({keepExistingData}) + seek/write. A writable works on a copy that
 * replaces the file only when closed, so persisting means closing (the next append opens a new one, which
 * copies the file again: the store persists less often as the file grows, see OpfsModelStore).
 */
async function openWritable(h: OpfsFileHandle): Promise<OpenPartial> {
  const size = (await h.getFile()).size;
  const w = await h.createWritable({ keepExistingData: true });
  const o: OpenPartial = {
    size,
    async write(chunk, offset) {
      if (offset < o.size) await w.truncate(offset);
      await w.seek(offset);
      await w.write(chunk);
      o.size = offset + chunk.byteLength;
    },
    async persist() {
      await w.close();
      return true;
    },
    close: () => w.close(),
    abort: () => w.abort(),
  };
  return o;
}

/**
 * OPFS: models/<id>/<path>, partial files <path>.part. In a dedicated worker writes go through a sync access
 * handle (in place, flushed every `flushBytes`); where there is none, through createWritable
 * ({keepExistingData: true}) + seek/write, which works in pages and workers alike. A writable reaches the
 * disk only when closed and reopening copies the file, so it is closed after `flushBytes` or a quarter of
 * the file's size, whichever is more (the copies then add up to a few times the file, not its square).
 * What a reload finds is what was persisted; the download resumes from there.
 */
export class OpfsModelStore implements ModelFileStore {
  readonly kind = 'opfs';
  readonly resumable = true;
  private open = new Map<string, OpenPartial & { pending: number }>();

  constructor(
    private readonly root: () => Promise<OpfsDirHandle>,
    private readonly flushBytes = 8 * 1024 * 1024,
  ) {}

  private async models(create: boolean): Promise<OpfsDirHandle | null> {
    try {
      return await (await this.root()).getDirectoryHandle('models', { create });
    } catch (e) {
      if (isNotFound(e)) return null;
      throw e;
    }
  }

  /** The folder holding `path` and the file's own name, or null when a folder is missing and not created. */
  private async locate(
    id: string,
    path: string,
    create: boolean,
  ): Promise<{ dir: OpfsDirHandle; name: string } | null> {
    const segs = pathSegments(id, path);
    const name = segs.pop()!;
    let dir = await this.models(create);
    try {
      for (const s of [id, ...segs]) {
        if (!dir) return null;
        dir = await dir.getDirectoryHandle(s, { create });
      }
    } catch (e) {
      if (isNotFound(e)) return null;
      throw e;
    }
    return dir ? { dir, name } : null;
  }

  private async fileHandle(id: string, path: string, suffix: string): Promise<OpfsFileHandle | null> {
    const at = await this.locate(id, path, false);
    if (!at) return null;
    try {
      return await at.dir.getFileHandle(at.name + suffix);
    } catch (e) {
      if (isNotFound(e)) return null;
      throw e;
    }
  }

  async partialSize(id: string, path: string): Promise<number> {
    const o = this.open.get(keyOf(id, path));
    if (o) return o.size;
    const h = await this.fileHandle(id, path, PART);
    return (h && (await sizeOf(h))) ?? 0;
  }

  async append(id: string, path: string, chunk: Uint8Array, offset: number): Promise<void> {
    const key = keyOf(id, path);
    let o = this.open.get(key);
    if (!o) {
      const at = (await this.locate(id, path, true))!;
      const h = await at.dir.getFileHandle(at.name + PART, { create: true });
      const opened =
        typeof h.createSyncAccessHandle === 'function' ? await openSync(h) : await openWritable(h);
      o = Object.assign(opened, { pending: 0 });
      this.open.set(key, o);
    }
    if (offset > o.size)
      throw new RangeError(`Cannot write ${path} at ${offset}: only ${o.size} bytes stored.`);
    await o.write(chunk, offset);
    o.pending += chunk.byteLength;
    if (o.pending >= Math.max(this.flushBytes, (o.size - o.pending) / 4)) {
      o.pending = 0;
      if (await o.persist()) this.open.delete(key);
    }
  }

  async flush(id: string, path: string): Promise<void> {
    const key = keyOf(id, path);
    const o = this.open.get(key);
    if (!o) return;
    this.open.delete(key);
    await o.close();
  }

  async *readPartial(id: string, path: string): AsyncGenerator<Uint8Array> {
    await this.flush(id, path);
    const h = await this.fileHandle(id, path, PART);
    if (!h) return;
    yield* streamChunks((await h.getFile()).stream() as ReadableStream<Uint8Array>);
  }

  async commit(id: string, path: string): Promise<void> {
    await this.flush(id, path);
    const at = await this.locate(id, path, false);
    const part = at && (await this.fileHandle(id, path, PART));
    if (!at || !part) throw new ModelNotFoundError(`No partial file ${id}/${path} to commit.`);
    await at.dir.removeEntry(at.name).catch((e: unknown) => {
      if (!isNotFound(e)) throw e;
    });
    if (typeof part.move === 'function') {
      await part.move(at.name);
      return;
    }
    // No move() (older engines): copy, then drop the partial.
    const target = await at.dir.getFileHandle(at.name, { create: true });
    const w = await target.createWritable({ keepExistingData: false });
    try {
      for await (const c of streamChunks((await part.getFile()).stream() as ReadableStream<Uint8Array>))
        await w.write(c);
      await w.close();
    } catch (e) {
      await w.abort().catch(() => undefined);
      throw e;
    }
    await at.dir.removeEntry(at.name + PART);
  }

  async read(id: string, path: string): Promise<Blob> {
    const h = await this.fileHandle(id, path, '');
    if (!h) throw new ModelNotFoundError(`${id}/${path} is not installed.`);
    return h.getFile();
  }

  async size(id: string, path: string): Promise<number | null> {
    const h = await this.fileHandle(id, path, '');
    return h ? sizeOf(h) : null;
  }

  async remove(id: string): Promise<void> {
    pathSegments(id, 'x');
    for (const [key, o] of [...this.open])
      if (key.startsWith(`${id}/`)) {
        this.open.delete(key);
        await o.abort().catch(() => undefined);
      }
    const models = await this.models(false);
    await models?.removeEntry(id, { recursive: true }).catch((e: unknown) => {
      if (!isNotFound(e)) throw e;
    });
  }

  async removePartial(id: string, path: string): Promise<void> {
    const key = keyOf(id, path);
    const o = this.open.get(key);
    if (o) {
      this.open.delete(key);
      await o.abort().catch(() => undefined);
    }
    const at = await this.locate(id, path, false);
    await at?.dir.removeEntry(at.name + PART).catch((e: unknown) => {
      if (!isNotFound(e)) throw e;
    });
  }

  async usage(): Promise<number> {
    // Open partials cannot be read while open (a sync handle locks the file): count them from memory.
    const models = await this.models(false);
    const skip = new Set<string>();
    let n = 0;
    for (const [key, o] of this.open) {
      skip.add(key + PART);
      n += o.size;
    }
    return n + (models ? await dirBytes(models, '', skip) : 0);
  }
}

async function dirBytes(dir: OpfsDirHandle, prefix: string, skip: Set<string>): Promise<number> {
  let n = 0;
  for await (const e of dir.values()) {
    const name = prefix + e.name;
    if (e.kind === 'directory') n += await dirBytes(e, `${name}/`, skip);
    else if (!skip.has(name)) n += (await sizeOf(e)) ?? 0;
  }
  return n;
}

// ---------------------------------------------------------------------------------------------------------
// Cache Storage

/** The parts of Cache Storage used here. */
export interface CacheLike {
  match(request: string): Promise<Response | undefined>;
  put(request: string, response: Response): Promise<void>;
  delete(request: string): Promise<boolean>;
  keys(): Promise<ReadonlyArray<{ url: string }>>;
}
export interface CacheStorageLike {
  open(name: string): Promise<CacheLike>;
}

const CACHE_ORIGIN = 'https://models.timbre.invalid/';
const SIZE_HEADER = 'X-Timbre-Bytes';

/**
 * Cache Storage fallback where OPFS is missing. It cannot append, so a file is gathered in memory and
 * stored whole at commit; nothing survives a reload half-way, so partialSize is always 0 (no resume).
 */
export class CacheModelStore implements ModelFileStore {
  readonly kind = 'cache';
  readonly resumable = false;
  private partials = new Map<string, MemPartial>();

  constructor(
    private readonly storage: CacheStorageLike,
    private readonly cacheName = 'timbre-models',
  ) {}

  private url(id: string, path: string): string {
    return CACHE_ORIGIN + [id, ...pathSegments(id, path)].map(encodeURIComponent).join('/');
  }

  private cache(): Promise<CacheLike> {
    return this.storage.open(this.cacheName);
  }

  async partialSize(_id: string, _path: string): Promise<number> {
    return 0;
  }

  async append(id: string, path: string, chunk: Uint8Array, offset: number): Promise<void> {
    const key = keyOf(id, path);
    let p = this.partials.get(key);
    if (!p || offset === 0) this.partials.set(key, (p = { chunks: [], size: 0 }));
    if (offset !== p.size)
      throw new RangeError(`Cannot write ${path} at ${offset}: ${p.size} bytes gathered so far.`);
    p.chunks.push(chunk);
    p.size += chunk.byteLength;
  }

  async flush(_id: string, _path: string): Promise<void> {}

  async *readPartial(id: string, path: string): AsyncGenerator<Uint8Array> {
    const p = this.partials.get(keyOf(id, path));
    if (p) yield* [...p.chunks];
  }

  async commit(id: string, path: string): Promise<void> {
    const key = keyOf(id, path);
    const p = this.partials.get(key);
    if (!p) throw new ModelNotFoundError(`No partial file ${id}/${path} to commit.`);
    const body = new Blob(p.chunks as BlobPart[]);
    await (
      await this.cache()
    ).put(
      this.url(id, path),
      new Response(body, {
        headers: { 'Content-Type': 'application/octet-stream', [SIZE_HEADER]: String(p.size) },
      }),
    );
    this.partials.delete(key);
  }

  async read(id: string, path: string): Promise<Blob> {
    const res = await (await this.cache()).match(this.url(id, path));
    if (!res) throw new ModelNotFoundError(`${id}/${path} is not installed.`);
    return res.blob();
  }

  async size(id: string, path: string): Promise<number | null> {
    const res = await (await this.cache()).match(this.url(id, path));
    if (!res) return null;
    const n = Number(res.headers.get(SIZE_HEADER));
    return Number.isFinite(n) && res.headers.has(SIZE_HEADER) ? n : (await res.blob()).size;
  }

  async remove(id: string): Promise<void> {
    const prefix = this.url(id, 'x').slice(0, -1);
    const cache = await this.cache();
    for (const req of await cache.keys()) if (req.url.startsWith(prefix)) await cache.delete(req.url);
    for (const k of [...this.partials.keys()]) if (k.startsWith(`${id}/`)) this.partials.delete(k);
  }

  async removePartial(id: string, path: string): Promise<void> {
    this.partials.delete(keyOf(id, path));
  }

  async usage(): Promise<number> {
    const cache = await this.cache();
    let n = 0;
    for (const req of await cache.keys()) {
      if (!req.url.startsWith(CACHE_ORIGIN)) continue;
      const res = await cache.match(req.url);
      const size = Number(res?.headers.get(SIZE_HEADER));
      n += Number.isFinite(size) ? size : 0;
    }
    for (const p of this.partials.values()) n += p.size;
    return n;
  }
}

// ---------------------------------------------------------------------------------------------------------

const opfsStore = (root: OpfsDirHandle) => new OpfsModelStore(async () => root);

/** OPFS where it works (with createWritable), else Cache Storage, else memory. */
export async function pickModelStore(g: object = globalThis): Promise<ModelFileStore> {
  const nav = (g as { navigator?: { storage?: { getDirectory?: () => Promise<unknown> } } }).navigator;
  let root: OpfsDirHandle | undefined;
  try {
    root = (await nav?.storage?.getDirectory?.()) as OpfsDirHandle | undefined;
    if (root) {
      const models = await root.getDirectoryHandle('models', { create: true });
      const probe = await models.getFileHandle('.probe', { create: true });
      const ok = typeof probe.createWritable === 'function';
      await models.removeEntry('.probe').catch(() => undefined);
      if (ok) return opfsStore(root);
    }
  } catch (e) {
    // A full disk refuses even the probe's empty file, yet the models installed there are still read
    // from OPFS (elsewhere they would look not installed).
    if (root && isQuotaError(e)) return opfsStore(root);
    // OPFS refused (private mode in some engines): fall through.
  }
  const caches = (g as { caches?: CacheStorageLike }).caches;
  if (caches && typeof caches.open === 'function') return new CacheModelStore(caches);
  return new MemoryModelStore();
}
