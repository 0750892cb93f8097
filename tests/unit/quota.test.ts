// The browser's quota error (QuotaExceededError) must become a clear 507 and leave nothing half-written.
import { afterEach, describe, expect, it } from 'vitest';
import { setup } from './helpers';
import { StorageFullError } from '../../src/lib/storage/errors';

const realPut = IDBObjectStore.prototype.put;

/** Makes the n-th and later puts into `store` fail as a full disk would. */
function quotaAfter(store: string, n: number) {
  let count = 0;
  IDBObjectStore.prototype.put = function (this: IDBObjectStore, ...args: Parameters<IDBObjectStore['put']>) {
    if (this.name === store && ++count >= n)
      throw new DOMException('The quota has been exceeded.', 'QuotaExceededError');
    return realPut.apply(this, args);
  };
}

afterEach(() => {
  IDBObjectStore.prototype.put = realPut;
});

const voice = (id: string) => ({
  id,
  name: id,
  description: '',
  tags: [],
  language: 'en-us',
  gender: 'female',
  kind: 'cloned',
  model: 'kokoro',
  samples: [],
  favorite: false,
  created_at: 1,
  updated_at: 1,
});

describe('storage quota', () => {
  it('an import that runs out of quota part-way stores none of its voices', async () => {
    const { call, makeKey, ctx } = await setup();
    const key = await makeKey();
    const before = (await ctx.voices.all()).length;
    quotaAfter('voices', 3);
    const res = await call('POST', '/api/voices/import', {
      key,
      body: {
        format: 'timbre-voices',
        version: 1,
        exported_at: 1,
        voices: [voice('a'), voice('b'), voice('c'), voice('d')],
      },
    });
    IDBObjectStore.prototype.put = realPut;
    expect(res.status).toBe(507);
    const body = (await res.json()) as { error: { code: string; message: string } };
    expect(body.error.code).toBe('storage_full');
    expect(body.error.message).toMatch(/Not enough browser storage.*nothing was saved/);
    expect((await ctx.voices.all()).length).toBe(before);
    expect(await ctx.db.get('voices', 'a')).toBeUndefined();
  });

  it('saving one voice on a full disk throws StorageFullError and keeps the old record', async () => {
    const { ctx } = await setup();
    await ctx.voices.put(voice('mine') as never);
    quotaAfter('voices', 1);
    await expect(ctx.voices.update('mine', { name: 'Renamed' }, 2)).rejects.toBeInstanceOf(StorageFullError);
    IDBObjectStore.prototype.put = realPut;
    expect((await ctx.voices.get('mine')).name).toBe('mine');
  });
});
