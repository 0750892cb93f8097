// The timeline project model shared by storage, the API, the renderer and the Projects view.
// A project holds tracks; a track holds clips placed at a start time. DOM-free.
// (Contract written first so storage/API/render and the view can be built side by side; extend, don't
// rename: the Projects view and the API both depend on these names.)
import { newId } from '../core/ids';

/** Where a clip's audio comes from. */
export type ClipContent =
  /** Generated speech: re-generable from its text, voice and parameters. */
  | {
      kind: 'speech';
      text: string;
      /** A preset id, library voice id or mix formula (as in /v1/audio/speech). */
      voice: string;
      speed: number;
      /** The speaker label of a script line (`[Anna] …`), when the clip came from a script. */
      speaker?: string;
      /**
       * The last generated audio, kept in the clip library (source 'generated') so a second render does
       * not speak it again. Valid only while `key` equals speechKey(text, voice, speed): editing the text,
       * voice or speed invalidates it without anyone having to clear it.
       */
      generated?: { clip_id: string; key: string };
    }
  /** A clip of the clip library (src/lib/storage/clips.ts), by id. */
  | { kind: 'library'; clip_id: string }
  /** Audio imported into the project itself (a WAV file as base64), e.g. from a project file. */
  | { kind: 'audio'; name: string; wav_base64: string };

export interface TimelineClip {
  id: string;
  content: ClipContent;
  /** Seconds from the start of the timeline. */
  start: number;
  /** Seconds skipped at the start of the source audio (trim in). */
  offset: number;
  /** Seconds of source audio played from `offset` (trim out); null = to the end of the source. */
  length: number | null;
  /** Gain in dB, −40…+12. */
  gain_db: number;
  fade_in: number;
  fade_out: number;
  /**
   * Seconds of the source audio as last rendered or decoded (speech is known only after generation;
   * null until then). The timeline's length uses it.
   */
  source_duration: number | null;
  /**
   * Placed `gap` seconds after the end of clip `clip` (script lines follow each other this way). Because
   * speech lengths are known only after generation, layoutProject recomputes `start` from it; a clip moved
   * by hand should drop it.
   */
  after?: { clip: string; gap: number };
}

export interface Track {
  id: string;
  name: string;
  gain_db: number;
  muted: boolean;
  clips: TimelineClip[];
}

export interface Project {
  id: string;
  name: string;
  created_at: number;
  updated_at: number;
  /** Mixdown sample rate. */
  sample_rate: number;
  tracks: Track[];
  /** Speaker label of script lines → voice (preset id, library voice id or formula). */
  cast: Record<string, string>;
  /** The multi-voice script the speech clips were made from, when there was one (kept for editing). */
  script?: string;
}

/** Seconds a clip occupies on the timeline, or null when its source length is not known yet. */
export function clipSpan(c: TimelineClip): number | null {
  if (c.length !== null) return c.length;
  if (c.source_duration === null) return null;
  return Math.max(0, c.source_duration - c.offset);
}

/** The timeline's length: the end of its last clip (clips of unknown length count as 0 s). */
export function timelineDuration(p: Project): number {
  let end = 0;
  for (const t of p.tracks) for (const c of t.clips) end = Math.max(end, c.start + (clipSpan(c) ?? 0));
  return end;
}

export const GAIN_MIN_DB = -40;
export const GAIN_MAX_DB = 12;
export const SAMPLE_RATE_MIN = 8000;
export const SAMPLE_RATE_MAX = 96000;
export const DEFAULT_SAMPLE_RATE = 24000;
export const NAME_MAX = 200;
export const TEXT_MAX = 5000;
export const MAX_TRACKS = 32;
export const MAX_CLIPS = 2000;
/** Four hours: beyond this a mixdown would not fit in memory as Float32. */
export const TIMELINE_MAX_SECONDS = 4 * 3600;

/** What identifies generated speech: a cached render is reused only while this is unchanged. */
export function speechKey(text: string, voice: string, speed: number): string {
  return JSON.stringify([text, voice, speed]);
}

/** A project, track or clip that breaks the model's rules; `field` is a path such as `tracks[0].clips[2].gain_db`. */
export class ProjectValidationError extends Error {
  override name = 'ProjectValidationError';
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(`${field}: ${message}`);
  }
}

