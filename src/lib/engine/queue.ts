import { CancelledError } from '../core/run';

/**
 * Runs jobs one at a time per key (an operation's queue: a model session, or the ffmpeg core); later jobs wait their turn.
 * A job cancelled while waiting leaves the queue at once without ever starting.
 */
export class SerialQueues {
  private tails = new Map<string, Promise<unknown>>();
  private waiting = new Map<string, number>();
  private active = new Set<string>();

  run<T>(key: string, job: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    // The abort event has already fired for such a signal, so it would never be heard: refuse now.
    if (signal?.aborted)
      return Promise.reject(new CancelledError('The job was cancelled before it started.'));
    const prev = this.tails.get(key) ?? Promise.resolve();
    this.waiting.set(key, (this.waiting.get(key) ?? 0) + 1);
    const next = new Promise<T>((resolve, reject) => {
      let started = false;
      const onAbort = () => {
        if (!started) {
          this.dec(key);
          reject(new CancelledError('The job was cancelled before it started.'));
        }
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      void prev
        .catch(() => undefined)
        .then(async () => {
          if (signal?.aborted) return; // already rejected by onAbort
          started = true;
          signal?.removeEventListener('abort', onAbort);
          this.dec(key);
          this.active.add(key);
          try {
            resolve(await job());
          } catch (e) {
            reject(e);
          } finally {
            this.active.delete(key);
          }
        });
    });
    // The next job waits for this one and for everything before it: a job cancelled while waiting
    // settles early, but must not let later jobs start before the running one ends.
    const tail = Promise.all([prev.catch(() => undefined), next.catch(() => undefined)]);
    this.tails.set(key, tail);
    void tail.then(() => {
      if (this.tails.get(key) === tail) this.tails.delete(key);
    });
    return next;
  }

  private dec(key: string) {
    const n = (this.waiting.get(key) ?? 1) - 1;
    if (n <= 0) this.waiting.delete(key);
    else this.waiting.set(key, n);
  }

  stats(): { queued: number; running: number } {
    let queued = 0;
    for (const n of this.waiting.values()) queued += n;
    return { queued, running: this.active.size };
  }
}
