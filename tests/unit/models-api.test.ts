import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { setup } from './helpers';
import { mergeCatalog } from '../../src/lib/models/catalog';
import { createApiContext } from '../../src/lib/api/context';
import { createRouter } from '../../src/lib/api/routes';
import { caller } from './test-utils';

const bundled = JSON.parse(
  readFileSync(new URL('../../src/lib/models/bundled.json', import.meta.url), 'utf8'),
) as {
  models: { id: string; files: { path: string; bytes: number; sha256: string }[] }[];
};
// The manifest the build writes, made from the same pinned list.
const manifest = {
  version: 1,
  models: bundled.models.map((m) => ({
    ...m,
    bundled: true,
    source: ['npm'],
    files: m.files.map((f) => ({ ...f, url: `/models/${m.id}/${f.path}` })),
  })),
};
const extra = JSON.parse(
  readFileSync(new URL('../../public/models/catalog.json', import.meta.url), 'utf8'),
) as unknown;

type Listed = {
  id: string;
  type: string;
  installed: boolean;
  bundled: boolean;
  supports_cloning: boolean;
  supports_streaming: boolean;
  bytes: number | null;
};

describe('GET /v1/models', () => {
  it('lists bundled and optional models with what is installed', async () => {
    const env = await setup();
    const ctx = createApiContext({
      db: env.db,
      engine: env.ctx.engine,
      system: env.ctx.system,
      version: 't',
      catalog: async () => mergeCatalog(manifest, extra, 'http://127.0.0.1/').models,
    });
    const call = caller(createRouter(), ctx);
    await env.db.put('models', { id: 'kokoro-82m-q8', files: [], installed_at: 1, origin: 'bundled' });
    const key = await env.makeKey({ scopes: ['system:read'] });
    const res = await call('GET', '/v1/models', { key });
    expect(res.status).toBe(200);
    const body = (await res.json()) as {
      models: Listed[];
      data: (Listed & { object: string })[];
      total: number;
    };
    const kokoro = body.models.find((m) => m.id === 'kokoro-82m-q8')!;
    expect(kokoro).toMatchObject({
      type: 'tts',
      installed: true,
      bundled: true,
      supports_streaming: true,
      supports_cloning: false,
    });
    expect(kokoro.bytes).toBeGreaterThan(90_000_000);
    expect(body.models.find((m) => m.id === 'whisper-tiny-q8')).toMatchObject({
      type: 'asr',
      installed: false,
    });
    const converter = body.models.find((m) => m.type === 'converter');
    expect(converter?.supports_cloning).toBe(true);
    expect(converter?.bundled).toBe(false);
    expect(body.data.every((m) => m.object === 'model')).toBe(true);
    expect(body.total).toBe(body.models.length);
  });

  it('answers, with a warning, when the catalogue cannot be read', async () => {
    const env = await setup();
    const ctx = createApiContext({
      db: env.db,
      engine: env.ctx.engine,
      system: env.ctx.system,
      version: 't',
      catalog: async () => {
        throw new Error('offline');
      },
    });
    const res = await caller(createRouter(), ctx)('GET', '/v1/models', { key: await env.makeKey() });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { models: unknown[]; warning: string };
    expect(body.models).toEqual([]);
    expect(body.warning).toMatch(/catalogue could not be read \(offline\)/);
  });
});
