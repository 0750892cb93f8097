// Multi-voice scripts: `[Narrator] text…` / `[Anna] text…` lines become one speech clip each, in the voice
// the project's cast gives that speaker, placed one after another. DOM-free.
import {
  clipSpan,
  layoutProject,
  newClip,
  newTrack,
  TEXT_MAX,
  type Project,
  type TimelineClip,
} from '../documents/project';

export interface ScriptLine {
  speaker: string;
  text: string;
  /** 1-based line of the script where this line starts. */
  line: number;
  /** A blank line came before it (a paragraph gap). */
  paragraph: boolean;
}

export interface Script {
  lines: ScriptLine[];
  /** Speakers in order of first appearance. */
  speakers: string[];
}

/** Text before the first `[Label]`, or a line too long to speak as one clip. */
export class ScriptSyntaxError extends Error {
  override name = 'ScriptSyntaxError';
  constructor(
    readonly line: number,
    message: string,
  ) {
    super(`Script line ${line}: ${message}`);
  }
}

/** A speaker of the script that has no voice in the cast. */
export class UnknownSpeakerError extends Error {
  override name = 'UnknownSpeakerError';
  constructor(
    readonly speaker: string,
    readonly line: number,
  ) {
    super(
      `Script line ${line}: the speaker "${speaker}" has no voice in the cast; add "${speaker}": "<voice>" to cast.`,
    );
  }
}

const LABEL = /^\s*\[([^\]\n]{1,80})\]\s*:?\s*(.*)$/;

/**
 * Reads a script: `[Name] text` starts a line of that speaker; a line without a label continues the
 * previous speaker's line (joined with a space); blank lines mark a paragraph gap before the next line.
 */
export function parseScript(text: string): Script {
  const lines: ScriptLine[] = [];
  const speakers: string[] = [];
  let gap = false;
  let current: ScriptLine | null = null;
  text.split(/\r?\n/).forEach((raw, i) => {
    const at = i + 1;
    if (!raw.trim()) {
      gap = lines.length > 0;
      current = null;
      return;
    }
    const m = LABEL.exec(raw);
    if (m) {
      const speaker = m[1]!.trim();
      if (!speakers.includes(speaker)) speakers.push(speaker);
      current = { speaker, text: m[2]!.trim(), line: at, paragraph: gap };
      lines.push(current);
      gap = false;
      return;
    }
    const prev = current ?? lines[lines.length - 1];
    if (!prev) throw new ScriptSyntaxError(at, 'start the script with a speaker label such as [Narrator].');
    if (!current) {
      // After a blank line, unlabelled text is a new line of the same speaker.
      current = { speaker: prev.speaker, text: raw.trim(), line: at, paragraph: gap };
      lines.push(current);
      gap = false;
      return;
    }
    current.text = current.text ? `${current.text} ${raw.trim()}` : raw.trim();
  });
  const spoken = lines.filter((l) => l.text);
  for (const l of spoken)
    if (l.text.length > TEXT_MAX)
      throw new ScriptSyntaxError(l.line, `the line is longer than ${TEXT_MAX} characters; split it.`);
  return { lines: spoken, speakers: speakers.filter((s) => spoken.some((l) => l.speaker === s)) };
}

/** The cast's voice for a speaker: exact label first, then ignoring case. */
export function voiceFor(cast: Record<string, string>, speaker: string): string | undefined {
  if (cast[speaker]) return cast[speaker];
  const k = Object.keys(cast).find((c) => c.toLowerCase() === speaker.toLowerCase());
  return k ? cast[k] : undefined;
}

export interface ScriptToClipsOptions {
  /** The track the clips go on (id); default the first track. */
  track?: string;
  /** Seconds between lines. */
  gap?: number;
  /** Seconds between paragraphs (lines after a blank line); default 2 × gap + 0.3. */
  paragraphGap?: number;
  speed?: number;
}

/**
 * One speech clip per script line, in its speaker's cast voice, each placed `after` the previous one so
 * layoutProject (and the renderer, once lengths are measured) keeps them one after another. The first
 * follows the last clip already on the track, or starts at 0. Does not change the project.
 */
export function scriptToClips(
  project: Project,
  script: Script | string,
  opts: ScriptToClipsOptions = {},
): TimelineClip[] {
  const s = typeof script === 'string' ? parseScript(script) : script;
  const gap = opts.gap ?? 0.4;
  const paragraphGap = opts.paragraphGap ?? 2 * gap + 0.3;
  const track = opts.track ? project.tracks.find((t) => t.id === opts.track) : project.tracks[0];
  let prev: TimelineClip | undefined = track?.clips.reduce<TimelineClip | undefined>(
    (last, c) => (!last || c.start + (clipSpan(c) ?? 0) >= last.start + (clipSpan(last) ?? 0) ? c : last),
    undefined,
  );
  const out: TimelineClip[] = [];
  for (const l of s.lines) {
    const voice = voiceFor(project.cast, l.speaker);
    if (!voice) throw new UnknownSpeakerError(l.speaker, l.line);
    const c = newClip({ kind: 'speech', text: l.text, voice, speed: opts.speed ?? 1, speaker: l.speaker });
    if (prev) c.after = { clip: prev.id, gap: l.paragraph ? paragraphGap : gap };
    out.push(c);
    prev = c;
  }
  return out;
}

/**
 * Adds a script's clips to a project (in place; a track is made if there is none, or when `track` names
 * none), keeps the script text, and lays the timeline out. Returns the new clips.
 */
export function applyScript(project: Project, text: string, opts: ScriptToClipsOptions = {}): TimelineClip[] {
  if (!project.tracks.length) project.tracks.push(newTrack('Voices'));
  const clips = scriptToClips(project, text, opts);
  const track = (opts.track && project.tracks.find((t) => t.id === opts.track)) || project.tracks[0]!;
  track.clips.push(...clips);
  project.script = project.script ? `${project.script}\n\n${text}` : text;
  layoutProject(project);
  return clips;
}
