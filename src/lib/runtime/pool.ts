// Model sessions: created once (with progress), warmed up, reused, and released least-recently-used first
// when the models in memory pass a budget. A WebGPU session that cannot be created, gives NaN/Infinity,
// fails its validation or loses its device is re-created on WASM with a notice, never an error.
import { CancelledError, type ProgressFn } from '../core/run';
import { SessionCreateError, describeError } from './errors';
import {
  chooseProvider,
  type AdapterProbe,
  type ExecutionProvider,
  type ProviderChoice,
  type ProviderPreference,
} from './provider';
import { nonFiniteOutputs, type OutputsLike } from './tensors';

/** What the pool needs of a session: a way to free it. */
export interface Releasable {
  release(): Promise<void>;
}

export interface CreateHooks {
  /** The factory calls this when the GPU device behind a WebGPU session is lost. */
  onDeviceLost(reason: string): void;
}

/** Creates sessions on a given execution provider (onnxruntime in the app, a fake in tests). */
export interface SessionFactory<S extends Releasable> {
  create(bytes: Uint8Array, ep: ExecutionProvider, hooks: CreateHooks): Promise<S>;
}

export interface PlatformFacts {
  isolated: boolean;
  cores: number;
  /** Looks for a WebGPU adapter; asked once, and only when a session might use WebGPU. */
  probeAdapter?: () => Promise<AdapterProbe | null>;
}

/** A session that was meant for WebGPU runs on WASM instead. */
export interface RuntimeNotice {
  model: string;
  from: 'webgpu';
  to: 'wasm';
  reason: string;
}

export interface PooledSession<S> {
  readonly key: string;
  readonly session: S;
  readonly ep: ExecutionProvider;
  readonly threads: number;
  /** Why this EP (the provider choice, or the fallback's reason). */
  readonly reason: string;
  /** Bytes of the model file: what the memory budget counts. */
  readonly bytes: number;
  readonly createMs: number;
  readonly preference: ProviderPreference;
  /** Set when this session fell back from WebGPU to WASM. */
  readonly notice?: RuntimeNotice;
}

export interface GetOptions<S> {
  preference?: ProviderPreference;
  onProgress?: ProgressFn;
  signal?: AbortSignal;
  /** One run with representative inputs; return its outputs to have them checked. */
  warmup?: (session: S) => Promise<OutputsLike | void>;
  /** Extra check of the warm-up outputs (NaN/Infinity in float outputs is always checked on WebGPU). */
  validate?: (outputs: OutputsLike) => boolean;
  /** Rewrites the model for the EP it is about to be created on (e.g. int8 kernels only WASM has). */
  prepare?: (bytes: Uint8Array, ep: ExecutionProvider) => Uint8Array | Promise<Uint8Array>;
}

/** Loads the model file; may report byte progress. */
export type LoadBytes = (report?: (done: number, total: number) => void) => Promise<Uint8Array>;

export interface PoolOptions<S extends Releasable> {
  factory: SessionFactory<S>;
  platform: PlatformFacts;
  /** Bytes of model files kept in memory before least-recently-used sessions are released. */
  budgetBytes?: number;
  onNotice?: (n: RuntimeNotice) => void;
  /** The provider choice used when a call names none (the user's setting). */
  defaultPreference?: () => ProviderPreference;
}

export const DEFAULT_BUDGET_BYTES = 512 * 1024 * 1024;

interface Entry<S extends Releasable> extends PooledSession<S> {
  lastUsed: number;
  busy: number;
  /** Removed from the pool while in use: dispose when the last user is done. */
  doomed: boolean;
}

export class SessionPool<S extends Releasable> {
  private entries = new Map<string, Entry<S>>();
  private pending = new Map<string, Promise<Entry<S>>>();
  private clock = 0;
  private budget: number;
  private adapter: Promise<AdapterProbe | null> | null = null;
  private deviceLost: string | null = null;
  /** Models that failed on WebGPU, with the reason: they go straight to WASM next time. */
  private webgpuFailed = new Map<string, string>();
  private readonly factory: SessionFactory<S>;
  private readonly platform: PlatformFacts;
  private readonly onNotice?: (n: RuntimeNotice) => void;

