// The open project's autosave: an edit marks it pending and it is saved after a short pause; a save that
// fails keeps the project in the page, and the next edit or Retry saves it.
import type { Project } from '../lib/documents/project';
import { summarizeProject, type ProjectStore, type ProjectSummary } from '../lib/storage/projects';
import { projectErrorText } from '../lib/ui/timeline-edit';

const SAVE_DELAY_MS = 600;

export type SaveState = 'saved' | 'saving' | 'pending' | 'failed';

export class ProjectAutosave {
  state = $state<SaveState>('saved');
  error = $state<string | null>(null);

  private timer: ReturnType<typeof setTimeout> | null = null;
  private saving: Promise<void> | null = null;

  constructor(
    private readonly store: ProjectStore,
    /** The project open now (null: none). */
    private readonly project: () => Project | null,
    /** A save went through: its summary for the list. */
    private readonly saved: (summary: ProjectSummary) => void,
  ) {}

  /** A freshly opened project: nothing to save. */
  reset(): void {
    this.error = null;
    this.state = 'saved';
  }

  /** An edit: saved after a short pause. */
  schedule(): void {
    this.state = 'pending';
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.flush(), SAVE_DELAY_MS);
  }

  /** Saves a pending edit now (waits for a save under way). */
  async flush(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    while (this.saving) await this.saving;
    const p = this.project();
    if (!p || this.state === 'saved') return;
    this.state = 'saving';
    const snapshot = $state.snapshot(p) as Project;
    this.saving = (async () => {
      try {
        const stored = await this.store.put(snapshot);
        const open = this.project();
        if (open?.id === stored.id) open.updated_at = stored.updated_at;
        this.error = null;
        // An edit made while saving keeps the state pending (its timer saves it).
        if (this.state === 'saving') this.state = 'saved';
        this.saved(summarizeProject(stored));
      } catch (e) {
        // Nothing is lost: the project stays in the page and the next edit or Retry saves it.
        this.error = `Not saved: ${projectErrorText(e)}`;
        this.state = 'failed';
      }
    })();
    await this.saving;
    this.saving = null;
  }

  async retry(): Promise<void> {
    if (this.state === 'failed') this.state = 'pending';
    await this.flush();
  }
}
