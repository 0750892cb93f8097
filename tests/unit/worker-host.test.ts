// The page's worker supervisor (src/client/worker-host.ts) and the three bridges on it, in Node: a fake
// Worker speaks comlink over a MessageChannel to an API exposed in this thread, and dies on request.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { expose, transfer } from 'comlink';
import { WorkerHost, type AbortPolicy } from '../../src/client/worker-host';
import { ModelsBridge, ModelsWorkerCrashedError } from '../../src/client/models';
import { FormatsBridge } from '../../src/client/formats';
import { EngineBridge } from '../../src/client/engine';
import { CancelledError, EngineCrashedError } from '../../src/lib/core/run';
import { FFmpegCrashedError } from '../../src/lib/codec/formats';
import { ModelNotFoundError } from '../../src/lib/models/types';
import { sleep } from './test-utils';

/** A Worker enough for comlink: messages go over a MessageChannel; `error` / `messageerror` on request. */
class FakeWorker extends EventTarget {
  static made: FakeWorker[] = [];
  /** What the next worker exposes. */
  static api: (w: FakeWorker) => object = () => ({});
  private readonly port: MessagePort;
  private readonly inner: MessagePort;
  terminated = false;
  /** The name the page gave it (`timbre-engine`, `timbre-encoder` …). */
  readonly name: string | undefined;

  constructor(_url?: unknown, o?: { name?: string }) {
    super();
    this.name = o?.name;
    const { port1, port2 } = new MessageChannel();
    this.port = port1;
    this.inner = port2;
    expose(FakeWorker.api(this), port2);
    port1.start();
    FakeWorker.made.push(this);
  }

  /** Closed itself (`self.close()`) or killed by the browser: no event, messages go nowhere. */
  vanished = false;

  postMessage(message: unknown, transfer: Transferable[] = []): void {
    if (!this.terminated && !this.vanished) this.port.postMessage(message, transfer as never);
  }

  override addEventListener(type: string, fn: EventListenerOrEventListenerObject | null, o?: unknown): void {
    if (type === 'message') this.port.addEventListener(type, fn as never, o as never);
    else super.addEventListener(type, fn, o as AddEventListenerOptions);
  }

  override removeEventListener(type: string, fn: EventListenerOrEventListenerObject | null): void {
    if (type === 'message') this.port.removeEventListener(type, fn as never);
    else super.removeEventListener(type, fn);
  }

  terminate(): void {
    this.terminated = true;
    this.port.close();
    this.inner.close();
  }

  /** An uncaught error inside the worker, as the browser reports it. */
  crash(message = 'boom'): void {
    this.dispatchEvent(Object.assign(new Event('error', { cancelable: true }), { message }));
  }

  /** Ends without a word, as a worker the browser closed or killed does. */
  vanish(): void {
    this.vanished = true;
  }

  /** A message the page could not deserialize. */
  garble(): void {
    this.dispatchEvent(new Event('messageerror'));
  }
}

const never = () => new Promise<never>(() => {});

/** The engine worker's `lifeline`: a port answered (like its sentinel) until the worker vanishes. */
function lifeline(w: FakeWorker) {
  return () => {
    const { port1, port2 } = new MessageChannel();
    port2.onmessage = () => {
      if (!w.vanished && !w.terminated) port2.postMessage(0);
    };
    return transfer(port1, [port1]);
  };
}

/** Each worker's calls: `hang` never answers, `ok` answers with the worker's number, `fail` throws a named error. */
function testApi() {
  const n = FakeWorker.made.length + 1;
  return {
    hang: never,
    ok: async () => n,
    ping: async () => 'pong',
    fail: async () => {
      throw new ModelNotFoundError('no such model');
    },
    cancel: vi.fn(),
  };
}
type TestApi = ReturnType<typeof testApi>;

class TestCrashedError extends Error {
  override name = 'TestCrashedError';
}

const QUICK = { everyMs: 20, misses: 3 };

function host(abort?: AbortPolicy, heartbeat = false) {
  return new WorkerHost<TestApi>({
    start: () => new FakeWorker() as unknown as Worker,
    crashed: (why, silent) => new TestCrashedError(`died (${why})${silent ? ' silently' : ''}`),
    heartbeat: heartbeat
      ? { ...QUICK, connect: (r, answered) => () => void r.ping().then(answered, () => undefined) }
      : undefined,
    revive: (e) => Object.assign(new Error((e as Error).message), { name: `revived ${(e as Error).name}` }),
    abort,
  });
}

