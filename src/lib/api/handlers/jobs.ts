import type { ApiContext } from '../context';
import { notFound } from '../errors';
import { json } from '../http';
import type { ApiKeyRecord } from '../../auth/keys';
import type { JobRecord } from '../../storage/records';
import type { StudioEvent } from '../events';

/** How long a request waits for a job before answering 202 with its id (a fetch should not hang). */
export const SYNC_WAIT_MS = 25_000;

/** Typed arrays (e.g. synthesised audio) become {type, length} in JSON instead of one key per sample. */
export function summarizeBinary(v: unknown): unknown {
  if (ArrayBuffer.isView(v))
    return { type: v.constructor.name, length: (v as unknown as { length?: number }).length ?? v.byteLength };
  if (v instanceof ArrayBuffer) return { type: 'ArrayBuffer', length: v.byteLength };
  if (Array.isArray(v)) return v.map(summarizeBinary);
  if (v && typeof v === 'object')
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, summarizeBinary(x)]));
  return v;
}

export function jobJson(j: JobRecord) {
  return {
    job_id: j.id,
    op: j.op,
    status: j.status,
    progress: j.progress,
    result: summarizeBinary(j.result ?? null),
    error: j.error ?? null,
    created_at: j.created_at,
    updated_at: j.updated_at,
  };
}

export async function getJob(id: string, key: ApiKeyRecord, ctx: ApiContext) {
  const j = await ctx.jobs.get(id);
  // Another key's job is reported as missing, so ids cannot be probed.
  if (!j || j.owner !== key.id) throw notFound(`No job with id "${id}".`);
  return json(jobJson(j));
}

export async function cancel(jobId: string | undefined, key: ApiKeyRecord, ctx: ApiContext) {
  if (jobId) {
    const j = await ctx.jobs.get(jobId);
    if (!j || j.owner !== key.id) throw notFound(`No job with id "${jobId}".`);
  }
  const cancelled = await ctx.jobs.cancel({ id: jobId, owner: key.id });
  return json({ cancelled });
}

/**
 * `GET /api/events`: job progress as Server-Sent Events (a Service Worker cannot serve WebSockets).
 * Only the caller's own jobs are sent; a comment line every 15 s keeps proxies and the browser patient.
 */
export function events(request: Request, key: ApiKeyRecord, ctx: ApiContext): Response {
  const enc = new TextEncoder();
  let unsubscribe = () => {};
  let heartbeat: ReturnType<typeof setInterval> | undefined;
  const stream = new ReadableStream<Uint8Array>({
    start(controller) {
      const send = (text: string) => {
        try {
          controller.enqueue(enc.encode(text));
        } catch {
          stop();
        }
      };
      const stop = () => {
        unsubscribe();
        clearInterval(heartbeat);
        try {
          controller.close();
        } catch {
          // already closed
        }
      };
      send(`retry: 2000\nevent: ready\ndata: ${JSON.stringify({ key: key.prefix })}\n\n`);
      unsubscribe = ctx.bus.subscribe((e: StudioEvent) => {
        if (e.type === 'job' && e.job.owner === key.id)
          send(`event: job\nid: ${e.job.id}:${e.job.updated_at}\ndata: ${JSON.stringify(e.job)}\n\n`);
      });
      heartbeat = setInterval(() => send(': keep-alive\n\n'), 15_000);
      request.signal?.addEventListener('abort', stop, { once: true });
    },
    cancel() {
      unsubscribe();
      clearInterval(heartbeat);
    },
  });
  return new Response(stream, {
    headers: { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-store', Connection: 'keep-alive' },
  });
}
