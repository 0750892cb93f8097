import {
  MessageChannel as NodeMessageChannel,
  type MessagePort as NodeMessagePort,
} from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import {
  callOverPort,
  HostLostError,
  serveOverPort,
  type CallOverPortOptions,
  type PortLike,
  type RunRequest,
} from '../../src/lib/engine/remote';
import {
  CancelledError,
  EngineCrashedError,
  EngineUnavailableError,
  UnknownOperationError,
  reviveError,
  type Progress,
  type RunOptions,
} from '../../src/lib/core/run';
import { toApiError } from '../../src/lib/api/errors';
import { sleep } from './test-utils';

const asPort = (p: MessagePort) => p as unknown as PortLike;
const req = (op: string, args: unknown): RunRequest => ({ type: 'timbre:engine-run', op, args });

type Runner = (op: string, args: unknown, opts: RunOptions) => Promise<unknown>;

/** Caller and host joined by a real MessageChannel, the way the Service Worker and a studio tab are. */
function connect(runner: Runner, opts: CallOverPortOptions = {}, op = 'op', args: unknown = {}) {
  const { port1, port2 } = new MessageChannel();
  let sent = 0;
  const p = callOverPort(
    asPort(port1),
    () => {
      sent++;
      serveOverPort(asPort(port2), req(op, args), runner);
    },
    opts,
  );
  return { p, sent: () => sent };
}

describe('callOverPort / serveOverPort', () => {
  it('delivers the result', async () => {
    const { p } = connect(
      async (op, args) => ({ op, doubled: (args as { n: number }).n * 2 }),
      {},
      'math.double',
      { n: 21 },
    );
    expect(await p).toEqual({ op: 'math.double', doubled: 42 });
  });

  it('delivers progress in order before the result', async () => {
    const seen: Progress[] = [];
    const { p } = connect(
      async (_op, _a, o) => {
        for (let i = 1; i <= 3; i++) {
          o.onProgress?.({ stage: 's', done: i, total: 3 });
          await sleep(1);
        }
        return 'ok';
      },
      { onProgress: (pr) => seen.push(pr) },
    );
    expect(await p).toBe('ok');
    expect(seen).toEqual([1, 2, 3].map((done) => ({ stage: 's', done, total: 3 })));
  });

  it('revives errors by name', async () => {
    const cases: [Error, new (...a: never[]) => Error][] = [
      [new EngineCrashedError('worker died'), EngineCrashedError],
      [new EngineUnavailableError('no tab'), EngineUnavailableError],
      [new UnknownOperationError('no such op'), UnknownOperationError],
      [new CancelledError('stopped'), CancelledError],
    ];
    for (const [thrown, cls] of cases) {
      const { p } = connect(async () => {
        throw thrown;
      });
      const e = await p.catch((x: unknown) => x);
      expect(e).toBeInstanceOf(cls);
      expect((e as Error).name).toBe(thrown.name);
      expect((e as Error).message).toBe(thrown.message);
    }
    const weird = (await connect(async () => {
      throw Object.assign(new Error('odd'), { name: 'WeirdError' });
    }).p.catch((x: unknown) => x)) as Error;
    expect(weird).toBeInstanceOf(Error);
    expect([weird.name, weird.message]).toEqual(['WeirdError', 'odd']);
    const notAnError = (await connect(async () => {
      throw 'plain string';
    }).p.catch((x: unknown) => x)) as Error;
    expect(notAnError.message).toBe('plain string');
    expect(
      toApiError(
        await connect(async () => {
          throw new EngineUnavailableError('gone');
        }).p.catch((x: unknown) => x),
      ).code,
    ).toBe('engine_unavailable');
  });

  it('cancel: the caller rejects at once and the host sees its signal aborted', async () => {
    const ac = new AbortController();
    let hostAborted!: () => void;
    const hostSaw = new Promise<void>((r) => (hostAborted = r));
    const { p } = connect(
      (_op, _a, o) =>
        new Promise((_res, rej) => {
          o.signal?.addEventListener('abort', () => {
            hostAborted();
            rej(new CancelledError());
          });
        }),
      { signal: ac.signal },
    );
    await sleep(10);
    ac.abort();
    await expect(p).rejects.toBeInstanceOf(CancelledError);
    await hostSaw;
  });

  it('an already-aborted signal rejects without sending anything', async () => {
    const ac = new AbortController();
    ac.abort();
    let ran = false;
    const { p, sent } = connect(
      async () => {
        ran = true;
      },
      { signal: ac.signal },
    );
    await expect(p).rejects.toBeInstanceOf(CancelledError);
    expect(sent()).toBe(0);
    expect(ran).toBe(false);
  });

  it('no host answering: EngineUnavailableError after acceptMs', async () => {
    const { port1 } = new MessageChannel();
    const t0 = Date.now();
    const e = (await callOverPort(asPort(port1), () => undefined, { acceptMs: 60 }).catch(
      (x: unknown) => x,
    )) as Error;
    expect(e).toBeInstanceOf(EngineUnavailableError);
    expect(e.name).toBe('EngineUnavailableError');
    expect(Date.now() - t0).toBeGreaterThanOrEqual(55);
    expect(Date.now() - t0).toBeLessThan(2000);
  });

  it('once accepted, a job may run longer than acceptMs', async () => {
    const { p } = connect(
      async () => {
        await sleep(150);
        return 'slow but fine';
      },
      { acceptMs: 30 },
    );
    expect(await p).toBe('slow but fine');
  });

  it('works across a transferred port (node:worker_threads), like a Service Worker posting to a tab', async () => {
    // The "tab" listens on a control channel and serves each run on the port it is sent.
    const control = new NodeMessageChannel();
    control.port2.on('message', (m: { req: RunRequest; port: NodeMessagePort }) => {
      const port = m.port;
      const like: PortLike = {
        postMessage: (msg) => port.postMessage(msg),
        close: () => port.close(),
        set onmessage(fn: PortLike['onmessage']) {
          port.removeAllListeners('message');
          if (fn) port.on('message', (data: unknown) => fn({ data }));
        },
        get onmessage() {
          return null;
        },
      };
      serveOverPort(like, m.req, async (op, args, o) => {
        o.onProgress?.({ stage: 'run', done: 1, total: 1 });
        return { op, args };
      });
    });
    const { port1, port2 } = new NodeMessageChannel();
    const caller: PortLike = {
      postMessage: (msg) => port1.postMessage(msg),
      close: () => port1.close(),
      set onmessage(fn: PortLike['onmessage']) {
        port1.removeAllListeners('message');
        if (fn) port1.on('message', (data: unknown) => fn({ data }));
      },
      get onmessage() {
        return null;
      },
    };
    const progress: Progress[] = [];
    const result = await callOverPort(
      caller,
      () => control.port1.postMessage({ req: req('system.compute', { size: 8 }), port: port2 }, [port2]),
      { onProgress: (p) => progress.push(p) },
    );
    expect(result).toEqual({ op: 'system.compute', args: { size: 8 } });
    expect(progress).toEqual([{ stage: 'run', done: 1, total: 1 }]);
    control.port1.close();
  });
});