  constructor(opts: PoolOptions<S>) {
    this.factory = opts.factory;
    this.platform = opts.platform;
    this.budget = opts.budgetBytes ?? DEFAULT_BUDGET_BYTES;
    this.onNotice = opts.onNotice;
    this.defaultPreference = opts.defaultPreference ?? (() => 'auto');
  }

  private readonly defaultPreference: () => ProviderPreference;

  get budgetBytes(): number {
    return this.budget;
  }

  /** Changes the budget; sessions over it are released at once (least recently used first). */
  async setBudget(bytes: number): Promise<void> {
    this.budget = bytes;
    await this.makeRoom(0);
  }

  /** Bytes of the model files whose sessions are held. */
  get usedBytes(): number {
    let n = 0;
    for (const e of this.entries.values()) n += e.bytes;
    return n;
  }

  has(key: string): boolean {
    return this.entries.has(key);
  }

  /** The held sessions, most recently used first. */
  list(): PooledSession<S>[] {
    return [...this.entries.values()].sort((a, b) => b.lastUsed - a.lastUsed).map((e) => this.view(e));
  }

  /** Returns the session of `key`, creating (loading, creating, warming up) it on first use. */
  async get(key: string, loadBytes: LoadBytes, opts: GetOptions<S> = {}): Promise<PooledSession<S>> {
    const e = await this.acquire(key, loadBytes, opts);
    return this.view(e);
  }

  /** Runs `fn` with the session of `key`; the pool will not release it while `fn` runs. */
  async use<T>(
    key: string,
    loadBytes: LoadBytes,
    opts: GetOptions<S>,
    fn: (s: PooledSession<S>) => Promise<T>,
  ): Promise<T> {
    const e = await this.acquire(key, loadBytes, opts);
    e.busy++;
    try {
      return await fn(this.view(e));
    } finally {
      e.busy--;
      e.lastUsed = ++this.clock;
      if (e.doomed && e.busy === 0) await this.dispose(e);
    }
  }

  /** Releases the session of `key` (once no one is using it). */
  async release(key: string): Promise<boolean> {
    const e = this.entries.get(key);
    if (!e) return false;
    this.entries.delete(key);
    e.doomed = true;
    if (e.busy === 0) await this.dispose(e);
    return true;
  }

  async releaseAll(): Promise<void> {
    await Promise.all([...this.entries.keys()].map((k) => this.release(k)));
  }

  /** Called when the WebGPU device is lost: every WebGPU session goes, and later ones use WASM. */
  async loseDevice(reason: string): Promise<void> {
    this.deviceLost ??= `the WebGPU device was lost (${reason})`;
    const gone = [...this.entries.values()].filter((e) => e.ep === 'webgpu');
    for (const e of gone) {
      this.notice({ model: e.key, from: 'webgpu', to: 'wasm', reason: this.deviceLost });
      await this.release(e.key);
    }
  }

  private view(e: Entry<S>): PooledSession<S> {
    const { key, session, ep, threads, reason, bytes, createMs, preference, notice } = e;
    return { key, session, ep, threads, reason, bytes, createMs, preference, notice };
  }

  private fits(e: Entry<S>, preference: ProviderPreference): boolean {
    return preference === 'auto' || e.preference === preference || e.ep === preference;
  }

  private async acquire(key: string, loadBytes: LoadBytes, opts: GetOptions<S>): Promise<Entry<S>> {
    const preference = opts.preference ?? this.defaultPreference();
    for (;;) {
      if (opts.signal?.aborted) throw new CancelledError();
      const held = this.entries.get(key);
      if (held && this.fits(held, preference)) {
        held.lastUsed = ++this.clock;
        return held;
      }
      const waiting = this.pending.get(key);
      if (waiting) {
        await raceAbort(
          waiting.catch(() => undefined),
          opts.signal,
        );
        continue; // look again: the finished one may not fit this preference
      }
      if (held) await this.release(key); // held on the other EP than the one now asked for
      const creating = this.create(key, loadBytes, { ...opts, preference });
      this.pending.set(key, creating);
      try {
        return await raceAbort(creating, opts.signal);
      } finally {
        void creating
          .catch(() => undefined)
          .finally(() => {
            if (this.pending.get(key) === creating) this.pending.delete(key);
          });
      }
    }
  }

