// Timeline projects: CRUD over the projects store, and the render job.
// The render runs here, in the Service Worker, as a JobManager task rather than as one engine op: the
// voices, the lexicon, the clip library and the project all live in this context's IndexedDB; speech is
// already an engine op (tts.generate, or clone.speak for cloned voices) and so is encoding (audio.encode);
// what is left — resampling, trims, fades, gains and the sum — is cheap DSP next to speech synthesis and
// does not deserve a place in a model's queue.
import { z } from 'zod';
import type { ApiContext } from '../context';
import { ApiError, badRequest, jobError, notFound } from '../errors';
import { json, readBodyBytes } from '../http';
import type { ApiKeyRecord } from '../../auth/keys';
import { newId } from '../../core/ids';
import { ProjectStore } from '../../storage/projects';
import { NotFoundError, guardQuota } from '../../storage/errors';
import type { ClipRecord } from '../../storage/records';
import {
  allClips,
  layoutProject,
  newTrack,
  ProjectValidationError,
  speechKey,
  timelineDuration,
  validateProject,
  type Project,
} from '../../documents/project';
import {
  applyScript,
  parseScript,
  ScriptSyntaxError,
  UnknownSpeakerError,
  voiceFor,
} from '../../projects/script';
import { ClipSourceError, renderProject, type RenderResult } from '../../projects/render';
import {
  exportProjectFile,
  importProjectFile,
  PROJECT_FILE_MIME,
  ProjectFileError,
  referencedClipIds,
  zipClips,
} from '../../projects/file';
import { encodeWav } from '../../dsp/wav';
import { clonedArgs, engineArgs, resolveSpeaker } from './speaker';
import { runApiJob } from '../run-job';
import { convertOptions } from './audio-tools';
import type { EncodeOptions } from '../../codec/formats';

/** Bodies may embed audio (kind 'audio' clips as base64). */
export const PROJECT_BODY_LIMIT = 64 * 1024 * 1024;

export const createProjectBody = z
  .object({
    name: z.string().min(1).max(200),
    sample_rate: z.number().int().min(8000).max(96000).optional(),
    tracks: z.array(z.unknown()).max(32).optional(),
    script: z.string().max(100_000).optional(),
    cast: z.record(z.string(), z.string()).optional(),
    /** Seconds between script lines. */
    gap: z.number().min(0).max(10).optional(),
  })
  .strict();

/**
 * A whole project as GET answers it; validateProject checks the fields and names the wrong one. `duration`
 * is computed, accepted so a GET result can be sent back, and ignored.
 */
export const putProjectBody = z
  .object({
    id: z.string().optional(),
    name: z.string().optional(),
    created_at: z.number().optional(),
    updated_at: z.number().optional(),
    sample_rate: z.number().optional(),
    tracks: z.array(z.unknown()).optional(),
    cast: z.record(z.string(), z.string()).optional(),
    script: z.string().optional(),
    duration: z.number().optional(),
  })
  .strict();

/** The ranges of /v1/audio/convert, which encodes the mixdown. */
export const renderBody = z
  .object({
    format: z.string().optional(),
    bitrate: z.number().int().min(64).max(320).optional(),
    sample_rate: z.number().int().min(8000).max(48000).optional(),
    channels: z.enum(['mono', 'stereo']).optional(),
    sample_format: z.enum(['s16', 'f32']).optional(),
    limiter: z.enum(['normalize', 'soft', 'none']).optional(),
  })
  .strict();

/** Model, script and source errors as 400s naming the field. */
function asApiError(e: unknown): unknown {
  if (e instanceof ProjectValidationError) return badRequest(e.message, { field: e.field });
  if (e instanceof UnknownSpeakerError)
    return badRequest(e.message, { field: `cast.${e.speaker}`, speaker: e.speaker, line: e.line });
  if (e instanceof ScriptSyntaxError) return badRequest(e.message, { field: 'script', line: e.line });
  if (e instanceof ClipSourceError) return badRequest(e.message, { field: 'tracks', clip_id: e.clip_id });
  if (e instanceof ProjectFileError) return badRequest(e.message);
  if (e instanceof NotFoundError) return notFound(e.message);
  return e;
}

