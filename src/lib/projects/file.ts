// The project file: one self-contained JSON document holding the project and the library audio it uses
// (each clip's WAV as base64, generated speech included so opening it needs no re-generation), and the
// clips zip (every clip's rendered audio as a WAV). DOM-free.
import type { ClipRecord, ClipSource } from '../storage/records';
import { encodeWav } from '../dsp/wav';
import { decodeBase64, encodeBase64 } from '../core/base64';
import { allClips, validateProject, type Project } from '../documents/project';
import { newId } from '../core/ids';
import type { RenderResult } from './render';
import { writeZip } from './zip-writer';

export const PROJECT_FILE_FORMAT = 'timbre-project';
export const PROJECT_FILE_VERSION = 1;
export const PROJECT_FILE_MIME = 'application/vnd.timbre.project+json';

/** A file that is not a Timbre project, is damaged, or lacks audio it refers to; nothing was imported. */
export class ProjectFileError extends Error {
  override name = 'ProjectFileError';
}

interface FileClip extends Omit<ClipRecord, 'audio'> {
  wav_base64: string;
}

interface ProjectFile {
  format: typeof PROJECT_FILE_FORMAT;
  version: number;
  exported_at: number;
  project: Project;
  clips: FileClip[];
}

/** Ids of the clip library records a project uses (library clips and cached speech renders). */
export function referencedClipIds(p: Project, { generated = true } = {}): string[] {
  const ids = new Set<string>();
  for (const { clip } of allClips(p)) {
    const k = clip.content;
    if (k.kind === 'library') ids.add(k.clip_id);
    else if (generated && k.kind === 'speech' && k.generated) ids.add(k.generated.clip_id);
  }
  return [...ids];
}

/**
 * The project as one file. `clips` must hold every library clip the project uses (referencedClipIds);
 * cached speech renders that are missing are left out (they are re-generated on the next render).
 */
export function exportProjectFile(project: Project, clips: ClipRecord[]): Uint8Array {
  const byId = new Map(clips.map((c) => [c.id, c]));
  const p = structuredClone(project);
  const out: FileClip[] = [];
  for (const { clip } of allClips(p)) {
    const k = clip.content;
    if (k.kind === 'speech' && k.generated && !byId.has(k.generated.clip_id)) delete k.generated;
    if (k.kind === 'library' && !byId.has(k.clip_id))
      throw new ProjectFileError(
        `The project uses library clip "${k.clip_id}", which was not given (deleted?).`,
      );
  }
  for (const id of referencedClipIds(p)) {
    const { audio, ...meta } = byId.get(id)!;
    out.push({ ...meta, wav_base64: encodeBase64(new Uint8Array(audio)) });
  }
  const file: ProjectFile = {
    format: PROJECT_FILE_FORMAT,
    version: PROJECT_FILE_VERSION,
    exported_at: Date.now(),
    project: p,
    clips: out,
  };
  return new TextEncoder().encode(JSON.stringify(file));
}

const SOURCES: ClipSource[] = ['recording', 'import', 'generated', 'converted', 'edit'];

/**
 * Reads a project file: the project (validated, with a new id so importing twice makes two projects) and
 * the library clips to store with it. Throws ProjectFileError (or the model's ProjectValidationError).
 */
export function importProjectFile(bytes: Uint8Array): { project: Project; clips: ClipRecord[] } {
  let file: Partial<ProjectFile>;
  try {
    file = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes)) as Partial<ProjectFile>;
  } catch {
    throw new ProjectFileError('This is not a Timbre project file (not JSON).');
  }
  if (!file || file.format !== PROJECT_FILE_FORMAT)
    throw new ProjectFileError('This is not a Timbre project file (no "format": "timbre-project").');
  if (typeof file.version !== 'number' || file.version > PROJECT_FILE_VERSION)
    throw new ProjectFileError(`Project file version ${String(file.version)} is newer than this app reads.`);
  const project = validateProject(file.project);
  const clips: ClipRecord[] = [];
  for (const [i, c] of (Array.isArray(file.clips) ? file.clips : []).entries()) {
    const audio = typeof c?.wav_base64 === 'string' ? decodeBase64(c.wav_base64) : null;
    if (!audio || typeof c.id !== 'string')
      throw new ProjectFileError(`Clip ${i + 1} of the file is damaged (no id or no audio).`);
    const now = Date.now();
    clips.push({
      id: c.id,
      name: typeof c.name === 'string' ? c.name : `Clip ${i + 1}`,
      created_at: Number(c.created_at) || now,
      updated_at: Number(c.updated_at) || now,
      source: SOURCES.includes(c.source) ? c.source : 'import',
      duration: Number(c.duration) || 0,
      sample_rate: Number(c.sample_rate) || 0,
      channels: Number(c.channels) || 1,
      audio: audio.buffer.slice(audio.byteOffset, audio.byteOffset + audio.byteLength) as ArrayBuffer,
    });
  }
  const have = new Set(clips.map((c) => c.id));
  for (const { clip } of allClips(project)) {
    const k = clip.content;
    if (k.kind === 'library' && !have.has(k.clip_id))
      throw new ProjectFileError(`The file refers to library clip "${k.clip_id}" but does not contain it.`);
    if (k.kind === 'speech' && k.generated && !have.has(k.generated.clip_id)) delete k.generated;
  }
  project.id = newId('prj');
  return { project, clips };
}

/** A file name without characters that file systems or zip tools refuse. */
function safeName(s: string): string {
  return (
    s
      .replace(/[\\/:*?"<>|]+/g, ' ')
      .replace(/\p{Cc}+/gu, ' ')
      .replace(/\s+/g, ' ')
      .slice(0, 60)
      // A sentence's full stop would meet the extension ("…stairs..wav"); trailing dots also trouble Windows.
      .replace(/[\s.]+$/, '')
      .trim() || 'clip'
  );
}

/**
 * Every clip of a render (made with keepClipAudio) as its own WAV in a zip, named in timeline order:
 * `01 Narrator - Once upon a time.wav`. Muted clips are left out.
 */
export function zipClips(r: RenderResult, format: 's16' | 'f32' = 's16'): Uint8Array {
  if (!r.clipAudio) throw new ProjectFileError('zipClips needs a render made with keepClipAudio.');
  const ordered = r.clips.filter((c) => r.clipAudio!.has(c.id)).sort((a, b) => a.start - b.start);
  const width = String(ordered.length).length < 2 ? 2 : String(ordered.length).length;
  const files = ordered.map((c, i) => {
    const label = c.text ? `${c.speaker ? `${c.speaker} - ` : ''}${c.text}` : c.id;
    return {
      name: `${String(i + 1).padStart(width, '0')} ${safeName(label)}.wav`,
      data: encodeWav(r.clipAudio!.get(c.id)!, r.sampleRate, format),
    };
  });
  return writeZip(files);
}
