import { beforeEach, describe, expect, it } from 'vitest';
import { KOKORO_VOICE_IDS, PRESET_VOICES, languageMatches, presetVoice } from '../../src/lib/voices/presets';
import type { Voice } from '../../src/lib/voices/types';
import { setup } from './helpers';
import { errorOf, HIGH_LIMITS, okJson } from './test-utils';

type Env = Awaited<ReturnType<typeof setup>>;
interface VoiceOut {
  id: string;
  name: string;
  kind: string;
  language: string;
  gender: string;
  favorite: boolean;
  tags: string[];
  description: string;
  samples: { id: string; name: string; bytes: number }[];
  updated_at: number;
}
interface List {
  voices: VoiceOut[];
  total: number;
  offset: number;
  limit: number;
}

let env: Env;
let key: string;

beforeEach(async () => {
  env = await setup();
  key = await env.makeKey({ limits: HIGH_LIMITS });
});

const get = async <T = List>(path: string) => okJson<T>(await env.call('GET', path, { key }));
const ids = (l: { voices: { id: string }[] }) => l.voices.map((v) => v.id);

function userVoice(id: string, over: Partial<Voice> = {}): Voice {
  return {
    id,
    name: `Voice ${id}`,
    description: 'A voice of my own',
    tags: ['mine'],
    language: 'en-gb',
    gender: 'neutral',
    kind: 'cloned',
    model: 'openvoice',
    samples: [
      {
        id: 's1',
        name: 'take1.wav',
        mime: 'audio/wav',
        duration: 1.5,
        data: new Uint8Array([1, 2, 3, 250, 251, 0, 7]).buffer,
      },
    ],
    embedding: Array.from({ length: 256 }, (_, i) => Math.sin(i) / 10),
    recipe: { base_voice: 'af_heart', speed: 1.1 },
    favorite: false,
    created_at: 1000,
    updated_at: 1000,
    ...over,
  };
}

const countVoices = async () => (await env.db.getAll('voices')).length;

describe('presets', () => {
  it('54 Kokoro presets, installed by the migration', async () => {
    expect(KOKORO_VOICE_IDS).toHaveLength(54);
    const l = await get('/api/voices');
    expect(l.total).toBe(54);
    expect(l.voices).toHaveLength(54);
    expect(new Set(ids(l))).toEqual(new Set(KOKORO_VOICE_IDS));
    for (const v of l.voices) {
      expect(v.kind).toBe('preset');
      expect(v.samples).toEqual([]);
      expect(v.gender).toBe(v.id[1] === 'f' ? 'female' : 'male');
    }
    expect(l).toMatchObject({ offset: 0, limit: 100 });
  });

  it('presetVoice derives name, language and gender from the id, and rejects others', () => {
    expect(presetVoice('bm_george')).toMatchObject({
      name: 'George',
      language: 'en-gb',
      gender: 'male',
      accent: 'British',
    });
    expect(presetVoice('jf_alpha').language).toBe('ja');
    expect(() => presetVoice('xx_nobody')).toThrow();
    expect(() => presetVoice('af-heart')).toThrow();
    expect(PRESET_VOICES.every((v) => v.kind === 'preset')).toBe(true);
  });

  it('languageMatches is a prefix match on whole subtags, case-insensitive', () => {
    expect(languageMatches('en-us', 'en')).toBe(true);
    expect(languageMatches('en-us', 'EN-US')).toBe(true);
    expect(languageMatches('en-gb', 'en-us')).toBe(false);
    expect(languageMatches('es', 'e')).toBe(false);
    expect(languageMatches('en', 'en-us')).toBe(false);
  });
});

