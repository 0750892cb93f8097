import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { keyFromHeaders, limitFor, KEY_PREFIX, makeKey as makeKeyRecord } from '../../src/lib/auth/keys';
import { sha256Hex } from '../../src/lib/core/hash';
import { SCOPES } from '../../src/lib/auth/scopes';
import { setup } from './helpers';
import { errorOf, okJson, until } from './test-utils';

interface Created {
  id: string;
  key: string;
  name: string;
  prefix: string;
  scopes: string[];
  limits: Record<string, number>;
  allowed_origins: string[];
  message: string;
}
interface Listed {
  keys: Record<string, unknown>[];
}

const keyIdOf = async (env: Awaited<ReturnType<typeof setup>>, secret: string) =>
  (await env.ctx.keys.verify(secret))!.id;

describe('presenting a key', () => {
  it('accepts X-API-Key and Authorization: Bearer (any case, surrounding spaces)', async () => {
    const env = await setup();
    const key = await env.makeKey({ scopes: ['voices:read'] });
    expect((await env.call('GET', '/api/favorites', { key })).status).toBe(200);
    expect((await env.call('GET', '/api/favorites', { key, bearer: true })).status).toBe(200);
    expect(
      (await env.call('GET', '/api/favorites', { headers: { Authorization: `bearer   ${key}  ` } })).status,
    ).toBe(200);
    expect((await env.call('GET', '/api/favorites', { headers: { 'X-API-Key': `  ${key} ` } })).status).toBe(
      200,
    );
  });

  it('refuses a wrong, truncated or differently-cased key and other auth schemes', async () => {
    const env = await setup();
    const key = await env.makeKey();
    const variants: Record<string, string>[] = [
      { 'X-API-Key': key.slice(0, -1) },
      { 'X-API-Key': key.toUpperCase() },
      { Authorization: `Basic ${key}` },
      { Authorization: key },
      { Authorization: 'Bearer' },
    ];
    for (const headers of variants) {
      const err = await errorOf(await env.call('GET', '/api/favorites', { headers }), 401, 'unauthorized');
      expect(err.message).toMatch(/API key/);
    }
  });

  it('keyFromHeaders prefers X-API-Key and ignores blank values', () => {
    expect(keyFromHeaders(new Headers({ 'X-API-Key': 'a', Authorization: 'Bearer b' }))).toBe('a');
    expect(keyFromHeaders(new Headers({ 'X-API-Key': '   ', Authorization: 'Bearer b' }))).toBe('b');
    expect(keyFromHeaders(new Headers({ Authorization: 'Token b' }))).toBeNull();
    expect(keyFromHeaders(new Headers())).toBeNull();
  });

  it('records when a key was last used', async () => {
    const env = await setup();
    const key = await env.makeKey();
    const id = await keyIdOf(env, key);
    expect((await env.db.get('apiKeys', id))?.last_used_at).toBeNull();
    env.clock.t += 5000;
    await env.call('GET', '/api/favorites', { key });
    await until(async () => (await env.db.get('apiKeys', id))?.last_used_at === env.clock.t);
  });
});

