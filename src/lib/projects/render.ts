// The timeline renderer: speech is generated where missing (or taken from its cached render), every source
// is decoded and resampled to the project's rate, trimmed, faded, scaled by clip and track gain, summed,
// and kept from clipping. DOM-free: speech and library audio come through `deps`, so the same code runs in
// the Service Worker, the page and Node tests. Mono mixdown (library WAVs are averaged to mono on decode).
import { resample } from '../dsp/resample';
import { decodeWav, encodeWav } from '../dsp/wav';
import { decodeBase64 } from '../core/base64';
import { CancelledError, type Progress, type ProgressFn } from '../core/run';
import {
  allClips,
  clipSpan,
  layoutProject,
  speechKey,
  timelineDuration,
  validateProject,
  type Project,
  type TimelineClip,
} from '../documents/project';
import type { MonoAudio } from '../dsp/audio';

export interface RenderDeps {
  /** Speech for one clip (Kokoro via the engine in the app). */
  speak(
    text: string,
    voice: string,
    speed: number,
    opts: { signal?: AbortSignal; onProgress?: ProgressFn },
  ): Promise<MonoAudio>;
  /** A clip library record's WAV bytes; throws when there is none. */
  loadClip(clip_id: string): Promise<Uint8Array>;
  /** Keeps generated speech (as a WAV) for the next render and answers its clip id; absent = no cache. */
  saveGenerated?(
    wav: Uint8Array,
    info: { name: string; duration: number; sample_rate: number },
  ): Promise<string>;
  /** Forgets a cached render that no longer matches its clip (text, voice or speed changed). */
  dropGenerated?(clip_id: string): Promise<void>;
}

export type LimiterMode = 'normalize' | 'soft' | 'none';

export interface RenderOptions {
  signal?: AbortSignal;
  onProgress?: ProgressFn;
  /**
   * What happens when the sum goes over `ceiling`: 'normalize' (default) scales the whole mix down so its
   * peak sits at the ceiling (no distortion, the balance is kept); 'soft' bends only the samples above
   * the knee (tanh), leaving quiet parts untouched; 'none' leaves it (a WAV encoder then clips).
   */
  limiter?: LimiterMode;
  /** Peak ceiling, linear (default 0.98 ≈ −0.2 dBFS). */
  ceiling?: number;
  /** Also answer each clip's own audio (trimmed, faded, with its gains) for zipClips. */
  keepClipAudio?: boolean;
}

export interface RenderedClip {
  id: string;
  track_id: string;
  /** Seconds on the timeline (exact: measured lengths). */
  start: number;
  end: number;
  source_duration: number;
  /** Speech made in this render (false: taken from its cache, or not speech). */
  generated: boolean;
  speaker?: string;
  text?: string;
  muted: boolean;
}

export interface RenderResult {
  samples: Float32Array;
  sampleRate: number;
  /** Seconds; equals timelineDuration(project) to within one sample. */
  duration: number;
  /** The project with measured source durations, exact starts and cache ids (save it back). */
  project: Project;
  clips: RenderedClip[];
  /** Peak of the sum before limiting. */
  peak: number;
  /** The factor 'normalize' applied (1 = untouched), or the share of samples 'soft' bent. */
  limited: number;
  /** Speech clips generated now, and taken from the cache. */
  spoken: number;
  reused: number;
  /** With keepClipAudio: each unmuted clip's audio as it enters the mix (before limiting), by clip id. */
  clipAudio?: Map<string, Float32Array>;
}

/** A library clip or embedded audio that cannot be read. */
export class ClipSourceError extends Error {
  override name = 'ClipSourceError';
  constructor(
    readonly clip_id: string,
    message: string,
  ) {
    super(message);
  }
}

export const dbToGain = (db: number) => Math.pow(10, db / 20);

function check(signal: AbortSignal | undefined) {
  if (signal?.aborted) throw new CancelledError('The render was cancelled.');
}

interface Source {
  samples: Float32Array;
  /** Seconds at the source's own rate (before resampling, so it does not drift by a rounding). */
  duration: number;
}

