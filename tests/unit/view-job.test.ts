// The views' job state (src/client/job.ts): runs replace or refuse each other, a cancelled run's late
// events are dropped, and success, failure and cancel all end the busy state. And the views' session
// registry (src/client/sessions.ts).
import { describe, expect, it } from 'vitest';
import { idleJob, Job } from '../../src/client/job';
import { CancelledError } from '../../src/lib/core/run';
import { sessionFor } from '../../src/client/sessions';
import type { Studio } from '../../src/client/studio.svelte';

function deferred<T>() {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

describe('Job', () => {
  it('drops a cancelled run’s late progress and phase changes', () => {
    let finished = 0;
    const job = new Job<'decoding' | 'transcribing'>(idleJob(), () => finished++);
    const run = job.start('decoding', { stage: 'Reading' })!;
    const seen: number[] = [];
    const onProgress = run.guard((n: number) => {
      seen.push(n);
      run.report(`step ${n}`, { done: n, total: 3 });
    });
    onProgress(1);
    expect(job.stage).toBe('step 1');
    expect(job.cancel()).toBe(true);
    expect(run.signal.aborted).toBe(true);
    expect(job.busy).toBe(false);
    expect(finished).toBe(1);
    onProgress(2);
    run.phase('transcribing');
    run.report('late', { done: 3, total: 3 });
    expect(seen).toEqual([1]);
    expect(job.kind).toBeNull();
    expect(job.stage).toBe('');
    expect(job.cancel()).toBe(false);
  });

  it('a second start with replace cancels the first; without it, it is refused', async () => {
    const job = new Job<'a' | 'b'>(idleJob());
    const first = job.start('a')!;
    expect(job.start('b')).toBeNull();
    expect(job.kind).toBe('a');
    const second = job.start('b', { replace: true, total: 4 })!;
    expect(first.signal.aborted).toBe(true);
    expect(first.live).toBe(false);
    expect(second.live).toBe(true);
    expect(job.progress).toEqual({ done: 0, total: 4 });
    // The first run ending late does not end the second.
    first.end();
    expect(job.kind).toBe('b');
    second.end();
    expect(job.busy).toBe(false);
  });

  it('run: success, failure and cancel all end the busy state, each reported', async () => {
    const job = new Job<'x'>(idleJob());
    expect(await job.run('x', async () => 7)).toEqual({ status: 'done', value: 7 });
    expect(job.busy).toBe(false);

    const boom = new Error('boom');
    expect(
      await job.run('x', async () => {
        throw boom;
      }),
    ).toEqual({ status: 'failed', error: boom });
    expect(job.busy).toBe(false);

    const gate = deferred<number>();
    const going = job.run('x', () => gate.promise);
    expect(job.busy).toBe(true);
    expect(await job.run('x', async () => 1)).toBeNull(); // refused while one runs
    job.cancel();
    expect(job.busy).toBe(false);
    gate.reject(new Error('aborted in the worker'));
    expect(await going).toEqual({ status: 'cancelled' });

    const named = new Error('stopped');
    named.name = 'CancelledError';
    expect(
      await job.run('x', async () => {
        throw new CancelledError();
      }),
    ).toEqual({ status: 'cancelled' });
    expect(
      await job.run('x', async () => {
        throw named;
      }),
    ).toEqual({ status: 'cancelled' });
    expect(job.busy).toBe(false);
  });

  it('run: a result arriving after the run was replaced counts as cancelled', async () => {
    const job = new Job<'x'>(idleJob());
    const gate = deferred<string>();
    const old = job.run('x', () => gate.promise);
    const next = job.start('x', { replace: true })!;
    gate.resolve('late');
    expect(await old).toEqual({ status: 'cancelled' });
    expect(job.current).toBe(next);
    expect(job.busy).toBe(true);
  });
});

describe('sessionFor', () => {
  it('makes one session per studio and class', () => {
    class A {
      constructor(readonly studio: Studio) {}
    }
    class B extends A {}
    const s1 = {} as Studio;
    const s2 = {} as Studio;
    const a = sessionFor(s1, A);
    expect(sessionFor(s1, A)).toBe(a);
    expect(a.studio).toBe(s1);
    expect(sessionFor(s1, B)).not.toBe(a);
    expect(sessionFor(s1, B)).toBeInstanceOf(B);
    expect(sessionFor(s2, A)).not.toBe(a);
  });
});
