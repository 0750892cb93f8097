import type { z } from 'zod';
import type { ApiContext } from './context';
import { ApiError, errorBody, errorResponse, modelLoading, toApiError } from './errors';
import { parseJson, readBodyBytes } from './http';
import { ANONYMOUS_LIMIT, type Scope } from '../auth/scopes';
import { keyFromHeaders, limitFor, type ApiKeyRecord } from '../auth/keys';
import { rateHeaders, type RateDecision } from './ratelimit';

export type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

/** `null`: public; `'any'`: any valid key; else the scope a key must hold. */
export type RouteScope = Scope | 'any' | null;

export interface Parsed<B, Q> {
  request: Request;
  params: Record<string, string>;
  query: Q;
  body: B;
  key: ApiKeyRecord | null;
}

export interface Route<B = unknown, Q = unknown> {
  method: Method;
  path: string;
  scope: RouteScope;
  summary: string;
  tag: string;
  /** JSON body schema; routes with their own body handling (audio uploads) leave it out. */
  body?: z.ZodType<B>;
  query?: z.ZodType<Q>;
  /** Largest accepted body in bytes (default 1 MiB). */
  bodyLimit?: number;
  /** Listed in the API reference and answered with 501 until the issue that builds it lands. */
  planned?: string;
  /** A route of the documents the studio does not offer: 501 with this reason and the alternative. */
  absent?: string;
  /** An empty body reads as `{}` (a client may send nothing where every field is optional). */
  emptyBody?: 'object';
  /**
   * The key may also come as the `api_key` query parameter (the browser's EventSource sends no headers).
   * The router takes it from the URL; nothing stores request URLs (jobs, history, logs).
   */
  queryKey?: true;
  /** Errors also carry the tone-colour document's `{success: false, message}` (401 and 429 included). */
  errorShape?: 'openvoice';
  /**
   * Counted in its own bucket `scope|bucket` with at least `minLimit` a minute (the key's limit for the
   * scope when higher): a document whose callers loop over segments needs more than the scope's default.
   */
  rate?: { bucket: string; minLimit: number };
  responses?: Record<number, string>;
  handler: (req: Parsed<B, Q>, ctx: ApiContext) => Promise<Response>;
}

// Route values differ in B and Q; the table is heterogeneous on purpose.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyRoute = Route<any, any>;

export const DEFAULT_BODY_LIMIT = 1024 * 1024;
/** Routes any key may call (job status) are limited per key, generously, since clients poll them. */
export const ANY_SCOPE_LIMIT = 600;

interface Compiled {
  route: AnyRoute;
  re: RegExp;
  names: string[];
}

export function compile(routes: AnyRoute[]): Compiled[] {
  return routes
    .map((route) => {
      const names: string[] = [];
      const src = route.path
        .replace(/\/$/, '')
        .split('/')
        .map((seg) => {
          const m = /^\{(\w+)\}$/.exec(seg);
          if (!m) return seg.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
          names.push(m[1]!);
          return '([^/]+)';
        })
        .join('/');
      return { route, re: new RegExp(`^${src}/?$`), names };
    })
    .sort((a, b) => a.names.length - b.names.length);
}

/** Formats the first schema issue as a message that names the field. */
export function describeZodError(e: z.ZodError, where: 'body' | 'query'): ApiError {
  const issue = e.issues[0];
  // An unknown key is named itself, not the object that holds it.
  const path = issue
    ? [...issue.path.map(String), ...(issue.code === 'unrecognized_keys' ? issue.keys.slice(0, 1) : [])]
    : [];
  const field = path.length ? path.join('.') : where;
  const message = issue ? `${field}: ${issue.message}` : `Invalid ${where}.`;
  return new ApiError('bad_request', message, {
    field,
    issues: e.issues.slice(0, 5).map((i) => ({ path: i.path.map(String), message: i.message })),
  });
}

function queryObject(url: URL): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [k, v] of url.searchParams) {
    const cur = out[k];
    out[k] = cur === undefined ? v : Array.isArray(cur) ? [...cur, v] : [cur, v];
  }
  return out;
}

export class Router {
  private compiled: Compiled[];

  constructor(readonly routes: AnyRoute[]) {
    this.compiled = compile(routes);
  }

  /** True when this router serves the path (the Service Worker lets everything else through). */
  static isApiPath(pathname: string): boolean {
    // `/ws` is the studio document's WebSocket: answered 501 naming /api/events (scripts/vite-api-outside.ts
    // answers the same paths when a request reaches the server instead).
    return /^\/(api|v1|ws)(\/|$)/.test(pathname);
  }

  match(
    method: string,
    pathname: string,
  ): { route: AnyRoute; params: Record<string, string> } | 'method' | null {
    let pathMatched = false;
    for (const c of this.compiled) {
      const m = c.re.exec(pathname);
      if (!m) continue;
      pathMatched = true;
      if (c.route.method !== method && !(method === 'HEAD' && c.route.method === 'GET')) continue;
      const params: Record<string, string> = {};
      c.names.forEach((n, i) => {
        try {
          params[n] = decodeURIComponent(m[i + 1]!);
        } catch {
          params[n] = m[i + 1]!;
        }
      });
      return { route: c.route, params };
    }
    return pathMatched ? 'method' : null;
  }

