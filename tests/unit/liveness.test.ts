// The heartbeat both the page (engine worker) and the Service Worker (engine host) use, on fake timers.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Heartbeat } from '../../src/lib/engine/liveness';

beforeEach(() => vi.useFakeTimers());
afterEach(() => vi.useRealTimers());

function beat(misses = 3, answer = true) {
  const pings: number[] = [];
  const onDead = vi.fn();
  const hb: Heartbeat = new Heartbeat({
    everyMs: 1000,
    misses,
    ping: () => {
      pings.push(Date.now());
      if (answer) queueMicrotask(() => hb.answered());
    },
    onDead,
  });
  return { hb, pings, onDead };
}

describe('Heartbeat', () => {
  it('pings every everyMs while started and stays quiet while answered', async () => {
    const { hb, pings, onDead } = beat();
    hb.start();
    await vi.advanceTimersByTimeAsync(10_000);
    expect(pings).toHaveLength(10);
    expect(onDead).not.toHaveBeenCalled();
    hb.stop();
    await vi.advanceTimersByTimeAsync(10_000);
    expect(pings).toHaveLength(10);
  });

  it('declares death once, on the tick after `misses` unanswered pings', async () => {
    const { hb, pings, onDead } = beat(3, false);
    hb.start();
    await vi.advanceTimersByTimeAsync(3_999);
    expect(onDead).not.toHaveBeenCalled();
    await vi.advanceTimersByTimeAsync(1);
    expect(onDead).toHaveBeenCalledTimes(1);
    expect(pings).toHaveLength(3);
    expect(hb.running).toBe(false);
    await vi.advanceTimersByTimeAsync(10_000);
    expect(onDead).toHaveBeenCalledTimes(1);
  });

  it('any answer clears the count: a long quiet spell shorter than the limit is survived', async () => {
    const { hb, onDead } = beat(3, false);
    hb.start();
    await vi.advanceTimersByTimeAsync(3_500); // three pings unanswered (a long synchronous step)
    hb.answered();
    await vi.advanceTimersByTimeAsync(3_400);
    expect(onDead).not.toHaveBeenCalled();
    await vi.advanceTimersByTimeAsync(1_000);
    expect(onDead).toHaveBeenCalledTimes(1);
  });

  it('counts pings, not time: ticks slowed to one a minute (a background tab) are not taken for death', async () => {
    // The browser runs the interval late, but each ping is answered before the next tick.
    const { hb, onDead } = beat(2);
    hb.start();
    for (let i = 0; i < 5; i++) {
      vi.setSystemTime(Date.now() + 60_000);
      await vi.advanceTimersByTimeAsync(1000);
    }
    expect(onDead).not.toHaveBeenCalled();
  });

  it('firstMisses: more patience until the first answer ever, then `misses`', async () => {
    const onDead = vi.fn();
    const hb = new Heartbeat({ everyMs: 1000, misses: 2, firstMisses: 5, ping: () => undefined, onDead });
    hb.start();
    await vi.advanceTimersByTimeAsync(5_000);
    expect(onDead).not.toHaveBeenCalled();
    hb.answered();
    await vi.advanceTimersByTimeAsync(3_000);
    expect(onDead).toHaveBeenCalledTimes(1);
  });

  it('start after stop begins a clean count', async () => {
    const { hb, onDead } = beat(2, false);
    hb.start();
    await vi.advanceTimersByTimeAsync(2_000);
    hb.stop();
    hb.start();
    await vi.advanceTimersByTimeAsync(2_000);
    expect(onDead).not.toHaveBeenCalled();
    await vi.advanceTimersByTimeAsync(1_000);
    expect(onDead).toHaveBeenCalledTimes(1);
  });
});
