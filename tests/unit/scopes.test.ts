import { describe, expect, it } from 'vitest';
import { ROUTES } from '../../src/lib/api/routes';
import { SCOPES, type Scope } from '../../src/lib/auth/scopes';
import type { AnyRoute } from '../../src/lib/api/router';
import { setup } from './helpers';
import { errorOf, fillPath } from './test-utils';

const label = (r: AnyRoute) => `${r.method} ${r.path}`;
const MISSING_ID = 'zz_no_such_id';

/** Lets a 2xx body go (an event stream never ends on its own). */
async function drain(res: Response) {
  if ((res.headers.get('Content-Type') ?? '').startsWith('text/event-stream')) await res.body?.cancel();
  else await res.text();
}

describe('route table', () => {
  it('has unique method+path pairs and a known scope on every route', () => {
    const seen = new Set<string>();
    for (const r of ROUTES) {
      expect(seen.has(label(r)), `duplicate ${label(r)}`).toBe(false);
      seen.add(label(r));
      expect(
        r.scope === null || r.scope === 'any' || (SCOPES as readonly string[]).includes(r.scope),
        label(r),
      ).toBe(true);
    }
    expect(ROUTES.length).toBeGreaterThan(40);
  });

  it('only the health check, the OpenAPI document and the WebSockets the studio cannot offer are public', () => {
    expect(
      ROUTES.filter((r) => r.scope === null)
        .map(label)
        .sort(),
    ).toEqual(['GET /api/health', 'GET /api/openapi.json', 'GET /api/v1/tts/stream', 'GET /ws']);
  });
});

describe.each(ROUTES.map((r) => [label(r), r] as const))('%s', (_name, r) => {
  const path = fillPath(r.path, MISSING_ID);

  if (r.scope === null && r.absent) {
    it('answers without a key: 501 with the reason and the alternative', async () => {
      const { call } = await setup();
      const err = await errorOf(await call(r.method, path), 501, 'not_implemented');
      expect(err.message).toContain(r.absent);
    });
    return;
  }
  if (r.scope === null) {
    it('answers without a key', async () => {
      const { call } = await setup();
      const res = await call(r.method, path);
      expect(res.status).toBe(200);
      expect(res.headers.get('Content-Type')).toMatch(/^application\/json/);
      await res.json();
    });
    return;
  }

  it('without a key: 401 unauthorized', async () => {
    const { call } = await setup();
    const res = await call(r.method, path);
    const err = await errorOf(res, 401, 'unauthorized');
    expect(err.message).toMatch(/X-API-Key/);
    expect(res.headers.get('X-RateLimit-Limit')).not.toBeNull();
  });

  it('with an unknown key (X-API-Key or Bearer): 401 unauthorized', async () => {
    const { call } = await setup();
    const fake = 'tmb_' + '0'.repeat(48);
    const a = await errorOf(await call(r.method, path, { key: fake }), 401, 'unauthorized');
    expect(a.message).toMatch(/not valid/);
    await errorOf(await call(r.method, path, { key: fake, bearer: true }), 401, 'unauthorized');
  });

  const scope = r.scope;
  if (scope !== 'any') {
    it(`with a key lacking "${scope}": 403 forbidden naming the scope`, async () => {
      const { call, makeKey } = await setup();
      const key = await makeKey({ scopes: SCOPES.filter((s) => s !== scope) });
      const res = await call(r.method, path, { key });
      const err = await errorOf(res, 403, 'forbidden');
      expect(err.scope).toBe(scope);
      expect(err.message).toContain(scope);
      expect(res.headers.get('X-RateLimit-Limit')).not.toBeNull();
      expect(res.headers.get('X-RateLimit-Remaining')).not.toBeNull();
      expect(res.headers.get('X-RateLimit-Reset')).not.toBeNull();
    });
  }

  const only: Scope = scope === 'any' ? 'ws:connect' : scope;
  it(`with a key holding only "${only}": passes authentication and the scope check`, async () => {
    const { call, makeKey } = await setup();
    const key = await makeKey({ scopes: [only] });
    for (const bearer of [false, true]) {
      const res = await call(r.method, path, { key, bearer });
      expect(res.status, label(r)).not.toBe(401);
      expect(res.status, label(r)).not.toBe(403);
      expect(res.headers.get('X-RateLimit-Limit')).not.toBeNull();
      if (r.planned || r.absent) {
        const err = await errorOf(res, 501, 'not_implemented');
        expect(err.message).toContain(r.planned ?? r.absent);
      } else if (res.status >= 400) {
        const err = await errorOf(res);
        // Past the key and scope checks an empty request is refused for what it lacks, or (the clone
        // routes) because the converter is not installed in this test engine.
        const codes = ['bad_request', 'not_found', 'unsupported_media_type'];
        if (path.includes('clone') || path.includes('voice-convert') || path.includes('speech-to-speech'))
          codes.push('model_not_installed');
        expect(codes, label(r)).toContain(err.code);
      } else {
        await drain(res);
      }
    }
  });
});

describe('allowed origins (embed iframe calls)', () => {
  it('refuses a key from an origin it does not list, accepts one it lists', async () => {
    const { call, makeKey } = await setup({ callerOrigin: 'https://app.example' });
    const plain = await makeKey({ scopes: ['voices:read'] });
    const err = await errorOf(await call('GET', '/api/voices', { key: plain }), 403, 'forbidden');
    expect(err.message).toContain('https://app.example');
    const listed = await makeKey({ scopes: ['voices:read'], allowed_origins: ['https://app.example'] });
    expect((await call('GET', '/api/voices', { key: listed })).status).toBe(200);
    const other = await makeKey({ scopes: ['voices:read'], allowed_origins: ['https://app.example:8443'] });
    await errorOf(await call('GET', '/api/voices', { key: other }), 403, 'forbidden');
  });

  it('public routes need no origin check', async () => {
    const { call } = await setup({ callerOrigin: 'https://app.example' });
    expect((await call('GET', '/api/health')).status).toBe(200);
  });
});
