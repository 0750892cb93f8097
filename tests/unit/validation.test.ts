import { beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ROUTES } from '../../src/lib/api/routes';
import { VOICE_READ_ONLY } from '../../src/lib/api/schemas';
import type { AnyRoute } from '../../src/lib/api/router';
import { setup } from './helpers';
import { errorOf, fillPath, HIGH_LIMITS } from './test-utils';

type Env = Awaited<ReturnType<typeof setup>>;
let env: Env;
let key: string;

beforeAll(async () => {
  env = await setup();
  key = await env.makeKey({ limits: HIGH_LIMITS });
});

interface JsonSchema {
  type?: string | string[];
  anyOf?: JsonSchema[];
  enum?: unknown[];
  properties?: Record<string, JsonSchema>;
  required?: string[];
  additionalProperties?: boolean | JsonSchema;
  items?: JsonSchema;
  minimum?: number;
  maximum?: number;
  minLength?: number;
  maxLength?: number;
  minItems?: number;
  maxItems?: number;
  pattern?: string;
  default?: unknown;
}

const jsonSchema = (t: z.ZodType) => z.toJSONSchema(t, { io: 'input', unrepresentable: 'any' }) as JsonSchema;
const label = (r: AnyRoute) => `${r.method} ${r.path}`;

/** A value the schema accepts, for filling in required fields around the one under test. */
function sample(s: JsonSchema): unknown {
  if (s.enum) return s.enum[0];
  switch (s.type) {
    case 'string':
      return 'a'.repeat(Math.max(s.minLength ?? 1, 4));
    case 'integer':
    case 'number':
      return s.minimum ?? 1;
    case 'boolean':
      return false;
    case 'array':
      return s.minItems ? [sample(s.items ?? {})] : [];
    case 'object':
      return {};
    default:
      return 'x';
  }
}

function wrongType(s: JsonSchema): unknown[] {
  // A union (e.g. OpenAI's voice: a name or {id}): values that none of its branches take.
  if (s.anyOf) {
    const types = new Set(s.anyOf.map((b) => b.type));
    const jsonType = (v: unknown) => (v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v);
    const bad = [12345, true, null, ['a'], 'x', { a: 1 }].filter((v) => !types.has(jsonType(v)));
    // A strict object branch still refuses an object with fields it does not know.
    return types.has('object') ? [...bad, { unexpected: 1 }] : bad;
  }
  switch (s.type) {
    case 'string':
      return [12345, true, null, ['a'], { a: 1 }];
    case 'integer':
    case 'number':
      return ['12', true, null, [1], { n: 1 }];
    case 'boolean':
      return ['true', 1, null, [true]];
    case 'array':
      return ['x', 1, { 0: 'a' }, null];
    case 'object':
      return ['x', 1, [1], true];
    default:
      return [];
  }
}

/** Valid array items where the JSON schema cannot say what is valid (a refinement). */
const ITEM_SAMPLES: Record<string, unknown> = { allowed_origins: 'https://example.com' };

/** Values of the right type that the schema refuses, each with the field the error should name. */
function outOfRange(name: string, s: JsonSchema): [unknown, string][] {
  const out: [unknown, string][] = [];
  if (s.enum && s.type === 'string') out.push(['not-one-of-them', name]);
  if (s.type === 'integer' || s.type === 'number') {
    if (s.minimum !== undefined) out.push([s.minimum - 1, name]);
    if (s.maximum !== undefined) out.push([s.maximum + 1, name]);
    if (s.type === 'integer') out.push([(s.minimum ?? 0) + 0.5, name]);
  }
  if (s.type === 'string' && !s.enum) {
    if (s.maxLength !== undefined) out.push(['x'.repeat(s.maxLength + 1), name]);
    if (s.minLength !== undefined && s.minLength > 0) out.push(['', name]);
  }
  if (s.type === 'array') {
    if (s.minItems) out.push([[], name]);
    if (s.maxItems !== undefined)
      out.push([
        Array.from({ length: s.maxItems + 1 }, () => ITEM_SAMPLES[name] ?? sample(s.items ?? {})),
        name,
      ]);
    if (s.items?.enum) out.push([['no-such-item'], `${name}.0`]);
    if (s.items?.type === 'string') out.push([[42], `${name}.0`]);
  }
  return out;
}

const isReadOnly = (name: string) => (VOICE_READ_ONLY as readonly string[]).includes(name);
const bodyRoutes = ROUTES.filter((r) => r.body && jsonSchema(r.body).type === 'object');
const queryRoutes = ROUTES.filter((r) => r.query);

it('the generated cases cover the known body and query routes', () => {
  expect(bodyRoutes.map(label).sort()).toEqual(
    [
      'PATCH /api/api-keys/{id}',
      'POST /api/api-keys',
      'POST /api/generate/preset',
      'POST /api/generation/cancel',
      'POST /api/system/benchmark',
      'POST /v1/audio/speech',
      'POST /api/text/split',
      'PUT /api/voices/{id}',
      'POST /v1/tts',
      'POST /api/v1/tts',
      'POST /api/v1/tts/stream',
      'POST /api/design/create',
      'POST /api/generate/design',
      'PUT /api/lexicon',
      'POST /api/projects',
      'PUT /api/projects/{id}',
      'POST /api/projects/{id}/render',
    ].sort(),
  );
  expect(queryRoutes.map(label).sort()).toEqual(
    [
      'GET /api/voices',
      'GET /api/voices/export',
      'GET /v1/voices',
      'GET /api/v1/tts/history',
      'GET /api/lexicon',
      'GET /api/v1/community/models',
    ].sort(),
  );
});