describe('GET /api/voices: search and filters', () => {
  const byPrefix = (p: string) => KOKORO_VOICE_IDS.filter((id) => id.startsWith(p)).length;

  it('q searches id, name, description, language, accent and tags, case-insensitively', async () => {
    expect(ids(await get('/api/voices?q=heart'))).toEqual(['af_heart']);
    expect(ids(await get('/api/voices?q=HEART'))).toEqual(['af_heart']);
    expect((await get('/api/voices?q=british')).total).toBe(byPrefix('b'));
    expect((await get('/api/voices?q=%20%20mandarin%20')).total).toBe(byPrefix('z'));
    expect((await get('/api/voices?q=zzzz-nothing')).total).toBe(0);
    expect((await get('/api/voices?q=')).total).toBe(54);
  });

  it('language is a prefix filter: en matches en-us and en-gb', async () => {
    const en = await get('/api/voices?language=en');
    expect(en.total).toBe(byPrefix('a') + byPrefix('b'));
    expect(en.voices.every((v) => v.language === 'en-us' || v.language === 'en-gb')).toBe(true);
    expect((await get('/api/voices?language=en-gb')).total).toBe(byPrefix('b'));
    expect((await get('/api/voices?language=EN-US')).total).toBe(byPrefix('a'));
    expect((await get('/api/voices?language=e')).total).toBe(0);
    expect((await get('/api/voices?language=es')).total).toBe(byPrefix('e'));
  });

  it('gender, kind, model and favorite filters; filters combine', async () => {
    const female = KOKORO_VOICE_IDS.filter((id) => id[1] === 'f').length;
    expect((await get('/api/voices?gender=female')).total).toBe(female);
    expect((await get('/api/voices?gender=male')).total).toBe(54 - female);
    expect((await get('/api/voices?gender=neutral')).total).toBe(0);
    expect((await get('/api/voices?kind=preset')).total).toBe(54);
    expect((await get('/api/voices?kind=cloned')).total).toBe(0);
    expect((await get('/api/voices?model=kokoro')).total).toBe(54);
    expect((await get('/api/voices?model=other')).total).toBe(0);
    expect((await get('/api/voices?favorite=true')).total).toBe(0);
    expect((await get('/api/voices?favorite=0')).total).toBe(54);
    expect((await get('/api/voices?language=en&gender=male')).total).toBe(byPrefix('am') + byPrefix('bm'));

    await env.ctx.voices.put(userVoice('mine_1'));
    await okJson(await env.call('POST', '/api/favorites/bf_emma', { key }));
    expect(ids(await get('/api/voices?kind=cloned'))).toEqual(['mine_1']);
    expect(ids(await get('/api/voices?favorite=1'))).toEqual(['bf_emma']);
    expect((await get('/api/voices?favorite=false')).total).toBe(54);
    expect(ids(await get('/api/voices?language=en-gb&gender=neutral'))).toEqual(['mine_1']);
    expect(ids(await get('/api/voices?q=mine&kind=cloned'))).toEqual(['mine_1']);
  });

  it('sorts favourites first, then own voices, then presets, each by name', async () => {
    await env.ctx.voices.put(userVoice('u_b', { name: 'Bravo' }));
    await env.ctx.voices.put(userVoice('u_a', { name: 'Alpha' }));
    await okJson(await env.call('POST', '/api/favorites/zm_yunxi', { key }));
    const l = await get('/api/voices');
    expect(ids(l).slice(0, 3)).toEqual(['zm_yunxi', 'u_a', 'u_b']);
    const presets = l.voices.slice(3).map((v) => v.name);
    expect(presets).toEqual([...presets].sort((a, b) => a.localeCompare(b)));
  });

  it('paging with offset/limit and with page/page_size', async () => {
    const all = ids(await get('/api/voices'));
    const a = await get('/api/voices?offset=10&limit=5');
    expect(a).toMatchObject({ total: 54, offset: 10, limit: 5 });
    expect(ids(a)).toEqual(all.slice(10, 15));
    const b = await get('/api/voices?page=3&page_size=10');
    expect(b).toMatchObject({ total: 54, offset: 20, limit: 10 });
    expect(ids(b)).toEqual(all.slice(20, 30));
    expect(ids(await get('/api/voices?page=6&page_size=10'))).toEqual(all.slice(50));
    expect(ids(await get('/api/voices?page=7&page_size=10'))).toEqual([]);
    expect((await get('/api/voices?offset=1000')).voices).toEqual([]);
    expect(ids(await get('/api/voices?page=2'))).toEqual([]); // default page size 100
    // offset wins over page when both are given; limit over page_size.
    expect(ids(await get('/api/voices?offset=2&page=3&limit=2&page_size=9'))).toEqual(all.slice(2, 4));
    // Pages cover everything exactly once.
    const paged: string[] = [];
    for (let p = 1; p <= 6; p++) paged.push(...ids(await get(`/api/voices?page=${p}&page_size=10`)));
    expect(paged).toEqual(all);
  });
});

