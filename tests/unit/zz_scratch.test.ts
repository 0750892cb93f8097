import { it } from 'vitest';
import { setup } from './helpers';
it('scratch', async () => {
  const { call, makeKey } = await setup();
  const k = await makeKey();
  let r = await call('POST', '/api/text/split', { key: k, body: { text: 'a', foo: 1 } });
  console.log(r.status, await r.text());
  r = await call('POST', '/api/text/split', { key: k, raw: 'x'.repeat(2_000_000), headers: { 'Content-Type': 'application/json' } });
  console.log(r.status, await r.text());
  r = await call('PATCH', '/api/api-keys/x', { key: k, body: { limits: { foo: 1 } } });
  console.log(r.status, await r.text());
  r = await call('HEAD', '/api/health');
  console.log(r.status, await r.text());
  r = await call('patch', '/api/api-keys/x', { key: k, body: {} });
  console.log(r.status, await r.text());
});
