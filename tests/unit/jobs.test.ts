import { describe, expect, it } from 'vitest';
import { JobManager } from '../../src/lib/api/jobs';
import { type JobRecord } from '../../src/lib/storage/records';
import { EventBus, type StudioEvent } from '../../src/lib/api/events';
import { measureCompute } from '../../src/lib/engine/compute';
import { CancelledError } from '../../src/lib/core/run';
import { createApiContext } from '../../src/lib/api/context';
import { createRouter } from '../../src/lib/api/routes';
import { FACTS, localEngine, setup } from './helpers';
import { caller, errorOf, okJson, sleep, until, waitingEngine } from './test-utils';

type Env = Awaited<ReturnType<typeof setup>>;
interface JobJson {
  job_id: string;
  op: string;
  status: string;
  progress: { stage: string; done: number; total: number } | null;
  result: { gflops: number; size: number; repeats: number; seconds: number } | null;
  error: { code: string; message: string } | null;
}
interface Accepted {
  job_id: string;
  status: string;
  poll: string;
  events: string;
}

const JOB_SCOPES = ['system:read', 'tts:generate', 'ws:connect'] as const;

async function keyPair(env: Env) {
  return [
    await env.makeKey({ scopes: [...JOB_SCOPES] }),
    await env.makeKey({ scopes: [...JOB_SCOPES] }),
  ] as const;
}

const jobOf = (env: Env, key: string, id: string) => env.call('GET', `/api/jobs/${id}`, { key });