async function guarded<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    throw asApiError(e);
  }
}

/** Every cast voice must be speakable: a 400 naming the speaker now beats a failed render later. */
async function checkCast(cast: Record<string, string>, ctx: ApiContext) {
  for (const [speaker, voice] of Object.entries(cast))
    try {
      await resolveSpeaker(voice, ctx);
    } catch (e) {
      if (e instanceof ApiError && e.code === 'not_found')
        throw badRequest(`cast.${speaker}: ${e.message}`, { field: `cast.${speaker}` });
      throw e;
    }
}

export async function listProjects(ctx: ApiContext) {
  const projects = await new ProjectStore(ctx.db).list();
  return json({ projects, total: projects.length });
}

/** `POST /api/projects` {name, sample_rate?, tracks?, script?, cast?, gap?} → 201 the project. */
export async function createProject(body: z.infer<typeof createProjectBody>, ctx: ApiContext) {
  return guarded(async () => {
    const p = validateProject({
      name: body.name,
      sample_rate: body.sample_rate,
      tracks: body.tracks ?? [newTrack(body.script ? 'Voices' : 'Track 1')],
      cast: body.cast ?? {},
    });
    if (body.script !== undefined) {
      const script = parseScript(body.script);
      for (const l of script.lines)
        if (!voiceFor(p.cast, l.speaker)) throw new UnknownSpeakerError(l.speaker, l.line);
      applyScript(p, body.script, { gap: body.gap });
    }
    await checkCast(p.cast, ctx);
    const saved = await new ProjectStore(ctx.db).put(p, { touch: false });
    return json(withDuration(saved), 201, { Location: `/api/projects/${saved.id}` });
  });
}

const withDuration = (p: Project) => ({ ...p, duration: timelineDuration(p) });

export async function getProject(id: string, ctx: ApiContext) {
  return guarded(async () => json(withDuration(await new ProjectStore(ctx.db).require(id))));
}

/** `PUT /api/projects/{id}`: the whole project (validated); id and created_at stay the stored ones. */
export async function putProject(id: string, body: unknown, ctx: ApiContext) {
  return guarded(async () => {
    const store = new ProjectStore(ctx.db);
    const old = await store.require(id);
    const { duration: _computed, ...fields } = body as Record<string, unknown>;
    const p = validateProject({ ...fields, id, created_at: old.created_at });
    await checkCast(p.cast, ctx);
    return json(withDuration(await store.put(p)));
  });
}

export async function deleteProject(id: string, ctx: ApiContext) {
  return guarded(async () => {
    const p = await new ProjectStore(ctx.db).delete(id);
    return json({ deleted: true, id: p.id });
  });
}

/** Measurements of a render copied onto the project as it is now (it may have been edited meanwhile). */
export function mergeRender(current: Project, rendered: Project): Project {
  const byId = new Map(allClips(rendered).map(({ clip }) => [clip.id, clip]));
  for (const { clip } of allClips(current)) {
    const r = byId.get(clip.id);
    if (!r || r.source_duration === null) continue;
    const a = clip.content;
    const b = r.content;
    if (a.kind === 'speech' && b.kind === 'speech') {
      if (speechKey(a.text, a.voice, a.speed) !== speechKey(b.text, b.voice, b.speed)) continue;
      if (b.generated) a.generated = b.generated;
      else delete a.generated;
    } else if (a.kind === 'library' && b.kind === 'library') {
      if (a.clip_id !== b.clip_id) continue;
    } else if (a.kind !== b.kind) continue;
    clip.source_duration = r.source_duration;
  }
  return layoutProject(current);
}

export interface ProjectRenderJobResult {
  project_id: string;
  format: string;
  content_type: string;
  extension: string;
  bytes: Uint8Array;
  size: number;
  duration: number;
  sample_rate: number;
  clips: {
    id: string;
    track_id: string;
    start: number;
    end: number;
    speaker?: string;
    text?: string;
    muted: boolean;
  }[];
  peak: number;
  limited: number;
  spoken: number;
  reused: number;
  audio_url: string;
}

