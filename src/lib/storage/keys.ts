import type { TimbreDB } from './db';
import { makeKey, publicKey, type ApiKeyRecord, type PublicKey } from '../auth/keys';
import { sha256Hex } from '../core/hash';
import type { Scope } from '../auth/scopes';
import { guardQuota, NotFoundError } from './errors';

export interface KeyChanges {
  name?: string;
  scopes?: Scope[];
  limits?: Partial<Record<Scope, number>>;
  allowed_origins?: string[];
}

export class KeyStore {
  constructor(private readonly db: TimbreDB) {}

  async create(
    opts: KeyChanges & { name: string; now: number },
  ): Promise<{ secret: string; key: PublicKey }> {
    const { secret, record } = await makeKey(opts);
    await guardQuota('the API key', () => this.db.put('apiKeys', record));
    return { secret, key: publicKey(record) };
  }

  async list(): Promise<PublicKey[]> {
    const all = await this.db.getAll('apiKeys');
    return all.sort((a, b) => a.created_at - b.created_at).map(publicKey);
  }

  async get(id: string): Promise<ApiKeyRecord | undefined> {
    return this.db.get('apiKeys', id);
  }

  /** Finds the stored record for a presented secret (by its SHA-256), or undefined. */
  async verify(secret: string): Promise<ApiKeyRecord | undefined> {
    return this.db.getFromIndex('apiKeys', 'hash', await sha256Hex(secret));
  }

  async update(id: string, changes: KeyChanges): Promise<PublicKey> {
    const tx = this.db.transaction('apiKeys', 'readwrite');
    const rec = await tx.store.get(id);
    if (!rec) throw new NotFoundError(`No API key with id ${id}.`);
    const next: ApiKeyRecord = { ...rec, ...definedOnly(changes) };
    await guardQuota('the API key', async () => {
      await tx.store.put(next);
      await tx.done;
    });
    return publicKey(next);
  }

  async touch(id: string, now: number): Promise<void> {
    const tx = this.db.transaction('apiKeys', 'readwrite');
    const rec = await tx.store.get(id);
    if (rec) await tx.store.put({ ...rec, last_used_at: now });
    await tx.done.catch(() => undefined);
  }

  /** Revokes a key: it is deleted, so it can never authenticate again. */
  async revoke(id: string): Promise<void> {
    const tx = this.db.transaction(['apiKeys', 'rateLimits'], 'readwrite');
    if (!(await tx.objectStore('apiKeys').get(id))) throw new NotFoundError(`No API key with id ${id}.`);
    await tx.objectStore('apiKeys').delete(id);
    await tx.done;
  }
}

function definedOnly<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