describe('POST /api/system/benchmark', () => {
  it('runs synchronously: 200 with the result, and the job is recorded', async () => {
    const env = await setup();
    const [key] = await keyPair(env);
    const body = await okJson<JobJson>(
      await env.call('POST', '/api/system/benchmark', { key, body: { seconds: 0.2, size: 32 } }),
    );
    expect(body.status).toBe('succeeded');
    expect(body.op).toBe('system.compute');
    expect(body.result!.gflops).toBeGreaterThan(0);
    expect(body.result!.size).toBe(32);
    expect(body.result!.repeats).toBeGreaterThan(0);
    expect(body.result!.seconds).toBeGreaterThanOrEqual(0.2);
    expect(body.error).toBeNull();
    const again = await okJson<JobJson>(await jobOf(env, key, body.job_id));
    expect(again).toMatchObject({ job_id: body.job_id, status: 'succeeded', result: body.result });
    expect(again.progress).toMatchObject({ stage: 'compute' });
  });

  it('with async: 202 with the job id, then it succeeds', async () => {
    const env = await setup();
    const [key] = await keyPair(env);
    const res = await env.call('POST', '/api/system/benchmark', {
      key,
      body: { seconds: 0.2, size: 32, async: true },
    });
    const acc = await okJson<Accepted>(res, 202);
    expect(acc.job_id).toMatch(/^job_[0-9a-f]{16}$/);
    expect(acc).toMatchObject({ status: 'running', poll: `/api/jobs/${acc.job_id}`, events: '/api/events' });
    expect(res.headers.get('Location')).toBe(`/api/jobs/${acc.job_id}`);
    const done = await until(async () => {
      const j = await okJson<JobJson>(await jobOf(env, key, acc.job_id));
      return j.status === 'succeeded' ? j : null;
    });
    expect(done.result!.gflops).toBeGreaterThan(0);
  });

  it('another key gets 404 for the job (and cannot cancel it)', async () => {
    const env = await setup();
    const [key, other] = await keyPair(env);
    const acc = await okJson<Accepted>(
      await env.call('POST', '/api/system/benchmark', { key, body: { seconds: 0.2, size: 32, async: true } }),
      202,
    );
    const err = await errorOf(await jobOf(env, other, acc.job_id), 404, 'not_found');
    expect(err.message).toContain(acc.job_id);
    await errorOf(
      await env.call('POST', '/api/generation/cancel', { key: other, body: { job_id: acc.job_id } }),
      404,
      'not_found',
    );
    await errorOf(await jobOf(env, key, 'job_doesnotexist'), 404, 'not_found');
    await until(
      async () => (await okJson<JobJson>(await jobOf(env, key, acc.job_id))).status === 'succeeded',
    );
  });

  it('cancelling a long job stops it quickly; its status is cancelled', async () => {
    const env = await setup();
    const [key] = await keyPair(env);
    const acc = await okJson<Accepted>(
      await env.call('POST', '/api/system/benchmark', { key, body: { seconds: 30, size: 32, async: true } }),
      202,
    );
    await until(async () => (await env.ctx.jobs.get(acc.job_id))?.status === 'running');
    const t0 = Date.now();
    const res = await okJson<{ cancelled: string[] }>(
      await env.call('POST', '/api/generation/cancel', { key, body: { job_id: acc.job_id } }),
    );
    expect(Date.now() - t0).toBeLessThan(2000);
    expect(res.cancelled).toEqual([acc.job_id]);
    const j = await okJson<JobJson>(await jobOf(env, key, acc.job_id));
    expect(j.status).toBe('cancelled');
    expect(j.error).toEqual({ code: 'cancelled', message: 'The job was cancelled.' });
    expect(j.result).toBeNull();
    expect(env.ctx.jobs.stats().running).toBe(0);
    // Cancelling again finds nothing running.
    expect(
      await okJson(await env.call('POST', '/api/generation/cancel', { key, body: { job_id: acc.job_id } })),
    ).toEqual({ cancelled: [] });
  });

  it('cancel without job_id stops all of the caller’s jobs and none of another key’s', async () => {
    const env = await setup();
    const [key, other] = await keyPair(env);
    // Several long jobs at once: an engine whose jobs wait rather than compute (see waitingEngine).
    const ctx = createApiContext({
      db: env.db,
      engine: waitingEngine(),
      system: async () => FACTS,
      version: 'test',
      now: () => env.clock.t,
    });
    const call = caller(createRouter(), ctx);
    const start = async (k: string) =>
      (
        await okJson<Accepted>(
          await call('POST', '/api/system/benchmark', {
            key: k,
            body: { seconds: 30, size: 16, async: true },
          }),
          202,
        )
      ).job_id;
    const mine1 = await start(key);
    const mine2 = await start(key);
    const theirs = await start(other);
    await until(async () =>
      (await Promise.all([mine1, mine2, theirs].map((id) => ctx.jobs.get(id)))).every(
        (j) => j?.status === 'running',
      ),
    );
    const res = await okJson<{ cancelled: string[] }>(
      await call('POST', '/api/generation/cancel', { key, body: {} }),
    );
    expect(res.cancelled.sort()).toEqual([mine1, mine2].sort());
    for (const id of [mine1, mine2])
      expect((await okJson<JobJson>(await call('GET', `/api/jobs/${id}`, { key }))).status).toBe('cancelled');
    expect((await ctx.jobs.get(theirs))?.status).toBe('running');
    expect(ctx.jobs.stats().running).toBe(1);
    expect(
      await okJson(await call('POST', '/api/generation/cancel', { key: other, body: { job_id: theirs } })),
    ).toEqual({ cancelled: [theirs] });
    expect((await ctx.jobs.get(theirs))?.status).toBe('cancelled');
    expect(ctx.jobs.stats().running).toBe(0);
  });

  it('a sync request that is cancelled from elsewhere answers 499 cancelled', async () => {
    const env = await setup();
    const [key] = await keyPair(env);
    const pending = env.call('POST', '/api/system/benchmark', { key, body: { seconds: 30, size: 16 } });
    const running = await until(async () =>
      (await env.db.getAll('jobs')).find((j) => j.status === 'running'),
    );
    expect(await env.ctx.jobs.cancel({ id: running.id })).toEqual([running.id]);
    const err = await errorOf(await pending, 499, 'cancelled');
    expect(err.job_id).toBe(running.id);
    expect((await env.ctx.jobs.get(running.id))?.status).toBe('cancelled');
  });

  it('with no engine available: 503 engine_unavailable; the job is recorded as failed', async () => {
    const env = await setup({ engine: false });
    const [key] = await keyPair(env);
    const err = await errorOf(
      await env.call('POST', '/api/system/benchmark', { key, body: { seconds: 0.2, size: 32 } }),
      503,
      'engine_unavailable',
    );
    expect(err.message).toMatch(/studio/);
    const jobs = await env.db.getAll('jobs');
    expect(jobs).toHaveLength(1);
    expect(jobs[0]).toMatchObject({ status: 'failed', error: { code: 'engine_unavailable' } });
    expect(err.job_id).toBe(jobs[0]!.id);

    const acc = await okJson<Accepted>(
      await env.call('POST', '/api/system/benchmark', { key, body: { seconds: 0.2, size: 32, async: true } }),
      202,
    );
    const j = await until(async () => {
      const x = await okJson<JobJson>(await jobOf(env, key, acc.job_id));
      return x.status === 'failed' ? x : null;
    });
    expect(j.error?.code).toBe('engine_unavailable');
  });

  it('system stats count jobs', async () => {
    const env = await setup();
    const [key] = await keyPair(env);
    await okJson(await env.call('POST', '/api/system/benchmark', { key, body: { seconds: 0.1, size: 16 } }));
    const stats = await okJson<{
      jobs: { running: number; queued: number; total: number };
      engine: { hosts: number };
    }>(await env.call('GET', '/api/system/stats', { key }));
    expect(stats.jobs).toEqual({ running: 0, queued: 0, total: 1 });
    expect(stats.engine.hosts).toBe(1);
  });
});

