// Timeline projects (model in src/lib/documents/project.ts). DOM-free (page, workers, Node tests).
import { allClips, newProject, timelineDuration, validateProject, type Project } from '../documents/project';
import { newId } from '../core/ids';
import type { TimbreDB } from './db';
import { guardQuota, NotFoundError } from './errors';
import type { ProjectRecord } from './records';

/** What lists show: no clips, just their counts and the timeline's length. */
export interface ProjectSummary {
  id: string;
  name: string;
  created_at: number;
  updated_at: number;
  sample_rate: number;
  tracks: number;
  clips: number;
  /** Seconds (clips whose speech is not generated yet count as 0 s). */
  duration: number;
  speakers: string[];
}

export function summarizeProject(p: Project): ProjectSummary {
  return {
    id: p.id,
    name: p.name,
    created_at: p.created_at,
    updated_at: p.updated_at,
    sample_rate: p.sample_rate,
    tracks: p.tracks.length,
    clips: allClips(p).length,
    duration: timelineDuration(p),
    speakers: Object.keys(p.cast),
  };
}

export class ProjectStore {
  constructor(private readonly db: TimbreDB) {}

  /** Newest change first. */
  async list(): Promise<ProjectSummary[]> {
    const all = await this.db.getAllFromIndex('projects', 'updated_at');
    return all.reverse().map(summarizeProject);
  }

  get(id: string): Promise<ProjectRecord | undefined> {
    return this.db.get('projects', id);
  }

  /** One project or NotFoundError. */
  async require(id: string): Promise<ProjectRecord> {
    const p = await this.get(id);
    if (!p) throw new NotFoundError(`No project "${id}".`);
    return p;
  }

  /**
   * Saves a project as given after validating it (ProjectValidationError names the field); `touch`
   * (default) stamps updated_at now. Returns what was stored.
   */
  async put(p: Project, { touch = true } = {}): Promise<ProjectRecord> {
    const clean = validateProject(p);
    if (touch) clean.updated_at = Math.max(Date.now(), clean.created_at);
    await guardQuota('the project', () => this.db.put('projects', clean));
    return clean;
  }

  /** A new empty project (one track) saved at once. */
  create(name: string, over: Partial<Omit<Project, 'id' | 'created_at' | 'updated_at'>> = {}) {
    return this.put(newProject(name, over), { touch: false });
  }

  /** A copy with new ids for the project, its tracks and clips (`after` links follow the new ids). */
  async duplicate(id: string, name?: string): Promise<ProjectRecord> {
    const src = await this.require(id);
    const copy = structuredClone(src);
    const now = Date.now();
    const ids = new Map<string, string>();
    for (const t of copy.tracks) {
      t.id = newId('trk');
      for (const c of t.clips) {
        const fresh = newId('clp');
        ids.set(c.id, fresh);
        c.id = fresh;
      }
    }
    for (const { clip } of allClips(copy)) if (clip.after) clip.after.clip = ids.get(clip.after.clip)!;
    copy.id = newId('prj');
    copy.name = name ?? `${src.name} (copy)`;
    copy.created_at = now;
    copy.updated_at = now;
    return this.put(copy, { touch: false });
  }

  /** Deletes a project and hands it back (for Undo, which puts it again with touch: false). */
  async delete(id: string): Promise<ProjectRecord> {
    const p = await this.require(id);
    await this.db.delete('projects', id);
    return p;
  }
}
