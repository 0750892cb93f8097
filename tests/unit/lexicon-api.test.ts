// The stored pronunciation lexicon: LexiconStore itself, and GET/PUT /api/lexicon, DELETE /api/lexicon/{scope}/{word}.
import { beforeEach, describe, expect, it } from 'vitest';
import { LexiconStore, MAX_LEXICON_ENTRIES } from '../../src/lib/storage/lexicon';
import { NotFoundError } from '../../src/lib/storage/errors';
import { LexiconError } from '../../src/lib/text/lexicon';
import { setup } from './helpers';
import { errorOf, HIGH_LIMITS, okJson } from './test-utils';

type Env = Awaited<ReturnType<typeof setup>>;

interface Entry {
  word: string;
  phonemes?: string;
  respelling?: string;
  scope: string;
  updated_at: number;
}

describe('LexiconStore', () => {
  let env: Env;
  let store: LexiconStore;
  beforeEach(async () => {
    env = await setup();
    store = new LexiconStore(env.db);
  });

  it('stores entries per scope, replaces one with the same scope and word (any case), lists by word', async () => {
    await store.put(
      [
        { word: 'Timbre', respelling: 'Tamber' },
        { word: 'Kokoro', phonemes: 'kˈOkəɹO', scope: 'af_heart' },
        { word: 'Azure', respelling: 'Azhur', scope: 'global' },
      ],
      1,
    );
    await store.put([{ word: 'TIMBRE', respelling: 'Tam-ber' }], 2);
    const global = await store.list('global');
    expect(global.map((e) => [e.word, e.respelling, e.updated_at])).toEqual([
      ['Azure', 'Azhur', 1],
      ['TIMBRE', 'Tam-ber', 2],
    ]);
    expect((await store.list('af_heart')).map((e) => e.word)).toEqual(['Kokoro']);
    expect(await store.list()).toHaveLength(3);
  });

  it('gives a voice its own entries and the global ones', async () => {
    await store.put([
      { word: 'tomato', respelling: 'tomahto' },
      { word: 'tomato', respelling: 'tomayto', scope: 'am_adam' },
      { word: 'data', phonemes: 'dˈAɾə', scope: 'am_adam' },
      { word: 'route', respelling: 'root', scope: 'bf_emma' },
    ]);
    const adam = await store.forVoice('am_adam');
    expect(adam.map((e) => `${e.scope}:${e.word}`).sort()).toEqual([
      'am_adam:data',
      'am_adam:tomato',
      'global:tomato',
    ]);
    expect(adam.every((e) => !('id' in e) && !('updated_at' in e))).toBe(true);
    expect((await store.forVoice()).map((e) => e.word)).toEqual(['tomato']);
  });

  it('writes all entries or none: one bad entry leaves the lexicon as it was', async () => {
    await store.put([{ word: 'keep', respelling: 'kept' }]);
    await expect(
      store.put([
        { word: 'fine', respelling: 'fyne' },
        { word: 'both', respelling: 'x', phonemes: 'y' },
      ]),
    ).rejects.toThrow(/"both" needs exactly one of/);
    await expect(store.put([{ word: '', respelling: 'x' }])).rejects.toBeInstanceOf(LexiconError);
    expect((await store.list()).map((e) => e.word)).toEqual(['keep']);
  });

  it(`refuses to grow past ${MAX_LEXICON_ENTRIES} entries, writing none of the batch`, async () => {
    const many = Array.from({ length: MAX_LEXICON_ENTRIES - 1 }, (_, i) => ({
      word: `w${i}`,
      respelling: 'x',
    }));
    await store.put(many);
    await expect(
      store.put([
        { word: 'one', respelling: 'x' },
        { word: 'two', respelling: 'x' },
      ]),
    ).rejects.toThrow(/at most 5000/);
    expect(await store.list()).toHaveLength(MAX_LEXICON_ENTRIES - 1);
  });

  it('deletes one entry and returns it; a missing one is NotFoundError', async () => {
    await store.put([{ word: 'Timbre', respelling: 'Tamber' }]);
    const gone = await store.delete('global', 'timbre');
    expect(gone.respelling).toBe('Tamber');
    expect(await store.list()).toEqual([]);
    await expect(store.delete('global', 'timbre')).rejects.toBeInstanceOf(NotFoundError);
  });
});

