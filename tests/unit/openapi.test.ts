import { beforeAll, describe, expect, it } from 'vitest';
import { ROUTES } from '../../src/lib/api/routes';
import { SCOPES, DEFAULT_LIMITS } from '../../src/lib/auth/scopes';
import { setup } from './helpers';
import { okJson } from './test-utils';

interface Op {
  summary: string;
  operationId: string;
  tags: string[];
  'x-scope': string | null;
  'x-planned'?: string;
  security: unknown[];
  responses: Record<string, unknown>;
  parameters?: { name: string; in: string; required: boolean; schema: unknown }[];
  requestBody?: {
    required: boolean;
    content: {
      'application/json': {
        schema: {
          type?: string;
          properties?: Record<string, unknown>;
          required?: string[];
          additionalProperties?: unknown;
        };
      };
    };
  };
}
interface Doc {
  openapi: string;
  info: { title: string; version: string; description: string };
  paths: Record<string, Record<string, Op>>;
  components: { securitySchemes: Record<string, unknown>; schemas: Record<string, unknown> };
}

let doc: Doc;
let res: Response;

beforeAll(async () => {
  const { call } = await setup();
  res = await call('GET', '/api/openapi.json');
  doc = await okJson<Doc>(res);
});

describe('GET /api/openapi.json', () => {
  it('is public OpenAPI 3.1.0 JSON', () => {
    expect(res.status).toBe(200);
    expect(res.headers.get('Content-Type')).toMatch(/^application\/json/);
    expect(doc.openapi).toBe('3.1.0');
    expect(doc.info.title).toMatch(/Timbre/);
    expect(doc.components.securitySchemes).toEqual({
      ApiKey: { type: 'apiKey', in: 'header', name: 'X-API-Key' },
      Bearer: { type: 'http', scheme: 'bearer' },
      ApiKeyQuery: { type: 'apiKey', in: 'query', name: 'api_key' },
    });
  });

  it('documents every scope with its default limit', () => {
    for (const s of SCOPES) expect(doc.info.description).toContain(`${s} ${DEFAULT_LIMITS[s]}`);
  });

  it('has every route of the table, and nothing else', () => {
    const inDoc = Object.entries(doc.paths)
      .flatMap(([p, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${p}`))
      .sort();
    const inTable = ROUTES.map((r) => `${r.method} ${r.path}`).sort();
    expect(inDoc).toEqual(inTable);
  });

  it.each(ROUTES.map((r) => [`${r.method} ${r.path}`, r] as const))(
    '%s: scope, security, responses, parameters, body',
    (_n, r) => {
      const op = doc.paths[r.path]?.[r.method.toLowerCase()];
      expect(op).toBeDefined();
      expect(op!.summary).toBe(r.summary);
      expect(op!.tags).toEqual([r.tag]);
      expect(op!['x-scope']).toBe(r.scope);
      expect(op!.responses['200']).toBeDefined();
      expect(op!.responses['400']).toBeDefined();
      if (r.scope === null) {
        expect(op!.security).toEqual([]);
        expect(op!.responses['401']).toBeUndefined();
      } else {
        // The key as ?api_key= only where the route takes it (EventSource on /api/events).
        expect(op!.security).toEqual([
          { ApiKey: [] },
          { Bearer: [] },
          ...(r.queryKey ? [{ ApiKeyQuery: [] }] : []),
        ]);
        for (const s of ['401', '403', '429']) expect(op!.responses[s], s).toBeDefined();
      }
      if (r.planned) {
        expect(op!['x-planned']).toBe(r.planned);
        expect(op!.responses['501']).toBeDefined();
      } else {
        expect(op!['x-planned']).toBeUndefined();
      }
      if (r.absent) expect(op!.responses['501']).toBeDefined();
      const pathParams = [...r.path.matchAll(/\{(\w+)\}/g)].map((m) => m[1]);
      expect((op!.parameters ?? []).filter((p) => p.in === 'path').map((p) => p.name)).toEqual(pathParams);
      for (const p of (op!.parameters ?? []).filter((x) => x.in === 'path')) expect(p.required).toBe(true);
      if (r.body) {
        expect(op!.requestBody?.required).toBe(r.emptyBody !== 'object');
        expect(op!.requestBody?.content['application/json'].schema).toBeDefined();
      } else {
        expect(op!.requestBody).toBeUndefined();
      }
    },
  );

  it('request body schemas carry the fields the router validates', () => {
    const body = (m: string, p: string) => doc.paths[p]![m]!.requestBody!.content['application/json'].schema;
    expect(body('post', '/api/text/split')).toMatchObject({
      type: 'object',
      required: ['text'],
      additionalProperties: false,
      properties: {
        text: { type: 'string', minLength: 1, maxLength: 100000 },
        max_chars: { type: 'integer', minimum: 20, maximum: 5000 },
      },
    });
    expect(body('post', '/api/system/benchmark')).toMatchObject({
      type: 'object',
      properties: {
        seconds: { minimum: 0.1, maximum: 60 },
        size: { type: 'integer' },
        async: { type: 'boolean' },
      },
    });
    expect(body('post', '/api/api-keys')).toMatchObject({
      type: 'object',
      required: ['name'],
      properties: { scopes: { type: 'array', items: { enum: [...SCOPES] } } },
    });
    expect(body('put', '/api/voices/{id}')).toMatchObject({
      type: 'object',
      additionalProperties: false,
      properties: {
        gender: { enum: ['female', 'male', 'neutral', 'unknown'] },
        favorite: { type: 'boolean' },
      },
    });
    expect(body('patch', '/api/api-keys/{id}').properties).toHaveProperty('allowed_origins');
    expect(body('post', '/api/generation/cancel').properties).toHaveProperty('job_id');
  });

  it('query parameters are listed for routes with a query schema', () => {
    const names = (p: string) =>
      (doc.paths[p]!.get!.parameters ?? [])
        .filter((x) => x.in === 'query')
        .map((x) => x.name)
        .sort();
    expect(names('/api/voices')).toEqual([
      'favorite',
      'gender',
      'kind',
      'language',
      'limit',
      'model',
      'offset',
      'page',
      'page_size',
      'q',
    ]);
    expect(names('/v1/voices')).toEqual(['gender', 'language', 'model']);
    expect(names('/api/voices/export')).toEqual(['ids']);
  });

  it('operation ids are unique', () => {
    const ids = Object.values(doc.paths).flatMap((ops) => Object.values(ops).map((o) => o.operationId));
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids).toContain('getApiVoicesId');
  });

  it('the error schema is the documented shape', () => {
    expect(doc.components.schemas.Error).toMatchObject({
      required: ['error'],
      properties: { error: { required: ['code', 'message'] } },
    });
  });
});
