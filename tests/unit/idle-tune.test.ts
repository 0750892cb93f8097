// When the page runs clone.tune (src/lib/ui/idle-tune.ts): only after the studio has been idle a while (no
// engine job, no input), only when a converter is installed whose variant is missing or was measured while
// busy; a tune stopped by a person's job is tried again at the next idle time; a steady result ends it.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { IDLE_TUNE_MS, IDLE_TUNE_TRIES, IdleTune } from '../../src/lib/ui/idle-tune';
import { CancelledError } from '../../src/lib/core/run';
import type { CloneStatusResult, CloneTuneResult, FastConverterInfo } from '../../src/lib/clone/contract';

const info = (steady: boolean): FastConverterInfo => ({
  snr_db: 31,
  speedup: 1.6,
  steady,
  recommended: steady,
  convs: 40,
  calibration_seconds: 9,
  made_at: 1,
});

/** An engine double: clone.status answers `status`; each clone.tune waits until settled by the test. */
function page(status: CloneStatusResult) {
  const tunes: { resolve: (r: CloneTuneResult) => void; reject: (e: unknown) => void }[] = [];
  let statuses = 0;
  let jobs = 0;
  const changed: CloneTuneResult[] = [];
  const idle = new IdleTune({
    status: async () => {
      statuses++;
      return status;
    },
    tune: () => new Promise((resolve, reject) => tunes.push({ resolve, reject })),
    idle: () => jobs === 0,
    changed: (r) => changed.push(r),
  });
  return {
    idle,
    tunes,
    changed,
    statuses: () => statuses,
    setJobs: (n: number) => (jobs = n),
    setStatus: (s: CloneStatusResult) => (status = s),
  };
}

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe('IdleTune', () => {
  it('tunes only after the idle wait with no activity, and not while a job runs', async () => {
    const p = page({ installed: true, fast: info(false) });
    p.idle.activity();
    await vi.advanceTimersByTimeAsync(IDLE_TUNE_MS - 1000);
    // Input (or a job) restarts the wait.
    p.idle.activity();
    await vi.advanceTimersByTimeAsync(IDLE_TUNE_MS - 1000);
    expect(p.tunes).toHaveLength(0);
    // A job under way when the wait ends: nothing starts, its end starts the wait again.
    p.setJobs(1);
    await vi.advanceTimersByTimeAsync(1000);
    expect(p.statuses()).toBe(0);
    p.setJobs(0);
    p.idle.activity();
    await vi.advanceTimersByTimeAsync(IDLE_TUNE_MS);
    expect(p.statuses()).toBe(1);
    expect(p.tunes).toHaveLength(1);
  });

  it('does nothing without a converter, or with a steadily measured variant', async () => {
    const p = page({ installed: false });
    p.idle.activity();
    await vi.advanceTimersByTimeAsync(IDLE_TUNE_MS * 3);
    expect(p.statuses()).toBe(1);
    expect(p.tunes).toHaveLength(0);
    // Installed later (activity): checked again; steady, so that is the end of it.
    p.setStatus({ installed: true, fast: info(true) });
    p.idle.activity();
    await vi.advanceTimersByTimeAsync(IDLE_TUNE_MS);
    expect(p.statuses()).toBe(2);
    expect(p.tunes).toHaveLength(0);
    p.idle.activity();
    await vi.advanceTimersByTimeAsync(IDLE_TUNE_MS * 3);
    expect(p.statuses()).toBe(2);
  });

  it('a tune stopped by a job is tried again at the next idle time; a steady result ends it', async () => {
    const p = page({ installed: true, fast: info(false) });
    p.idle.activity();
    await vi.advanceTimersByTimeAsync(IDLE_TUNE_MS);
    expect(p.tunes).toHaveLength(1);
    // A person's conversion stopped it.
    p.setJobs(1);
    p.tunes[0]!.reject(new CancelledError());
    await vi.advanceTimersByTimeAsync(IDLE_TUNE_MS * 2);
    expect(p.tunes).toHaveLength(1);
    // The conversion ended: the next idle time tries again.
    p.setJobs(0);
    p.idle.activity();
    await vi.advanceTimersByTimeAsync(IDLE_TUNE_MS);
    expect(p.tunes).toHaveLength(2);
    expect(p.changed).toEqual([]);
    const r: CloneTuneResult = { done: 'measured', fast: info(true) };
    p.tunes[1]!.resolve(r);
    await vi.advanceTimersByTimeAsync(0);
    // The views re-read the converter; nothing more runs in this page.
    expect(p.changed).toEqual([r]);
    p.idle.activity();
    await vi.advanceTimersByTimeAsync(IDLE_TUNE_MS * 3);
    expect(p.tunes).toHaveLength(2);
  });

  it('busy again: measured again at later idle times, a few times per page at most', async () => {
    const p = page({ installed: true, fast: info(false) });
    for (let i = 0; i < IDLE_TUNE_TRIES; i++) {
      p.idle.activity();
      await vi.advanceTimersByTimeAsync(IDLE_TUNE_MS);
      expect(p.tunes).toHaveLength(i + 1);
      p.tunes[i]!.resolve({ done: 'measured', fast: info(false) });
      await vi.advanceTimersByTimeAsync(0);
    }
    expect(p.changed).toHaveLength(IDLE_TUNE_TRIES);
    p.idle.activity();
    await vi.advanceTimersByTimeAsync(IDLE_TUNE_MS * 3);
    expect(p.tunes).toHaveLength(IDLE_TUNE_TRIES);
  });

  it('no speech to make the variant from yet: tried after the next activity, not on its own', async () => {
    const p = page({ installed: true });
    p.idle.activity();
    await vi.advanceTimersByTimeAsync(IDLE_TUNE_MS);
    p.tunes[0]!.resolve({ done: 'none', fastUnavailable: 'No speech', retry: true });
    await vi.advanceTimersByTimeAsync(IDLE_TUNE_MS * 3);
    expect(p.tunes).toHaveLength(1);
    // Kokoro installed (models changed): made at the next idle time.
    p.idle.activity();
    await vi.advanceTimersByTimeAsync(IDLE_TUNE_MS);
    expect(p.tunes).toHaveLength(2);
    p.tunes[1]!.resolve({ done: 'made', fast: info(true) });
    await vi.advanceTimersByTimeAsync(0);
    expect(p.changed).toHaveLength(1);
  });
});
