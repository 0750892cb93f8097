import { sha256Hex } from '../core/hash';
import { DEFAULT_LIMITS, SCOPES, type Scope } from './scopes';
import { newId } from '../core/ids';

export interface ApiKeyRecord {
  id: string;
  name: string;
  /** The first characters of the key, shown in lists so a person can tell keys apart. */
  prefix: string;
  /** Hex SHA-256 of the whole key; the key itself is never stored. */
  hash: string;
  scopes: Scope[];
  /** Requests per minute per scope; scopes missing here use DEFAULT_LIMITS. */
  limits: Partial<Record<Scope, number>>;
  /** Origins allowed to use this key through the embed iframe (exact `scheme://host:port`). */
  allowed_origins: string[];
  created_at: number;
  last_used_at: number | null;
}

/** The part of a key that may be shown again after creation. */
export type PublicKey = Omit<ApiKeyRecord, 'hash'>;

export const KEY_PREFIX = 'tmb_';

export function publicKey(k: ApiKeyRecord): PublicKey {
  const { hash: _hash, ...rest } = k;
  return rest;
}

function randomToken(bytes: number): string {
  const a = crypto.getRandomValues(new Uint8Array(bytes));
  return Array.from(a, (b) => b.toString(16).padStart(2, '0')).join('');
}

/**
 * Makes a new key: the secret (shown once) and the record that is stored. Still async, though hashing no
 * longer is, so that its callers need not change.
 */
export async function makeKey(opts: {
  name: string;
  scopes?: Scope[];
  limits?: Partial<Record<Scope, number>>;
  allowed_origins?: string[];
  now: number;
}): Promise<{ secret: string; record: ApiKeyRecord }> {
  const secret = `${KEY_PREFIX}${randomToken(24)}`;
  const record: ApiKeyRecord = {
    id: newId('key'),
    name: opts.name,
    prefix: secret.slice(0, KEY_PREFIX.length + 6),
    hash: await sha256Hex(secret),
    scopes: opts.scopes ? [...new Set(opts.scopes)] : [...SCOPES],
    limits: opts.limits ?? {},
    allowed_origins: opts.allowed_origins ?? [],
    created_at: opts.now,
    last_used_at: null,
  };
  return { secret, record };
}

export function limitFor(key: ApiKeyRecord, scope: Scope): number {
  return key.limits[scope] ?? DEFAULT_LIMITS[scope];
}

/** Reads the key from `X-API-Key` or `Authorization: Bearer …`. */
export function keyFromHeaders(headers: Headers): string | null {
  const x = headers.get('X-API-Key');
  if (x && x.trim()) return x.trim();
  const auth = headers.get('Authorization');
  if (auth) {
    const m = /^Bearer\s+(.+)$/i.exec(auth.trim());
    if (m?.[1]) return m[1].trim();
  }
  return null;
}