describe('JobManager', () => {
  it('marks jobs left queued or running by a previous instance as failed on construction', async () => {
    const env = await setup();
    const base = { op: 'system.compute', progress: null, owner: 'key_x', created_at: 1, updated_at: 1 };
    await env.db.put('jobs', { ...base, id: 'job_running', status: 'running' });
    await env.db.put('jobs', { ...base, id: 'job_queued', status: 'queued' });
    await env.db.put('jobs', { ...base, id: 'job_done', status: 'succeeded', result: { gflops: 1 } });
    await env.db.put('jobs', { ...base, id: 'job_cancelled', status: 'cancelled' });
    env.clock.t += 99;
    const jm = new JobManager(env.db, localEngine(), new EventBus(), () => env.clock.t);
    for (const id of ['job_running', 'job_queued']) {
      const j = await jm.get(id);
      expect(j).toMatchObject({
        status: 'failed',
        error: { code: 'internal_error' },
        updated_at: env.clock.t,
      });
      expect(j?.error?.message).toMatch(/interrupted/);
    }
    expect(await jm.get('job_done')).toMatchObject({
      status: 'succeeded',
      result: { gflops: 1 },
      updated_at: 1,
    });
    expect(await jm.get('job_cancelled')).toMatchObject({ status: 'cancelled', updated_at: 1 });
    expect(await jm.get('job_none')).toBeNull();
  });

  it('publishes queued → running → progress → succeeded, without the result on the bus', async () => {
    const env = await setup();
    const bus = new EventBus();
    const seen: StudioEvent[] = [];
    bus.subscribe((e) => seen.push(e));
    const jm = new JobManager(env.db, localEngine(), bus, () => env.clock.t);
    const job = await jm.start('system.compute', { seconds: 0.1, size: 16 }, 'owner_1');
    const done = await jm.wait(job.id, 5000);
    expect(done?.status).toBe('succeeded');
    const statuses = seen.map((e) => e.job.status);
    expect(statuses[0]).toBe('queued');
    expect(statuses[1]).toBe('running');
    expect(statuses.at(-1)).toBe('succeeded');
    expect(seen.some((e) => e.job.progress !== null)).toBe(true);
    for (const e of seen) {
      expect(e.job.id).toBe(job.id);
      expect(e.job).not.toHaveProperty('result');
    }
    expect((await env.db.get('jobs', job.id))?.result).toMatchObject({ size: 16 });
  });

  it('a result the full storage cannot take: the record still settles, without it', async () => {
    const env = await setup();
    const jm = new JobManager(env.db, localEngine(), new EventBus(), () => env.clock.t);
    const realPut = IDBObjectStore.prototype.put;
    IDBObjectStore.prototype.put = function (
      this: IDBObjectStore,
      ...args: Parameters<IDBObjectStore['put']>
    ) {
      if (this.name === 'jobs' && (args[0] as JobRecord).result !== undefined)
        throw new DOMException('The quota has been exceeded.', 'QuotaExceededError');
      return realPut.apply(this, args);
    };
    try {
      const job = await jm.start('system.compute', { seconds: 0.1, size: 16 }, 'o');
      expect((await jm.wait(job.id, 5000))?.result).toMatchObject({ size: 16 });
      expect(await env.db.get('jobs', job.id)).toMatchObject({
        status: 'succeeded',
        result: undefined,
        error: { code: 'storage_full' },
      });
      // This instance still answers with the whole outcome.
      expect(await jm.get(job.id)).toMatchObject({ status: 'succeeded', result: { size: 16 } });
    } finally {
      IDBObjectStore.prototype.put = realPut;
    }
  });

  it('wait returns null while a job runs past the wait, and the stored record for unknown ids', async () => {
    const env = await setup();
    const jm = new JobManager(env.db, localEngine(), new EventBus(), () => env.clock.t);
    const job = await jm.start('system.compute', { seconds: 5, size: 16 }, 'o');
    expect(await jm.wait(job.id, 30)).toBeNull();
    await jm.cancel({ id: job.id });
    expect((await jm.wait(job.id, 1000))?.status).toBe('cancelled');
    await env.db.put('jobs', {
      id: 'job_old',
      op: 'x',
      status: 'succeeded',
      progress: null,
      owner: 'o',
      created_at: 1,
      updated_at: 1,
    });
    expect((await jm.wait('job_old', 10))?.status).toBe('succeeded');
  });

  it('measureCompute stops with CancelledError when aborted', async () => {
    const ac = new AbortController();
    const p = measureCompute({ seconds: 10, size: 16 }, { signal: ac.signal });
    setTimeout(() => ac.abort(), 20);
    await expect(p).rejects.toBeInstanceOf(CancelledError);
  });
});

