// The timeline project model shared by storage, the API, the renderer and the Projects view.
// A project holds tracks; a track holds clips placed at a start time. DOM-free.
// (Contract written first so storage/API/render and the view can be built side by side; extend, don't
// rename: the Projects view and the API both depend on these names.)

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
