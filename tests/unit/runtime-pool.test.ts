// SessionPool with an injected session factory: reuse, LRU release, progress, and the WebGPU → WASM
// fallback (creation error, NaN outputs, failed validation, lost device) without a GPU.
import { describe, expect, it } from 'vitest';
import {
  SessionPool,
  type CreateHooks,
  type RuntimeNotice,
  type SessionFactory,
} from '../../src/lib/runtime/pool';
import { SessionCreateError } from '../../src/lib/runtime/errors';
import type { ExecutionProvider } from '../../src/lib/runtime/provider';
import type { OutputsLike } from '../../src/lib/runtime/tensors';
import { CancelledError, type Progress } from '../../src/lib/core/run';

class FakeSession {
  released = false;
  constructor(
    readonly model: string,
    readonly ep: ExecutionProvider,
    private readonly value: number,
  ) {}
  async run(): Promise<OutputsLike> {
    return { y: { type: 'float32', dims: [2], data: Float32Array.from([1, this.value]) } };
  }
  async release() {
    this.released = true;
  }
}

interface FakeOptions {
  /** Throw when creating on WebGPU. */
  webgpuThrows?: boolean;
  /** Output value of WebGPU sessions (NaN to simulate a broken GPU). */
  webgpuValue?: number;
  wasmThrows?: boolean;
  delayMs?: number;
}

function fakeFactory(o: FakeOptions = {}) {
  const created: FakeSession[] = [];
  let hooks: CreateHooks | null = null;
  const factory: SessionFactory<FakeSession> = {
    async create(bytes, ep, h) {
      hooks = h;
      if (o.delayMs) await new Promise((r) => setTimeout(r, o.delayMs));
      if (ep === 'webgpu' && o.webgpuThrows) throw new Error('no available backend found: webgpu');
      if (ep === 'wasm' && o.wasmThrows) throw new Error('bad model');
      const model = new TextDecoder().decode(bytes).replace(/\0+$/, '');
      const s = new FakeSession(model, ep, ep === 'webgpu' ? (o.webgpuValue ?? 2) : 2);
      created.push(s);
      return s;
    },
  };
  return { factory, created, loseDevice: (why: string) => hooks?.onDeviceLost(why) };
}

/** A model file of `size` bytes naming `name`. */
const file = (name: string, size = 100) => {
  const b = new Uint8Array(size);
  b.set(new TextEncoder().encode(name));
  return b;
};

function pool(
  o: FakeOptions & {
    adapter?: boolean;
    fallback?: boolean;
    budget?: number;
    preference?: () => 'auto' | 'wasm' | 'webgpu';
  } = {},
) {
  const f = fakeFactory(o);
  const notices: RuntimeNotice[] = [];
  const p = new SessionPool<FakeSession>({
    factory: f.factory,
    platform: {
      isolated: true,
      cores: 2,
      probeAdapter: async () =>
        o.adapter === false ? null : { fallback: o.fallback ?? false, description: 'fake' },
    },
    budgetBytes: o.budget,
    onNotice: (n) => notices.push(n),
    defaultPreference: o.preference,
  });
  return { p, notices, ...f };
}

const warmup = (s: FakeSession) => s.run();