describe('one voice: get, update, delete', () => {
  it('GET /api/voices/{id} lists samples without their bytes', async () => {
    await env.ctx.voices.put(userVoice('mine_1'));
    const v = await get<VoiceOut & { samples: Record<string, unknown>[] }>('/api/voices/mine_1');
    expect(v.samples).toEqual([{ id: 's1', name: 'take1.wav', mime: 'audio/wav', duration: 1.5, bytes: 7 }]);
    await errorOf(await env.call('GET', '/api/voices/nope', { key }), 404, 'not_found');
  });

  it('PUT updates tags, description and favourite of a preset and stores them', async () => {
    env.clock.t += 1234;
    const v = await okJson<VoiceOut>(
      await env.call('PUT', '/api/voices/af_heart', {
        key,
        body: { tags: [' warm ', 'calm'], description: 'Mine now', favorite: true },
      }),
    );
    expect(v).toMatchObject({
      id: 'af_heart',
      tags: ['warm', 'calm'],
      description: 'Mine now',
      favorite: true,
      updated_at: env.clock.t,
      name: 'Heart',
    });
    expect(await env.db.get('voices', 'af_heart')).toMatchObject({
      tags: ['warm', 'calm'],
      description: 'Mine now',
      favorite: true,
      updated_at: env.clock.t,
    });
  });

  it('presets cannot be renamed or change language or gender (403, unchanged)', async () => {
    const before = await env.db.get('voices', 'af_heart');
    for (const body of [
      { name: 'Renamed' },
      { language: 'fr-fr' },
      { gender: 'male' },
      { name: 'X', tags: ['t'] },
    ]) {
      const err = await errorOf(
        await env.call('PUT', '/api/voices/af_heart', { key, body }),
        403,
        'forbidden',
      );
      expect(err.message).toMatch(/Preset/);
    }
    expect(await env.db.get('voices', 'af_heart')).toEqual(before);
  });

  it('own voices can be renamed and re-described; the samples stay', async () => {
    await env.ctx.voices.put(userVoice('mine_1'));
    const v = await okJson<VoiceOut>(
      await env.call('PUT', '/api/voices/mine_1', {
        key,
        body: { name: '  New name ', language: 'fr-fr', gender: 'female' },
      }),
    );
    expect(v).toMatchObject({ name: 'New name', language: 'fr-fr', gender: 'female' });
    const stored = await env.db.get('voices', 'mine_1');
    expect(stored?.name).toBe('New name');
    expect(new Uint8Array(stored!.samples[0]!.data)).toEqual(new Uint8Array([1, 2, 3, 250, 251, 0, 7]));
    await errorOf(await env.call('PUT', '/api/voices/nope', { key, body: { name: 'x' } }), 404, 'not_found');
  });

  it('presets cannot be deleted; own voices can, once', async () => {
    const err = await errorOf(await env.call('DELETE', '/api/voices/af_heart', { key }), 403, 'forbidden');
    expect(err.message).toMatch(/preset/);
    expect(await countVoices()).toBe(54);
    await env.ctx.voices.put(userVoice('mine_1'));
    expect(await okJson(await env.call('DELETE', '/api/voices/mine_1', { key }))).toEqual({
      deleted: true,
      id: 'mine_1',
    });
    expect(await env.db.get('voices', 'mine_1')).toBeUndefined();
    await errorOf(await env.call('DELETE', '/api/voices/mine_1', { key }), 404, 'not_found');
    expect(await countVoices()).toBe(54);
  });
});

