import type { ApiContext } from '../context';
import { json } from '../http';
import type { CatalogEntry } from '../../models/types';

/**
 * `GET /v1/models`: installed and available models. `models` is the documents' shape; `data` repeats it
 * in OpenAI's list shape so the official clients can read it.
 */
export async function v1Models(ctx: ApiContext): Promise<Response> {
  const installed = await ctx.db.getAll('models');
  const have = new Set(installed.map((m) => m.id));
  let catalog: CatalogEntry[];
  let problem: string | undefined;
  try {
    catalog = await ctx.catalog();
  } catch (e) {
    // Never seen online yet (so nothing cached): list what is installed and say why the rest is missing.
    problem = `The model catalogue could not be read (${(e as Error).message}); try again once the studio has been online.`;
    catalog = [];
  }
  const models = catalog.map((m) => ({
    id: m.id,
    name: m.name,
    type: m.kind,
    languages: m.languages,
    sample_rate: m.sample_rate,
    supports_cloning: m.kind === 'converter',
    supports_streaming: m.kind === 'tts' || m.kind === 'converter',
    installed: have.has(m.id),
    bundled: m.bundled,
    bytes: m.total_bytes ?? m.approx_bytes ?? null,
    licence: m.licence,
  }));
  return json({
    object: 'list',
    models,
    data: models.map((m) => ({ ...m, object: 'model', created: 0, owned_by: 'timbre' })),
    total: models.length,
    ...(problem ? { warning: problem } : {}),
  });
}
