import type { TimbreDB } from '../storage/db';
import { isQuotaError } from '../storage/errors';

export const WINDOW_MS = 60_000;

export interface RateDecision {
  allowed: boolean;
  limit: number;
  remaining: number;
  /** Epoch seconds when the current window ends. */
  reset: number;
  /** Seconds to wait before retrying, when not allowed. */
  retryAfter: number;
}

/**
 * Fixed one-minute windows per key and scope, counted in IndexedDB inside one read-write transaction,
 * so concurrent requests cannot both take the last slot and counts survive Service Worker restarts.
 * With the storage full the count cannot advance; the request is still decided by the stored count, so a
 * full disk does not refuse every call (the ones that would free space among them).
 */
export class RateLimiter {
  constructor(private readonly db: TimbreDB) {}

  async take(bucket: string, limit: number, now: number): Promise<RateDecision> {
    const windowStart = Math.floor(now / WINDOW_MS) * WINDOW_MS;
    const tx = this.db.transaction('rateLimits', 'readwrite');
    const cur = await tx.store.get(bucket);
    const count = cur && cur.window_start === windowStart ? cur.count : 0;
    const allowed = count < limit;
    try {
      if (allowed) await tx.store.put({ bucket, window_start: windowStart, count: count + 1 });
      await tx.done;
    } catch (e) {
      void tx.done.catch(() => undefined);
      if (!isQuotaError(e)) throw e;
    }
    const resetMs = windowStart + WINDOW_MS;
    return {
      allowed,
      limit,
      remaining: Math.max(0, limit - count - (allowed ? 1 : 0)),
      reset: Math.ceil(resetMs / 1000),
      retryAfter: Math.max(1, Math.ceil((resetMs - now) / 1000)),
    };
  }
}

export function rateHeaders(d: RateDecision): Record<string, string> {
  return {
    'X-RateLimit-Limit': String(d.limit),
    'X-RateLimit-Remaining': String(d.remaining),
    'X-RateLimit-Reset': String(d.reset),
  };
}