function decodeSource(clipId: string, bytes: Uint8Array, rate: number, what: string): Source {
  let d;
  try {
    d = decodeWav(bytes);
  } catch (e) {
    throw new ClipSourceError(
      clipId,
      `Clip "${clipId}": ${what} is not a readable WAV (${(e as Error).message}).`,
    );
  }
  return {
    samples: d.sampleRate === rate ? d.samples : resample(d.samples, d.sampleRate, rate),
    duration: d.samples.length / d.sampleRate,
  };
}

/** The clip's source, resampled to `rate`; speech is generated unless its cached render still matches. */
async function loadSource(
  c: TimelineClip,
  rate: number,
  deps: RenderDeps,
  opts: RenderOptions,
  report: (p: Omit<Progress, 'stage'> & { stage?: string }) => void,
): Promise<Source & { spoken: boolean }> {
  const k = c.content;
  if (k.kind === 'library') {
    let bytes: Uint8Array;
    try {
      bytes = await deps.loadClip(k.clip_id);
    } catch (e) {
      throw new ClipSourceError(
        c.id,
        `Clip "${c.id}": library clip "${k.clip_id}" cannot be read (${(e as Error).message}).`,
      );
    }
    return { ...decodeSource(c.id, bytes, rate, `library clip "${k.clip_id}"`), spoken: false };
  }
  if (k.kind === 'audio') {
    const bytes = decodeBase64(k.wav_base64);
    if (!bytes) throw new ClipSourceError(c.id, `Clip "${c.id}": its embedded audio is not valid base64.`);
    return { ...decodeSource(c.id, bytes, rate, 'its embedded audio'), spoken: false };
  }
  const key = speechKey(k.text, k.voice, k.speed);
  if (k.generated && k.generated.key === key) {
    try {
      const cached = decodeSource(c.id, await deps.loadClip(k.generated.clip_id), rate, 'cached speech');
      return { ...cached, spoken: false };
    } catch {
      // The cached render was deleted from the library: speak it again.
    }
  }
  if (k.generated) {
    await deps.dropGenerated?.(k.generated.clip_id).catch(() => undefined);
    delete k.generated;
  }
  const s = await deps.speak(k.text, k.voice, k.speed, {
    signal: opts.signal,
    onProgress: (p) => report({ done: p.done, total: p.total, message: p.message ?? k.text.slice(0, 60) }),
  });
  check(opts.signal);
  const duration = s.samples.length / s.sampleRate;
  if (deps.saveGenerated) {
    const name = `${k.speaker ? `${k.speaker}: ` : ''}${k.text.slice(0, 60)}`;
    const clip_id = await deps.saveGenerated(encodeWav(s.samples, s.sampleRate, 'f32'), {
      name,
      duration,
      sample_rate: s.sampleRate,
    });
    k.generated = { clip_id, key };
  }
  const samples = s.sampleRate === rate ? s.samples : resample(s.samples, s.sampleRate, rate);
  return { samples, duration, spoken: true };
}

/** Linear fade envelope at sample i of a clip of L samples (fade lengths in samples). */
export function fadeAt(i: number, L: number, fadeIn: number, fadeOut: number): number {
  let g = 1;
  if (fadeIn > 0 && i < fadeIn) g = i / fadeIn;
  if (fadeOut > 0 && i >= L - fadeOut) g = Math.min(g, (L - i) / fadeOut);
  return g;
}

/** Keeps a mix under `ceiling` (in place); answers what the limiter did (see RenderResult.limited). */
export function limit(
  mix: Float32Array,
  mode: LimiterMode,
  ceiling: number,
): { peak: number; limited: number } {
  let peak = 0;
  for (let i = 0; i < mix.length; i++) peak = Math.max(peak, Math.abs(mix[i]!));
  if (peak <= ceiling || mode === 'none') return { peak, limited: mode === 'soft' ? 0 : 1 };
  if (mode === 'normalize') {
    const g = ceiling / peak;
    for (let i = 0; i < mix.length; i++) mix[i]! *= g;
    return { peak, limited: g };
  }
  // Soft knee at half the ceiling: above it, tanh maps (knee, ∞) smoothly onto (knee, ceiling).
  const knee = ceiling / 2;
  const room = ceiling - knee;
  let bent = 0;
  for (let i = 0; i < mix.length; i++) {
    const x = mix[i]!;
    const a = Math.abs(x);
    if (a <= knee) continue;
    mix[i] = Math.sign(x) * (knee + room * Math.tanh((a - knee) / room));
    bent++;
  }
  return { peak, limited: mix.length ? bent / mix.length : 0 };
}