/** `after` links that go round in a circle (a follows b follows a): no start can be computed. */
export class ClipCycleError extends ProjectValidationError {
  override name = 'ClipCycleError';
}

export function newTrack(name: string, over: Partial<Track> = {}): Track {
  return { id: newId('trk'), name, gain_db: 0, muted: false, clips: [], ...over };
}

export function newClip(content: ClipContent, over: Partial<TimelineClip> = {}): TimelineClip {
  return {
    id: newId('clp'),
    content,
    start: 0,
    offset: 0,
    length: null,
    gain_db: 0,
    fade_in: 0,
    fade_out: 0,
    source_duration: null,
    ...over,
  };
}

export function newProject(
  name: string,
  over: Partial<Omit<Project, 'id' | 'created_at' | 'updated_at'>> = {},
): Project {
  const now = Date.now();
  return {
    id: newId('prj'),
    name,
    created_at: now,
    updated_at: now,
    sample_rate: DEFAULT_SAMPLE_RATE,
    tracks: [newTrack('Track 1')],
    cast: {},
    ...over,
  };
}

/** Every clip with its track, in track order then timeline order. */
export function allClips(p: Project): { track: Track; clip: TimelineClip }[] {
  return p.tracks.flatMap((track) => track.clips.map((clip) => ({ track, clip })));
}

/** A rough length for speech not generated yet (about 14 characters a second at speed 1). */
export function estimateSpeechSeconds(text: string, speed: number): number {
  return Math.max(0.5, text.trim().length / 14 / Math.max(0.25, speed));
}

/** A clip's span, or an estimate for speech not generated yet (other unknown sources count as 0 s). */
export function spanOrEstimate(c: TimelineClip): number {
  const s = clipSpan(c);
  if (s !== null) return s;
  return c.content.kind === 'speech' ? estimateSpeechSeconds(c.content.text, c.content.speed) : 0;
}

/**
 * Recomputes the start of every clip placed `after` another (in place, returns the project): its start is
 * the end of the clip it follows plus the gap. Lengths not known yet are estimated, so the layout becomes
 * exact once the renderer has measured each source. A link to a missing clip is dropped (the clip stays).
 */