/** Lets the fake worker start and the call reach it. */
const settle = () => sleep(10);
const last = () => FakeWorker.made[FakeWorker.made.length - 1]!;

/** A call's outcome within `ms`: its error, its value, or 'still waiting'. */
async function within<T>(p: Promise<T>, ms = 500): Promise<T | Error | 'still waiting'> {
  return Promise.race([p.catch((e: Error) => e), sleep(ms).then(() => 'still waiting' as const)]);
}

beforeEach(() => {
  FakeWorker.made = [];
  FakeWorker.api = testApi;
  vi.stubGlobal('Worker', FakeWorker);
});

afterEach(() => {
  for (const w of FakeWorker.made) w.terminate();
  vi.unstubAllGlobals();
});

describe('WorkerHost', () => {
  it('starts the worker on the first call only, and answers from it', async () => {
    const h = host();
    expect(h.alive).toBe(false);
    expect(FakeWorker.made).toHaveLength(0);
    expect(await h.call((r) => r.ok())).toBe(1);
    expect(await h.call((r) => r.ok())).toBe(1);
    expect(h.starts).toBe(1);
    expect(h.alive).toBe(true);
  });

  it('a crash (error event) rejects the call in flight with the named error; the next call runs on a new worker', async () => {
    const h = host();
    const heard: string[] = [];
    h.onChange(() => heard.push(`${h.alive} ${h.starts} ${h.crashes}`));
    const inFlight = h.call((r) => r.hang());
    await settle();
    last().crash('out of memory');
    const e = await within(inFlight);
    expect(e).toBeInstanceOf(TestCrashedError);
    expect((e as Error).message).toBe('died (out of memory)');
    expect(FakeWorker.made[0]!.terminated).toBe(true);
    expect(h.alive).toBe(false);
    expect(await h.call((r) => r.ok())).toBe(2);
    expect([h.starts, h.crashes]).toEqual([2, 1]);
    expect(heard).toEqual(['true 1 0', 'false 1 1', 'true 2 1']);
  });

  it('a messageerror ends the worker the same way', async () => {
    const h = host();
    const inFlight = h.call((r) => r.hang());
    await settle();
    last().garble();
    const e = await within(inFlight);
    expect(e).toBeInstanceOf(TestCrashedError);
    expect((e as Error).message).toMatch(/message could not be read/);
    expect(await h.call((r) => r.ok())).toBe(2);
    expect([h.starts, h.crashes]).toEqual([2, 1]);
  });

  it('an event from a worker already replaced changes nothing', async () => {
    const h = host();
    await h.call((r) => r.ok());
    const first = last();
    first.crash();
    await h.call((r) => r.ok());
    first.crash();
    expect(await h.call((r) => r.ok())).toBe(2);
    expect([h.starts, h.crashes]).toEqual([2, 1]);
  });

  it('revives errors thrown in the worker with the given reviver', async () => {
    const e = await within(host().call((r) => r.fail()));
    expect((e as Error).name).toBe('revived ModelNotFoundError');
    expect((e as Error).message).toBe('no such model');
  });

  it("abort, 'terminate' policy (formats): rejects with CancelledError and terminates the worker at once", async () => {
    const h = host({ kind: 'terminate', stopped: () => new CancelledError('stopped') });
    const ac = new AbortController();
    const inFlight = h.call((r) => r.hang(), { signal: ac.signal });
    await settle();
    ac.abort();
    expect(await within(inFlight, 50)).toBeInstanceOf(CancelledError);
    expect(FakeWorker.made[0]!.terminated).toBe(true);
    expect(await h.call((r) => r.ok())).toBe(2);
    expect([h.starts, h.crashes]).toEqual([2, 0]);
  });

  it('an already aborted signal rejects without starting a worker', async () => {
    const h = host();
    const ac = new AbortController();
    ac.abort();
    expect(await within(h.call((r) => r.ok(), { signal: ac.signal }))).toBeInstanceOf(CancelledError);
    expect(h.starts).toBe(0);
  });

  describe("abort, 'ask' policy (engine)", () => {
    const ask = (graceMs: number): AbortPolicy => ({
      kind: 'ask',
      graceMs,
      stopped: () => new Error('stopped after the grace period'),
    });

    it('asks the worker to stop and keeps it when the call ends within the grace period', async () => {
      const h = host(ask(100));
      let stop!: () => void;
      const cancel = vi.fn(() => stop());
      FakeWorker.api = () => ({ ...testApi(), cancel, hang: () => new Promise<void>((r) => (stop = r)) });
      const ac = new AbortController();
      const inFlight = h.call((r) => r.hang(), { signal: ac.signal, askToStop: (r) => r.cancel() });
      await settle();
      ac.abort();
      expect(await within(inFlight, 50)).toBeInstanceOf(CancelledError);
      await sleep(200);
      expect(cancel).toHaveBeenCalledTimes(1);
      expect(FakeWorker.made[0]!.terminated).toBe(false);
      expect(h.starts).toBe(1);
    });

    it('terminates a worker whose call is still running after the grace period; calls on it fail', async () => {
      const h = host(ask(50));
      const ac = new AbortController();
      const cancelled = h.call((r) => r.hang(), { signal: ac.signal, askToStop: (r) => r.cancel() });
      const other = h.call((r) => r.hang());
      await settle();
      ac.abort();
      expect(await within(cancelled, 20)).toBeInstanceOf(CancelledError);
      expect(FakeWorker.made[0]!.terminated).toBe(false);
      expect(((await within(other, 300)) as Error).message).toBe('stopped after the grace period');
      expect(FakeWorker.made[0]!.terminated).toBe(true);
      expect(await h.call((r) => r.ok())).toBe(2);
      expect([h.starts, h.crashes]).toEqual([2, 0]);
    });
  });
});

