// A script added to the Projects view's open project: one speech clip per line in its speaker's cast
// voice, each on its speaker's track, placed after the line before. DOM-free so it is unit-tested in Node.
import type { Project } from '../documents/project';
import { parseScript, scriptToClips, type ScriptLine } from '../projects/script';
import { LINE_GAP } from './timeline-view';
import { lastClip, projectErrorText, speakerTrack } from './timeline-edit';

export interface ParsedScript {
  lines: ScriptLine[];
  /** Why the script cannot be read as it stands (shown under the box; the text is kept). */
  problems: string[];
}

/** The script has no line to speak. */
export class EmptyScriptError extends Error {
  override name = 'EmptyScriptError';
}

/** The script's lines, or why it cannot be read (never throws: the box shows it while typing). */
export function readScript(text: string): ParsedScript {
  if (!text.trim()) return { lines: [], problems: [] };
  try {
    return { lines: parseScript(text).lines, problems: [] };
  } catch (e) {
    return { lines: [], problems: [projectErrorText(e)] };
  }
}

/** How the library names and resolves a voice (the Speak view's session does it in the page). */
export interface VoiceNames {
  resolve(voice: string): string | null;
  label(voice: string): string;
}

/**
 * Adds the script's lines to the project, after its last clip (lengths are estimated until the render
 * measures them), and the text to its script. Throws, changing nothing, for an empty script, a speaker
 * with no voice or a voice gone from the library.
 */
export function appendScript(p: Project, text: string, voices: VoiceNames): void {
  const script = parseScript(text);
  if (!script.lines.length)
    throw new EmptyScriptError(
      'The script has no lines to speak. Write one line a part, like “[Narrator] Once upon a time.”',
    );
  for (const s of script.speakers) {
    const v = p.cast[s];
    if (v && !voices.resolve(v))
      throw new Error(
        `The voice of “${s}” (${voices.label(v)}) is not in the library any more: choose another.`,
      );
  }
  // scriptToClips checks every speaker has a voice and links each line after the previous one.
  const clips = scriptToClips(p, script, { gap: LINE_GAP });
  const last = lastClip(p);
  if (last && clips[0]) clips[0].after = { clip: last.id, gap: LINE_GAP };
  for (const c of clips) {
    const speaker = c.content.kind === 'speech' ? (c.content.speaker ?? 'Voices') : 'Voices';
    speakerTrack(p, speaker).clips.push(c);
  }
  p.script = p.script ? `${p.script}\n\n${text}` : text;
}
