import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { Router, compile, describeZodError } from '../../src/lib/api/router';
import { ApiError, toApiError } from '../../src/lib/api/errors';
import { createRouter } from '../../src/lib/api/routes';
import { setup } from './helpers';
import { errorOf, HIGH_LIMITS, okJson } from './test-utils';

describe('routing', () => {
  it('health answers without a key and names the version', async () => {
    const { call } = await setup();
    const res = await call('GET', '/api/health');
    expect(await okJson(res)).toMatchObject({ status: 'ok', version: 'test' });
    expect(res.headers.get('Cache-Control')).toBe('no-store');
    expect(res.headers.get('X-Served-By')).toBe('timbre');
  });

  it('an unknown path is 404 not_found pointing at the OpenAPI document', async () => {
    const { call, makeKey } = await setup();
    const key = await makeKey();
    for (const p of ['/api/nope', '/v1/nope', '/api', '/api/voices/a/b', '/somewhere/else']) {
      const err = await errorOf(await call('GET', p, { key }), 404, 'not_found');
      expect(err.message).toContain('/api/openapi.json');
    }
  });

  it('a known path with the wrong method is 405 method_not_allowed', async () => {
    const { call, makeKey } = await setup();
    const key = await makeKey();
    for (const [m, p] of [
      ['DELETE', '/api/health'],
      ['POST', '/api/voices'],
      ['PATCH', '/api/voices/af_heart'],
      ['GET', '/api/text/split'],
      ['PUT', '/api/api-keys'],
    ] as const) {
      const err = await errorOf(await call(m, p, { key }), 405, 'method_not_allowed');
      expect(err.message).toContain(m);
    }
    // Also without a key: the method is checked before authentication.
    await errorOf(await call('DELETE', '/api/voices'), 405, 'method_not_allowed');
  });

  it('HEAD is served by the GET route; a trailing slash is accepted', async () => {
    const { call, makeKey } = await setup();
    const key = await makeKey();
    expect((await call('HEAD', '/api/health')).status).toBe(200);
    expect((await call('GET', '/api/voices/', { key })).status).toBe(200);
    expect((await call('GET', '/api/voices/af_heart/', { key })).status).toBe(200);
  });

  it('path parameters are URL-decoded; an invalid escape is kept literally', async () => {
    const { ctx, call, makeKey } = await setup();
    const key = await makeKey();
    await ctx.voices.put({
      id: 'my voice/ü',
      name: 'Mine',
      description: '',
      tags: [],
      language: 'en-us',
      gender: 'female',
      kind: 'cloned',
      model: 'openvoice',
      samples: [],
      favorite: false,
      created_at: 1,
      updated_at: 1,
    });
    const v = await okJson<{ id: string }>(
      await call('GET', `/api/voices/${encodeURIComponent('my voice/ü')}`, { key }),
    );
    expect(v.id).toBe('my voice/ü');
    const err = await errorOf(await call('GET', '/api/voices/%E0%A4%A', { key }), 404, 'not_found');
    expect(err.message).toContain('%E0%A4%A');
  });

  it('matches literal routes before parameter routes (export is not a voice id)', () => {
    const router = createRouter();
    const exp = router.match('GET', '/api/voices/export');
    expect(exp !== null && exp !== 'method' && exp.route.path).toBe('/api/voices/export');
    const one = router.match('GET', '/api/voices/af_heart');
    expect(one !== null && one !== 'method' && [one.route.path, one.params.id]).toEqual([
      '/api/voices/{id}',
      'af_heart',
    ]);
    const imp = router.match('POST', '/api/voices/import');
    expect(imp !== null && imp !== 'method' && imp.route.path).toBe('/api/voices/import');
    expect(router.match('POST', '/api/voices/af_heart')).toBe('method');
    expect(router.match('GET', '/api/unknown')).toBeNull();
    expect(compile(router.routes)).toHaveLength(router.routes.length);
  });

  it('/api/voices/export is routed to the export handler, not to GET /api/voices/{id}', async () => {
    const { call, makeKey } = await setup();
    const key = await makeKey();
    const body = await okJson<{ format: string }>(
      await call('GET', '/api/voices/export?ids=af_heart', { key }),
    );
    expect(body.format).toBe('timbre-voices');
  });

  it('isApiPath covers /api and /v1 only', () => {
    expect(Router.isApiPath('/api')).toBe(true);
    expect(Router.isApiPath('/api/voices')).toBe(true);
    expect(Router.isApiPath('/v1/voices')).toBe(true);
    expect(Router.isApiPath('/v1')).toBe(true);
    expect(Router.isApiPath('/apix')).toBe(false);
    expect(Router.isApiPath('/v10/x')).toBe(false);
    expect(Router.isApiPath('/')).toBe(false);
  });
});