describe('WorkerHost heartbeat (issue #22)', () => {
  it('a worker that vanishes mid-call (no error event) is found by the heartbeat; the next call gets a fresh one', async () => {
    const h = host(undefined, true);
    const inFlight = h.call((r) => r.hang());
    await settle();
    last().vanish();
    const e = await within(inFlight, 1000);
    expect(e).toBeInstanceOf(TestCrashedError);
    expect((e as Error).message).toBe('died (it stopped answering) silently');
    expect(FakeWorker.made[0]!.terminated).toBe(true);
    expect(await h.call((r) => r.ok())).toBe(2);
    expect([h.starts, h.crashes]).toEqual([2, 1]);
  });

  it('EngineBridge: a job longer than the heartbeat limit runs to its end while the lifeline answers', async () => {
    FakeWorker.api = (w) => ({
      run: async (_id: string, op: string) => sleep(300).then(() => ({ op })),
      cancel() {},
      lifeline: lifeline(w),
    });
    const engine = new EngineBridge(QUICK);
    expect(await engine.run('system.facts', {} as never)).toEqual({ op: 'system.facts' });
    expect(engine.restarts).toBe(0);
  });

  it('a long call on a worker that answers pings is left alone', async () => {
    const h = host(undefined, true);
    FakeWorker.api = () => ({ ...testApi(), hang: () => sleep(300).then(() => 'slow') });
    expect(await h.call((r) => r.hang() as Promise<unknown>)).toBe('slow');
    expect(h.crashes).toBe(0);
  });

  it('beats only while a call is in flight: an idle worker is not pinged (nor taken for dead)', async () => {
    const ping = vi.fn(async () => 'pong');
    FakeWorker.api = () => ({ ...testApi(), ping });
    const h = host(undefined, true);
    await h.call((r) => r.ok());
    last().vanish();
    await sleep(200);
    expect(ping).not.toHaveBeenCalled();
    expect([h.alive, h.crashes]).toEqual([true, 0]);
  });
});

