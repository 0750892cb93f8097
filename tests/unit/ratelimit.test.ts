import { describe, expect, it } from 'vitest';
import { ROUTES, createRouter } from '../../src/lib/api/routes';
import { DEFAULT_LIMITS, SCOPES, ANONYMOUS_LIMIT, type Scope } from '../../src/lib/auth/scopes';
import { ANY_SCOPE_LIMIT } from '../../src/lib/api/router';
import { createApiContext } from '../../src/lib/api/context';
import { RateLimiter, WINDOW_MS } from '../../src/lib/api/ratelimit';
import { FACTS, localEngine, setup } from './helpers';
import { errorOf, fillPath } from './test-utils';

type Env = Awaited<ReturnType<typeof setup>>;

/** A route that needs `scope`, with a made-up id where the path has one. */
function routeFor(scope: Scope) {
  const r =
    ROUTES.find((x) => x.scope === scope && x.method === 'GET' && !x.path.includes('/events')) ??
    ROUTES.find((x) => x.scope === scope);
  if (!r) throw new Error(`no route for ${scope}`);
  return { method: r.method, path: fillPath(r.path, 'zz_missing') };
}

async function hit(env: Env, key: string | undefined, scope: Scope) {
  const { method, path } = routeFor(scope);
  const res = await env.call(method, path, { key });
  if ((res.headers.get('Content-Type') ?? '').startsWith('text/event-stream')) await res.body?.cancel();
  return res;
}

function windowEnd(t: number) {
  return (Math.floor(t / WINDOW_MS) + 1) * WINDOW_MS;
}

const rate = (res: Response) => ({
  limit: Number(res.headers.get('X-RateLimit-Limit')),
  remaining: Number(res.headers.get('X-RateLimit-Remaining')),
  reset: Number(res.headers.get('X-RateLimit-Reset')),
});

describe('default per-scope limits', () => {
  it('the documented defaults', () => {
    expect(DEFAULT_LIMITS).toMatchObject({
      'clone:create': 2,
      'voices:read': 60,
      'voices:write': 20,
      'tts:generate': 10,
      'audio:process': 5,
      'ws:connect': 5,
      'system:read': 60,
    });
  });

  it.each(SCOPES.map((s) => [s, DEFAULT_LIMITS[s]] as const))(
    '%s: %i per minute, then 429 rate_limited until the next minute',
    async (scope, limit) => {
      const env = await setup();
      const key = await env.makeKey({ scopes: [scope] });
      const end = windowEnd(env.clock.t);
      for (let i = 0; i < limit; i++) {
        const res = await hit(env, key, scope);
        expect(res.status, `request ${i + 1}`).not.toBe(429);
        expect(rate(res)).toEqual({ limit, remaining: limit - i - 1, reset: end / 1000 });
        await res.text().catch(() => '');
      }
      const over = await hit(env, key, scope);
      const err = await errorOf(over, 429, 'rate_limited');
      const wait = Math.ceil((end - env.clock.t) / 1000);
      expect(over.headers.get('Retry-After')).toBe(String(wait));
      expect(err.retry_after).toBe(wait);
      expect(err.message).toContain(scope);
      expect(err.message).toContain(String(limit));
      expect(rate(over)).toEqual({ limit, remaining: 0, reset: end / 1000 });

      // Later in the same minute: still limited, with a shorter wait.
      env.clock.t = end - 1500;
      const later = await hit(env, key, scope);
      await errorOf(later, 429, 'rate_limited');
      expect(later.headers.get('Retry-After')).toBe('2');

      // A new minute resets the count.
      env.clock.t += 60_000;
      const fresh = await hit(env, key, scope);
      expect(fresh.status).not.toBe(429);
      expect(rate(fresh).remaining).toBe(limit - 1);
      expect(rate(fresh).reset).toBe(windowEnd(env.clock.t) / 1000);
    },
  );
});