describe('/api/lexicon', () => {
  let env: Env;
  let key: string;
  beforeEach(async () => {
    env = await setup();
    key = await env.makeKey({ limits: HIGH_LIMITS });
  });

  const put = (entries: unknown[], k = key) => env.call('PUT', '/api/lexicon', { key: k, body: { entries } });
  const list = async (qs = '') =>
    okJson<{ entries: Entry[]; total: number }>(await env.call('GET', `/api/lexicon${qs}`, { key }));

  it('PUT stores entries, GET lists them all or one scope, without internal ids', async () => {
    const saved = await okJson<{ saved: number; entries: Entry[] }>(
      await put([
        { word: 'Timbre', respelling: 'Tamber' },
        { word: 'Kokoro', phonemes: 'kˈOkəɹO', scope: 'af_heart' },
      ]),
    );
    expect(saved.saved).toBe(2);
    expect(saved.entries[0]).toEqual({
      word: 'Timbre',
      respelling: 'Tamber',
      scope: 'global',
      updated_at: env.clock.t,
    });
    expect((await list()).total).toBe(2);
    const heart = await list('?scope=af_heart');
    expect(heart.entries.map((e) => [e.word, e.phonemes])).toEqual([['Kokoro', 'kˈOkəɹO']]);
    expect(heart.entries[0]).not.toHaveProperty('id');
    expect((await list('?scope=global')).entries.map((e) => e.word)).toEqual(['Timbre']);
  });

  it('a bad entry is a 400 naming it, and nothing of the batch is stored', async () => {
    const err = await errorOf(
      await put([
        { word: 'good', respelling: 'gud' },
        { word: 'bad', phonemes: 'x', respelling: 'y' },
      ]),
      400,
      'bad_request',
    );
    expect(err.message).toMatch(/"bad" needs exactly one of "phonemes" or "respelling"/);
    expect((await list()).total).toBe(0);
    const long = await errorOf(await put([{ word: 'w', respelling: 'r'.repeat(501) }]), 400);
    expect(long.message).toMatch(/too long/);
  });

  it('a scope that is neither "global" nor a library voice is a 400, and nothing is stored', async () => {
    const err = await errorOf(
      await put([
        { word: 'a', respelling: 'b' },
        { word: 'c', respelling: 'd', scope: 'no_such_voice' },
      ]),
      400,
      'bad_request',
    );
    expect(err.field).toBe('entries.scope');
    expect(err.message).toContain('no_such_voice');
    expect((await list()).total).toBe(0);
  });

  it('DELETE removes one entry (URL-encoded word, any case); a second DELETE is 404', async () => {
    await put([
      { word: 'New York', respelling: 'Noo York' },
      { word: 'York', respelling: 'Yawk' },
    ]);
    const del = await okJson<{ deleted: boolean; entry: Entry }>(
      await env.call('DELETE', `/api/lexicon/global/${encodeURIComponent('new york')}`, { key }),
    );
    expect(del).toMatchObject({ deleted: true, entry: { word: 'New York', respelling: 'Noo York' } });
    expect((await list()).entries.map((e) => e.word)).toEqual(['York']);
    const again = await errorOf(
      await env.call('DELETE', `/api/lexicon/global/${encodeURIComponent('New York')}`, { key }),
      404,
      'not_found',
    );
    expect(again.message).toContain('New York');
  });

  it('reading needs voices:read and writing voices:write', async () => {
    const reader = await env.makeKey({ scopes: ['voices:read'] });
    expect((await env.call('GET', '/api/lexicon', { key: reader })).status).toBe(200);
    const e1 = await errorOf(await put([{ word: 'a', respelling: 'b' }], reader), 403, 'forbidden');
    expect(e1.scope).toBe('voices:write');
    await errorOf(await env.call('DELETE', '/api/lexicon/global/a', { key: reader }), 403, 'forbidden');
    await errorOf(await env.call('GET', '/api/lexicon'), 401, 'unauthorized');
  });

  it('an empty or missing entries list is a 400 naming entries', async () => {
    expect((await errorOf(await put([]), 400)).field).toBe('entries');
    const err = await errorOf(await env.call('PUT', '/api/lexicon', { key, body: {} }), 400);
    expect(err.field).toBe('entries');
  });
});
