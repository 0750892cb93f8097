// The Service Worker's gateway to the engine hosts (studio tabs), with fake clients joined by real
// MessageChannels: a host that goes away mid-run (issue #22).
import { describe, expect, it } from 'vitest';
import { ClientEngineGateway, type ClientLike } from '../../src/lib/api/sw-gateway';
import { HostLostError, serveOverPort, type PortLike, type RunRequest } from '../../src/lib/engine/remote';
import { EngineUnavailableError, type Progress, type RunOptions } from '../../src/lib/core/run';
import { toApiError } from '../../src/lib/api/errors';
import { sleep } from './test-utils';

type Runner = (op: string, args: unknown, o: RunOptions, port: MessagePort) => Promise<unknown>;

/** A studio tab: serves each run it is sent with `runner`; `closed` makes it gone for `clients.get`. */
function tab(id: string, runner: Runner) {
  const client = {
    id,
    url: 'http://localhost/',
    closed: false,
    runs: 0,
    postMessage(message: unknown, transfer: Transferable[]) {
      const port = transfer[0] as MessagePort;
      client.runs++;
      serveOverPort(port as unknown as PortLike, message as RunRequest, (op, args, o) =>
        runner(op, args, o, port),
      );
    },
  };
  return client;
}

function gateway(tabs: ReturnType<typeof tab>[]) {
  const gw = new ClientEngineGateway(
    {
      get: async (id) => tabs.find((t) => t.id === id && !t.closed) ?? null,
      matchAll: async () => tabs.filter((t) => !t.closed) as ClientLike[],
    },
    () => new MessageChannel(),
  );
  for (const t of [...tabs].reverse()) gw.register(t.id);
  return gw;
}

const hang = () => new Promise<never>(() => {});

describe('ClientEngineGateway: a host gone mid-run', () => {
  it('nothing heard yet: the run moves to another live host and its result arrives', async () => {
    const a = tab('a', hang);
    const b = tab('b', async (op) => ({ op, on: 'b' }));
    const gw = gateway([a, b]);
    const p = gw.run('system.facts', {} as never, { onProgress: () => undefined });
    await sleep(20);
    expect([a.runs, b.runs]).toEqual([1, 0]);
    a.closed = true;
    gw.gone('a');
    expect(await p).toEqual({ op: 'system.facts', on: 'b' });
    expect(b.runs).toBe(1);
  });

  it('progress already reached the caller: the run fails with engine_unavailable and says why', async () => {
    const a = tab('a', async (_op, _a, o) => {
      o.onProgress?.({ stage: 'compute', done: 1, total: 10 });
      return hang();
    });
    const b = tab('b', async () => 'never asked');
    const gw = gateway([a, b]);
    const heard: Progress[] = [];
    const p = gw.run('system.facts', {} as never, { onProgress: (x) => heard.push(x) });
    await sleep(20);
    expect(heard).toHaveLength(1);
    gw.gone('a');
    const e = await p.catch((x: unknown) => x);
    expect(e).toBeInstanceOf(HostLostError);
    expect(toApiError(e).code).toBe('engine_unavailable');
    expect(toApiError(e).message).toMatch(/studio tab running this job was closed/);
    expect(b.runs).toBe(0);
    // The lost host is no longer offered.
    expect(await gw.run('system.facts', {} as never)).toBe('never asked');
  });

  it("the host's port closing (its tab crashed or closed without a goodbye) ends the run too", async () => {
    const a = tab('a', async (_op, _a, o, port) => {
      o.onProgress?.({ stage: 'compute', done: 1, total: 10 });
      setTimeout(() => port.close(), 10);
      return hang();
    });
    const gw = gateway([a]);
    const t0 = Date.now();
    const e = await gw.run('system.facts', {} as never, { onProgress: () => undefined }).catch((x) => x);
    expect(e).toBeInstanceOf(HostLostError);
    expect(Date.now() - t0).toBeLessThan(2000);
  });

  it('lost with nothing heard and no other host: the lost error, not a generic one', async () => {
    const a = tab('a', hang);
    const gw = gateway([a]);
    const p = gw.run('system.facts', {} as never);
    await sleep(20);
    a.closed = true;
    gw.gone('a');
    const e = await p.catch((x: unknown) => x);
    expect(e).toBeInstanceOf(HostLostError);
  });

  it('reruns once only: a second host lost too fails the run', async () => {
    const a = tab('a', hang);
    const b = tab('b', hang);
    const c = tab('c', async () => 'c');
    const gw = gateway([a, b, c]);
    const p = gw.run('system.facts', {} as never);
    await sleep(20);
    gw.gone('a');
    await sleep(20);
    expect(b.runs).toBe(1);
    gw.gone('b');
    expect(await p.catch((x: unknown) => x)).toBeInstanceOf(HostLostError);
    expect(c.runs).toBe(0);
  });

  it('no host at all: engine_unavailable as before', async () => {
    const gw = gateway([]);
    const e = await gw.run('system.facts', {} as never).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(EngineUnavailableError);
    expect((e as Error).message).toMatch(/open the Timbre studio/);
  });
});