describe('rate headers', () => {
  it('are on every response: 200, 400, 401, 403, 404, 405, 413, 415, 429, 501', async () => {
    const env = await setup();
    // The scope of whichever route is still planned, so it reaches its 501.
    const planned = ROUTES.find((r) => r.planned);
    const scopes: Scope[] = ['voices:read', 'audio:process', 'tts:generate'];
    const need = planned?.scope;
    if (need && need !== 'any' && !scopes.includes(need)) scopes.push(need);
    const key = await env.makeKey({ scopes });
    const responses: [number, Response][] = [
      [200, await env.call('GET', '/api/voices', { key })],
      [400, await env.call('GET', '/api/voices?limit=0', { key })],
      [401, await env.call('GET', '/api/voices')],
      [401, await env.call('GET', '/api/voices', { key: 'tmb_wrong' })],
      [403, await env.call('PUT', '/api/voices/af_heart', { key, body: { tags: [] } })],
      [404, await env.call('GET', '/api/voices/nope', { key })],
      [404, await env.call('GET', '/api/nothing-here', { key })],
      [405, await env.call('DELETE', '/api/voices', { key })],
      [
        413,
        await env.call('POST', '/api/text/split', {
          key,
          raw: 'x'.repeat(1024 * 1024 + 1),
          headers: { 'Content-Type': 'application/json' },
        }),
      ],
      [
        415,
        await env.call('POST', '/api/text/split', {
          key,
          raw: 'x',
          headers: { 'Content-Type': 'image/png' },
        }),
      ],
      // Any route still planned answers 501 (once none is left, an unknown path's 404 stands in).
      planned
        ? [501, await env.call(planned.method, fillPath(planned.path, 'x'), { key })]
        : [404, await env.call('GET', '/api/nothing-else', { key })],
      [200, await env.call('GET', '/api/health')],
      [200, await env.call('GET', '/api/openapi.json')],
    ];
    for (const [status, res] of responses) {
      expect(res.status).toBe(status);
      const r = rate(res);
      expect(r.limit, `status ${status}`).toBeGreaterThan(0);
      expect(Number.isInteger(r.remaining)).toBe(true);
      expect(r.reset).toBe(windowEnd(env.clock.t) / 1000);
    }
    // Unauthenticated and public calls show the shared anonymous bucket.
    expect(rate(responses[2]![1]).limit).toBe(ANONYMOUS_LIMIT);
    expect(rate(responses[11]![1]).limit).toBe(ANONYMOUS_LIMIT);
    // A refused (403) call counts against the key's generous "any" bucket, not the scope it lacks.
    expect(rate(responses[4]![1]).limit).toBe(ANY_SCOPE_LIMIT);
  });

  it('a 403 for a missing scope does not use up the limit of any scope the key holds', async () => {
    const env = await setup();
    const key = await env.makeKey({ scopes: ['voices:read'] });
    for (let i = 0; i < 5; i++)
      await errorOf(await env.call('PUT', '/api/voices/af_heart', { key, body: { tags: [] } }), 403);
    expect(rate(await env.call('GET', '/api/voices', { key })).remaining).toBe(59);
  });
});

describe('custom and separate limits', () => {
  it('a key with its own limits uses them (lower and higher than the default)', async () => {
    const env = await setup();
    const low = await env.makeKey({ scopes: ['voices:read'], limits: { 'voices:read': 3 } });
    for (let i = 0; i < 3; i++) expect((await env.call('GET', '/api/voices', { key: low })).status).toBe(200);
    const err = await errorOf(await env.call('GET', '/api/voices', { key: low }), 429, 'rate_limited');
    expect(err.message).toContain('3 per minute');

    const high = await env.makeKey({ scopes: ['clone:create'], limits: { 'clone:create': 7 } });
    for (let i = 0; i < 7; i++)
      await errorOf(await env.call('POST', '/api/design/create', { key: high }), 400, 'bad_request');
    await errorOf(await env.call('POST', '/api/design/create', { key: high }), 429, 'rate_limited');
  });

  it('counts per key and per scope', async () => {
    const env = await setup();
    const a = await env.makeKey({ limits: { 'audio:process': 2 } });
    const b = await env.makeKey({ limits: { 'audio:process': 2 } });
    for (let i = 0; i < 2; i++) await env.call('POST', '/api/text/split', { key: a, body: { text: 'x' } });
    await errorOf(await env.call('POST', '/api/text/split', { key: a, body: { text: 'x' } }), 429);
    expect((await env.call('POST', '/api/text/split', { key: b, body: { text: 'x' } })).status).toBe(200);
    expect((await env.call('GET', '/api/voices', { key: a })).status).toBe(200);
  });

  it('concurrent requests cannot both take the last slot', async () => {
    const env = await setup();
    const key = await env.makeKey({ limits: { 'voices:read': 10 } });
    const all = await Promise.all(
      Array.from({ length: 25 }, () => env.call('GET', '/api/favorites', { key })),
    );
    expect(all.filter((r) => r.status === 200)).toHaveLength(10);
    expect(all.filter((r) => r.status === 429)).toHaveLength(15);
    const remaining = all
      .filter((r) => r.status === 200)
      .map((r) => rate(r).remaining)
      .sort((x, y) => x - y);
    expect(remaining).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });

  it('routes any key may call (job status) have their own generous limit', async () => {
    const env = await setup();
    const key = await env.makeKey({ scopes: ['ws:connect'] });
    const res = await env.call('GET', '/api/jobs/job_nope', { key });
    await errorOf(res, 404, 'not_found');
    expect(rate(res)).toMatchObject({ limit: ANY_SCOPE_LIMIT, remaining: ANY_SCOPE_LIMIT - 1 });
  });
});