describe('JSON bodies', () => {
  it('a non-JSON body is 400 bad_request naming the body', async () => {
    const { call, makeKey } = await setup();
    const key = await makeKey();
    for (const raw of ['{not json', '{"text": "a",}', 'undefined', "{'text':'a'}"]) {
      const err = await errorOf(
        await call('POST', '/api/text/split', { key, raw, headers: { 'Content-Type': 'application/json' } }),
        400,
        'bad_request',
      );
      expect(err.field).toBe('body');
      expect(err.message).toMatch(/not valid JSON/);
    }
  });

  it('an empty body is 400 saying a JSON object is expected', async () => {
    const { call, makeKey } = await setup();
    const key = await makeKey();
    for (const raw of [undefined, '', '   \n ']) {
      const err = await errorOf(
        await call('POST', '/api/text/split', { key, raw, headers: { 'Content-Type': 'application/json' } }),
        400,
        'bad_request',
      );
      expect(err.field).toBe('body');
      expect(err.message).toMatch(/empty/);
    }
  });

  it('a JSON value that is not an object is 400', async () => {
    const { call, makeKey } = await setup();
    const key = await makeKey();
    for (const body of [[], 42, 'text', null, true]) {
      const err = await errorOf(await call('POST', '/api/text/split', { key, body }), 400, 'bad_request');
      expect(err.field).toBe('body');
    }
  });

  it('a wrong Content-Type is 415 unsupported_media_type', async () => {
    const { call, makeKey } = await setup();
    const key = await makeKey();
    for (const ct of [
      'application/xml',
      'multipart/form-data; boundary=x',
      'application/x-www-form-urlencoded',
      'image/png',
      'text/html',
    ]) {
      const err = await errorOf(
        await call('POST', '/api/text/split', { key, raw: '{"text":"a"}', headers: { 'Content-Type': ct } }),
        415,
        'unsupported_media_type',
      );
      expect(err.message).toContain(ct.split(';')[0]);
    }
  });

  it('accepts application/json with a charset, +json types, text/plain and no Content-Type', async () => {
    const { call, makeKey } = await setup();
    const key = await makeKey({ limits: HIGH_LIMITS });
    for (const headers of [
      { 'Content-Type': 'application/json; charset=utf-8' },
      { 'Content-Type': 'application/merge-patch+json' },
      { 'Content-Type': 'text/plain;charset=UTF-8' },
      {} as Record<string, string>,
    ]) {
      const body = await okJson<{ count: number }>(
        await call('POST', '/api/text/split', { key, raw: '{"text":"One. Two."}', headers }),
      );
      expect(body.count).toBe(2);
    }
  });

  it('a body over the limit is 413 file_too_large with the limit', async () => {
    const { call, makeKey } = await setup();
    const key = await makeKey();
    const raw = JSON.stringify({ text: 'a'.repeat(1024 * 1024) });
    const err = await errorOf(
      await call('POST', '/api/text/split', { key, raw, headers: { 'Content-Type': 'application/json' } }),
      413,
      'file_too_large',
    );
    expect(err.field).toBe('body');
    expect(err.limit_bytes).toBe(1024 * 1024);
    expect(err.message).toContain('1 MB');
  });

  it('a declared Content-Length over the limit is refused before reading', async () => {
    const { call, makeKey } = await setup();
    const key = await makeKey();
    const err = await errorOf(
      await call('POST', '/api/text/split', {
        key,
        raw: '{"text":"a"}',
        headers: { 'Content-Type': 'application/json', 'Content-Length': String(5 * 1024 * 1024) },
      }),
      413,
      'file_too_large',
    );
    expect(err.field).toBe('body');
  });

  it('a streamed body is cut off as soon as it passes the limit', async () => {
    const { router, ctx, makeKey } = await setup();
    const key = await makeKey();
    const chunk = new Uint8Array(256 * 1024).fill(0x20);
    let pulled = 0;
    const stream = new ReadableStream<Uint8Array>({
      pull(c) {
        pulled++;
        if (pulled > 1000) c.close();
        else c.enqueue(chunk);
      },
    });
    const req = new Request('http://127.0.0.1:4173/api/text/split', {
      method: 'POST',
      headers: { 'X-API-Key': key, 'Content-Type': 'application/json' },
      body: stream,
      duplex: 'half',
    } as RequestInit);
    await errorOf(await router.handle(req, ctx), 413, 'file_too_large');
    expect(pulled).toBeLessThan(20);
  });
});