describe.each(bodyRoutes.map((r) => [label(r), r] as const))('body of %s', (_n, r) => {
  const schema = jsonSchema(r.body!);
  const props = Object.entries(schema.properties ?? {});
  const required = schema.required ?? [];
  const minimal = Object.fromEntries(required.map((k) => [k, sample(schema.properties![k]!)]));
  const path = fillPath(r.path, 'af_heart');
  const send = (body: unknown) => env.call(r.method, path, { key, body });

  it('the body schema is strict', () => {
    expect(schema.additionalProperties).toBe(false);
  });

  it('an unknown field is 400 naming that field', async () => {
    const err = await errorOf(await send({ ...minimal, surprise_field: 1 }), 400, 'bad_request');
    expect(err.field).toBe('surprise_field');
    expect(err.message).toContain('surprise_field');
  });

  it('a body that is not an object is 400 naming the body', async () => {
    for (const body of [[], 'text', 7, null]) {
      const err = await errorOf(await send(body), 400, 'bad_request');
      expect(err.field).toBe('body');
    }
  });

  if (required.length) {
    it.each(required)('missing required field %s is 400 naming it', async (name) => {
      const body: Record<string, unknown> = { ...minimal };
      delete body[name];
      const err = await errorOf(await send(body), 400, 'bad_request');
      expect(err.field).toBe(name);
      expect(err.message.startsWith(`${name}:`)).toBe(true);
    });
  }

  // PUT /api/voices/{id} takes back the object GET returned: its read-only fields are accepted with any
  // value and ignored (named in X-Timbre-Ignored-Parameters, tests/unit/studio-docs-api.test.ts), so no
  // type of theirs is wrong.
  const typed = props.filter(([n]) => !(label(r) === 'PUT /api/voices/{id}' && isReadOnly(n)));
  it.each(typed)('field %s of the wrong type is 400 naming it', async (name, s) => {
    const bad = wrongType(s);
    expect(bad.length).toBeGreaterThan(0);
    for (const v of bad) {
      const err = await errorOf(await send({ ...minimal, [name]: v }), 400, 'bad_request');
      expect(err.field, JSON.stringify(v)).toBe(name);
    }
  });

  it.each(props.filter(([n, s]) => outOfRange(n, s).length > 0))(
    'field %s out of range is 400 naming it',
    async (name, s) => {
      for (const [v, field] of outOfRange(name, s)) {
        const err = await errorOf(await send({ ...minimal, [name]: v }), 400, 'bad_request');
        expect(err.field, JSON.stringify(v).slice(0, 80)).toBe(field);
      }
    },
  );
});

describe.each(queryRoutes.map((r) => [label(r), r] as const))('query of %s', (_n, r) => {
  const schema = jsonSchema(r.query!);
  const props = Object.entries(schema.properties ?? {});
  const get = (qs: string) => env.call(r.method, `${r.path}?${qs}`, { key });

  it.each(props)('query parameter %s with an invalid value is 400 naming it', async (name, s) => {
    const bad: string[] = [];
    if (s.enum) bad.push('not-one-of-them', '');
    if (s.pattern) bad.push('abc', '-1', '1.5', '1e3');
    if (s.maxLength !== undefined) bad.push('x'.repeat(s.maxLength + 1));
    // Every parameter is single-valued: a repeated one is an error too.
    bad.push(`${sample(s) as string}&${name}=${sample(s) as string}`);
    for (const v of bad) {
      const err = await errorOf(await get(`${name}=${v}`), 400, 'bad_request');
      expect(err.field, v.slice(0, 40)).toBe(name);
      expect(err.message.startsWith(`${name}:`)).toBe(true);
    }
  });

  it('unknown query parameters are ignored (cache busters such as _=123 keep working)', async () => {
    expect((await get('_=123&utm_source=x')).status).toBe(200);
  });
});

