import { describe, expect, it } from 'vitest';
import { setup } from './helpers';

describe('router smoke', () => {
  it('lists presets with a key and refuses without', async () => {
    const { call, makeKey } = await setup();
    expect((await call('GET', '/api/voices')).status).toBe(401);
    const key = await makeKey();
    const res = await call('GET', '/api/voices?limit=5', { key });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { total: number; voices: unknown[] };
    expect(body.total).toBe(54);
    expect(body.voices).toHaveLength(5);
    expect(res.headers.get('X-RateLimit-Limit')).toBe('60');
  });
});