describe('a host that goes away after accepting (issue #22)', () => {
  const quick = { everyMs: 20, misses: 3 };

  it('a run longer than the heartbeat limit is kept alive by the host answering pings', async () => {
    const { p } = connect(
      async () => {
        await sleep(300);
        return 'done';
      },
      { heartbeat: quick },
    );
    expect(await p).toBe('done');
  });

  it('a host that accepted and then went silent (frozen, killed): HostLostError, named engine_unavailable', async () => {
    const { port1, port2 } = new MessageChannel();
    const t0 = Date.now();
    const seen: unknown[] = [];
    port2.onmessage = (ev) => seen.push((ev.data as { type: string }).type);
    const e = (await callOverPort(asPort(port1), () => port2.postMessage({ type: 'accepted' }), {
      heartbeat: quick,
      acceptMs: 10_000,
    }).catch((x: unknown) => x)) as Error;
    expect(e).toBeInstanceOf(HostLostError);
    expect(e.name).toBe('EngineUnavailableError');
    expect(e.message).toMatch(/studio tab running this job was closed/);
    expect(toApiError(e).code).toBe('engine_unavailable');
    expect(Date.now() - t0).toBeLessThan(1000);
    await sleep(10);
    // It was pinged, then told to stop should it wake up.
    expect(seen).toContain('ping');
    expect(seen[seen.length - 1]).toBe('cancel');
    port2.close();
  });

  it("the host's end of the port closing (its tab closed) ends the run at once", async () => {
    const { port1, port2 } = new MessageChannel();
    const t0 = Date.now();
    const p = callOverPort(asPort(port1), () => {
      port2.postMessage({ type: 'accepted' });
      setTimeout(() => port2.close(), 20);
    });
    expect(await p.catch((x: unknown) => x)).toBeInstanceOf(HostLostError);
    // Well before the default heartbeat (4 s) would have noticed.
    expect(Date.now() - t0).toBeLessThan(1500);
  });

  it('a result sent just before the host closed its port still arrives', async () => {
    const { p } = connect(async () => 'last words');
    expect(await p).toBe('last words');
  });

  it('hostGone (the tab said goodbye) ends the run with HostLostError', async () => {
    const gone = new AbortController();
    const { p } = connect(() => new Promise(() => {}), { hostGone: gone.signal });
    await sleep(10);
    gone.abort();
    expect(await p.catch((x: unknown) => x)).toBeInstanceOf(HostLostError);
  });
});

describe('reviveError', () => {
  it('maps AbortError to CancelledError and fills a missing message', () => {
    expect(reviveError({ name: 'AbortError', message: 'x' })).toBeInstanceOf(CancelledError);
    expect(reviveError({}).message).toBe('Unknown engine error');
    expect(reviveError({}).name).toBe('Error');
  });
});
