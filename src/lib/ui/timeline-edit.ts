// Edits of an open project's timeline the Projects view makes, on the project in place: finding a clip,
// the track a speaker's lines go on, what follows a deleted clip, and measured lengths taken back from a
// rendered copy. DOM-free so it is unit-tested in Node; the view session only adds saving and undo.
import { errorKind } from '../core/errors';
import { newTrack, speechKey, type Project, type TimelineClip, type Track } from '../documents/project';

/** What a clip shows as its name: its text, its file's name, or its library clip's name. */
export function clipLabel(c: TimelineClip, names?: Record<string, string>): string {
  if (c.content.kind === 'speech') return c.content.text;
  if (c.content.kind === 'audio') return c.content.name;
  return names?.[c.content.clip_id] ?? 'Library clip';
}

export interface FoundClip {
  track: Track;
  clip: TimelineClip;
  index: number;
}

export function findClip(p: Project | null, clipId: string): FoundClip | null {
  for (const track of p?.tracks ?? []) {
    const index = track.clips.findIndex((c) => c.id === clipId);
    if (index >= 0) return { track, clip: track.clips[index]!, index };
  }
  return null;
}

/** The clip that ends last on the timeline. */
export function lastClip(p: Project | null): TimelineClip | null {
  let best: TimelineClip | null = null;
  let end = -1;
  for (const t of p?.tracks ?? [])
    for (const c of t.clips) {
      const e = c.start + (c.source_duration ?? 0);
      if (e >= end) [best, end] = [c, e];
    }
  return best;
}

/** The speaker's track: one named after them, else the first empty "Track n" (renamed), else a new one. */
export function speakerTrack(p: Project, speaker: string): Track {
  const named = p.tracks.find((t) => t.name === speaker);
  if (named) return named;
  const free = p.tracks.find((t) => !t.clips.length && /^Track \d+$/.test(t.name));
  if (free) {
    free.name = speaker;
    return free;
  }
  p.tracks.push(newTrack(speaker));
  return p.tracks[p.tracks.length - 1]!;
}

/** Clips placed after a deleted clip now follow what it followed (or stay where they are). */
export function relinkFollowers(p: Project, deleted: string, after: TimelineClip['after']): void {
  for (const t of p.tracks)
    for (const c of t.clips)
      if (c.after?.clip === deleted) {
        if (after) c.after = { ...after };
        else delete c.after;
      }
}

/**
 * Copies measured lengths and speech caches from a rendered copy into the open project, clip by clip; a
 * clip edited meanwhile (other kind, or speech whose text, voice or speed changed) keeps its own values.
 * False when the copy is of another project.
 */
export function absorbMeasured(p: Project, rendered: Project): boolean {
  if (p.id !== rendered.id) return false;
  for (const t of rendered.tracks)
    for (const rc of t.clips) {
      const c = findClip(p, rc.id)?.clip;
      if (!c || c.content.kind !== rc.content.kind) continue;
      if (c.content.kind === 'speech' && rc.content.kind === 'speech') {
        if (speechKey(c.content.text, c.content.voice, c.content.speed) !== rc.content.generated?.key)
          continue;
        c.content.generated = { ...rc.content.generated };
      }
      c.source_duration = rc.source_duration;
    }
  return true;
}

/** Words a person can act on, for the errors the Projects view shows. */
export function projectErrorText(e: unknown): string {
  const err = e instanceof Error ? e : new Error(String(e));
  if (errorKind(err) === 'model_not_installed')
    return `The speech model is not installed on this device: install it in Models. ${err.message}`;
  if (errorKind(err) === 'storage_full')
    return 'Not enough browser storage to save. Free space (delete clips, history or models); your edits stay in this page and are saved on the next change or with Retry.';
  return err.message || 'Something went wrong.';
}