describe('GET /api/events (Server-Sent Events)', () => {
  /** Reads SSE events from a body until `stop` says so. */
  async function readEvents(
    body: ReadableStream<Uint8Array>,
    stop: (events: { event: string; data: unknown; id?: string }[]) => boolean,
    ms = 10_000,
  ) {
    const reader = body.getReader();
    const dec = new TextDecoder();
    const events: { event: string; data: unknown; id?: string }[] = [];
    let buf = '';
    const deadline = Date.now() + ms;
    try {
      while (!stop(events)) {
        if (Date.now() > deadline) throw new Error(`timed out; got ${events.map((e) => e.event).join(',')}`);
        const { done, value } = await reader.read();
        if (done) break;
        buf += dec.decode(value, { stream: true });
        let cut: number;
        while ((cut = buf.indexOf('\n\n')) >= 0) {
          const block = buf.slice(0, cut);
          buf = buf.slice(cut + 2);
          const fields: Record<string, string> = {};
          for (const line of block.split('\n')) {
            if (line.startsWith(':')) continue;
            const i = line.indexOf(':');
            fields[line.slice(0, i)] = line.slice(i + 1).trimStart();
          }
          if (fields.event)
            events.push({ event: fields.event, data: JSON.parse(fields.data ?? 'null'), id: fields.id });
        }
      }
    } finally {
      await reader.cancel();
    }
    return events;
  }

  it('sends ready, then job events for the caller’s own jobs only; unsubscribes when the reader cancels', async () => {
    const env = await setup();
    const [key, other] = await keyPair(env);
    const res = await env.call('GET', '/api/events', { key });
    expect(res.status).toBe(200);
    expect(res.headers.get('Content-Type')).toBe('text/event-stream');
    expect(res.headers.get('Cache-Control')).toBe('no-store');
    expect(res.headers.get('X-RateLimit-Limit')).toBe('5');
    expect(env.ctx.bus.size).toBe(1);

    // Another key's job runs to the end first: none of its events may reach this stream.
    const theirs = await okJson<JobJson>(
      await env.call('POST', '/api/system/benchmark', { key: other, body: { seconds: 0.1, size: 16 } }),
    );
    const mine = await okJson<Accepted>(
      await env.call('POST', '/api/system/benchmark', { key, body: { seconds: 0.2, size: 16, async: true } }),
      202,
    );

    const events = await readEvents(res.body!, (ev) =>
      ev.some((e) => e.event === 'job' && (e.data as JobRecord).status === 'succeeded'),
    );
    expect(events[0]).toMatchObject({ event: 'ready', data: { key: key.slice(0, 10) } });
    const jobs = events.filter((e) => e.event === 'job').map((e) => e.data as JobRecord);
    expect(jobs.length).toBeGreaterThanOrEqual(3);
    expect(jobs.every((j) => j.id === mine.job_id)).toBe(true);
    expect(jobs.some((j) => j.id === theirs.job_id)).toBe(false);
    expect(jobs.map((j) => j.status)).toContain('running');
    expect(jobs.at(-1)?.status).toBe('succeeded');
    for (const j of jobs) expect(j).not.toHaveProperty('result');
    const withId = events.filter((e) => e.event === 'job');
    expect(withId.every((e) => e.id?.startsWith(`${mine.job_id}:`))).toBe(true);
    expect(env.ctx.bus.size).toBe(0);
  });

  it('a stream closes and unsubscribes when the request is aborted', async () => {
    const env = await setup();
    const [key] = await keyPair(env);
    const ac = new AbortController();
    const req = new Request('http://127.0.0.1:4173/api/events', {
      headers: { 'X-API-Key': key },
      signal: ac.signal,
    });
    const res = await env.router.handle(req, env.ctx);
    expect(env.ctx.bus.size).toBe(1);
    ac.abort();
    await sleep(10);
    expect(env.ctx.bus.size).toBe(0);
    await res.body?.cancel().catch(() => undefined);
  });

  it('needs the ws:connect scope', async () => {
    const env = await setup();
    const key = await env.makeKey({ scopes: ['system:read'] });
    await errorOf(await env.call('GET', '/api/events', { key }), 403, 'forbidden');
  });
});