describe('the anonymous bucket', () => {
  it(`unidentified callers share ${ANONYMOUS_LIMIT}/min, public routes and failed authentication alike`, async () => {
    const env = await setup();
    for (let i = 0; i < ANONYMOUS_LIMIT / 2; i++)
      expect((await env.call('GET', '/api/health')).status).toBe(200);
    for (let i = 0; i < ANONYMOUS_LIMIT / 2; i++)
      await errorOf(await env.call('GET', '/api/voices', { key: `tmb_guess_${i}` }), 401);
    const over = await env.call('GET', '/api/health');
    const err = await errorOf(over, 429, 'rate_limited');
    expect(err.message).toMatch(/without a valid key/);
    expect(Number(over.headers.get('Retry-After'))).toBeGreaterThan(0);
    await errorOf(await env.call('GET', '/api/voices'), 429, 'rate_limited');
    // A valid key is not held back by the anonymous bucket.
    const key = await env.makeKey();
    expect((await env.call('GET', '/api/voices', { key })).status).toBe(200);
    env.clock.t += 60_000;
    expect((await env.call('GET', '/api/health')).status).toBe(200);
  });
});

describe('persistence', () => {
  it('counts survive a Service Worker restart (a new context over the same database)', async () => {
    const env = await setup();
    const key = await env.makeKey({ scopes: ['clone:create'] });
    await errorOf(await env.call('POST', '/api/design/create', { key }), 400);
    await errorOf(await env.call('POST', '/api/design/create', { key }), 400);

    const ctx2 = createApiContext({
      db: env.db,
      engine: localEngine(),
      system: async () => FACTS,
      version: 'test',
      now: () => env.clock.t,
    });
    const router2 = createRouter();
    const req = () =>
      new Request('http://127.0.0.1:4173/api/design/create', {
        method: 'POST',
        headers: { 'X-API-Key': key },
      });
    const res = await router2.handle(req(), ctx2);
    await errorOf(res, 429, 'rate_limited');
    expect(rate(res)).toMatchObject({ limit: 2, remaining: 0 });

    const stored = await env.db.getAll('rateLimits');
    const bucket = stored.find((b) => b.bucket.endsWith('|clone:create'));
    expect(bucket).toMatchObject({ count: 2, window_start: Math.floor(env.clock.t / WINDOW_MS) * WINDOW_MS });

    env.clock.t += WINDOW_MS;
    await errorOf(await router2.handle(req(), ctx2), 400, 'bad_request');
  });

  it('RateLimiter: fixed windows, remaining, reset and retry-after', async () => {
    const env = await setup();
    const lim = new RateLimiter(env.db);
    const t0 = 1_700_000_040_000; // exactly a window start
    const a = await lim.take('b', 2, t0);
    expect(a).toEqual({ allowed: true, limit: 2, remaining: 1, reset: (t0 + 60_000) / 1000, retryAfter: 60 });
    expect((await lim.take('b', 2, t0 + 59_999)).remaining).toBe(0);
    const c = await lim.take('b', 2, t0 + 59_999);
    expect(c).toMatchObject({ allowed: false, remaining: 0, retryAfter: 1 });
    expect((await lim.take('b', 2, t0 + 60_000)).allowed).toBe(true);
    // A refused take does not count.
    expect((await env.db.get('rateLimits', 'b'))?.count).toBe(1);
  });

  it('RateLimiter: with the storage full a request is still decided (by the stored count)', async () => {
    const env = await setup();
    const lim = new RateLimiter(env.db);
    const t0 = 1_700_000_040_000;
    await lim.take('b', 2, t0);
    const realPut = IDBObjectStore.prototype.put;
    IDBObjectStore.prototype.put = () => {
      throw new DOMException('The quota has been exceeded.', 'QuotaExceededError');
    };
    try {
      expect(await lim.take('b', 2, t0 + 1)).toMatchObject({ allowed: true, remaining: 0 });
    } finally {
      IDBObjectStore.prototype.put = realPut;
    }
    expect((await env.db.get('rateLimits', 'b'))?.count).toBe(1);
  });
});
