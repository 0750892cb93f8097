import { it } from 'vitest';
import { setup } from './helpers';
it('scratch', async () => {
  const env = await setup();
  const v = (id: string, extra = {}) => ({ id, name: 'n', description: '', tags: [], language: 'en', gender: 'female', kind: 'cloned', model: 'm', samples: [], favorite: false, created_at: 1, updated_at: 1, ...extra });
  const file = { format: 'timbre-voices', version: 1, exported_at: 0, voices: [v('ok_1'), v('bad_2', { checks: { f: () => 1 } })] };
  try { await env.ctx.voices.import(file, 5); } catch (e) { console.log('threw', (e as Error).name, (e as Error).message); }
  await new Promise((r) => setTimeout(r, 50));
  console.log('ok_1 stored?', await env.db.get('voices', 'ok_1'));
});