describe('job progress payloads', () => {
  it('keeps payloads (streamed audio) out of the job record and the event stream', async () => {
    const { openTimbreDB } = await import('../../src/lib/storage/db');
    const { JobManager } = await import('../../src/lib/api/jobs');
    const { EventBus } = await import('../../src/lib/api/events');
    const db = await openTimbreDB(`payload-${Math.random()}`);
    const bus = new EventBus();
    const seen: unknown[] = [];
    bus.subscribe((e) => seen.push(e.job.progress));
    const engine = {
      hostCount: async () => 1,
      run: async (_op: string, _a: unknown, o?: { onProgress?: (p: unknown) => void }) => {
        o?.onProgress?.({ stage: 'chunk', done: 1, total: 2, data: { samples: new Float32Array(1000) } });
        return { ok: true };
      },
    };
    const jobs = new JobManager(db, engine as never, bus);
    const job = await jobs.start('system.compute', { seconds: 0.1, size: 16 }, 'owner');
    const done = await jobs.wait(job.id, 5000);
    expect(done?.status).toBe('succeeded');
    expect(seen.some((p) => p && (p as { stage: string }).stage === 'chunk')).toBe(true);
    for (const p of seen) expect(p === null || !('data' in (p as object))).toBe(true);
    const stored = await db.get('jobs', job.id);
    expect(stored?.progress && 'data' in stored.progress).toBe(false);
  });
});
