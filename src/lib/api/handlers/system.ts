import type { ApiContext } from '../context';
import { json } from '../http';
import { audioInfo, UndecodableAudioError } from '../../codec/duration';
import { readAudioUpload } from '../audio-input';
import { badRequest } from '../errors';
import { splitSentences } from '../../text/split';
import { fastIsDefault, type CloneStatusResult } from '../../clone/contract';

export const AUDIO_UPLOAD_LIMIT = 100 * 1024 * 1024;

export function health(ctx: ApiContext): Response {
  return json({
    status: 'ok',
    message: 'Timbre is running in this browser.',
    sample_rate: 22050,
    version: ctx.version,
  });
}

/**
 * OpenVoice-shape facts of the tone-colour converter (document 004's fields, with its values where the
 * converter is not installed yet); `installed` says whether it is on this device.
 */
export async function info(ctx: ApiContext): Promise<Response> {
  const s = await ctx.engine.run('clone.status', {}).catch(() => ({ installed: false }) as CloneStatusResult);
  return json({
    model: 'OpenVoice Tone Clone',
    model_id: s.id ?? 'openvoice-v2-converter',
    version: s.version ?? 'v2',
    app_version: ctx.version,
    installed: s.installed,
    sample_rate: s.sampleRate ?? 22050,
    // OpenVoice's spectrogram FFT length (filter_length), the same in v1 and v2.
    target_length: s.filterLength ?? 1024,
    tone_dimension: s.toneDimension ?? 256,
    // The int8 variant made on this device: how far from fp32 and how much faster it measured here.
    fast_converter: s.fast
      ? {
          snr_db: s.fast.snr_db,
          speedup: s.fast.speedup,
          default: fastIsDefault(s.fast),
          convs: s.fast.convs,
        }
      : null,
    supported_formats: ['wav', 'mp3', 'flac', 'ogg', 'opus', 'm4a', 'aac', 'webm'],
  });
}

export async function systemInfo(ctx: ApiContext): Promise<Response> {
  const f = await ctx.system();
  return json({
    app_version: ctx.version,
    cores: f.cores,
    device_memory_gb: f.device_memory_gb,
    storage: f.storage,
    webgpu: f.webgpu,
    cross_origin_isolated: f.cross_origin_isolated,
    threads_available: f.threads_available,
    user_agent: f.user_agent,
    engine_hosts: await ctx.engine.hostCount(),
  });
}

export async function systemStats(ctx: ApiContext): Promise<Response> {
  const f = await ctx.system();
  const jobs = ctx.jobs.stats();
  const all = await ctx.db.getAll('jobs');
  return json({
    jobs: {
      running: jobs.running,
      queued: all.filter((j) => j.status === 'queued').length,
      total: all.length,
    },
    engine: { hosts: await ctx.engine.hostCount(), js_heap_bytes: f.js_heap_bytes },
    storage: f.storage,
    model_cache_bytes: f.model_cache_bytes,
    event_subscribers: ctx.bus.size,
  });
}

export function textSplit(body: { text: string; max_chars?: number }): Response {
  const sentences = splitSentences(body.text, { maxChars: body.max_chars });
  return json({ sentences, count: sentences.length });
}

export async function audioDuration(request: Request): Promise<Response> {
  const up = await readAudioUpload(request, {
    fileField: 'file',
    jsonField: 'audio',
    limit: AUDIO_UPLOAD_LIMIT,
  });
  try {
    const i = await audioInfo(up.bytes, up.mime);
    return json({
      duration: Math.round(i.duration * 1000) / 1000,
      sample_rate: i.sample_rate,
      channels: i.channels,
      format: i.format,
      codec: i.codec,
    });
  } catch (e) {
    if (e instanceof UndecodableAudioError)
      throw badRequest(e.message, { field: up.name ? 'file' : 'audio' });
    throw e;
  }
}