describe('creating keys', () => {
  it('returns the secret once with the record; the new key works with what it was given', async () => {
    const env = await setup();
    const admin = await env.makeKey();
    const res = await env.call('POST', '/api/api-keys', {
      key: admin,
      body: {
        name: ' Reader ',
        scopes: ['voices:read', 'voices:read'],
        limits: { 'voices:read': 5 },
        allowed_origins: ['https://a.example'],
      },
    });
    const c = await okJson<Created>(res, 201);
    expect(c.key.startsWith(KEY_PREFIX)).toBe(true);
    expect(c.key).toMatch(/^tmb_[0-9a-f]{48}$/);
    expect(c.prefix).toBe(c.key.slice(0, KEY_PREFIX.length + 6));
    expect(c.name).toBe('Reader');
    expect(c.scopes).toEqual(['voices:read']);
    expect(c.limits).toEqual({ 'voices:read': 5 });
    expect(c.allowed_origins).toEqual(['https://a.example']);
    expect(c.message).toMatch(/only once/);
    expect(c).not.toHaveProperty('hash');

    expect((await env.call('GET', '/api/voices', { key: c.key })).status).toBe(200);
    await errorOf(
      await env.call('PUT', '/api/voices/af_heart', { key: c.key, body: { tags: [] } }),
      403,
      'forbidden',
    );
    // Listing shows it, without the secret.
    const list = await okJson<Listed>(await env.call('GET', '/api/api-keys', { key: admin }));
    const listed = list.keys.find((k) => k.id === c.id)!;
    expect(listed).toMatchObject({ name: 'Reader', prefix: c.prefix, scopes: ['voices:read'] });
    expect(listed).not.toHaveProperty('key');
  });

  it('without scopes, a created key gets exactly the caller’s scopes', async () => {
    const env = await setup();
    const admin = await env.makeKey({ scopes: ['system:read', 'voices:read'] });
    const c = await okJson<Created>(
      await env.call('POST', '/api/api-keys', { key: admin, body: { name: 'copy' } }),
      201,
    );
    expect(c.scopes.sort()).toEqual(['system:read', 'voices:read']);
    expect(c.limits).toEqual({});
  });

  it('a key cannot grant scopes it lacks or limits above its own (403, nothing stored)', async () => {
    const env = await setup();
    const admin = await env.makeKey({
      scopes: ['system:read', 'voices:read'],
      limits: { 'voices:read': 10 },
    });
    const before = (await env.db.getAll('apiKeys')).length;
    const a = await errorOf(
      await env.call('POST', '/api/api-keys', {
        key: admin,
        body: { name: 'x', scopes: ['voices:read', 'voices:write'] },
      }),
      403,
      'forbidden',
    );
    expect(a.field).toBe('scopes');
    expect(a.message).toContain('voices:write');
    const b = await errorOf(
      await env.call('POST', '/api/api-keys', {
        key: admin,
        body: { name: 'x', limits: { 'voices:read': 11 } },
      }),
      403,
      'forbidden',
    );
    expect(b.field).toBe('limits.voices:read');
    const c = await errorOf(
      await env.call('POST', '/api/api-keys', {
        key: admin,
        body: { name: 'x', limits: { 'system:read': 61 } },
      }),
      403,
      'forbidden',
    );
    expect(c.message).toContain('60/min');
    expect((await env.db.getAll('apiKeys')).length).toBe(before);
    // Equal is fine.
    await okJson(
      await env.call('POST', '/api/api-keys', {
        key: admin,
        body: { name: 'x', limits: { 'voices:read': 10, 'system:read': 60 } },
      }),
      201,
    );
  });

  it('a key cannot raise another key (or itself) above what it holds via PATCH', async () => {
    const env = await setup();
    const admin = await env.makeKey({ scopes: ['system:read'] });
    const selfId = await keyIdOf(env, admin);
    await errorOf(
      await env.call('PATCH', `/api/api-keys/${selfId}`, {
        key: admin,
        body: { scopes: ['system:read', 'voices:write'] },
      }),
      403,
      'forbidden',
    );
    await errorOf(
      await env.call('PATCH', `/api/api-keys/${selfId}`, {
        key: admin,
        body: { limits: { 'system:read': 1000 } },
      }),
      403,
      'forbidden',
    );
    expect((await env.db.get('apiKeys', selfId))?.scopes).toEqual(['system:read']);
    expect((await env.db.get('apiKeys', selfId))?.limits).toEqual({});
  });
});

describe('storage of keys', () => {
  it('stores only the SHA-256 of the key, never the key', async () => {
    const env = await setup();
    const admin = await env.makeKey();
    const created = await okJson<Created>(
      await env.call('POST', '/api/api-keys', { key: admin, body: { name: 'another' } }),
      201,
    );
    const records = await env.db.getAll('apiKeys');
    expect(records).toHaveLength(2);
    const dump = JSON.stringify(records);
    for (const secret of [admin, created.key]) {
      expect(dump).not.toContain(secret);
      expect(dump).not.toContain(secret.slice(KEY_PREFIX.length)); // nor its random part
      const hash = createHash('sha256').update(secret).digest('hex');
      expect(records.some((r) => r.hash === hash)).toBe(true);
      expect(await sha256Hex(secret)).toBe(hash);
    }
    for (const r of records) expect(r.hash).toMatch(/^[0-9a-f]{64}$/);
  });

  it('listing never includes the hash or the secret', async () => {
    const env = await setup();
    const admin = await env.makeKey();
    await env.makeKey({ scopes: ['voices:read'] });
    const res = await env.call('GET', '/api/api-keys', { key: admin });
    const text = await res.text();
    const list = JSON.parse(text) as Listed;
    expect(list.keys).toHaveLength(2);
    for (const k of list.keys) {
      expect(Object.keys(k).sort()).toEqual([
        'allowed_origins',
        'created_at',
        'id',
        'last_used_at',
        'limits',
        'name',
        'prefix',
        'scopes',
      ]);
    }
    expect(text).not.toContain(admin);
    for (const r of await env.db.getAll('apiKeys')) expect(text).not.toContain(r.hash);
  });

  it('keys are listed oldest first', async () => {
    const env = await setup();
    const admin = await env.makeKey();
    env.clock.t += 1000;
    await env.makeKey({ scopes: ['ws:connect'] });
    env.clock.t -= 5000;
    await env.makeKey({ scopes: ['voices:read'] });
    const list = await okJson<Listed>(await env.call('GET', '/api/api-keys', { key: admin }));
    const times = list.keys.map((k) => k.created_at as number);
    expect(times).toEqual([...times].sort((a, b) => a - b));
  });
});