  /** Authenticates, checks scope and limits, validates, runs the handler. Always answers JSON on error. */
  async handle(request: Request, ctx: ApiContext): Promise<Response> {
    let rate: RateDecision | null = null;
    let shape: Route['errorShape'];
    try {
      const url = new URL(request.url);
      const found = this.match(request.method, url.pathname);
      const route = found && found !== 'method' ? found.route : null;
      shape = route?.errorShape;
      const secret =
        keyFromHeaders(request.headers) ??
        (route?.queryKey ? url.searchParams.get('api_key')?.trim() || null : null);
      const key = secret ? await ctx.keys.verify(secret) : undefined;

      if (key && (!route || route.scope === null)) {
        // A known key's stray calls (wrong path, public routes) count against its own bucket.
        rate = await ctx.limiter.take(`${key.id}|any`, ANY_SCOPE_LIMIT, ctx.now());
        if (!rate.allowed) throw this.limited(rate, 'any');
      } else if (!key) {
        // Unidentified callers share one bucket, which also slows down key guessing.
        rate = await ctx.limiter.take('anonymous', ANONYMOUS_LIMIT, ctx.now());
        if (!rate.allowed) throw this.limited(rate);
      }
      if (found === null)
        throw new ApiError('not_found', `No route ${request.method} ${url.pathname}. See /api/openapi.json.`);
      if (found === 'method')
        throw new ApiError('method_not_allowed', `${request.method} is not allowed on ${url.pathname}.`);
      const { route: r, params } = found;

      if (r.scope !== null) {
        if (!secret)
          throw new ApiError(
            'unauthorized',
            'An API key is required: send it as X-API-Key or Authorization: Bearer. Create one in the studio under "API keys".',
          );
        if (!key) throw new ApiError('unauthorized', 'The API key is not valid (unknown or revoked).');
        // A refused call still carries limit headers; it counts against the key's "any" bucket.
        const refuse = async (e: ApiError) => {
          rate = await ctx.limiter.take(`${key.id}|any`, ANY_SCOPE_LIMIT, ctx.now());
          return e;
        };
        if (ctx.callerOrigin !== undefined && !key.allowed_origins.includes(ctx.callerOrigin))
          throw await refuse(
            new ApiError(
              'forbidden',
              `This key does not allow calls from ${ctx.callerOrigin}; add the origin to the key's allowed origins.`,
            ),
          );
        if (r.scope === 'any') {
          rate = await ctx.limiter.take(`${key.id}|any`, ANY_SCOPE_LIMIT, ctx.now());
          if (!rate.allowed) throw this.limited(rate, 'any');
        } else {
          if (!key.scopes.includes(r.scope))
            throw await refuse(
              new ApiError(
                'forbidden',
                `This key lacks the scope "${r.scope}" that ${r.method} ${r.path} needs.`,
                { scope: r.scope },
              ),
            );
          rate = r.rate
            ? await ctx.limiter.take(
                `${key.id}|${r.scope}|${r.rate.bucket}`,
                Math.max(r.rate.minLimit, limitFor(key, r.scope)),
                ctx.now(),
              )
            : await ctx.limiter.take(`${key.id}|${r.scope}`, limitFor(key, r.scope), ctx.now());
          if (!rate.allowed) throw this.limited(rate, r.scope);
        }
        void ctx.keys.touch(key.id, ctx.now());
      }

      if (r.absent)
        throw new ApiError('not_implemented', `${r.method} ${r.path} is not offered here: ${r.absent}`);
      if (r.planned)
        throw new ApiError('not_implemented', `${r.method} ${r.path} is not available yet: ${r.planned}`);

      let query: unknown = {};
      if (r.query) {
        const q = r.query.safeParse(queryObject(url));
        if (!q.success) throw describeZodError(q.error, 'query');
        query = q.data;
      }
      let body: unknown = undefined;
      if (r.body) {
        const ct = request.headers.get('Content-Type') ?? '';
        if (ct && !/^application\/(.+\+)?json\b/i.test(ct) && !/^text\/plain\b/i.test(ct))
          throw new ApiError(
            'unsupported_media_type',
            `Send a JSON body (Content-Type: application/json), not ${ct.split(';')[0]}.`,
          );
        const bytes = await readBodyBytes(request, r.bodyLimit ?? DEFAULT_BODY_LIMIT);
        const empty = r.emptyBody === 'object' && new TextDecoder().decode(bytes).trim() === '';
        const raw = empty ? {} : parseJson(bytes);
        const b = r.body.safeParse(raw);
        if (!b.success) throw describeZodError(b.error, 'body');
        body = b.data;
      }
      const res = await r.handler({ request, params, query, body, key: key ?? null }, ctx);
      return withHeaders(res, rate);
    } catch (e) {
      const err = toApiError(e);
      const answer = err.code === 'model_loading' ? modelLoading(err, ctx.installs?.() ?? null) : err;
      return withHeaders(shape === 'openvoice' ? openVoiceError(answer) : errorResponse(answer), rate);
    }
  }

  private limited(rate: RateDecision, scope?: string): ApiError {
    return new ApiError(
      'rate_limited',
      scope
        ? `Too many requests for scope "${scope}": the limit is ${rate.limit} per minute. Retry in ${rate.retryAfter} s.`
        : `Too many requests without a valid key. Retry in ${rate.retryAfter} s.`,
      { retry_after: rate.retryAfter },
      { 'Retry-After': String(rate.retryAfter) },
    );
  }
}

/** The tone-colour document's error shape beside ours: `{success: false, message, error: {code, …}}`. */
export function openVoiceError(err: ApiError): Response {
  return new Response(
    JSON.stringify({
      success: false,
      message: err.message,
      ...errorBody(err.code, err.message, err.details),
    }),
    { status: err.status, headers: { 'Content-Type': 'application/json', ...err.headers } },
  );
}

function withHeaders(res: Response, rate: RateDecision | null): Response {
  const headers = new Headers(res.headers);
  if (rate) for (const [k, v] of Object.entries(rateHeaders(rate))) headers.set(k, v);
  headers.set('Cache-Control', 'no-store');
  headers.set('X-Served-By', 'timbre');
  return new Response(res.body, { status: res.status, statusText: res.statusText, headers });
}