describe('favourites', () => {
  it('POST /api/favorites/{id} toggles; GET /api/favorites lists them', async () => {
    expect(await get('/api/favorites')).toEqual({ voices: [], total: 0 });
    expect(await okJson(await env.call('POST', '/api/favorites/af_heart', { key }))).toEqual({
      id: 'af_heart',
      favorite: true,
    });
    expect(await okJson(await env.call('POST', '/api/favorites/bm_lewis', { key }))).toEqual({
      id: 'bm_lewis',
      favorite: true,
    });
    const favs = await get('/api/favorites');
    expect(favs.total).toBe(2);
    expect(ids(favs).sort()).toEqual(['af_heart', 'bm_lewis']);
    expect((await env.db.get('voices', 'af_heart'))?.favorite).toBe(true);
    expect(await okJson(await env.call('POST', '/api/favorites/af_heart', { key }))).toEqual({
      id: 'af_heart',
      favorite: false,
    });
    expect(ids(await get('/api/favorites'))).toEqual(['bm_lewis']);
    await errorOf(await env.call('POST', '/api/favorites/nope', { key }), 404, 'not_found');
  });
});

describe('other list shapes', () => {
  it('GET /v1/voices: {voices: [{id, name, model, language, gender}], total} with filters', async () => {
    const res = await get<{ voices: Record<string, unknown>[]; total: number }>('/v1/voices');
    expect(Object.keys(res).sort()).toEqual(['total', 'voices']);
    expect(res.total).toBe(54);
    expect(res.voices).toHaveLength(54);
    for (const v of res.voices) {
      expect(v).toMatchObject({
        id: expect.any(String),
        name: expect.any(String),
        model: 'kokoro',
        language: expect.any(String),
        gender: expect.stringMatching(/^(female|male)$/),
      });
      expect(v).not.toHaveProperty('samples');
    }
    const gb = await get<{ voices: { id: string; language: string }[]; total: number }>(
      '/v1/voices?language=en-gb&gender=female',
    );
    expect(gb.total).toBe(KOKORO_VOICE_IDS.filter((id) => id.startsWith('bf')).length);
    expect(gb.voices.every((v) => v.language === 'en-gb' && v.id.startsWith('bf'))).toBe(true);
    expect((await get('/v1/voices?language=en')).total).toBe(
      KOKORO_VOICE_IDS.filter((id) => /^[ab]/.test(id)).length,
    );
    expect((await get('/v1/voices?model=openvoice')).total).toBe(0);
    await env.ctx.voices.put(userVoice('mine_1'));
    expect(ids(await get('/v1/voices?model=openvoice'))).toEqual(['mine_1']);
  });

  it('GET /api/v1/voices lists only the user’s own voices', async () => {
    expect(await get('/api/v1/voices')).toEqual({ voices: [], total: 0 });
    await env.ctx.voices.put(userVoice('mine_1'));
    const l = await get<{ voices: Record<string, unknown>[]; total: number }>('/api/v1/voices');
    expect(l).toEqual({
      total: 1,
      voices: [
        {
          id: 'mine_1',
          fish_audio_model_id: 'mine_1',
          title: 'Voice mine_1',
          kind: 'cloned',
          language: 'en-gb',
          created_at: 1000,
        },
      ],
    });
  });
});

