import { callOverPort, HostLostError, type EngineGateway, type RunRequest } from '../engine/remote';
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
 * studio are tried too. A host that goes away mid-run (it says goodbye, or its heartbeat stops) takes
 * the run with it: the run moves to another live host if nothing was heard from it yet, else fails.
 */
export class ClientEngineGateway implements EngineGateway {
  private hosts: string[] = [];
  /** Per host, what ends the runs it holds when it goes away. */
  private running = new Map<string, Set<AbortController>>();

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

  /** The host said goodbye (its page is hiding): it serves nothing more, and its runs end now. */
  gone(clientId: string): void {
    this.unregister(clientId);
    for (const ac of this.running.get(clientId) ?? []) ac.abort();
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
    let hosts = await this.liveHosts();
    const tried = new Set<string>();
    let last: unknown = null;
    let heard = false;
    const onProgress = opts.onProgress;
    // A host that does not accept (frozen or closing tab) is skipped for the next one; a host lost mid-run
    // passes the run on once, to a host live now, and only while nothing of it has reached the caller.
    for (;;) {
      const host = hosts.find((h) => !tried.has(h.id));
      if (!host) break;
      tried.add(host.id);
      const { port1, port2 } = this.makeChannel();
      const goneAc = new AbortController();
      const held = this.running.get(host.id) ?? new Set();
      this.running.set(host.id, held.add(goneAc));
      try {
        return (await callOverPort(
          port1 as never,
          () => host.postMessage({ type: 'timbre:engine-run', op, args } satisfies RunRequest, [port2]),
          {
            ...opts,
            onProgress: onProgress
              ? (p) => {
                  heard = true;
                  onProgress(p);
                }
              : undefined,
            acceptMs: 3000,
            hostGone: goneAc.signal,
          },
        )) as OpResult<K>;
      } catch (e) {
        if (errorKind(e) !== 'engine_unavailable') throw e;
        this.unregister(host.id);
        if (e instanceof HostLostError) {
          if (heard || last instanceof HostLostError) throw e;
          hosts = await this.liveHosts();
        }
        last = e;
      } finally {
        held.delete(goneAc);
        if (!held.size) this.running.delete(host.id);
      }
    }
    if (last instanceof HostLostError) throw last;
    throw new EngineUnavailableError(
      last
        ? 'The open studio tabs did not answer. Reload the studio tab and retry.'
        : 'No engine is running: open the Timbre studio (or a page that embeds it) in this browser, then retry.',
    );
  }
}