/** The mixdown (or the clips zip) in the asked format. */
async function encodeMix(
  r: RenderResult,
  opts: EncodeOptions | 'zip',
  ctx: ApiContext,
  signal?: AbortSignal,
) {
  if (opts === 'zip')
    return { bytes: zipClips(r), content_type: 'application/zip', extension: 'zip', format: 'zip' };
  const plainWav = opts.format === 'wav' && !opts.sampleRate && opts.channels !== 2;
  if (plainWav)
    return {
      bytes: encodeWav(r.samples, r.sampleRate, opts.sampleFormat ?? 's16'),
      content_type: 'audio/wav',
      extension: 'wav',
      format: 'wav',
    };
  const e = await ctx.engine.run(
    'audio.encode',
    { samples: r.samples, sampleRate: r.sampleRate, options: opts },
    { signal },
  );
  return { bytes: e.bytes, content_type: e.mime, extension: e.extension, format: e.format };
}

/**
 * `POST /api/projects/{id}/render` {format, bitrate, sample_rate, channels, sample_format, limiter} → 202
 * with the job. Its result: the file's facts, the exact duration and each clip's start/end; the file itself
 * is `GET /api/projects/{id}/render/{job_id}`.
 */
export async function startRender(
  id: string,
  body: z.infer<typeof renderBody>,
  key: ApiKeyRecord,
  ctx: ApiContext,
): Promise<Response> {
  const store = new ProjectStore(ctx.db);
  const project = await guarded(() => store.require(id));
  if (!allClips(project).length)
    throw badRequest('The project has no clips to render: add speech, a script or library clips.', {
      field: 'tracks',
    });
  const fmt = (body.format ?? 'wav').toLowerCase();
  const enc: EncodeOptions | 'zip' = fmt === 'zip' ? 'zip' : convertOptions({ ...body, format: fmt });
  // Unknown voices answer now, not as a failed job.
  const voices = new Set<string>();
  for (const { clip } of allClips(project))
    if (clip.content.kind === 'speech') voices.add(clip.content.voice);
  for (const v of voices)
    try {
      await resolveSpeaker(v, ctx);
    } catch (e) {
      if (e instanceof ApiError && e.code === 'not_found') throw badRequest(e.message, { field: 'tracks' });
      throw e;
    }
  const audioUrl = (jobId: string) => `/api/projects/${encodeURIComponent(id)}/render/${jobId}`;
  const ran = await runApiJob(
    ctx,
    {
      op: 'project.render',
      task: async (o, jobId) => {
        try {
          const r = await renderProject(
            project,
            {
              speak: async (text, voice, speed, so) => {
                const { args, speaker } = await engineArgs(
                  { text, voice, speed, format: 'wav', route: 'POST /api/projects/{id}/render' },
                  ctx,
                );
                if (speaker.cloned)
                  return ctx.engine.run('clone.speak', clonedArgs(args, speaker.cloned), so);
                return ctx.engine.run('tts.generate', args, so);
              },
              loadClip: async (clip_id) => {
                const c = await ctx.db.get('clips', clip_id);
                if (!c) throw new NotFoundError(`No clip "${clip_id}" in the library.`);
                return new Uint8Array(c.audio);
              },
              saveGenerated: async (wav, info) => {
                const now = ctx.now();
                const rec: ClipRecord = {
                  id: newId('clip'),
                  name: info.name,
                  created_at: now,
                  updated_at: now,
                  source: 'generated',
                  duration: info.duration,
                  sample_rate: info.sample_rate,
                  channels: 1,
                  audio: wav.buffer as ArrayBuffer,
                };
                await guardQuota('the generated speech', () => ctx.db.put('clips', rec));
                return rec.id;
              },
              dropGenerated: async (clip_id) => {
                const c = await ctx.db.get('clips', clip_id);
                if (c?.source === 'generated') await ctx.db.delete('clips', clip_id);
              },
            },
            {
              signal: o.signal,
              onProgress: o.onProgress,
              limiter: body.limiter,
              keepClipAudio: enc === 'zip',
            },
          );
          o.onProgress?.({ stage: 'encode', done: 0, total: 1 });
          const file = await encodeMix(r, enc, ctx, o.signal);
          // Keep what the render measured (lengths, cached speech) on the project as it is now.
          const current = await store.get(id);
          if (current) await store.put(mergeRender(current, r.project));
          const result: ProjectRenderJobResult = {
            project_id: id,
            ...file,
            size: file.bytes.byteLength,
            duration: r.duration,
            sample_rate: r.sampleRate,
            clips: r.clips.map(({ id, track_id, start, end, speaker, text, muted }) => ({
              id,
              track_id,
              start,
              end,
              muted,
              ...(speaker ? { speaker } : {}),
              ...(text ? { text } : {}),
            })),
            peak: r.peak,
            limited: r.limited,
            spoken: r.spoken,
            reused: r.reused,
            audio_url: audioUrl(jobId),
          };
          return result;
        } catch (e) {
          throw asApiError(e);
        }
      },
    },
    {
      owner: key.id,
      waitMs: 0,
      onTimeout: {
        accept: (jobId) => ({
          audio_url: audioUrl(jobId),
          // Until the render has measured every clip, lengths of speech not generated yet are estimates.
          estimated_duration: timelineDuration(project),
        }),
      },
    },
  );
  return ran.accepted;
}

