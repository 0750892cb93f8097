import { describe, expect, it } from 'vitest';
import { FACTS } from './helpers';
import { waitingEngine } from './test-utils';
import { openTimbreDB } from '../../src/lib/storage/db';
import { createApiContext, type ApiContext } from '../../src/lib/api/context';
import { ApiError, jobError } from '../../src/lib/api/errors';
import { runApiJob } from '../../src/lib/api/run-job';
import { CancelledError, type RunOptions } from '../../src/lib/core/run';

let n = 0;

/** A context whose engine answers each operation after `engineMs` (a compute-shaped result). */
async function context(engineMs = 10): Promise<ApiContext> {
  return createApiContext({
    db: await openTimbreDB(`run-job-${process.pid}-${++n}`),
    engine: waitingEngine(engineMs),
    system: async () => FACTS,
    version: 'test',
  });
}

/** Work that runs until its job is cancelled. */
const untilCancelled = (o: RunOptions) =>
  new Promise<never>((_, reject) =>
    o.signal?.addEventListener('abort', () => reject(new CancelledError()), { once: true }),
  );

const caught = async (p: Promise<unknown>): Promise<ApiError> => {
  try {
    await p;
  } catch (e) {
    if (e instanceof ApiError) return e;
    throw e;
  }
  throw new Error('expected an ApiError');
};

const waited = { owner: 'key_a', waitMs: 5_000, failMessage: 'It failed.' } as const;
const accept = { accept: (id: string) => ({ about: id }) };

describe('runApiJob', () => {
  it('runs an engine operation and gives its result and final record', async () => {
    const ctx = await context();
    const ran = await runApiJob(
      ctx,
      { op: 'system.compute', args: { seconds: 0.01, size: 8 } },
      { ...waited, onTimeout: { fail: () => new ApiError('internal_error', 'slow') } },
    );
    expect(ran.result).toMatchObject({ size: 8 });
    expect(ran.job).toMatchObject({ op: 'system.compute', status: 'succeeded', owner: 'key_a' });
  });

  it('runs a task, telling it its own job id', async () => {
    const ctx = await context();
    let told = '';
    const ran = await runApiJob(
      ctx,
      {
        op: 'test.task',
        task: async (_o, jobId) => {
          told = jobId;
          return { answer: 42 };
        },
      },
      { ...waited, onTimeout: accept },
    );
    if ('accepted' in ran) throw new Error('expected the job to end in time');
    expect(ran.result).toEqual({ answer: 42 });
    expect(told).toBe(ran.job.id);
  });

  it('a failed job throws jobError: its recorded code and message, its id in the details', async () => {
    const ctx = await context();
    const e = await caught(
      runApiJob(
        ctx,
        {
          op: 'test.task',
          task: async () => {
            throw new ApiError('model_not_installed', 'No model.');
          },
        },
        { ...waited, onTimeout: accept },
      ),
    );
    expect(e.status).toBe(503);
    expect(e.code).toBe('model_not_installed');
    expect(e.message).toBe('No model.');
    const rec = (await ctx.jobs.get(String(e.details.job_id)))!;
    expect(e).toEqual(jobError(rec, 'It failed.'));
  });

  it("still running when the wait ends, 'accept' answers 202 with the job to follow and leaves it running", async () => {
    const ctx = await context();
    const ran = await runApiJob(
      ctx,
      { op: 'test.task', task: untilCancelled },
      { ...waited, waitMs: 30, onTimeout: accept },
    );
    if (!('accepted' in ran)) throw new Error('expected a 202');
    const res = ran.accepted;
    const body = (await res.json()) as Record<string, string>;
    const id = body.job_id!;
    expect(res.status).toBe(202);
    expect(body).toEqual({
      job_id: id,
      status: 'running',
      poll: `/api/jobs/${id}`,
      events: '/api/events',
      about: id,
    });
    expect(res.headers.get('Location')).toBe(`/api/jobs/${id}`);
    expect(res.headers.get('X-Job-Id')).toBe(id);
    expect((await ctx.jobs.get(id))?.status).toBe('running');
    await ctx.jobs.cancel({ id });
  });

  it('noJobIdHeader leaves X-Job-Id out of the 202', async () => {
    const ctx = await context();
    const ran = await runApiJob(
      ctx,
      { op: 'test.task', task: untilCancelled },
      { ...waited, waitMs: 10, onTimeout: { accept: () => ({}), noJobIdHeader: true } },
    );
    if (!('accepted' in ran)) throw new Error('expected a 202');
    expect(ran.accepted.headers.get('X-Job-Id')).toBeNull();
    expect(ran.accepted.headers.get('Location')).toMatch(/^\/api\/jobs\/job_/);
    await ctx.jobs.cancel({ owner: 'key_a' });
  });

  it('waitMs 0 answers 202 without waiting, even for a job that ends at once', async () => {
    const ctx = await context();
    const ran = await runApiJob(
      ctx,
      { op: 'test.task', task: async () => 1 },
      { owner: 'key_a', waitMs: 0, onTimeout: accept },
    );
    expect(ran.accepted.status).toBe(202);
  });

  it("still running when the wait ends, 'fail' cancels the job and throws the error given", async () => {
    const ctx = await context();
    let id = '';
    const e = await caught(
      runApiJob(
        ctx,
        { op: 'test.task', task: untilCancelled },
        {
          ...waited,
          waitMs: 30,
          onTimeout: {
            fail: (jobId) => {
              id = jobId;
              return new ApiError('internal_error', 'Too slow.', { job_id: jobId });
            },
          },
        },
      ),
    );
    expect(e.status).toBe(500);
    expect(e.message).toBe('Too slow.');
    expect(e.details.job_id).toBe(id);
    expect((await ctx.jobs.get(id))?.status).toBe('cancelled');
  });

  it('a job cancelled while the request waits throws jobError: 499 cancelled', async () => {
    const ctx = await context();
    const pending = caught(
      runApiJob(ctx, { op: 'test.task', task: untilCancelled }, { ...waited, onTimeout: accept }),
    );
    // Cancel it the way POST /api/generation/cancel does, once it has started.
    let cancelled: string[] = [];
    for (let i = 0; i < 100 && !cancelled.length; i++) {
      await new Promise((r) => setTimeout(r, 5));
      cancelled = await ctx.jobs.cancel({ owner: 'key_a' });
    }
    const e = await pending;
    expect(e.status).toBe(499);
    expect(e.code).toBe('cancelled');
    expect(e.details.job_id).toBe(cancelled[0]);
  });
});
