import { callOverPort, type EngineGateway, type RunRequest } from '../engine/remote';
import { EngineUnavailableError, type RunOptions } from '../core/run';
import { errorKind } from '../core/errors';
import type { EngineOpName, OpArgs, OpResult } from '../engine/ops';

/** The parts of the Service Worker's `clients` this needs, so it can be unit-tested without one. */
export interface ClientLike {
  id: string;
  url: string;
  postMessage(message: unknown, transfer: Transferable[]): void;
}
export interface ClientsLike {
  get(id: string): Promise<ClientLike | undefined | null>;
  matchAll(opts: { type: 'window'; includeUncontrolled: boolean }): Promise<readonly ClientLike[]>;
}

const HOST_PATHS = ['/', '/index.html', '/embed.html'];

/**
 * Runs engine operations in an open engine host (a studio tab or embed iframe) over a MessageChannel.
 * Hosts register themselves; after a Service Worker restart the list is empty, so open windows of the
 * studio are tried too.
 */
export class ClientEngineGateway implements EngineGateway {
  private hosts: string[] = [];

  constructor(
    private readonly clients: ClientsLike,
    private readonly makeChannel: () => { port1: MessagePort; port2: MessagePort },
  ) {}

  register(clientId: string): void {
    this.hosts = [clientId, ...this.hosts.filter((h) => h !== clientId)];
  }

  unregister(clientId: string): void {
    this.hosts = this.hosts.filter((h) => h !== clientId);
  }

  private async liveHosts(): Promise<ClientLike[]> {
    const out: ClientLike[] = [];
    for (const id of [...this.hosts]) {
      const c = await this.clients.get(id);
      if (c) out.push(c);
      else this.unregister(id);
    }
    if (out.length) return out;
    const windows = await this.clients.matchAll({ type: 'window', includeUncontrolled: true });
    return windows.filter((w) => HOST_PATHS.includes(new URL(w.url).pathname));
  }

  async hostCount(): Promise<number> {
    return (await this.liveHosts()).length;
  }

  async run<K extends EngineOpName>(op: K, args: OpArgs<K>, opts: RunOptions = {}): Promise<OpResult<K>> {
    const hosts = await this.liveHosts();
    let last: unknown = null;
    // A host that does not accept (frozen or closing tab) is skipped for the next one.
    for (const host of hosts) {
      const { port1, port2 } = this.makeChannel();
      try {
        return (await callOverPort(
          port1 as never,
          () => host.postMessage({ type: 'timbre:engine-run', op, args } satisfies RunRequest, [port2]),
          {
            ...opts,
            acceptMs: 3000,
          },
        )) as OpResult<K>;
      } catch (e) {
        if (errorKind(e) !== 'engine_unavailable') throw e;
        this.unregister(host.id);
        last = e;
      }
    }
    throw new EngineUnavailableError(
      last
        ? 'The open studio tabs did not answer. Reload the studio tab and retry.'
        : 'No engine is running: open the Timbre studio (or a page that embeds it) in this browser, then retry.',
    );
  }
}
