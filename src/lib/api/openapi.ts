import { z } from 'zod';
import type { AnyRoute } from './router';
import { SCOPES, DEFAULT_LIMITS, SCOPE_DESCRIPTIONS } from '../auth/scopes';

function schemaOf(t: z.ZodType): unknown {
  try {
    return z.toJSONSchema(t, { io: 'input', unrepresentable: 'any' });
  } catch {
    return {};
  }
}

const errorSchema = {
  type: 'object',
  required: ['error'],
  properties: {
    error: {
      type: 'object',
      required: ['code', 'message'],
      properties: { code: { type: 'string' }, message: { type: 'string' }, field: { type: 'string' } },
    },
  },
};

/** OpenAPI 3.1 generated from the same route table and schemas the router enforces. */
export function buildOpenApi(routes: AnyRoute[], version = '0.1.0') {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const r of routes) {
    const op: Record<string, unknown> = {
      summary: r.summary,
      tags: [r.tag],
      operationId: `${r.method.toLowerCase()}${r.path.replace(/[^a-zA-Z0-9]+(.)?/g, (_m, c: string | undefined) => (c ? c.toUpperCase() : ''))}`,
      'x-scope': r.scope,
      security:
        r.scope === null
          ? []
          : [{ ApiKey: [] }, { Bearer: [] }, ...(r.queryKey ? [{ ApiKeyQuery: [] }] : [])],
      responses: {
        200: { description: 'OK' },
        ...(r.scope !== null
          ? {
              401: err('No or unknown key'),
              403: err('Key lacks the scope'),
              429: err('Over the per-minute limit'),
            }
          : {}),
        400: err('Invalid request; the message names the field'),
        ...(r.planned ? { 501: err(`Not available yet: ${r.planned}`) } : {}),
        ...(r.absent ? { 501: err(`Not offered here: ${r.absent}`) } : {}),
      },
    };
    if (r.planned) op['x-planned'] = r.planned;
    const params = [...r.path.matchAll(/\{(\w+)\}/g)].map((m) => ({
      name: m[1],
      in: 'path',
      required: true,
      schema: { type: 'string' },
    }));
    if (r.query) {
      const js = schemaOf(r.query) as { properties?: Record<string, unknown> };
      for (const [name, schema] of Object.entries(js.properties ?? {}))
        params.push({ name, in: 'query', required: false, schema } as never);
    }
    if (params.length) op.parameters = params;
    if (r.body)
      op.requestBody = {
        required: r.emptyBody !== 'object',
        content: { 'application/json': { schema: schemaOf(r.body) } },
      };
    (paths[r.path] ??= {})[r.method.toLowerCase()] = op;
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'Timbre local API',
      version,
      description:
        "Served by the studio's Service Worker on this origin; compute runs in an open studio tab or embed iframe. " +
        'Send a key as X-API-Key or Authorization: Bearer. Every response carries X-RateLimit-Limit, -Remaining and -Reset. ' +
        'Errors are JSON {"error": {"code", "message", …}}. Scopes and default limits per minute: ' +
        SCOPES.map((s) => `${s} ${DEFAULT_LIMITS[s]} (${SCOPE_DESCRIPTIONS[s]})`).join('; ') +
        '.',
    },
    servers: [{ url: '/' }],
    components: {
      securitySchemes: {
        ApiKey: { type: 'apiKey', in: 'header', name: 'X-API-Key' },
        Bearer: { type: 'http', scheme: 'bearer' },
        // Only on the routes that say so (GET /api/events, for the browser's EventSource).
        ApiKeyQuery: { type: 'apiKey', in: 'query', name: 'api_key' },
      },
      schemas: { Error: errorSchema },
    },
    paths,
  };
}

function err(description: string) {
  return { description, content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } };
}