describe('the bridges on it', () => {
  it('ModelsBridge: a call in flight when the worker dies settles (it used to wait forever)', async () => {
    const changed = vi.fn();
    FakeWorker.api = () => ({
      list: never,
      install: never,
      summary: async () => ({ worker: FakeWorker.made.length }),
    });
    const models = new ModelsBridge(changed);
    const list = models.list();
    const install = models.install('kokoro');
    await settle();
    last().crash('out of memory');
    const [l, i] = await Promise.all([within(list), within(install)]);
    expect(l).toBeInstanceOf(ModelsWorkerCrashedError);
    expect((l as Error).message).toMatch(/model manager stopped unexpectedly \(out of memory\)/);
    expect(i).toBeInstanceOf(ModelsWorkerCrashedError);
    expect(changed).toHaveBeenCalledTimes(1);
    expect(await models.summary()).toEqual({ worker: 2 });
    expect(FakeWorker.made).toHaveLength(2);
  });

  it('ModelsBridge: revives the manager errors', async () => {
    FakeWorker.api = () => ({
      remove: async () => {
        throw new ModelNotFoundError('no model "x"');
      },
    });
    const changed = vi.fn();
    expect(await within(new ModelsBridge(changed).remove('x'))).toBeInstanceOf(ModelNotFoundError);
    expect(changed).toHaveBeenCalledTimes(1);
  });

  it('FormatsBridge: a crash fails the job with FFmpegCrashedError; an abort terminates (starts counts both)', async () => {
    FakeWorker.api = () => ({ encode: never, probe: async () => ({ worker: FakeWorker.made.length }) });
    const formats = new FormatsBridge();
    const job = formats.encode(new Float32Array(4), 24000, { format: 'wav' });
    await settle();
    last().crash();
    expect(await within(job)).toBeInstanceOf(FFmpegCrashedError);
    const ac = new AbortController();
    const next = formats.encode(new Float32Array(4), 24000, { format: 'wav' }, { signal: ac.signal });
    await settle();
    ac.abort();
    expect(await within(next, 50)).toBeInstanceOf(CancelledError);
    expect(FakeWorker.made[1]!.terminated).toBe(true);
    expect(await formats.probe(new Uint8Array(4))).toEqual({ worker: 3 });
    expect(formats.starts).toBe(3);
  });

  it('EngineBridge: a crash fails the job with EngineCrashedError, counts a restart and tells listeners', async () => {
    FakeWorker.api = () => {
      const n = FakeWorker.made.length + 1;
      return { run: async (_id: string, op: string) => (n === 1 ? never() : { op, worker: n }), cancel() {} };
    };
    const engine = new EngineBridge();
    const seen: number[] = [];
    engine.onChange(() => seen.push(engine.restarts));
    const job = engine.run('system.facts', {} as never);
    await settle();
    expect(engine.state.alive).toBe(true);
    last().crash('out of memory');
    const e = await within(job);
    expect(e).toBeInstanceOf(EngineCrashedError);
    expect((e as Error).message).toMatch(/engine stopped unexpectedly \(out of memory\)/);
    expect(engine.restarts).toBe(1);
    expect(engine.state).toMatchObject({ alive: false, restarts: 1 });
    expect(seen).toContain(1);
    expect(await engine.run('system.facts', {} as never)).toEqual({ op: 'system.facts', worker: 2 });
    expect(engine.restarts).toBe(1);
  });

  it('EngineBridge: a worker that vanished before the job said anything runs it once more on a fresh one', async () => {
    // Workers 1 and 2 hang, worker 3 would answer: one rerun only, so the job fails on worker 2.
    FakeWorker.api = (w) => {
      const n = FakeWorker.made.length + 1;
      return {
        run: async (_id: string, op: string) => (n >= 3 ? { op, worker: n } : never()),
        cancel() {},
        lifeline: lifeline(w),
      };
    };
    const engine = new EngineBridge(QUICK);
    const job = engine.run('system.facts', {} as never);
    await settle();
    last().vanish();
    await sleep(150);
    expect(FakeWorker.made).toHaveLength(2);
    last().vanish();
    const e = await within(job, 1000);
    expect(e).toBeInstanceOf(EngineCrashedError);
    expect((e as Error).name).toBe('EngineCrashedError');
    expect((e as Error).message).toMatch(
      /engine stopped unexpectedly \(it stopped answering\); it has restarted/,
    );
    expect(engine.restarts).toBe(2);
    expect(await engine.run('system.facts', {} as never)).toEqual({ op: 'system.facts', worker: 3 });

    // A first vanish with nothing heard: the rerun answers.
    const again = new EngineBridge(QUICK);
    FakeWorker.made = [];
    const ok = again.run('system.facts', {} as never);
    await settle();
    last().vanish();
    FakeWorker.api = (w) => ({
      run: async (_id: string, op: string) => ({ op, worker: FakeWorker.made.length }),
      cancel() {},
      lifeline: lifeline(w),
    });
    expect(await within(ok, 1000)).toEqual({ op: 'system.facts', worker: 2 });
  });

  it('EngineBridge: an encode runs in the encoder worker while a model run holds the engine worker', async () => {
    const started: string[] = [];
    FakeWorker.api = (w) => ({
      run: async (_id: string, op: string) => {
        started.push(`${w.name}: ${op}`);
        // The model run holds its worker to the end of the test, as Kokoro holds the engine worker's thread.
        return op === 'tts.generate' ? never() : { op, worker: w.name };
      },
      cancel() {},
      ping: async () => 'pong',
    });
    const engine = new EngineBridge();
    const speech = engine.run('tts.generate', {} as never);
    await settle();
    expect(await within(engine.run('audio.encode', {} as never), 1000)).toEqual({
      op: 'audio.encode',
      worker: 'timbre-encoder',
    });
    // Conversions and analyses stay on the engine worker's ffmpeg core.
    expect(await within(engine.run('audio.convert', {} as never), 1000)).toEqual({
      op: 'audio.convert',
      worker: 'timbre-engine',
    });
    expect(started).toEqual([
      'timbre-engine: tts.generate',
      'timbre-encoder: audio.encode',
      'timbre-engine: audio.convert',
    ]);
    expect(await within(speech, 50)).toBe('still waiting');
  });

  it('EngineBridge: an encoder crash fails its encode with EngineCrashedError and leaves the engine worker alone', async () => {
    FakeWorker.api = (w) => {
      const n = FakeWorker.made.length + 1;
      return {
        run: async (_id: string, op: string) =>
          w.name === 'timbre-encoder' && n === 2 ? never() : { op, worker: w.name, n },
        cancel() {},
        ping: async () => 'pong',
      };
    };
    const engine = new EngineBridge();
    expect(await engine.run('system.facts', {} as never)).toEqual({
      op: 'system.facts',
      worker: 'timbre-engine',
      n: 1,
    });
    const encode = engine.run('audio.encode', {} as never);
    await settle();
    expect(last().name).toBe('timbre-encoder');
    last().crash('out of memory');
    const e = await within(encode);
    expect(e).toBeInstanceOf(EngineCrashedError);
    expect((e as Error).message).toMatch(/audio encoder stopped unexpectedly \(out of memory\)/);
    expect(engine.restarts).toBe(1);
    expect(FakeWorker.made[0]!.terminated).toBe(false);
    expect(await engine.run('audio.encode', {} as never)).toEqual({
      op: 'audio.encode',
      worker: 'timbre-encoder',
      n: 3,
    });
    expect(await engine.run('system.facts', {} as never)).toMatchObject({ worker: 'timbre-engine', n: 1 });
  });

  it('EngineBridge: idle-time work stops for a job asked after it, in the worker, which is kept however long the stop takes', async () => {
    const seen: string[] = [];
    FakeWorker.api = () => {
      const n = FakeWorker.made.length + 1;
      const asked = new Map<string, () => void>();
      return {
        run: async (id: string, op: string) => {
          seen.push(`start ${op}`);
          if (op !== 'clone.tune') return { op, worker: n };
          await new Promise<void>((r) => asked.set(id, r));
          // It hears the stop once its model run ends: longer than a cancelled job's grace period.
          await sleep(700);
          seen.push('stopped clone.tune');
          throw new CancelledError();
        },
        cancel: (id: string) => {
          seen.push('asked to stop');
          asked.get(id)?.();
        },
      };
    };
    const engine = new EngineBridge();
    const tune = engine.runWhileIdle('clone.tune', {} as never);
    await settle();
    // Idle-time work alone: head starts may begin (and would stop it).
    expect(engine.busy).toBe(false);
    const job = engine.run('clone.convert', {} as never);
    expect(engine.busy).toBe(true);
    const e = await within(tune, 3000);
    expect((e as Error).name).toBe('CancelledError');
    // The conversion (same queue) starts once the tune has stopped, on the same worker: never ended for it.
    expect(await within(job, 1000)).toEqual({ op: 'clone.convert', worker: 1 });
    expect(seen).toEqual(['start clone.tune', 'asked to stop', 'stopped clone.tune', 'start clone.convert']);
    expect(FakeWorker.made).toHaveLength(1);
    expect(FakeWorker.made[0]!.terminated).toBe(false);
    expect(engine.busy).toBe(false);
  });

  it('EngineBridge: a job that already reported progress fails with EngineCrashedError instead of rerunning', async () => {
    FakeWorker.api = (w) => ({
      run: async (_id: string, _op: string, _a: unknown, onProgress?: (p: unknown) => void) => {
        await onProgress?.({ stage: 'compute', done: 1, total: 9 });
        return never();
      },
      cancel() {},
      lifeline: lifeline(w),
    });
    const engine = new EngineBridge(QUICK);
    const heard: unknown[] = [];
    const job = engine.run('system.facts', {} as never, { onProgress: (p) => heard.push(p) });
    await sleep(50);
    expect(heard).toHaveLength(1);
    last().vanish();
    expect(await within(job, 1000)).toBeInstanceOf(EngineCrashedError);
    expect(FakeWorker.made).toHaveLength(1);
  });
});