  private notice(n: RuntimeNotice) {
    try {
      this.onNotice?.(n);
    } catch {
      // A listener's failure must not break the session.
    }
  }

  private async decide(key: string, preference: ProviderPreference): Promise<ProviderChoice> {
    const { isolated, cores } = this.platform;
    let probe: AdapterProbe | null = null;
    if (preference !== 'wasm' && this.platform.probeAdapter) {
      this.adapter ??= this.platform.probeAdapter().catch(() => null);
      probe = await this.adapter;
    }
    return chooseProvider({
      preference,
      hasAdapter: probe !== null,
      fallbackAdapter: probe?.fallback ?? false,
      isolated,
      cores,
      webgpuUnusable: this.deviceLost ?? this.webgpuFailed.get(key),
    });
  }

  private async create(
    key: string,
    loadBytes: LoadBytes,
    opts: GetOptions<S> & { preference: ProviderPreference },
  ): Promise<Entry<S>> {
    const progress = opts.onProgress ?? (() => {});
    progress({ stage: 'load', done: 0, total: 0, message: `Loading ${key}` });
    const bytes = await loadBytes((done, total) =>
      progress({ stage: 'load', done, total, message: `Loading ${key}` }),
    );
    progress({ stage: 'load', done: bytes.byteLength, total: bytes.byteLength, message: `Loaded ${key}` });
    const choice = await this.decide(key, opts.preference);
    const prepared = async (ep: ExecutionProvider): Promise<Uint8Array> => {
      if (!opts.prepare) return bytes;
      progress({ stage: 'prepare', done: 0, total: 1, message: `Preparing ${key} for ${ep.toUpperCase()}` });
      const out = await opts.prepare(bytes, ep);
      progress({ stage: 'prepare', done: 1, total: 1, message: `Prepared ${key} for ${ep.toUpperCase()}` });
      return out;
    };

    let notice: RuntimeNotice | undefined;
    if (choice.ep === 'webgpu') {
      const gpuBytes = await prepared('webgpu');
      await this.makeRoom(gpuBytes.byteLength); // what the budget will count: the prepared graph
      const got = await this.tryWebGpu(key, gpuBytes, choice, opts);
      if ('entry' in got) return this.admit(got.entry);
      notice = { model: key, from: 'webgpu', to: 'wasm', reason: got.reason };
      this.webgpuFailed.set(key, `it failed on WebGPU before (${got.reason})`);
    } else if (opts.preference === 'webgpu') {
      // The user asked for WebGPU and cannot have it: say so.
      notice = { model: key, from: 'webgpu', to: 'wasm', reason: choice.reason };
    }
    if (notice) this.notice(notice);

    const wasmBytes = await prepared('wasm');
    await this.makeRoom(wasmBytes.byteLength);
    progress({ stage: 'create', done: 0, total: 1, message: `Creating the ${key} session (WASM)` });
    const t0 = now();
    let session: S;
    try {
      session = await this.factory.create(wasmBytes, 'wasm', this.hooks());
    } catch (e) {
      const before = notice ? ` after WebGPU failed (${notice.reason})` : '';
      throw new SessionCreateError(
        key,
        'wasm',
        `Could not create the ${key} session on WASM${before}: ${describeError(e)}`,
        { cause: e },
      );
    }
    const createMs = now() - t0;
    progress({ stage: 'create', done: 1, total: 1, message: `Created the ${key} session (WASM)` });
    if (opts.warmup) {
      progress({ stage: 'warmup', done: 0, total: 1, message: `Warming up ${key}` });
      try {
        const out = await opts.warmup(session);
        if (out && opts.validate && !opts.validate(out))
          throw new Error('its warm-up outputs failed validation');
      } catch (e) {
        await session.release().catch(() => undefined);
        throw new SessionCreateError(
          key,
          'wasm',
          `The ${key} session failed its warm-up on WASM: ${describeError(e)}`,
          {
            cause: e,
          },
        );
      }
      progress({ stage: 'warmup', done: 1, total: 1, message: `Warmed up ${key}` });
    }
    return this.admit({
      key,
      session,
      ep: 'wasm',
      threads: choice.threads,
      reason: notice ? `WebGPU failed (${notice.reason}); WASM instead` : choice.reason,
      bytes: wasmBytes.byteLength,
      createMs,
      preference: opts.preference,
      notice,
      lastUsed: ++this.clock,
      busy: 0,
      doomed: false,
    });
  }

