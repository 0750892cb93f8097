import type { TimbreDB } from '../storage/db';
import type { EventBus } from './events';
import type { EngineOpName, OpArgs } from '../engine/ops';
import type { EngineGateway } from '../engine/remote';
import type { ProgressFn, RunOptions } from '../core/run';
import { newId } from '../core/ids';
import { toApiError } from './errors';
import type { JobRecord, JobStatus } from '../storage/records';

const FINAL: JobStatus[] = ['succeeded', 'failed', 'cancelled'];
/** Progress is written to IndexedDB at most this often; events go out every time. */
const PERSIST_EVERY_MS = 500;

/**
 * Runs engine operations as jobs: recorded in IndexedDB (so results survive a page reload), progress
 * published on the event bus, cancellable by id.
 */
export class JobManager {
  private controllers = new Map<string, AbortController>();
  private settled = new Map<string, Promise<JobRecord>>();
  /** Ended jobs whose final record the storage refused. */
  private unsaved = new Map<string, JobRecord>();
  private ready: Promise<void>;

  constructor(
    private readonly db: TimbreDB,
    private readonly engine: EngineGateway,
    private readonly bus: EventBus,
    private readonly now: () => number = Date.now,
  ) {
    this.ready = this.markInterrupted();
  }

  /** Jobs left running by a previous Service Worker instance can never finish: say so instead of hanging. */
  private async markInterrupted() {
    const tx = this.db.transaction('jobs', 'readwrite');
    for (const j of await tx.store.getAll()) {
      if (!FINAL.includes(j.status))
        await tx.store.put({
          ...j,
          status: 'failed',
          error: {
            code: 'internal_error',
            message: 'The job was interrupted (the app restarted); run it again.',
          },
          updated_at: this.now(),
        });
    }
    await tx.done;
  }

  /**
   * `opts.onProgress` sees every progress event with its payload (e.g. tts.generate's audio chunks, which
   * streaming responses forward); the job record and the event bus get it without the payload.
   */
  async start<K extends EngineOpName>(
    op: K,
    args: OpArgs<K>,
    owner: string,
    opts: { onProgress?: ProgressFn } = {},
  ): Promise<JobRecord> {
    return this.startTask(op, (o) => this.engine.run(op, args, o), owner, opts);
  }

  /**
   * A job whose work runs here (in the Service Worker) rather than as one engine operation, e.g. a
   * project render that calls several engine operations and mixes their audio. Same record, progress,
   * events and cancellation as `start`. `run` is told the job's id (its result may name it).
   */
  async startTask(
    op: string,
    run: (o: RunOptions, jobId: string) => Promise<unknown>,
    owner: string,
    opts: { onProgress?: ProgressFn } = {},
  ): Promise<JobRecord> {
    await this.ready;
    const t = this.now();
    const job: JobRecord = {
      id: newId('job'),
      op,
      status: 'queued',
      progress: null,
      owner,
      created_at: t,
      updated_at: t,
    };
    await this.db.put('jobs', job);
    this.emit(job);
    const ac = new AbortController();
    this.controllers.set(job.id, ac);
    this.settled.set(job.id, this.execute(job, run, ac, opts.onProgress));
    return job;
  }

  private async execute(
    job: JobRecord,
    run: (o: RunOptions, jobId: string) => Promise<unknown>,
    ac: AbortController,
    onProgress?: ProgressFn,
  ): Promise<JobRecord> {
    let cur: JobRecord = { ...job, status: 'running' };
    let lastWrite = 0;
    /** Publishes the record and stores it (at most every PERSIST_EVERY_MS unless forced); false when refused. */
    const save = async (force: boolean): Promise<boolean> => {
      cur.updated_at = this.now();
      this.emit(cur);
      if (!force && cur.updated_at - lastWrite < PERSIST_EVERY_MS) return true;
      lastWrite = cur.updated_at;
      return this.db.put('jobs', cur).then(
        () => true,
        () => false,
      );
    };
    await save(true);
    try {
      const result = await run(
        {
          signal: ac.signal,
          onProgress: (p) => {
            try {
              if (!ac.signal.aborted) onProgress?.(p);
            } catch {
              // A caller's listener failing (e.g. a closed stream) must not fail the job.
            }
            // Payloads (e.g. streamed audio chunks) go to the caller's own onProgress, never into the
            // job record or the event stream.
            const { data: _data, ...plain } = p;
            cur = { ...cur, progress: plain };
            void save(false);
          },
        },
        job.id,
      );
      cur = { ...cur, status: 'succeeded', result };
    } catch (e) {
      const err = toApiError(e);
      cur = ac.signal.aborted
        ? { ...cur, status: 'cancelled', error: { code: 'cancelled', message: 'The job was cancelled.' } }
        : { ...cur, status: 'failed', error: { code: err.code, message: err.message } };
    } finally {
      this.controllers.delete(job.id);
    }
    if (!(await save(true))) {
      // A full disk refuses the outcome (a generation's audio is large): this instance answers from
      // memory, and the record keeps the outcome without the result where that still fits, so it does not
      // stay "running". Whoever waited for the job got the result.
      this.unsaved.set(job.id, cur);
      if (cur.result !== undefined) {
        const outcome: JobRecord = {
          ...cur,
          result: undefined,
          error: {
            code: 'storage_full',
            message: 'The job succeeded, but browser storage was too full to keep its result here.',
          },
        };
        await this.db.put('jobs', outcome).catch(() => undefined);
      }
    }
    return cur;
  }

  /** Resolves when the job ends, or with null after `waitMs` if it is still running. */
  async wait(id: string, waitMs: number): Promise<JobRecord | null> {
    const p = this.settled.get(id);
    if (!p) return this.get(id);
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<null>((r) => (timer = setTimeout(() => r(null), waitMs)));
    try {
      return await Promise.race([p, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  async get(id: string): Promise<JobRecord | null> {
    await this.ready;
    return this.unsaved.get(id) ?? (await this.db.get('jobs', id)) ?? null;
  }

  /** Cancels one job, or every running job of `owner` when no id is given. Returns the ids cancelled. */
  async cancel(opts: { id?: string; owner?: string }): Promise<string[]> {
    const ids: string[] = [];
    for (const [id, ac] of this.controllers) {
      if (opts.id && id !== opts.id) continue;
      if (!opts.id && opts.owner) {
        const rec = await this.db.get('jobs', id);
        if (rec && rec.owner !== opts.owner) continue;
      }
      ac.abort();
      ids.push(id);
    }
    await Promise.all(ids.map((id) => this.settled.get(id)));
    return ids;
  }

  stats(): { running: number } {
    return { running: this.controllers.size };
  }

  private emit(job: JobRecord) {
    const { result: _r, ...rest } = job;
    this.bus.emit({ type: 'job', job: rest });
  }
}
