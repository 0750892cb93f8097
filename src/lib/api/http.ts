import { ApiError, badRequest } from './errors';
import { decodeBase64 } from '../core/base64';

export const JSON_HEADERS = { 'Content-Type': 'application/json' } as const;

export function json(body: unknown, status = 200, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), { status, headers: { ...JSON_HEADERS, ...headers } });
}

/** Reads a body with a hard byte limit; a streamed body stops being read as soon as it passes the limit. */
export async function readBodyBytes(request: Request, limit: number): Promise<Uint8Array> {
  const declared = Number(request.headers.get('Content-Length') ?? NaN);
  if (Number.isFinite(declared) && declared > limit) throw tooLarge(limit);
  if (!request.body) return new Uint8Array(0);
  const reader = request.body.getReader();
  const parts: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel().catch(() => undefined);
      throw tooLarge(limit);
    }
    parts.push(value);
  }
  const out = new Uint8Array(size);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.byteLength;
  }
  return out;
}

export function tooLarge(limit: number, field = 'body'): ApiError {
  return new ApiError('file_too_large', `The ${field} is larger than the limit of ${formatBytes(limit)}.`, {
    field,
    limit_bytes: limit,
  });
}

export function formatBytes(n: number): string {
  if (n >= 1024 * 1024) return `${Math.round((n / 1024 / 1024) * 10) / 10} MB`;
  if (n >= 1024) return `${Math.round((n / 1024) * 10) / 10} KB`;
  return `${n} bytes`;
}

/** Parses JSON text; the error names what went wrong, never echoes a parser stack. */
export function parseJson(bytes: Uint8Array): unknown {
  const text = new TextDecoder('utf-8', { fatal: false }).decode(bytes);
  if (text.trim() === '')
    throw badRequest('The request body is empty; a JSON object is expected.', { field: 'body' });
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw badRequest('The request body is not valid JSON.', { field: 'body' });
  }
}

const B64 = /^[A-Za-z0-9+/]*={0,2}$/;
const B64URL = /^[A-Za-z0-9_-]*={0,2}$/;

/**
 * Decodes base64 or a `data:…;base64,` URL into bytes. Whitespace is tolerated (line-wrapped base64);
 * anything else that is not base64 is a 400 naming the field.
 */
export function decodeBase64Field(value: string, field: string, limit: number): Uint8Array {
  let s = value;
  if (s.startsWith('data:')) {
    const comma = s.indexOf(',');
    if (comma < 0 || !s.slice(0, comma).endsWith(';base64'))
      throw badRequest(`${field} is a data URL but not a base64 one.`, { field });
    s = s.slice(comma + 1);
  }
  s = s.replace(/\s+/g, '');
  if (s.length === 0) throw badRequest(`${field} is empty.`, { field });
  const urlSafe = !B64.test(s) && B64URL.test(s);
  if ((!B64.test(s) && !urlSafe) || s.length % 4 === 1)
    throw badRequest(`${field} is not valid base64.`, { field });
  // Padding carries no bytes: "QQ==" is one byte, not three.
  if (Math.floor((s.length * 3) / 4) - (s.match(/=*$/)?.[0].length ?? 0) > limit)
    throw tooLarge(limit, field);
  if (urlSafe) s = s.replace(/-/g, '+').replace(/_/g, '/');
  while (s.length % 4) s += '=';
  const out = decodeBase64(s);
  if (!out) throw badRequest(`${field} is not valid base64.`, { field });
  return out;
}
