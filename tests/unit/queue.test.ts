import { describe, expect, it } from 'vitest';
import { SerialQueues } from '../../src/lib/engine/queue';
import { CancelledError } from '../../src/lib/core/run';
import { sleep } from './test-utils';

/** A job that records when it starts and ends, and finishes when told to. */
function gate(log: string[], name: string) {
  let release!: (v: string) => void;
  let fail!: (e: unknown) => void;
  let started = false;
  const done = new Promise<string>((res, rej) => {
    release = res;
    fail = rej;
  });
  const job = async () => {
    started = true;
    log.push(`start ${name}`);
    try {
      return await done;
    } finally {
      log.push(`end ${name}`);
    }
  };
  return {
    job,
    release: () => release(name),
    fail: (e: unknown) => fail(e),
    get started() {
      return started;
    },
  };
}

const tick = () => sleep(5);

describe('SerialQueues', () => {
  it('runs jobs of the same key one at a time, in order', async () => {
    const q = new SerialQueues();
    const log: string[] = [];
    const a = gate(log, 'a');
    const b = gate(log, 'b');
    const c = gate(log, 'c');
    const pa = q.run('model', a.job);
    const pb = q.run('model', b.job);
    const pc = q.run('model', c.job);
    await tick();
    expect(log).toEqual(['start a']);
    expect(q.stats()).toEqual({ queued: 2, running: 1 });
    c.release(); // finishing out of order changes nothing: c has not started
    b.release();
    await tick();
    expect(log).toEqual(['start a']);
    a.release();
    expect(await pa).toBe('a');
    expect(await pb).toBe('b');
    expect(await pc).toBe('c');
    expect(log).toEqual(['start a', 'end a', 'start b', 'end b', 'start c', 'end c']);
    await tick();
    expect(q.stats()).toEqual({ queued: 0, running: 0 });
  });

  it('runs jobs of different keys concurrently', async () => {
    const q = new SerialQueues();
    const log: string[] = [];
    const x = gate(log, 'x');
    const y = gate(log, 'y');
    const px = q.run('kokoro', x.job);
    const py = q.run('whisper', y.job);
    await tick();
    expect(x.started && y.started).toBe(true);
    expect(q.stats()).toEqual({ queued: 0, running: 2 });
    y.release();
    expect(await py).toBe('y');
    expect(x.started).toBe(true);
    x.release();
    expect(await px).toBe('x');
  });

  it('a failing job rejects with its own error and does not stop the queue', async () => {
    const q = new SerialQueues();
    const log: string[] = [];
    const a = gate(log, 'a');
    const b = gate(log, 'b');
    const pa = q.run('k', a.job);
    const pb = q.run('k', b.job);
    await tick();
    a.fail(new TypeError('boom'));
    await expect(pa).rejects.toThrow('boom');
    await tick();
    expect(b.started).toBe(true);
    b.release();
    expect(await pb).toBe('b');
  });

  it('a job aborted while waiting rejects with CancelledError at once and never runs', async () => {
    const q = new SerialQueues();
    const log: string[] = [];
    const a = gate(log, 'a');
    const b = gate(log, 'b');
    const c = gate(log, 'c');
    const ac = new AbortController();
    const pa = q.run('k', a.job);
    const pb = q.run('k', b.job, ac.signal);
    const pc = q.run('k', c.job);
    await tick();
    expect(q.stats()).toEqual({ queued: 2, running: 1 });
    ac.abort();
    await expect(pb).rejects.toBeInstanceOf(CancelledError);
    await tick();
    // c must still wait for a: cancelling b must not let c jump ahead while a runs.
    expect(c.started).toBe(false);
    expect(log).toEqual(['start a']);
    expect(q.stats()).toEqual({ queued: 1, running: 1 });
    a.release();
    await pa;
    await tick();
    expect(b.started).toBe(false);
    expect(c.started).toBe(true);
    c.release();
    expect(await pc).toBe('c');
    expect(log).toEqual(['start a', 'end a', 'start c', 'end c']);
    expect(q.stats()).toEqual({ queued: 0, running: 0 });
  });

  it('a job whose signal is already aborted never runs', async () => {
    const q = new SerialQueues();
    const log: string[] = [];
    const a = gate(log, 'a');
    const ac = new AbortController();
    ac.abort();
    await expect(q.run('k', a.job, ac.signal)).rejects.toBeInstanceOf(CancelledError);
    await tick();
    expect(a.started).toBe(false);
    expect(q.stats()).toEqual({ queued: 0, running: 0 });
  });

  it('aborting a running job is up to the job (the queue does not reject it)', async () => {
    const q = new SerialQueues();
    const log: string[] = [];
    const a = gate(log, 'a');
    const ac = new AbortController();
    const pa = q.run('k', a.job, ac.signal);
    await tick();
    ac.abort();
    a.release();
    expect(await pa).toBe('a');
  });

  it('counts queued and running jobs across keys', async () => {
    const q = new SerialQueues();
    const log: string[] = [];
    const gates = ['a1', 'a2', 'a3', 'b1', 'b2'].map((n) => gate(log, n));
    const ps = gates.map((g, i) => q.run(i < 3 ? 'a' : 'b', g.job));
    await tick();
    expect(q.stats()).toEqual({ queued: 3, running: 2 });
    for (const g of gates) g.release();
    await Promise.all(ps);
    await tick();
    expect(q.stats()).toEqual({ queued: 0, running: 0 });
  });

  it('many jobs on one key keep their order', async () => {
    const q = new SerialQueues();
    const order: number[] = [];
    let running = 0;
    let maxRunning = 0;
    await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        q.run('k', async () => {
          running++;
          maxRunning = Math.max(maxRunning, running);
          await sleep(i % 3);
          order.push(i);
          running--;
        }),
      ),
    );
    expect(order).toEqual(Array.from({ length: 50 }, (_, i) => i));
    expect(maxRunning).toBe(1);
  });
});
