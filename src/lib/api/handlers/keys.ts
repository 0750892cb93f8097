import type { z } from 'zod';
import type { ApiContext } from '../context';
import type { keyCreateBody, keyUpdateBody } from '../schemas';
import { ApiError, notFound } from '../errors';
import { json } from '../http';
import { limitFor, type ApiKeyRecord } from '../../auth/keys';
import type { Scope } from '../../auth/scopes';
import { storage } from './voices';

/** A key may hand out only what it holds itself: its scopes, at most its own limits. */
function checkGrant(
  caller: ApiKeyRecord,
  scopes: Scope[] | undefined,
  limits: Partial<Record<Scope, number>> | undefined,
) {
  const wanted = scopes ?? caller.scopes;
  const extra = wanted.filter((s) => !caller.scopes.includes(s));
  if (extra.length)
    throw new ApiError('forbidden', `A key cannot grant scopes it does not hold: ${extra.join(', ')}.`, {
      field: 'scopes',
    });
  for (const [s, n] of Object.entries(limits ?? {}) as [Scope, number][])
    if (n > limitFor(caller, s))
      throw new ApiError(
        'forbidden',
        `A key cannot grant a higher limit than its own for ${s} (${limitFor(caller, s)}/min).`,
        { field: `limits.${s}` },
      );
  return wanted;
}

export async function listKeys(ctx: ApiContext) {
  const keys = await ctx.keys.list();
  return json({
    keys: keys.map(({ id, name, prefix, scopes, limits, allowed_origins, created_at, last_used_at }) => ({
      id,
      name,
      prefix,
      scopes,
      limits,
      allowed_origins,
      created_at,
      last_used_at,
    })),
  });
}

export async function createKey(body: z.infer<typeof keyCreateBody>, caller: ApiKeyRecord, ctx: ApiContext) {
  const scopes = checkGrant(caller, body.scopes, body.limits);
  const { secret, key } = await ctx.keys.create({ ...body, scopes, now: ctx.now() });
  return json({ ...key, key: secret, message: 'Store this key now: it is shown only once.' }, 201);
}

/** A key may manage only keys that hold no scope it lacks itself (so a narrow key cannot revoke a wider one). */
async function checkManage(id: string, caller: ApiKeyRecord, ctx: ApiContext) {
  const target = await ctx.keys.get(id);
  if (!target) throw notFound(`No API key with id ${id}.`);
  const extra = target.scopes.filter((s) => !caller.scopes.includes(s));
  if (extra.length)
    throw new ApiError(
      'forbidden',
      `This key cannot manage a key that holds scopes it lacks: ${extra.join(', ')}.`,
    );
}

export async function updateKey(
  id: string,
  body: z.infer<typeof keyUpdateBody>,
  caller: ApiKeyRecord,
  ctx: ApiContext,
) {
  if (Object.keys(body).length === 0)
    throw new ApiError('bad_request', 'Nothing to update: send at least one field.', { field: 'body' });
  await checkManage(id, caller, ctx);
  if (body.scopes || body.limits) checkGrant(caller, body.scopes, body.limits);
  return json(await storage(() => ctx.keys.update(id, body)));
}

export async function revokeKey(id: string, caller: ApiKeyRecord, ctx: ApiContext) {
  await checkManage(id, caller, ctx);
  await storage(() => ctx.keys.revoke(id));
  return json({ revoked: true, id });
}