/**
 * Renders a project to a mono mixdown at its sample rate. Progress: stage 'sources' (one step per clip;
 * speech generation reports inside it) then 'mix'. Honours `signal` between and inside steps.
 */
export async function renderProject(
  project: Project,
  deps: RenderDeps,
  opts: RenderOptions = {},
): Promise<RenderResult> {
  const p = validateProject(structuredClone(project));
  const rate = p.sample_rate;
  const entries = allClips(p);
  const sources = new Map<string, Source>();
  let spoken = 0;
  let reused = 0;
  const spokenNow = new Set<string>();
  for (let i = 0; i < entries.length; i++) {
    check(opts.signal);
    const { track, clip } = entries[i]!;
    const report = (x: Omit<Progress, 'stage'> & { stage?: string }) =>
      opts.onProgress?.({
        stage: 'sources',
        done: i,
        total: entries.length,
        message: x.message,
      });
    // A muted track is silent, but its clips still need a length for the timeline.
    if (track.muted && clipSpan(clip) !== null) continue;
    report({ done: i, total: entries.length, message: `clip ${i + 1} of ${entries.length}` });
    const s = await loadSource(clip, rate, deps, opts, report);
    clip.source_duration = s.duration;
    sources.set(clip.id, s);
    if (clip.content.kind === 'speech') {
      if (s.spoken) {
        spoken++;
        spokenNow.add(clip.id);
      } else reused++;
    }
  }
  opts.onProgress?.({ stage: 'sources', done: entries.length, total: entries.length });
  layoutProject(p); // exact now that every length is measured
  const duration = timelineDuration(p);
  const mix = new Float32Array(Math.round(duration * rate));
  const clips: RenderedClip[] = [];
  const clipAudio = opts.keepClipAudio ? new Map<string, Float32Array>() : undefined;
  for (let i = 0; i < entries.length; i++) {
    check(opts.signal);
    opts.onProgress?.({ stage: 'mix', done: i, total: entries.length });
    const { track, clip } = entries[i]!;
    const span = clipSpan(clip) ?? 0;
    const k = clip.content;
    clips.push({
      id: clip.id,
      track_id: track.id,
      start: clip.start,
      end: clip.start + span,
      source_duration: clip.source_duration ?? 0,
      generated: spokenNow.has(clip.id),
      muted: track.muted,
      ...(k.kind === 'speech' ? { text: k.text, ...(k.speaker ? { speaker: k.speaker } : {}) } : {}),
    });
    const src = sources.get(clip.id);
    if (track.muted || !src) continue;
    const gain = dbToGain(clip.gain_db + track.gain_db);
    const s0 = Math.round(clip.start * rate);
    const off = Math.round(clip.offset * rate);
    const L = Math.min(Math.round(span * rate), mix.length - s0);
    const fi = Math.round(clip.fade_in * rate);
    const fo = Math.round(clip.fade_out * rate);
    const n = Math.min(L, src.samples.length - off); // past the source's end: silence
    const own = clipAudio ? new Float32Array(Math.max(0, L)) : null;
    for (let j = 0; j < n; j++) {
      const x = src.samples[off + j]! * gain * fadeAt(j, L, fi, fo);
      mix[s0 + j]! += x;
      if (own) own[j] = x;
    }
    if (own) clipAudio!.set(clip.id, own);
  }
  const { peak, limited } = limit(mix, opts.limiter ?? 'normalize', opts.ceiling ?? 0.98);
  opts.onProgress?.({ stage: 'mix', done: entries.length, total: entries.length });
  return {
    samples: mix,
    sampleRate: rate,
    duration,
    project: p,
    clips,
    peak,
    limited,
    spoken,
    reused,
    ...(clipAudio ? { clipAudio } : {}),
  };
}
