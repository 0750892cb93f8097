// Documents 000 (Studio API), 002 (streaming TTS) and 004 (tone-colour clone) through the real router and
// (fake-indexeddb) storage: what a client written against them meets (#24). The browser suite
// tests/e2e/conformance-studio.test.ts replays the documents' own examples with the real models.
import 'fake-indexeddb/auto';
import { describe, expect, it } from 'vitest';
import { createApiContext } from '../../src/lib/api/context';
import { createRouter, CLONE_CONVERT_LIMIT } from '../../src/lib/api/routes';
import { FACTS, setup } from './helpers';
import { caller, errorOf, okJson, waitingEngine } from './test-utils';

describe('document 004: /api/clone limits and error shape', () => {
  it('a default key loops over segments past the 2 a minute of voice creation; the limit answers {success: false, message}', async () => {
    const { call, makeKey } = await setup();
    const key = await makeKey(); // the studio document's default limits: clone:create 2
    const body = { target_audio: 'UklGRg==', source_audio: 'UklGRg==', tau: 0.3 };
    for (let i = 0; i < CLONE_CONVERT_LIMIT; i++) {
      const r = await call('POST', '/api/clone', { key, body });
      // No converter here: every segment reaches the route (503), none is refused by the limit.
      expect(r.status, `segment ${i + 1}`).toBe(503);
      const b = (await r.json()) as { success: boolean; message: string; error: { code: string } };
      expect(b).toMatchObject({ success: false, error: { code: 'model_not_installed' } });
      expect(b.message).toMatch(/Models view/);
    }
    const over = await call('POST', '/api/clone', { key, body });
    expect(over.status).toBe(429);
    expect(over.headers.get('Retry-After')).toMatch(/^\d+$/);
    const b = (await over.json()) as { success: boolean; message: string; error: { code: string } };
    expect(b.success).toBe(false);
    expect(b.message).toMatch(/per minute/);
    expect(b.error.code).toBe('rate_limited');
    // Voice creation keeps its own limit of 2.
    const create = { audio: 'UklGRg==' };
    expect((await call('POST', '/api/clone/create', { key, body: create })).status).toBe(503);
    expect((await call('POST', '/api/clone/create', { key, body: create })).status).toBe(503);
    await errorOf(await call('POST', '/api/clone/create', { key, body: create }), 429, 'rate_limited');
  });

  it('401 on the 004 routes carries success and message; other routes keep the plain error', async () => {
    const { call } = await setup();
    for (const [method, path] of [
      ['POST', '/api/clone'],
      ['GET', '/api/info'],
    ] as const) {
      const r = await call(method, path, method === 'POST' ? { body: {} } : {});
      expect(r.status, path).toBe(401);
      const b = (await r.json()) as Record<string, unknown>;
      expect(b, path).toMatchObject({ success: false, error: { code: 'unauthorized' } });
      expect(String(b.message)).toMatch(/API key is required/);
    }
    const plain = (await (await call('GET', '/api/voices')).json()) as Record<string, unknown>;
    expect(plain.success).toBeUndefined();
  });

  it('/api/info answers the documented fields before the converter is installed', async () => {
    const { call, makeKey } = await setup();
    const info = await okJson(await call('GET', '/api/info', { key: await makeKey() }));
    expect(info).toMatchObject({
      model: 'OpenVoice Tone Clone',
      version: 'v2',
      sample_rate: 22050,
      target_length: 1024,
      tone_dimension: 256,
      installed: false,
    });
    expect(info.supported_formats).toEqual(expect.arrayContaining(['wav', 'mp3', 'flac', 'ogg']));
  });
});

