import type { JobRecord } from '../storage/records';

export type StudioEvent = { type: 'job'; job: Omit<JobRecord, 'result'> };

/** In-process publish/subscribe for job progress; the event stream route subscribes per client. */
export class EventBus {
  private subs = new Set<(e: StudioEvent) => void>();

  subscribe(fn: (e: StudioEvent) => void): () => void {
    this.subs.add(fn);
    return () => this.subs.delete(fn);
  }

  publish(e: StudioEvent): void {
    for (const fn of this.subs) {
      try {
        fn(e);
      } catch {
        // One broken subscriber must not stop the others.
      }
    }
  }

  get size(): number {
    return this.subs.size;
  }
}
