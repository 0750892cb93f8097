// A project as one file (its library audio inside) out to a download and back in as a new project, and
// the zip of a render's clips.
import { exportProjectFile, importProjectFile, referencedClipIds, zipClips } from '../lib/projects/file';
import type { RenderResult } from '../lib/projects/render';
import type { ClipStore } from '../lib/storage/clips';
import type { ProjectStore } from '../lib/storage/projects';
import type { Project } from '../lib/documents/project';
import { fileStem } from '../lib/ui/speak-text';
import { saveBytes } from './download';

/** Downloads a stored project as one file, with the library audio it uses. */
export async function downloadProjectFile(store: ProjectStore, clips: ClipStore, id: string): Promise<void> {
  const p = await store.require(id);
  const recs = await Promise.all(referencedClipIds(p).map((c) => clips.get(c)));
  const bytes = exportProjectFile(
    p,
    recs.filter((r) => r !== undefined),
  );
  saveBytes(bytes, 'application/json', `${fileStem(p.name, 'project')}.timbre-project.json`);
}

/** Reads a project file: its audio goes into the clip library (what is there stays), the project is stored. */
export async function storeProjectFile(store: ProjectStore, clips: ClipStore, file: File): Promise<Project> {
  const { project, clips: audio } = importProjectFile(new Uint8Array(await file.arrayBuffer()));
  for (const c of audio) if (!(await clips.get(c.id))) await clips.put(c);
  return store.put(project, { touch: false });
}

/** Downloads each clip of a render as its own WAV, in one zip. */
export function downloadClipsZip(rendered: RenderResult, stem: string): void {
  saveBytes(zipClips(rendered), 'application/zip', `${stem}-clips.zip`);
}