describe('updating and revoking keys', () => {
  it('PATCH renames and narrows scopes; the narrowed key is refused at once', async () => {
    const env = await setup();
    const admin = await env.makeKey();
    const other = await env.makeKey({ scopes: ['voices:read', 'voices:write'] });
    const id = await keyIdOf(env, other);
    const upd = await okJson<Record<string, unknown>>(
      await env.call('PATCH', `/api/api-keys/${id}`, {
        key: admin,
        body: { name: 'renamed', scopes: ['voices:read'] },
      }),
    );
    expect(upd).toMatchObject({ id, name: 'renamed', scopes: ['voices:read'] });
    expect(upd).not.toHaveProperty('hash');
    await errorOf(
      await env.call('PUT', '/api/voices/af_heart', { key: other, body: { tags: [] } }),
      403,
      'forbidden',
    );
    expect((await env.call('GET', '/api/voices', { key: other })).status).toBe(200);
    await errorOf(
      await env.call('PATCH', '/api/api-keys/key_missing', { key: admin, body: { name: 'x' } }),
      404,
      'not_found',
    );
  });

  it('a revoked key is 401; revoking again is 404; it leaves the list', async () => {
    const env = await setup();
    const admin = await env.makeKey();
    const victim = await env.makeKey({ scopes: ['voices:read'] });
    const id = await keyIdOf(env, victim);
    expect((await env.call('GET', '/api/voices', { key: victim })).status).toBe(200);
    expect(await okJson(await env.call('DELETE', `/api/api-keys/${id}`, { key: admin }))).toEqual({
      revoked: true,
      id,
    });
    const err = await errorOf(await env.call('GET', '/api/voices', { key: victim }), 401, 'unauthorized');
    expect(err.message).toMatch(/unknown or revoked/);
    await errorOf(await env.call('GET', '/api/voices', { key: victim, bearer: true }), 401, 'unauthorized');
    await errorOf(await env.call('DELETE', `/api/api-keys/${id}`, { key: admin }), 404, 'not_found');
    const list = await okJson<Listed>(await env.call('GET', '/api/api-keys', { key: admin }));
    expect(list.keys.map((k) => k.id)).not.toContain(id);
    expect(await env.db.get('apiKeys', id)).toBeUndefined();
  });

  it('a key can revoke itself, and then it is refused', async () => {
    const env = await setup();
    const self = await env.makeKey({ scopes: ['system:read'] });
    const id = await keyIdOf(env, self);
    expect((await env.call('DELETE', `/api/api-keys/${id}`, { key: self })).status).toBe(200);
    await errorOf(await env.call('GET', '/api/api-keys', { key: self }), 401, 'unauthorized');
  });
});

describe('key records', () => {
  it('makeKey: all scopes by default, unique ids and secrets, de-duplicated scopes', async () => {
    const a = await makeKeyRecord({ name: 'a', now: 1 });
    const b = await makeKeyRecord({ name: 'b', now: 1, scopes: ['voices:read', 'voices:read'] });
    expect(a.record.scopes).toEqual([...SCOPES]);
    expect(b.record.scopes).toEqual(['voices:read']);
    expect(a.secret).not.toBe(b.secret);
    expect(a.record.id).not.toBe(b.record.id);
    expect(a.record.hash).toBe(await sha256Hex(a.secret));
  });

  it('a key hash is the hex SHA-256 of the UTF-8 secret (stored hashes depend on it)', async () => {
    // FIPS 180-2's "abc" vector.
    expect(await sha256Hex('abc')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
    expect(await sha256Hex('abc')).toBe(await sha256Hex(new Uint8Array([0x61, 0x62, 0x63])));
    const text = 'tmb_ключ-🔑';
    expect(await sha256Hex(text)).toBe(createHash('sha256').update(text, 'utf8').digest('hex'));
    expect(await sha256Hex(text)).toBe(await sha256Hex(new TextEncoder().encode(text)));
  });

  it('limitFor falls back to the default limit', async () => {
    const { record } = await makeKeyRecord({ name: 'a', now: 1, limits: { 'voices:read': 3 } });
    expect(limitFor(record, 'voices:read')).toBe(3);
    expect(limitFor(record, 'clone:create')).toBe(2);
  });
});

describe('managing other keys', () => {
  it('a narrow key cannot rename or revoke a key with wider scopes, but can manage narrower ones', async () => {
    const { setup } = await import('./helpers');
    const env = await setup();
    const narrow = await env.makeKey({ scopes: ['system:read', 'voices:read'] });
    const wide = await env.ctx.keys.create({ name: 'wide', now: env.clock.t });
    const small = await env.ctx.keys.create({ name: 'small', scopes: ['voices:read'], now: env.clock.t });
    const r1 = await env.call('DELETE', `/api/api-keys/${wide.key.id}`, { key: narrow });
    expect(r1.status).toBe(403);
    const r2 = await env.call('PATCH', `/api/api-keys/${wide.key.id}`, {
      key: narrow,
      body: { name: 'taken over' },
    });
    expect(r2.status).toBe(403);
    expect((await env.ctx.keys.get(wide.key.id))?.name).toBe('wide');
    const r3 = await env.call('DELETE', `/api/api-keys/${small.key.id}`, { key: narrow });
    expect(r3.status).toBe(200);
    expect(await env.ctx.keys.get(small.key.id)).toBeUndefined();
  });
});
