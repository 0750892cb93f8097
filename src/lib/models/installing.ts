// Models on their way (#21): installs run in the models worker, but the engine worker and the Service Worker
// must tell "being installed" from "not installed". An install holds the Web Lock `timbre-model:<id>` for
// each of its models (models.worker.ts), which anyone on the origin can query, and announces its progress
// on a BroadcastChannel, which the Service Worker keeps for the API's `model_loading` answers.
import type { InstallProgress } from './types';

/** The Web Lock an install holds per model, so two tabs never write one model at once. */
export const modelLockName = (id: string) => `timbre-model:${id}`;
/** Where installs announce their progress. */
export const INSTALL_CHANNEL = 'timbre:installs';

/** How far an install is, as the API reports it. */
export interface InstallStatus {
  /** The model ids this install brings (the whole bundled set on a first start). */
  models: string[];
  files_done: number;
  files_total: number;
  bytes_done: number;
  bytes_total: number;
  percent: number;
  eta_seconds: number | null;
}

type Announcement = { type: 'progress'; status: InstallStatus } | { type: 'ended'; models: string[] };

interface LockQuery {
  query(): Promise<{ held?: { name?: string }[]; pending?: { name?: string }[] }>;
}
const lockManager = (): LockQuery | undefined =>
  (globalThis.navigator as { locks?: LockQuery } | undefined)?.locks;

/** True while an install of `id` holds its lock somewhere on this origin (any tab or worker). */
export async function installUnderWay(id: string): Promise<boolean> {
  const locks = lockManager();
  if (!locks) return false;
  const { held = [] } = await locks.query();
  return held.some((l) => l.name === modelLockName(id));
}

export type InstallWaitOutcome = 'installed' | 'ended' | 'timeout';

/**
 * Waits until `installed()` says yes (the model's record is written, possibly before the rest of its set),
 * the install ends without it, or `ms` pass. Polls: the record is written by another worker.
 */
export async function waitForInstall(
  id: string,
  installed: () => Promise<boolean>,
  opts: { ms: number; pollMs?: number; underWay?: (id: string) => Promise<boolean> },
): Promise<InstallWaitOutcome> {
  const underWay = opts.underWay ?? installUnderWay;
  const end = Date.now() + opts.ms;
  for (;;) {
    if (await installed()) return 'installed';
    if (!(await underWay(id))) return (await installed()) ? 'installed' : 'ended';
    if (Date.now() >= end) return 'timeout';
    await new Promise((r) => setTimeout(r, Math.min(opts.pollMs ?? 250, Math.max(0, end - Date.now()))));
  }
}

/**
 * The API's figures for one install from its progress; `files` is every file of the set as `<id>/<path>`,
 * in install order (a set's progress names them so, one model's by path alone).
 */
export function installStatus(models: string[], files: string[], p: InstallProgress): InstallStatus {
  const at = p.file ? files.findIndex((f) => f === p.file || f.endsWith(`/${p.file}`)) : -1;
  // A model of a set that is done is reported by its id: its files and those before it are done.
  const modelEnd = files.findLastIndex((f) => f.startsWith(`${p.file}/`)) + 1;
  const files_done = at >= 0 ? at : modelEnd > 0 ? modelEnd : p.stage === 'done' ? files.length : 0;
  return {
    models,
    files_done,
    files_total: files.length,
    bytes_done: p.done,
    bytes_total: p.total,
    percent: p.total > 0 ? Math.min(100, Math.round((p.done / p.total) * 1000) / 10) : 0,
    eta_seconds: p.etaSeconds,
  };
}

type ChannelLike = Pick<BroadcastChannel, 'postMessage' | 'close'> & {
  onmessage: ((ev: MessageEvent) => void) | null;
};
const openChannel = (): ChannelLike | null =>
  typeof BroadcastChannel === 'function' ? new BroadcastChannel(INSTALL_CHANNEL) : null;

/** The installer's side: announces each progress report of an install of `models`, then its end. */
export function announceInstall(
  models: string[],
  files: string[],
  channel: ChannelLike | null = openChannel(),
): { progress(p: InstallProgress): void; end(): void } {
  return {
    progress: (p) =>
      channel?.postMessage({
        type: 'progress',
        status: installStatus(models, files, p),
      } satisfies Announcement),
    end: () => {
      channel?.postMessage({ type: 'ended', models } satisfies Announcement);
      channel?.close();
    },
  };
}

/**
 * The listener's side (the Service Worker): the latest status of the installs under way. One not heard from
 * for `staleMs` (its tab closed mid-install) is forgotten.
 */
export class InstallBoard {
  private latest = new Map<string, { status: InstallStatus; at: number }>();

  constructor(
    channel: ChannelLike | null = openChannel(),
    private readonly clock: () => number = Date.now,
    private readonly staleMs = 30_000,
  ) {
    if (channel) channel.onmessage = (ev) => this.hear(ev.data as Announcement);
  }

  hear(a: Announcement): void {
    if (a?.type === 'progress')
      this.latest.set(a.status.models.join(','), { status: a.status, at: this.clock() });
    else if (a?.type === 'ended') this.latest.delete(a.models.join(','));
  }

  /** The install bringing `id` (or any install, without an id), when one was heard from lately. */
  status(id?: string): InstallStatus | null {
    const now = this.clock();
    for (const [k, v] of this.latest) {
      if (now - v.at > this.staleMs) this.latest.delete(k);
      else if (id === undefined || v.status.models.includes(id)) return v.status;
    }
    return null;
  }
}
