// The one way a route runs a job (#19): start it, wait up to a limit, and when the wait ends first either
// answer 202 with the job to follow or stop it with an error; a failed job answers `jobError`.
import type { ApiContext } from './context';
import { jobError, type ApiError } from './errors';
import { json } from './http';
import type { EngineOpName, OpArgs, OpResult } from '../engine/ops';
import type { RunOptions } from '../core/run';
import type { JobRecord } from '../storage/records';

/** One engine operation as a job (one member per op, so `args` is checked against that op). */
export type EngineJob = { [K in EngineOpName]: { op: K; args: OpArgs<K> } }[EngineOpName];

/**
 * Work run here as a job (several engine operations, mixing …). It is told its own job id, which the
 * result or the history may name.
 */
export interface TaskJob<T> {
  op: string;
  task: (o: RunOptions, jobId: string) => Promise<T>;
}

export type ApiJobWork = EngineJob | TaskJob<unknown>;

/** What the job gives when it succeeds. */
export type JobResult<W extends ApiJobWork> =
  W extends TaskJob<infer T> ? T : W extends { op: infer K extends EngineOpName } ? OpResult<K> : never;

/** The job still running when the request's wait ends: answered 202 to be followed, with `extra` facts. */
export interface Accept {
  accept: (jobId: string) => Record<string, unknown>;
  /** The benchmark's 202 has never carried X-Job-Id; #19 changes no answer. */
  noJobIdHeader?: true;
}
/** The job still running when the request's wait ends: cancelled, and the request answers this error. */
export interface Fail {
  fail: (jobId: string) => ApiError;
}

interface JobOptions {
  /** The key the job belongs to: only it may follow or cancel the job. */
  owner: string;
}

/** A job the request waits for. */
export interface WaitedJobOptions extends JobOptions {
  /** How long the request waits for the job to end; 0 goes straight to `onTimeout`. */
  waitMs: number;
  onTimeout: Accept | Fail;
  /** The message of a failed job whose record has none (`jobError`). */
  failMessage: string;
}

/** A job answered 202 at once, never waited for (so it has no failure to answer). */
export interface AtOnceJobOptions extends JobOptions {
  waitMs: 0;
  onTimeout: Accept;
}

export type ApiJobOptions = WaitedJobOptions | AtOnceJobOptions;

/** A job that ended in time: its result and final record. */
export interface Finished<T> {
  result: T;
  job: JobRecord;
}
/** A job answered 202 and left running. */
export interface Accepted {
  accepted: Response;
}

/**
 * 202 for a job that goes on after the answer: where to poll it and follow its events, and `extra` facts
 * (an estimate, where its file will be).
 */
function acceptedJob(id: string, extra: Record<string, unknown> = {}, jobIdHeader = true): Response {
  return json(
    { job_id: id, status: 'running', poll: `/api/jobs/${id}`, events: '/api/events', ...extra },
    202,
    { Location: `/api/jobs/${id}`, ...(jobIdHeader ? { 'X-Job-Id': id } : {}) },
  );
}

/** Runs `work` as a job of `opts.owner` and waits for it: its result, the 202 answered, or an ApiError thrown. */
export async function runApiJob<W extends ApiJobWork>(
  ctx: ApiContext,
  work: W,
  opts: AtOnceJobOptions,
): Promise<Accepted>;
export async function runApiJob<W extends ApiJobWork>(
  ctx: ApiContext,
  work: W,
  opts: WaitedJobOptions & { onTimeout: Fail },
): Promise<Finished<JobResult<W>>>;
export async function runApiJob<W extends ApiJobWork>(
  ctx: ApiContext,
  work: W,
  opts: WaitedJobOptions,
): Promise<Finished<JobResult<W>> | Accepted>;
export async function runApiJob<W extends ApiJobWork>(
  ctx: ApiContext,
  work: W,
  opts: ApiJobOptions,
): Promise<Finished<JobResult<W>> | Accepted> {
  const job =
    'task' in work
      ? await ctx.jobs.startTask(work.op, work.task, opts.owner)
      : // The union of ops does not narrow to one op's args; each member of EngineJob pairs them.
        await ctx.jobs.start(work.op, work.args as never, opts.owner);
  const t = opts.onTimeout;
  const stillRunning = async (): Promise<Accepted> => {
    if ('accept' in t) return { accepted: acceptedJob(job.id, t.accept(job.id), !t.noJobIdHeader) };
    await ctx.jobs.cancel({ id: job.id });
    throw t.fail(job.id);
  };
  // No wait at all, not a zero one: a job that ends at once must still be answered 202 as before.
  if (!('failMessage' in opts) || opts.waitMs <= 0) return stillRunning();
  const done = await ctx.jobs.wait(job.id, opts.waitMs);
  if (!done || done.status === 'queued' || done.status === 'running') return stillRunning();
  if (done.status !== 'succeeded') throw jobError(done, opts.failMessage);
  return { result: done.result as JobResult<W>, job: done };
}