/** `GET /api/projects/{id}/render/{job_id}`: the rendered file of a finished render job of yours. */
export async function renderedFile(id: string, jobId: string, key: ApiKeyRecord, ctx: ApiContext) {
  const j = await ctx.jobs.get(jobId);
  const r = j?.result as ProjectRenderJobResult | undefined;
  if (!j || j.owner !== key.id || j.op !== 'project.render') throw notFound(`No render job "${jobId}".`);
  if (j.status === 'queued' || j.status === 'running')
    return json({ job_id: j.id, status: j.status, progress: j.progress, poll: `/api/jobs/${j.id}` }, 202, {
      'Retry-After': '2',
    });
  if (j.status !== 'succeeded' || !r) throw jobError(j, 'The render failed.');
  if (r.project_id !== id) throw notFound(`Render job "${jobId}" is not of project "${id}".`);
  const stem = ((await ctx.db.get('projects', id))?.name ?? 'project').replace(/[^\w.-]+/g, '_');
  return new Response(r.bytes as Uint8Array<ArrayBuffer>, {
    headers: {
      'Content-Type': r.content_type,
      'Content-Length': String(r.bytes.byteLength),
      'Content-Disposition': `attachment; filename="${stem}.${r.extension}"`,
      'X-Audio-Duration': String(r.duration),
      'X-Sample-Rate': String(r.sample_rate),
      'X-Job-Id': j.id,
    },
  });
}

/** `GET /api/projects/{id}/export`: the project file (JSON with the library audio it uses embedded). */
export async function exportProject(id: string, ctx: ApiContext): Promise<Response> {
  return guarded(async () => {
    const p = await new ProjectStore(ctx.db).require(id);
    const clips: ClipRecord[] = [];
    for (const cid of referencedClipIds(p)) {
      const c = await ctx.db.get('clips', cid);
      if (c) clips.push(c);
    }
    const bytes = exportProjectFile(p, clips);
    const stem = p.name.replace(/[^\w.-]+/g, '_') || 'project';
    return new Response(bytes as Uint8Array<ArrayBuffer>, {
      headers: {
        'Content-Type': PROJECT_FILE_MIME,
        'Content-Length': String(bytes.byteLength),
        'Content-Disposition': `attachment; filename="${stem}.timbre.json"`,
      },
    });
  });
}

/** `POST /api/projects/import`: a project file as the body → 201 the new project (its clips stored too). */
export async function importProject(request: Request, ctx: ApiContext): Promise<Response> {
  const bytes = await readBodyBytes(request, PROJECT_BODY_LIMIT);
  if (!bytes.length) throw badRequest('body: send a project file (.timbre.json).', { field: 'body' });
  return guarded(async () => {
    const { project, clips } = importProjectFile(bytes);
    await guardQuota('the imported clips', async () => {
      const tx = ctx.db.transaction('clips', 'readwrite');
      for (const c of clips) await tx.store.put(c);
      await tx.done;
    });
    const saved = await new ProjectStore(ctx.db).put(project, { touch: false });
    return json(withDuration(saved), 201, { Location: `/api/projects/${saved.id}` });
  });
}