describe('export and import', () => {
  interface ExportFile {
    format: string;
    version: number;
    exported_at: number;
    voices: (Record<string, unknown> & { id: string; samples: { data_base64: string }[] })[];
  }
  const exportOf = async (q = '') => {
    const res = await env.call('GET', `/api/voices/export${q}`, { key });
    expect(res.headers.get('Content-Disposition')).toMatch(/attachment; filename="timbre-voices\.json"/);
    return okJson<ExportFile>(res);
  };
  const importFile = (body: unknown) => env.call('POST', '/api/voices/import', { key, body });

  it('round-trips a user voice with its sample bytes, embedding and recipe', async () => {
    const original = userVoice('mine_1');
    await env.ctx.voices.put(original);
    const file = await exportOf('?ids=mine_1');
    expect(file).toMatchObject({ format: 'timbre-voices', version: 1, exported_at: env.clock.t });
    expect(file.voices).toHaveLength(1);
    expect(file.voices[0]!.samples[0]!.data_base64).toBe(
      Buffer.from([1, 2, 3, 250, 251, 0, 7]).toString('base64'),
    );
    expect(file.voices[0]).not.toHaveProperty('samples.0.data');

    await okJson(await env.call('DELETE', '/api/voices/mine_1', { key }));
    env.clock.t += 10_000;
    const res = await okJson<{ imported: number; ids: string[] }>(await importFile(file), 201);
    expect(res).toEqual({ imported: 1, skipped: 0, ids: ['mine_1'] });
    const back = (await env.db.get('voices', 'mine_1'))!;
    const { samples, ...rest } = back;
    const { samples: origSamples, ...origRest } = original;
    expect(rest).toEqual({ ...origRest, updated_at: env.clock.t });
    expect(samples).toHaveLength(1);
    expect(samples[0]).toMatchObject({ id: 's1', name: 'take1.wav', mime: 'audio/wav', duration: 1.5 });
    expect(new Uint8Array(samples[0]!.data)).toEqual(new Uint8Array(origSamples[0]!.data));
  });

  it('importing a different voice whose id exists keeps both (the new one is renamed)', async () => {
    await env.ctx.voices.put(userVoice('mine_1'));
    const file = await exportOf('?ids=mine_1');
    file.voices[0]!.name = 'Another voice';
    expect((await okJson<{ ids: string[] }>(await importFile(file), 201)).ids).toEqual(['mine_1-2']);
    file.voices[0]!.name = 'A third voice';
    expect((await okJson<{ ids: string[] }>(await importFile(file), 201)).ids).toEqual(['mine_1-3']);
    expect((await env.db.get('voices', 'mine_1'))?.name).toBe('Voice mine_1');
    expect(await countVoices()).toBe(57);
  });

  it('importing a voice that is already in the library (its own export) skips it instead of duplicating', async () => {
    await env.ctx.voices.put(userVoice('mine_1'));
    const file = await exportOf('?ids=mine_1');
    expect(await okJson(await importFile(file), 201)).toEqual({ imported: 0, skipped: 1, ids: [] });
    // Also when an earlier import had already renamed it (mine_1-2), and whatever its favourite or tags.
    file.voices[0]!.name = 'Changed';
    expect((await okJson<{ ids: string[] }>(await importFile(file), 201)).ids).toEqual(['mine_1-2']);
    file.voices[0]!.tags = ['other'];
    file.voices[0]!.favorite = !file.voices[0]!.favorite;
    expect(await okJson(await importFile(file), 201)).toEqual({ imported: 0, skipped: 1, ids: [] });
    // A sample with other bytes is another voice.
    file.voices[0]!.samples[0]!.data_base64 = Buffer.from([9, 9, 9]).toString('base64');
    expect((await okJson<{ ids: string[] }>(await importFile(file), 201)).ids).toEqual(['mine_1-3']);
    expect(await countVoices()).toBe(57);
  });

  it('a full export re-imports: presets only carry favourite and tags, user voices already there are skipped', async () => {
    await env.ctx.voices.put(userVoice('mine_1'));
    await okJson(
      await env.call('PUT', '/api/voices/af_heart', { key, body: { favorite: true, tags: ['best'] } }),
    );
    const file = await exportOf();
    expect(file.voices).toHaveLength(55);
    // Reset the preset and pretend the file renamed it: the name must not change.
    await okJson(await env.call('PUT', '/api/voices/af_heart', { key, body: { favorite: false, tags: [] } }));
    const heart = file.voices.find((v) => v.id === 'af_heart')!;
    heart.name = 'Hijacked';
    const res = await okJson<{ imported: number; skipped: number; ids: string[] }>(
      await importFile(file),
      201,
    );
    expect(res).toMatchObject({ imported: 54, skipped: 1 });
    expect(await env.db.get('voices', 'af_heart')).toMatchObject({
      name: 'Heart',
      favorite: true,
      tags: ['best'],
      kind: 'preset',
    });
    expect(res.ids).not.toContain('mine_1-2');
    expect(await countVoices()).toBe(55);
  });

  it('a preset entry for an unknown preset is skipped', async () => {
    const file = await exportOf('?ids=af_heart');
    file.voices[0]!.id = 'xf_unknown';
    expect(await okJson(await importFile(file), 201)).toEqual({ imported: 0, skipped: 0, ids: [] });
    expect(await countVoices()).toBe(54);
  });

  it('export of an unknown id is 404', async () => {
    await errorOf(await env.call('GET', '/api/voices/export?ids=af_heart,nope', { key }), 404, 'not_found');
  });

  it('an invalid file writes nothing (400 naming the problem)', async () => {
    await env.ctx.voices.put(userVoice('mine_1'));
    const good = await exportOf('?ids=mine_1');
    const before = await env.db.getAll('voices');
    const bad: [string, unknown][] = [
      ['not an object', [1, 2, 3]],
      ['wrong format', { ...good, format: 'other-app' }],
      ['wrong version', { ...good, version: 2 }],
      ['no voices', { ...good, voices: [] }],
      ['voice without name', { ...good, voices: [{ ...good.voices[0], name: undefined }] }],
      ['bad gender', { ...good, voices: [{ ...good.voices[0], gender: 'robot' }] }],
      ['embedding of the wrong length', { ...good, voices: [{ ...good.voices[0], embedding: [1, 2, 3] }] }],
      [
        'sample not base64',
        {
          ...good,
          voices: [
            {
              ...good.voices[0],
              samples: [{ ...good.voices[0]!.samples[0], data_base64: '%%%not base64%%%' }],
            },
          ],
        },
      ],
    ];
    for (const [what, body] of bad) {
      const err = await errorOf(await importFile(body), 400, 'bad_request');
      expect(err.field, what).toBe('body');
      expect(err.message.length, what).toBeGreaterThan(10);
    }
    const nonJson = await errorOf(
      await env.call('POST', '/api/voices/import', {
        key,
        raw: '{"format": "timbre-voi',
        headers: { 'Content-Type': 'application/json' },
      }),
      400,
      'bad_request',
    );
    expect(nonJson.field).toBe('body');
    expect(await env.db.getAll('voices')).toEqual(before);
  });

  it('is all-or-nothing: one bad voice among good ones writes none of them', async () => {
    await env.ctx.voices.put(userVoice('v1'));
    await env.ctx.voices.put(userVoice('v2'));
    await env.ctx.voices.put(userVoice('v3'));
    const file = await exportOf('?ids=v1,v2,v3');
    for (const id of ['v1', 'v2', 'v3']) await okJson(await env.call('DELETE', `/api/voices/${id}`, { key }));
    const before = await countVoices();
    const brokenLast = {
      ...file,
      voices: [
        file.voices[0],
        file.voices[1],
        { ...file.voices[2], samples: [{ ...file.voices[2]!.samples[0], data_base64: '!!!' }] },
      ],
    };
    await errorOf(await importFile(brokenLast), 400, 'bad_request');
    const invalidMiddle = {
      ...file,
      voices: [file.voices[0], { ...file.voices[1], kind: 'alien' }, file.voices[2]],
    };
    await errorOf(await importFile(invalidMiddle), 400, 'bad_request');
    expect(await countVoices()).toBe(before);
    for (const id of ['v1', 'v2', 'v3']) expect(await env.db.get('voices', id)).toBeUndefined();
    // The intact file imports all three.
    expect((await okJson<{ ids: string[] }>(await importFile(file), 201)).ids).toEqual(['v1', 'v2', 'v3']);
  });

  it('VoiceStore.import is all-or-nothing when a write fails part-way (the transaction is aborted)', async () => {
    const before = await env.db.getAll('voices');
    // The second voice passes the schema (checks are free-form) but cannot be stored (not cloneable).
    const file = {
      format: 'timbre-voices',
      version: 1,
      exported_at: 0,
      voices: [
        { ...userVoice('ok_1'), samples: [] },
        { ...userVoice('ok_2'), samples: [], checks: { callback: () => 1 } },
      ],
    };
    await expect(env.ctx.voices.import(file, env.clock.t)).rejects.toMatchObject({ name: 'DataCloneError' });
    await new Promise((r) => setTimeout(r, 20));
    expect(await env.db.get('voices', 'ok_1')).toBeUndefined();
    expect(await env.db.getAll('voices')).toEqual(before);
  });
});