  /** Creates, warms up and checks a WebGPU session; on any failure disposes it and says why. */
  private async tryWebGpu(
    key: string,
    bytes: Uint8Array,
    choice: ProviderChoice,
    opts: GetOptions<S> & { preference: ProviderPreference },
  ): Promise<{ entry: Entry<S> } | { reason: string }> {
    const progress = opts.onProgress ?? (() => {});
    progress({ stage: 'create', done: 0, total: 1, message: `Creating the ${key} session (WebGPU)` });
    const t0 = now();
    let session: S;
    try {
      session = await this.factory.create(bytes, 'webgpu', this.hooks());
    } catch (e) {
      return { reason: `the WebGPU session could not be created: ${describeError(e)}` };
    }
    const createMs = now() - t0;
    progress({ stage: 'create', done: 1, total: 1, message: `Created the ${key} session (WebGPU)` });
    const fail = async (reason: string) => {
      await session.release().catch(() => undefined);
      return { reason };
    };
    if (opts.warmup) {
      progress({ stage: 'warmup', done: 0, total: 1, message: `Warming up ${key} (WebGPU)` });
      let out: OutputsLike | void;
      try {
        out = await opts.warmup(session);
      } catch (e) {
        return fail(`the WebGPU warm-up run failed: ${describeError(e)}`);
      }
      if (out) {
        const bad = nonFiniteOutputs(out);
        if (bad.length) return fail(`WebGPU gave NaN or Infinity in ${bad.join(', ')}`);
        if (opts.validate && !opts.validate(out)) return fail('WebGPU outputs failed validation');
      }
      progress({ stage: 'warmup', done: 1, total: 1, message: `Warmed up ${key} (WebGPU)` });
    }
    if (this.deviceLost) return fail(this.deviceLost);
    return {
      entry: {
        key,
        session,
        ep: 'webgpu',
        threads: choice.threads,
        reason: choice.reason,
        bytes: bytes.byteLength,
        createMs,
        preference: opts.preference,
        lastUsed: ++this.clock,
        busy: 0,
        doomed: false,
      },
    };
  }

  private hooks(): CreateHooks {
    return { onDeviceLost: (reason) => void this.loseDevice(reason) };
  }

  private async admit(e: Entry<S>): Promise<Entry<S>> {
    const old = this.entries.get(e.key);
    if (old && old !== e) await this.release(e.key);
    this.entries.set(e.key, e);
    await this.makeRoom(0, e.key);
    return e;
  }

  /** Releases idle sessions, least recently used first, until `incoming` more bytes fit the budget. */
  private async makeRoom(incoming: number, keep?: string): Promise<void> {
    for (;;) {
      if (this.usedBytes + incoming <= this.budget) return;
      let victim: Entry<S> | undefined;
      for (const e of this.entries.values())
        if (e.busy === 0 && e.key !== keep && (!victim || e.lastUsed < victim.lastUsed)) victim = e;
      if (!victim) return; // everything left is in use (or is the one just made): go over budget
      await this.release(victim.key);
    }
  }

  private async dispose(e: Entry<S>): Promise<void> {
    try {
      await e.session.release();
    } catch {
      // Already gone (e.g. its device was lost).
    }
  }
}

const now = () => globalThis.performance?.now() ?? Date.now();

function raceAbort<T>(p: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return p;
  if (signal.aborted) return Promise.reject(new CancelledError());
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(new CancelledError());
    signal.addEventListener('abort', onAbort, { once: true });
    p.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}