describe('document 000: cancel, events, voices, WebSocket', () => {
  it('POST /api/generation/cancel with no body cancels all of the caller’s running jobs', async () => {
    const base = await setup();
    const ctx = createApiContext({
      db: base.db,
      engine: waitingEngine(60_000),
      system: async () => FACTS,
      version: 'test',
    });
    const call = caller(createRouter(), ctx);
    const key = await base.makeKey();
    const other = await base.makeKey();
    const mine = await okJson<{ job_id: string }>(
      await call('POST', '/api/system/benchmark', { key, body: { async: true } }),
      202,
    );
    const theirs = await okJson<{ job_id: string }>(
      await call('POST', '/api/system/benchmark', { key: other, body: { async: true } }),
      202,
    );
    const r = await call('POST', '/api/generation/cancel', { key });
    const out = await okJson<{ cancelled: string[] }>(r);
    expect(out.cancelled).toEqual([mine.job_id]);
    const j = await okJson<{ status: string }>(await call('GET', `/api/jobs/${mine.job_id}`, { key }));
    expect(j.status).toBe('cancelled');
    const t = await okJson<{ status: string }>(
      await call('GET', `/api/jobs/${theirs.job_id}`, { key: other }),
    );
    expect(t.status).toBe('running');
    await call('POST', '/api/generation/cancel', { key: other, body: {} });
    // A body that is not JSON is still a 400.
    await errorOf(
      await call('POST', '/api/generation/cancel', {
        key,
        raw: '{',
        headers: { 'Content-Type': 'application/json' },
      }),
      400,
      'bad_request',
    );
  });

  it('/api/events takes the key as ?api_key= (EventSource sends no headers); only there', async () => {
    const { call, makeKey, db } = await setup();
    const key = await makeKey();
    await errorOf(await call('GET', '/api/events'), 401, 'unauthorized');
    await errorOf(await call('GET', '/api/events?api_key=tmb_wrong'), 401, 'unauthorized');
    const r = await call('GET', `/api/events?api_key=${encodeURIComponent(key)}`);
    expect(r.status).toBe(200);
    expect(r.headers.get('Content-Type')).toBe('text/event-stream');
    const reader = r.body!.getReader();
    const first = new TextDecoder().decode((await reader.read()).value);
    expect(first).toMatch(/event: ready/);
    expect(first).not.toContain(key);
    await reader.cancel();
    // Other routes do not read keys from URLs.
    await errorOf(await call('GET', `/api/voices?api_key=${encodeURIComponent(key)}`), 401, 'unauthorized');
    // The secret is stored nowhere in clear (keys keep a hash; jobs and history never see URLs).
    for (const store of ['apiKeys', 'jobs', 'history'] as const)
      expect(JSON.stringify(await db.getAll(store))).not.toContain(key);
  });

  it('PUT /api/voices/{id} takes back the object GET returned, naming the read-only fields it ignored', async () => {
    const { call, makeKey } = await setup();
    const key = await makeKey();
    const voice = await okJson<Record<string, unknown>>(await call('GET', '/api/voices/af_heart', { key }));
    const r = await call('PUT', '/api/voices/af_heart', { key, body: { ...voice, tags: ['warm', 'calm'] } });
    const saved = await okJson<{ tags: string[]; name: string }>(r);
    expect(saved.tags).toEqual(['warm', 'calm']);
    expect(saved.name).toBe(voice.name);
    const ignored = r.headers.get('X-Timbre-Ignored-Parameters')!.split(', ');
    expect(ignored).toEqual(expect.arrayContaining(['id', 'kind', 'model', 'created_at', 'updated_at']));
    // A preset's name still cannot change, and unknown fields are still refused.
    await errorOf(
      await call('PUT', '/api/voices/af_heart', { key, body: { ...voice, name: 'Other' } }),
      403,
      'forbidden',
    );
    const e = await errorOf(
      await call('PUT', '/api/voices/af_heart', { key, body: { colour: 'blue' } }),
      400,
      'bad_request',
    );
    expect(e.field).toBe('colour');
  });

  it('WS /ws and the WebSocket TTS stream answer 501 naming the alternative', async () => {
    const { call } = await setup();
    const ws = await errorOf(await call('GET', '/ws'), 501, 'not_implemented');
    expect(ws.message).toMatch(/GET \/api\/events/);
    const stream = await errorOf(await call('GET', '/api/v1/tts/stream'), 501, 'not_implemented');
    expect(stream.message).toMatch(/POST .*\/api\/v1\/tts\/stream/);
  });
});

describe('the API reference', () => {
  it('openapi.json names ?api_key= on /api/events only, the 501 of absent routes and the optional cancel body', async () => {
    const { call } = await setup();
    const doc = await okJson<{
      paths: Record<
        string,
        Record<
          string,
          {
            security: Record<string, unknown>[];
            responses: Record<string, unknown>;
            requestBody?: { required: boolean };
          }
        >
      >;
    }>(await call('GET', '/api/openapi.json'));
    expect(doc.paths['/api/events']!.get!.security).toContainEqual({ ApiKeyQuery: [] });
    expect(doc.paths['/api/voices']!.get!.security).not.toContainEqual({ ApiKeyQuery: [] });
    expect(doc.paths['/ws']!.get!.responses['501']).toBeDefined();
    expect(doc.paths['/api/generation/cancel']!.post!.requestBody!.required).toBe(false);
  });
});

describe('document 002: community models', () => {
  it("GET /api/v1/community/models answers the script's fields from the studio's own voices", async () => {
    const { call, makeKey } = await setup();
    const key = await makeKey();
    const page = await okJson<{
      models: { fish_audio_id: string; title: string; author_nickname: string }[];
      total: number;
      page: number;
      page_size: number;
    }>(await call('GET', '/api/v1/community/models?search=&page=1&page_size=10', { key }));
    expect(page.models).toHaveLength(10);
    expect(page.total).toBeGreaterThanOrEqual(54);
    expect(page).toMatchObject({ page: 1, page_size: 10 });
    for (const m of page.models) {
      expect(typeof m.fish_audio_id).toBe('string');
      expect(typeof m.title).toBe('string');
      expect(typeof m.author_nickname).toBe('string');
    }
    const found = await okJson<{ models: { fish_audio_id: string }[]; total: number }>(
      await call('GET', '/api/v1/community/models?search=heart&page=1&page_size=10', { key }),
    );
    expect(found.models.map((m) => m.fish_audio_id)).toContain('af_heart');
    expect(found.total).toBeLessThan(page.total);
    const second = await okJson<{ models: { fish_audio_id: string }[] }>(
      await call('GET', '/api/v1/community/models?page=2&page_size=10', { key }),
    );
    expect(second.models[0]!.fish_audio_id).not.toBe(page.models[0]!.fish_audio_id);
  });
});