describe('SessionPool', () => {
  it('creates a session once, reports load/create/warmup progress, and reuses it', async () => {
    const { p, created } = pool({ adapter: false });
    let loads = 0;
    const load = async () => (loads++, file('a'));
    const progress: Progress[] = [];
    const first = await p.get('a', load, { onProgress: (x) => progress.push(x), warmup });
    const again = await p.get('a', load, { warmup });
    expect(again.session).toBe(first.session);
    expect(loads).toBe(1);
    expect(created).toHaveLength(1);
    expect(first).toMatchObject({ key: 'a', ep: 'wasm', threads: 2, bytes: 100 });
    expect([...new Set(progress.map((x) => x.stage))]).toEqual(['load', 'create', 'warmup']);
    expect(progress.at(-1)).toMatchObject({ stage: 'warmup', done: 1, total: 1 });
    expect(progress.find((x) => x.stage === 'load' && x.done === 100)).toBeTruthy();
  });

  it('shares one creation between concurrent callers', async () => {
    const { p, created } = pool({ adapter: false, delayMs: 20 });
    const [a, b] = await Promise.all([p.get('m', async () => file('m')), p.get('m', async () => file('m'))]);
    expect(a.session).toBe(b.session);
    expect(created).toHaveLength(1);
  });

  it('releases the least recently used sessions beyond the memory budget', async () => {
    const { p, created } = pool({ adapter: false, budget: 250 });
    await p.get('a', async () => file('a'));
    await p.get('b', async () => file('b'));
    await p.get('a', async () => file('a')); // a is now more recent than b
    await p.get('c', async () => file('c'));
    expect(p.list().map((s) => s.key)).toEqual(['c', 'a']);
    expect(p.usedBytes).toBe(200);
    expect(created.find((s) => s.model === 'b')!.released).toBe(true);
    expect(created.find((s) => s.model === 'a')!.released).toBe(false);
    // Lowering the budget releases at once.
    await p.setBudget(100);
    expect(p.list().map((s) => s.key)).toEqual(['c']);
  });

  it('never releases a session that is in use', async () => {
    const { p, created } = pool({ adapter: false, budget: 150 });
    await p.use(
      'a',
      async () => file('a'),
      {},
      async () => {
        await p.get('b', async () => file('b'));
        // a is busy, so the pool goes over budget rather than pull it away.
        expect(created.find((s) => s.model === 'a')!.released).toBe(false);
      },
    );
    expect(p.usedBytes).toBe(200);
    await p.get('c', async () => file('c'));
    expect(p.list().map((s) => s.key)).toEqual(['c']);
  });

  it('release(key) and releaseAll() free the sessions', async () => {
    const { p, created } = pool({ adapter: false });
    await p.get('a', async () => file('a'));
    await p.get('b', async () => file('b'));
    expect(await p.release('a')).toBe(true);
    expect(await p.release('a')).toBe(false);
    expect(created[0]!.released).toBe(true);
    await p.releaseAll();
    expect(created.every((s) => s.released)).toBe(true);
    expect(p.usedBytes).toBe(0);
    // The next get creates anew.
    await p.get('a', async () => file('a'));
    expect(created).toHaveLength(3);
  });

  it('uses WebGPU when there is an adapter and the model runs correctly there', async () => {
    const { p, notices } = pool();
    const s = await p.get('g', async () => file('g'), { warmup });
    expect(s.ep).toBe('webgpu');
    expect(s.session.ep).toBe('webgpu');
    expect(notices).toEqual([]);
  });

  it("follows the user's provider setting when a call names none", async () => {
    let setting: 'auto' | 'wasm' | 'webgpu' = 'wasm';
    const { p } = pool({ preference: () => setting });
    expect((await p.get('m', async () => file('m'), { warmup })).ep).toBe('wasm');
    setting = 'auto';
    expect((await p.get('n', async () => file('n'), { warmup })).ep).toBe('webgpu');
    // An explicit preference still wins over the setting.
    setting = 'webgpu';
    expect((await p.get('o', async () => file('o'), { warmup, preference: 'wasm' })).ep).toBe('wasm');
  });

  it('creates each EP from the bytes prepare() makes for it, and counts those bytes', async () => {
    const { p, created } = pool({ webgpuThrows: true });
    const asked: ExecutionProvider[] = [];
    const progress: Progress[] = [];
    const prepare = (bytes: Uint8Array, ep: ExecutionProvider) => {
      asked.push(ep);
      return file(
        `${new TextDecoder().decode(bytes).replace(/\0+$/, '')}-for-${ep}`,
        ep === 'wasm' ? 300 : 200,
      );
    };
    const s = await p.get('k', async () => file('k'), {
      warmup,
      prepare,
      onProgress: (x) => progress.push(x),
    });
    // WebGPU was tried with its own graph, failed, and WASM got the WASM graph.
    expect(asked).toEqual(['webgpu', 'wasm']);
    expect(created.map((c) => [c.ep, c.model])).toEqual([['wasm', 'k-for-wasm']]);
    expect(s.bytes).toBe(300);
    expect(progress.filter((x) => x.stage === 'prepare').map((x) => x.message)).toContain(
      'Prepared k for WASM',
    );
  });

  it('falls back to WASM with a notice, not an error, when WebGPU creation throws', async () => {
    const { p, notices, created } = pool({ webgpuThrows: true });
    const s = await p.get('k', async () => file('k'), { warmup });
    expect(s.ep).toBe('wasm');
    expect(created.map((c) => c.ep)).toEqual(['wasm']);
    expect(notices).toEqual([
      {
        model: 'k',
        from: 'webgpu',
        to: 'wasm',
        reason: expect.stringMatching(/could not be created: no available backend/),
      },
    ]);
    expect(s.notice).toEqual(notices[0]);
    // Remembered: after a release it goes straight to WASM.
    await p.release('k');
    const again = await p.get('k', async () => file('k'), { warmup });
    expect(again.ep).toBe('wasm');
    expect(again.reason).toMatch(/failed on WebGPU before/);
  });

  it('falls back to WASM when the WebGPU warm-up gives NaN (the WebGPU session is released)', async () => {
    const { p, notices, created } = pool({ webgpuValue: NaN });
    const s = await p.get('n', async () => file('n'), { warmup });
    expect(s.ep).toBe('wasm');
    expect(created.map((c) => [c.ep, c.released])).toEqual([
      ['webgpu', true],
      ['wasm', false],
    ]);
    expect(notices[0]).toMatchObject({ model: 'n', from: 'webgpu', to: 'wasm' });
    expect(notices[0]!.reason).toMatch(/NaN or Infinity in y/);
  });

  it('falls back when the WebGPU outputs fail validation', async () => {
    const { p, notices } = pool({ webgpuValue: 3 });
    const validate = (o: OutputsLike) => (o.y!.data as Float32Array)[1] === 2;
    const s = await p.get('v', async () => file('v'), { warmup, validate });
    expect(s.ep).toBe('wasm');
    expect(notices[0]!.reason).toMatch(/failed validation/);
  });

  it('re-creates on WASM with a notice when the WebGPU device is lost', async () => {
    const { p, notices, created, loseDevice } = pool();
    const s = await p.get('d', async () => file('d'), { warmup });
    expect(s.ep).toBe('webgpu');
    loseDevice('destroyed');
    await new Promise((r) => setTimeout(r, 0));
    expect(created[0]!.released).toBe(true);
    expect(p.has('d')).toBe(false);
    expect(notices).toEqual([
      { model: 'd', from: 'webgpu', to: 'wasm', reason: 'the WebGPU device was lost (destroyed)' },
    ]);
    const next = await p.get('d', async () => file('d'), { warmup });
    expect(next.ep).toBe('wasm');
    // A model never on WebGPU before also goes to WASM now.
    expect((await p.get('e', async () => file('e'))).ep).toBe('wasm');
  });

  it('forced WebGPU without an adapter runs on WASM with a notice; forced WASM never touches WebGPU', async () => {
    const { p, notices, created } = pool({ adapter: false });
    const s = await p.get('f', async () => file('f'), { preference: 'webgpu' });
    expect(s.ep).toBe('wasm');
    expect(notices[0]!.reason).toMatch(/no WebGPU adapter/);
    const w = pool();
    expect((await w.p.get('w', async () => file('w'), { preference: 'wasm' })).ep).toBe('wasm');
    expect(w.created.map((c) => c.ep)).toEqual(['wasm']);
    expect(created).toHaveLength(1);
  });

  it('auto skips a software WebGPU adapter without a notice', async () => {
    const { p, notices } = pool({ fallback: true });
    const s = await p.get('sw', async () => file('sw'));
    expect(s.ep).toBe('wasm');
    expect(s.reason).toMatch(/software fallback/);
    expect(notices).toEqual([]);
  });

  it('re-creates when a different EP is forced for a held model', async () => {
    const { p, created } = pool();
    expect((await p.get('x', async () => file('x'))).ep).toBe('webgpu');
    expect((await p.get('x', async () => file('x'), { preference: 'wasm' })).ep).toBe('wasm');
    expect(created[0]!.released).toBe(true);
    // auto takes whatever is held.
    expect((await p.get('x', async () => file('x'))).ep).toBe('wasm');
    expect(created).toHaveLength(2);
  });

  it('throws SessionCreateError when WASM cannot create the session', async () => {
    const { p } = pool({ adapter: false, wasmThrows: true });
    const err = await p.get('bad', async () => file('bad')).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SessionCreateError);
    expect(err).toMatchObject({ name: 'SessionCreateError', model: 'bad', ep: 'wasm' });
    expect((err as Error).message).toMatch(/bad model/);
    expect(p.has('bad')).toBe(false);
  });

  it('honours an abort signal while waiting for creation', async () => {
    const { p } = pool({ adapter: false, delayMs: 50 });
    const ac = new AbortController();
    const got = p.get('slow', async () => file('slow'), { signal: ac.signal });
    ac.abort();
    await expect(got).rejects.toBeInstanceOf(CancelledError);
    // The creation still completes and is kept for the next caller.
    await new Promise((r) => setTimeout(r, 80));
    expect(p.has('slow')).toBe(true);
  });
});