describe('error helpers', () => {
  it('toApiError maps named errors and hides unknown ones', () => {
    const named = (name: string, message = 'm') => Object.assign(new Error(message), { name });
    expect(toApiError(named('AbortError')).code).toBe('cancelled');
    expect(toApiError(named('CancelledError')).status).toBe(499);
    expect(toApiError(named('QuotaExceededError')).code).toBe('storage_full');
    expect(toApiError(named('StorageFullError', 'full')).status).toBe(507);
    expect(toApiError(named('EngineUnavailableError', 'no tab')).message).toBe('no tab');
    expect(toApiError(named('EngineUnavailableError')).status).toBe(503);
    expect(toApiError(named('EngineCrashedError')).code).toBe('engine_crashed');
    expect(toApiError(named('EngineCrashedError', 'restarted')).message).toBe('restarted');
    const hidden = toApiError(new TypeError('secret stack detail'));
    expect(hidden.code).toBe('internal_error');
    expect(hidden.message).not.toContain('secret');
    expect(toApiError('a string').status).toBe(500);
    const own = new ApiError('forbidden', 'x');
    expect(toApiError(own)).toBe(own);
  });

  it('describeZodError names the field of the first issue', () => {
    const s = z.object({ a: z.object({ b: z.number() }) }).strict();
    const nested = describeZodError(s.safeParse({ a: { b: 'x' } }).error!, 'body');
    expect(nested.details.field).toBe('a.b');
    expect(nested.message).toMatch(/^a\.b: /);
    const unknown = describeZodError(s.safeParse({ a: { b: 1 }, extra: 1 }).error!, 'body');
    expect(unknown.details.field).toBe('extra');
    expect(unknown.message).toContain('extra');
    const whole = describeZodError(z.string().safeParse(1).error!, 'query');
    expect(whole.details.field).toBe('query');
  });
});

describe('engine errors become documented API errors', () => {
  it('maps model, voice and parameter errors by name (they cross worker boundaries by name)', async () => {
    const { toApiError } = await import('../../src/lib/api/errors');
    const named = (name: string, message = 'm') => Object.assign(new Error(message), { name });
    expect(toApiError(named('ModelNotInstalledError')).status).toBe(503);
    expect(toApiError(named('ModelNotInstalledError')).code).toBe('model_not_installed');
    expect(toApiError(named('UnknownVoiceError', 'There is no Kokoro voice "x".')).code).toBe('not_found');
    for (const n of [
      'TtsParamError',
      'MixFormulaError',
      'UnsupportedLanguageError',
      'FormatOptionError',
      'DecodeError',
    ])
      expect(toApiError(named(n, 'why')).code).toBe('bad_request');
    expect(toApiError(named('MixFormulaError', 'weight of af_x is not a number')).message).toBe(
      'weight of af_x is not a number',
    );
  });
});