export function layoutProject(p: Project): Project {
  const byId = new Map(allClips(p).map(({ clip }) => [clip.id, clip]));
  const done = new Set<string>();
  const visit = (c: TimelineClip, path: Set<string>) => {
    if (done.has(c.id) || !c.after) return;
    if (path.has(c.id))
      throw new ClipCycleError(`clips.${c.id}.after`, 'clips follow each other in a circle.');
    const prev = byId.get(c.after.clip);
    if (!prev) {
      delete c.after;
      return;
    }
    path.add(c.id);
    visit(prev, path);
    c.start = Math.max(0, prev.start + spanOrEstimate(prev) + c.after.gap);
    done.add(c.id);
  };
  for (const c of byId.values()) visit(c, new Set());
  for (const t of p.tracks) t.clips.sort((a, b) => a.start - b.start);
  return p;
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

function num(o: Obj, k: string, at: string, min: number, max: number, dflt?: number): number {
  const v = o[k] === undefined ? dflt : o[k];
  if (typeof v !== 'number' || !Number.isFinite(v))
    throw new ProjectValidationError(`${at}${k}`, 'expected a number.');
  if (v < min || v > max)
    throw new ProjectValidationError(`${at}${k}`, `must be between ${min} and ${max} (got ${v}).`);
  return v;
}

function str(o: Obj, k: string, at: string, max: number, dflt?: string): string {
  const v = o[k] === undefined ? dflt : o[k];
  if (typeof v !== 'string') throw new ProjectValidationError(`${at}${k}`, 'expected a string.');
  if (v.length > max)
    throw new ProjectValidationError(`${at}${k}`, `at most ${max} characters (got ${v.length}).`);
  return v;
}

function content(v: unknown, at: string): ClipContent {
  if (!isObj(v)) throw new ProjectValidationError(at, 'expected an object with a kind.');
  const p = `${at}.`;
  if (v.kind === 'speech') {
    const text = str(v, 'text', p, TEXT_MAX);
    if (!text.trim()) throw new ProjectValidationError(`${p}text`, 'the speech text is empty.');
    const voice = str(v, 'voice', p, 500);
    if (!voice.trim()) throw new ProjectValidationError(`${p}voice`, 'a voice is required.');
    const c: ClipContent = { kind: 'speech', text, voice, speed: num(v, 'speed', p, 0.5, 2, 1) };
    if (v.speaker !== undefined) c.speaker = str(v, 'speaker', p, NAME_MAX);
    const g = v.generated;
    if (isObj(g) && typeof g.clip_id === 'string' && typeof g.key === 'string')
      c.generated = { clip_id: g.clip_id, key: g.key };
    return c;
  }
  if (v.kind === 'library') {
    const clip_id = str(v, 'clip_id', p, 200);
    if (!clip_id) throw new ProjectValidationError(`${p}clip_id`, 'a clip id is required.');
    return { kind: 'library', clip_id };
  }
  if (v.kind === 'audio') {
    const wav_base64 = str(v, 'wav_base64', p, Number.MAX_SAFE_INTEGER);
    if (!/^[A-Za-z0-9+/]+=*$/.test(wav_base64))
      throw new ProjectValidationError(`${p}wav_base64`, 'expected a WAV file as base64.');
    return { kind: 'audio', name: str(v, 'name', p, NAME_MAX, 'audio'), wav_base64 };
  }
  throw new ProjectValidationError(
    `${p}kind`,
    `expected "speech", "library" or "audio" (got ${JSON.stringify(v.kind)}).`,
  );
}

function clip(v: unknown, at: string): TimelineClip {
  if (!isObj(v)) throw new ProjectValidationError(at, 'expected a clip object.');
  const p = `${at}.`;
  const length =
    v.length === undefined || v.length === null ? null : num(v, 'length', p, 0.001, TIMELINE_MAX_SECONDS);
  const source_duration =
    v.source_duration === undefined || v.source_duration === null
      ? null
      : num(v, 'source_duration', p, 0, TIMELINE_MAX_SECONDS);
  const c: TimelineClip = {
    id: v.id === undefined ? newId('clp') : str(v, 'id', p, 100),
    content: content(v.content, `${p}content`),
    start: num(v, 'start', p, 0, TIMELINE_MAX_SECONDS, 0),
    offset: num(v, 'offset', p, 0, TIMELINE_MAX_SECONDS, 0),
    length,
    gain_db: num(v, 'gain_db', p, GAIN_MIN_DB, GAIN_MAX_DB, 0),
    fade_in: num(v, 'fade_in', p, 0, TIMELINE_MAX_SECONDS, 0),
    fade_out: num(v, 'fade_out', p, 0, TIMELINE_MAX_SECONDS, 0),
    source_duration,
  };
  if (!c.id) throw new ProjectValidationError(`${p}id`, 'must not be empty.');
  if (source_duration !== null && c.offset >= source_duration && source_duration > 0)
    throw new ProjectValidationError(
      `${p}offset`,
      `the trim starts at ${c.offset} s but the source is only ${source_duration.toFixed(3)} s long.`,
    );
  const span = clipSpan(c);
  if (span !== null && c.fade_in + c.fade_out > span + 1e-9)
    throw new ProjectValidationError(
      `${p}fade_in`,
      `fade in + fade out (${c.fade_in + c.fade_out} s) are longer than the clip (${span.toFixed(3)} s).`,
    );
  if (v.after !== undefined && v.after !== null) {
    if (!isObj(v.after)) throw new ProjectValidationError(`${p}after`, 'expected {clip, gap}.');
    c.after = {
      clip: str(v.after, 'clip', `${p}after.`, 100),
      gap: num(v.after, 'gap', `${p}after.`, 0, 3600, 0),
    };
  }
  return c;
}

function track(v: unknown, at: string): Track {
  if (!isObj(v)) throw new ProjectValidationError(at, 'expected a track object.');
  const p = `${at}.`;
  if (v.clips !== undefined && !Array.isArray(v.clips))
    throw new ProjectValidationError(`${p}clips`, 'expected an array of clips.');
  const clips = ((v.clips as unknown[] | undefined) ?? []).map((c, i) => clip(c, `${p}clips[${i}]`));
  if (v.muted !== undefined && typeof v.muted !== 'boolean')
    throw new ProjectValidationError(`${p}muted`, 'expected true or false.');
  return {
    id: v.id === undefined ? newId('trk') : str(v, 'id', p, 100),
    name: str(v, 'name', p, NAME_MAX, 'Track'),
    gain_db: num(v, 'gain_db', p, GAIN_MIN_DB, GAIN_MAX_DB, 0),
    muted: v.muted === true,
    clips,
  };
}

/**
 * Checks an untrusted project (an API body, an imported file, a stored record) and returns a clean copy
 * with defaults filled in; throws ProjectValidationError naming the first field at fault. Ids that are
 * missing are made; duplicate ids and `after` links to unknown clips or in a circle are refused.
 */
export function validateProject(v: unknown): Project {
  if (!isObj(v)) throw new ProjectValidationError('project', 'expected a JSON object.');
  const now = Date.now();
  const name = str(v, 'name', '', NAME_MAX, 'Untitled project').trim();
  if (!name) throw new ProjectValidationError('name', 'must not be empty.');
  const rate = num(v, 'sample_rate', '', SAMPLE_RATE_MIN, SAMPLE_RATE_MAX, DEFAULT_SAMPLE_RATE);
  if (!Number.isInteger(rate))
    throw new ProjectValidationError('sample_rate', 'must be a whole number of Hz.');
  if (v.tracks !== undefined && !Array.isArray(v.tracks))
    throw new ProjectValidationError('tracks', 'expected an array of tracks.');
  const raw = (v.tracks as unknown[] | undefined) ?? [];
  if (raw.length > MAX_TRACKS) throw new ProjectValidationError('tracks', `at most ${MAX_TRACKS} tracks.`);
  const tracks = raw.map((t, i) => track(t, `tracks[${i}]`));
  const cast: Record<string, string> = {};
  if (v.cast !== undefined) {
    if (!isObj(v.cast)) throw new ProjectValidationError('cast', 'expected an object of speaker → voice.');
    for (const [k, voice] of Object.entries(v.cast)) {
      if (typeof voice !== 'string' || !voice.trim())
        throw new ProjectValidationError(`cast.${k}`, 'expected a voice id or formula.');
      cast[k] = voice;
    }
  }
  const p: Project = {
    id: v.id === undefined ? newId('prj') : str(v, 'id', '', 100),
    name,
    created_at: num(v, 'created_at', '', 0, Number.MAX_SAFE_INTEGER, now),
    updated_at: num(v, 'updated_at', '', 0, Number.MAX_SAFE_INTEGER, now),
    sample_rate: rate,
    tracks,
    cast,
  };
  if (v.script !== undefined && v.script !== null) p.script = str(v, 'script', '', 100_000);
  const seen = new Set<string>();
  tracks.forEach((t, i) => {
    if (seen.has(t.id))
      throw new ProjectValidationError(`tracks[${i}].id`, `the id "${t.id}" is used twice.`);
    seen.add(t.id);
  });
  const clips = allClips(p);
  if (clips.length > MAX_CLIPS) throw new ProjectValidationError('tracks', `at most ${MAX_CLIPS} clips.`);
  for (const { clip: c } of clips) {
    if (seen.has(c.id)) throw new ProjectValidationError(`clips.${c.id}`, `the id "${c.id}" is used twice.`);
    seen.add(c.id);
  }
  for (const { clip: c } of clips)
    if (c.after && !clips.some((x) => x.clip.id === c.after!.clip))
      throw new ProjectValidationError(
        `clips.${c.id}.after.clip`,
        `no clip "${c.after.clip}" in this project.`,
      );
  layoutProject(p); // throws ClipCycleError on a circle
  if (timelineDuration(p) > TIMELINE_MAX_SECONDS)
    throw new ProjectValidationError(
      'tracks',
      `the timeline is longer than ${TIMELINE_MAX_SECONDS / 3600} hours.`,
    );
  return p;
}