describe('hand-written range checks', () => {
  const cases: [string, string, unknown, string, RegExp?][] = [
    ['POST', '/api/system/benchmark', { seconds: 0.05 }, 'seconds', />=0\.1/],
    ['POST', '/api/system/benchmark', { seconds: 61 }, 'seconds', /<=60/],
    ['POST', '/api/system/benchmark', { size: 15 }, 'size'],
    ['POST', '/api/system/benchmark', { size: 1025 }, 'size'],
    ['POST', '/api/system/benchmark', { size: 32.5 }, 'size'],
    ['POST', '/api/system/benchmark', { seconds: 1, async: 'yes' }, 'async'],
    ['POST', '/api/generation/cancel', { job_id: '' }, 'job_id'],
    ['POST', '/api/generation/cancel', { job_id: 'j'.repeat(101) }, 'job_id'],
    ['POST', '/api/text/split', { text: '' }, 'text'],
    ['POST', '/api/text/split', { text: 'x'.repeat(100_001) }, 'text'],
    ['POST', '/api/text/split', { text: 'Hi.', max_chars: 19 }, 'max_chars'],
    ['POST', '/api/text/split', { text: 'Hi.', max_chars: 5001 }, 'max_chars'],
    ['POST', '/api/api-keys', { name: '   ' }, 'name'],
    ['POST', '/api/api-keys', { name: 'k'.repeat(101) }, 'name'],
    ['POST', '/api/api-keys', { name: 'k', scopes: [] }, 'scopes'],
    ['POST', '/api/api-keys', { name: 'k', scopes: ['admin'] }, 'scopes.0'],
    ['POST', '/api/api-keys', { name: 'k', limits: { 'voices:read': 0 } }, 'limits.voices:read'],
    ['POST', '/api/api-keys', { name: 'k', limits: { 'voices:read': 100_001 } }, 'limits.voices:read'],
    ['POST', '/api/api-keys', { name: 'k', limits: { 'voices:read': 1.5 } }, 'limits.voices:read'],
    ['POST', '/api/api-keys', { name: 'k', limits: { admin: 5 } }, 'limits.admin'],
    [
      'POST',
      '/api/api-keys',
      { name: 'k', allowed_origins: ['https://example.com/path'] },
      'allowed_origins.0',
      /origin/,
    ],
    ['POST', '/api/api-keys', { name: 'k', allowed_origins: ['ftp://example.com'] }, 'allowed_origins.0'],
    ['POST', '/api/api-keys', { name: 'k', allowed_origins: ['example.com'] }, 'allowed_origins.0'],
    ['PATCH', '/api/api-keys/key_x', { scopes: ['voices:read', 'root'] }, 'scopes.1'],
    ['PATCH', '/api/api-keys/key_x', { name: '' }, 'name'],
    ['PUT', '/api/voices/af_heart', { name: '  ' }, 'name'],
    ['PUT', '/api/voices/af_heart', { tags: ['ok', ''] }, 'tags.1'],
    ['PUT', '/api/voices/af_heart', { tags: ['t'.repeat(51)] }, 'tags.0'],
    ['PUT', '/api/voices/af_heart', { tags: Array.from({ length: 51 }, (_, i) => `t${i}`) }, 'tags'],
    ['PUT', '/api/voices/af_heart', { description: 'd'.repeat(5001) }, 'description'],
    ['PUT', '/api/voices/af_heart', { language: 'e' }, 'language'],
    ['PUT', '/api/voices/af_heart', { gender: 'other' }, 'gender'],
    ['PUT', '/api/voices/af_heart', { favorite: 'yes' }, 'favorite'],
  ];
  it.each(cases)('%s %s %j → 400 naming %s', async (method, path, body, field, msg) => {
    const err = await errorOf(await env.call(method, path, { key, body }), 400, 'bad_request');
    expect(err.field).toBe(field);
    expect(err.message.startsWith(`${field}:`)).toBe(true);
    if (msg) expect(err.message).toMatch(msg);
  });

  const queries: [string, string][] = [
    ['/api/voices?offset=-1', 'offset'],
    ['/api/voices?offset=1000001', 'offset'],
    ['/api/voices?limit=0', 'limit'],
    ['/api/voices?limit=501', 'limit'],
    ['/api/voices?page=0', 'page'],
    ['/api/voices?page_size=501', 'page_size'],
    ['/api/voices?page_size=0', 'page_size'],
    ['/api/voices?favorite=no', 'favorite'],
    ['/api/voices?favorite=TRUE', 'favorite'],
    ['/api/voices?kind=robot', 'kind'],
    ['/api/voices?q=' + 'q'.repeat(201), 'q'],
    ['/api/voices?model=' + 'm'.repeat(51), 'model'],
    ['/v1/voices?gender=robot', 'gender'],
    ['/v1/voices?language=' + 'l'.repeat(21), 'language'],
    ['/api/voices/export?ids=' + 'i'.repeat(10_001), 'ids'],
  ];
  it.each(queries)('GET %s → 400 naming %s', async (path, field) => {
    const err = await errorOf(await env.call('GET', path, { key }), 400, 'bad_request');
    expect(err.field).toBe(field);
  });

  it('validation happens before the handler: nothing is stored from a refused update', async () => {
    const before = await env.db.get('voices', 'af_heart');
    await errorOf(
      await env.call('PUT', '/api/voices/af_heart', { key, body: { tags: ['fine'], favorite: 'yes' } }),
      400,
    );
    expect(await env.db.get('voices', 'af_heart')).toEqual(before);
  });

  it('an empty update is 400 naming the body', async () => {
    for (const [m, p] of [
      ['PUT', '/api/voices/af_heart'],
      ['PATCH', '/api/api-keys/key_x'],
    ] as const) {
      const err = await errorOf(await env.call(m, p, { key, body: {} }), 400, 'bad_request');
      expect(err.field).toBe('body');
      expect(err.message).toMatch(/Nothing to update/);
    }
  });
});
