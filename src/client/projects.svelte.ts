// The Projects view's state: the list of projects (create, open, rename, duplicate, delete with undo,
// import/export a project file), the open project, timeline edits (tracks, clips, selection, nudges, trims,
// fades), clips added from a script (one a line, each speaker's voice from the cast), from the clip library
// or from a dropped file, the render with progress and cancel, playback of the mixdown and its downloads.
// Its parts live beside it: the edits' logic in lib/ui/timeline-edit.ts and project-script.ts, the autosave
// (project-autosave), what a render needs from the page (project-render), playback (project-playback) and
// the project file (project-files).
import type { Studio } from './studio.svelte';
import {
  layoutProject,
  newClip,
  newTrack,
  timelineDuration,
  type ClipContent,
  type Project,
  type TimelineClip,
  type Track,
} from '../lib/documents/project';
import { appendScript, readScript, type ParsedScript } from '../lib/ui/project-script';
import { renderProject, type RenderResult } from '../lib/projects/render';
import { clampFades, snap } from '../lib/ui/timeline-view';
import {
  absorbMeasured,
  clipLabel,
  findClip,
  projectErrorText as plain,
  relinkFollowers,
  type FoundClip,
} from '../lib/ui/timeline-edit';
import { ClipStore, type ClipSummary } from '../lib/storage/clips';
import { ProjectStore, type ProjectSummary } from '../lib/storage/projects';
import { encodeWav } from '../lib/dsp/wav';
import { fileStem } from '../lib/ui/speak-text';
import { SpeakSession } from './speak.svelte';
import { runDownload } from './download';
import type { DownloadChoice } from '../lib/ui/speak-download';
import { viewJob, type JobOutcome, type JobProgress } from './job.svelte';
import { sessionFor } from './sessions';
import { ProjectAutosave, type SaveState } from './project-autosave.svelte';
import { mixdownOf, renderDeps, type Mixdown } from './project-render';
import { MixPlayer } from './project-playback.svelte';
import { downloadClipsZip, downloadProjectFile, storeProjectFile } from './project-files';
import type { MonoAudio } from '../lib/dsp/audio';

export type { SaveState } from './project-autosave.svelte';
export type { Mixdown } from './project-render';
export { clipLabel } from '../lib/ui/timeline-edit';

export { EmptyScriptError, type ParsedScript } from '../lib/ui/project-script';

const short = (s: string) => (s.length > 40 ? `${s.slice(0, 40)}…` : s);

export class ProjectsSession {
  list = $state.raw<ProjectSummary[]>([]);
  loaded = $state(false);
  project = $state<Project | null>(null);

  selected = $state<string | null>(null);
  pxPerSec = $state(80);
  snapOn = $state(true);

  script = $state('');
  scriptError = $state<string | null>(null);

  /** A long job: a render, or decoding a dropped file. */
  private readonly job = viewJob<'render' | 'import'>();
  error = $state<string | null>(null);

  mix = $state.raw<Mixdown | null>(null);
  /** Bumped by every edit that changes what is heard; a mixdown of an older revision is out of date. */
  revision = $state(0);

  library = $state.raw<ClipSummary[]>([]);
  libraryNames = $derived(
    Object.fromEntries(this.library.map((c) => [c.id, c.name])) as Record<string, string>,
  );

  /** Voices, the voice picker, previews and downloads use the Speak view's machinery (own instance). */
  readonly voices: SpeakSession;
  readonly clips: ClipStore;
  readonly store: ProjectStore;

  private readonly autosave: ProjectAutosave;
  private readonly player = new MixPlayer();
  /** The last render's result (its clips' own audio, for the zip of clips). */
  private rendered: RenderResult | null = null;

  constructor(private readonly studio: Studio) {
    this.voices = new SpeakSession(studio);
    this.clips = new ClipStore(studio.db);
    this.store = new ProjectStore(studio.db);
    this.autosave = new ProjectAutosave(
      this.store,
      () => this.project,
      (sum) => (this.list = [sum, ...this.list.filter((s) => s.id !== sum.id)]),
    );
  }

  get saveState(): SaveState {
    return this.autosave.state;
  }

  get saveError(): string | null {
    return this.autosave.error;
  }

  get busy(): 'render' | 'import' | null {
    return this.job.kind;
  }

  get stage(): string {
    return this.job.stage;
  }

  get progress(): JobProgress {
    return this.job.progress;
  }

  get playhead(): number {
    return this.player.playhead;
  }

  set playhead(t: number) {
    this.player.playhead = t;
  }

  get playing(): boolean {
    return this.player.playing;
  }

  get duration(): number {
    return this.project ? timelineDuration(this.project) : 0;
  }

  get mixCurrent(): boolean {
    return this.mix !== null && this.mix.revision === this.revision;
  }

  // ------------------------------------------------------------------------------------ list

  async refresh(): Promise<void> {
    this.list = await this.store.list();
    this.loaded = true;
  }

  async loadLibrary(): Promise<void> {
    this.library = await this.clips.list();
  }

  async create(name: string): Promise<void> {
    await this.studio.act('Could not create the project', async () => {
      const p = await this.store.create(name.trim() || `Project ${this.list.length + 1}`);
      await this.refresh();
      await this.open(p.id);
    });
  }

  async open(id: string): Promise<void> {
    await this.flush();
    const p = await this.store.get(id);
    if (!p) {
      this.studio.toast('That project is not there any more.', { kind: 'error' });
      await this.refresh();
      return;
    }
    this.stopJob();
    this.pause();
    this.project = p;
    this.selected = null;
    this.mix = null;
    this.revision = 0;
    this.playhead = 0;
    this.error = null;
    this.scriptError = null;
    this.autosave.reset();
    this.script = '';
  }

  async close(): Promise<void> {
    await this.flush();
    this.stopJob();
    this.pause();
    this.project = null;
    this.mix = null;
  }

  async rename(id: string, name: string): Promise<void> {
    const n = name.trim();
    if (!n) return;
    if (this.project?.id === id) {
      this.project.name = n;
      this.changed(false);
      await this.flush();
      return;
    }
    await this.studio.act('Could not rename the project', async () => {
      const p = await this.store.require(id);
      await this.store.put({ ...p, name: n });
      await this.refresh();
    });
  }

  async duplicate(id: string): Promise<void> {
    await this.flush();
    await this.studio.act('Could not duplicate the project', async () => {
      const copy = await this.store.duplicate(id);
      await this.refresh();
      this.studio.toast(`Made “${copy.name}”.`, { kind: 'success' });
    });
  }

  /** Deletes a project, with Undo in the notice (the record is put back as it was). */
  async remove(id: string): Promise<void> {
    await this.flush();
    try {
      if (this.project?.id === id) await this.close();
      const p = await this.store.delete(id);
      await this.refresh();
      this.studio.toast(`Deleted the project “${p.name}”.`, {
        action: {
          label: 'Undo',
          run: async () => {
            await this.studio.act('Could not restore the project', async () => {
              await this.store.put(p, { touch: false });
              await this.refresh();
            });
          },
        },
      });
    } catch (e) {
      this.studio.fail(e, 'Could not delete the project');
    }
  }

  // -------------------------------------------------------------------------------- autosave

  /**
   * Marks the open project edited (clips laid out again after their `after` links); saved after a short
   * pause. `audible` false for edits that do not change the mixdown (a name, the cast).
   */
  changed(audible = true): void {
    const p = this.project;
    if (!p) return;
    try {
      layoutProject(p);
    } catch (e) {
      this.error = plain(e);
    }
    if (audible) this.revision++;
    this.autosave.schedule();
  }

  /** Saves a pending edit now (waits for a save under way). */
  flush(): Promise<void> {
    return this.autosave.flush();
  }

  retrySave(): Promise<void> {
    return this.autosave.retry();
  }

  // -------------------------------------------------------------------------------- timeline

  find(clipId: string): FoundClip | null {
    return findClip(this.project, clipId);
  }

  get selectedClip(): TimelineClip | null {
    return this.selected ? (this.find(this.selected)?.clip ?? null) : null;
  }

  addTrack(name?: string): Track | null {
    const p = this.project;
    if (!p) return null;
    p.tracks.push(newTrack(name ?? `Track ${p.tracks.length + 1}`));
    this.changed(false);
    return p.tracks[p.tracks.length - 1]!;
  }

  updateTrack(id: string, patch: Partial<Pick<Track, 'name' | 'gain_db' | 'muted'>>): void {
    const t = this.project?.tracks.find((x) => x.id === id);
    if (!t) return;
    Object.assign(t, patch);
    this.changed('gain_db' in patch || 'muted' in patch);
  }

  /** Removes an empty track (one with clips keeps them: delete or move those first). */
  removeTrack(id: string): void {
    const p = this.project;
    if (!p || p.tracks.length <= 1) return;
    const i = p.tracks.findIndex((t) => t.id === id);
    if (i < 0 || p.tracks[i]!.clips.length) return;
    p.tracks.splice(i, 1);
    this.changed(false);
  }

  /**
   * Changes a clip; fades are kept inside it. A clip given a new start by hand stops following the clip
   * it was placed after (clips that follow it still do, so they move with it). `save` false while dragging.
   */
  updateClip(id: string, patch: Partial<Omit<TimelineClip, 'id' | 'content'>>, save = true): void {
    const f = this.find(id);
    if (!f) return;
    if ('start' in patch) delete f.clip.after;
    Object.assign(f.clip, patch);
    Object.assign(f.clip, clampFades(f.clip, f.clip.fade_in, f.clip.fade_out));
    if (save) this.changed();
    else layoutProject(this.project!);
  }

  /** New text, voice or speed for a speech clip: spoken again at the next render. */
  replaceSpeech(id: string, content: Extract<ClipContent, { kind: 'speech' }>): void {
    const f = this.find(id);
    if (!f) return;
    Object.assign(f.clip, { content, offset: 0, length: null, source_duration: null });
    this.changed();
  }

  /** Moves a clip by `delta` seconds (arrow keys), onto the grid of that step when snapping is on. */
  nudge(id: string, delta: number): void {
    const f = this.find(id);
    if (!f) return;
    this.updateClip(id, { start: snap(f.clip.start + delta, this.snapOn ? Math.abs(delta) : 0) });
  }

  /** Moves a clip to another track (dragged between lanes). */
  moveToTrack(id: string, trackId: string): void {
    const f = this.find(id);
    const to = this.project?.tracks.find((t) => t.id === trackId);
    if (!f || !to || f.track.id === trackId) return;
    f.track.clips.splice(f.index, 1);
    to.clips.push(f.clip);
    this.changed();
  }

  /** Deletes a clip, with Undo in the notice (it goes back on its track, where it was). */
  deleteClip(id: string): void {
    const f = this.find(id);
    const p = this.project;
    if (!f || !p) return;
    const clip = $state.snapshot(f.clip) as TimelineClip;
    const trackId = f.track.id;
    relinkFollowers(p, id, clip.after);
    f.track.clips.splice(f.index, 1);
    if (this.selected === id) this.selected = null;
    this.changed();
    const projectId = p.id;
    this.studio.toast(`Deleted the clip “${short(clipLabel(clip, this.libraryNames))}”.`, {
      action: {
        label: 'Undo',
        run: () => {
          const q = this.project;
          if (q?.id !== projectId) return;
          const t = q.tracks.find((x) => x.id === trackId) ?? q.tracks[0];
          if (!t) return;
          if (clip.after && !this.find(clip.after.clip)) delete clip.after;
          t.clips.push(clip);
          this.selected = clip.id;
          this.changed();
        },
      },
    });
  }

  /** Puts a clip on a track at `start` and selects it. */
  private place(track: Track, content: ClipContent, start: number, sourceDuration: number | null) {
    const clip = newClip(content, { start: Number(start.toFixed(6)), source_duration: sourceDuration });
    track.clips.push(clip);
    this.selected = clip.id;
    this.changed();
    return clip;
  }

  /** The selected clip's track, else the first. */
  private targetTrack(): Track | null {
    const p = this.project;
    if (!p) return null;
    const sel = this.selected ? this.find(this.selected)?.track : undefined;
    return sel ?? p.tracks[0] ?? this.addTrack();
  }

  // ----------------------------------------------------------------------------- script/cast

  /** The script's lines, or why it cannot be read (never throws: the box shows it while typing). */
  parseScript(text: string): ParsedScript {
    return readScript(text);
  }

  setCast(speaker: string, voice: string): void {
    const p = this.project;
    if (!p) return;
    p.cast[speaker] = voice;
    this.changed(false);
  }

  /**
   * One speech clip per script line in its speaker's cast voice, each on its speaker's track and placed
   * after the line before (lengths are estimated until the render measures them). Errors (empty script,
   * a speaker with no voice, a voice gone from the library) are shown and nothing changes.
   */
  addScript(text: string): boolean {
    const p = this.project;
    if (!p) return false;
    this.scriptError = null;
    try {
      appendScript(p, text, this.voices);
      this.script = '';
      this.changed();
      return true;
    } catch (e) {
      this.scriptError = plain(e);
      return false;
    }
  }

  // ----------------------------------------------------------------------------- library/files

  addLibraryClip(c: ClipSummary): void {
    const track = this.targetTrack();
    if (track) this.place(track, { kind: 'library', clip_id: c.id }, this.playhead, c.duration);
  }

  /** A dropped audio file goes into the clip library (other projects can use it) and onto the timeline. */
  async addFile(file: File): Promise<void> {
    if (!this.project || this.busy) return;
    this.error = null;
    const out = await this.job.run(
      'import',
      async (run) => {
        const bytes = new Uint8Array(await file.arrayBuffer());
        // Any file, mixed to mono at the project's rate, through the studio's one decoder.
        const audio = await this.studio.formats.decodeInput(
          bytes,
          { rate: this.project?.sample_rate ?? 24000 },
          { signal: run.signal },
        );
        const duration = audio.samples.length / audio.sampleRate;
        if (!duration) throw new Error(`${file.name} holds no audio.`);
        const rec = await this.clips.add({
          name: file.name.replace(/\.[^.]+$/, '') || 'Imported audio',
          source: 'import',
          duration,
          sample_rate: audio.sampleRate,
          channels: 1,
          audio: encodeWav(audio.samples, audio.sampleRate, 's16').slice().buffer,
        });
        await this.loadLibrary();
        const track = this.targetTrack();
        if (track) this.place(track, { kind: 'library', clip_id: rec.id }, this.playhead, duration);
        this.studio.touch();
      },
      { stage: `Reading ${file.name}…`, total: 1 },
    );
    this.settle(out, `Could not add ${file.name}`);
  }

  // --------------------------------------------------------------------------------- render

  /**
   * Renders the mixdown: speech made where it is missing (each kept in the clip library for the next
   * render), sources trimmed, faded and mixed. Measured lengths and exact starts go back into the project.
   */
  async render(): Promise<Mixdown | null> {
    const p = this.project;
    if (!p || this.busy) return null;
    if (!this.voices.voices.length) await this.voices.loadVoices();
    const revision = this.revision;
    this.error = null;
    const snapshot = $state.snapshot(p) as Project;
    const out = await this.job.run(
      'render',
      async (run) => {
        const r = await renderProject(snapshot, renderDeps(this.studio, this.voices, this.clips), {
          signal: run.signal,
          keepClipAudio: true,
          onProgress: run.guard((pr) => {
            const stage =
              pr.stage === 'mix'
                ? 'Mixing…'
                : pr.stage === 'sources'
                  ? pr.message
                    ? `Preparing ${pr.message}…`
                    : 'Preparing the clips…'
                  : undefined;
            run.report(stage, pr.total ? { done: pr.done ?? 0, total: pr.total } : undefined);
          }),
        });
        // The measured project goes back, clip by clip (an edit made meanwhile keeps its own values).
        if (this.project && absorbMeasured(this.project, r.project)) this.changed(false);
        const mix = mixdownOf(r, this.revision === revision ? this.revision : revision);
        this.mix = mix;
        this.rendered = r;
        void this.loadLibrary();
        return mix;
      },
      { stage: 'Starting…', total: 1 },
    );
    if (out?.status === 'done') return out.value;
    this.settle(out, 'The render stopped');
    return null;
  }

  // ------------------------------------------------------------------------------------ jobs

  /** How a job ended, told: a cancel as a notice, a failure under the job. */
  private settle(out: JobOutcome<unknown> | null, what: string): void {
    if (out?.status === 'cancelled') this.studio.toast('Stopped. Nothing on the timeline was lost.');
    else if (out?.status === 'failed') this.error = `${what}: ${plain(out.error)}`;
  }

  /** Cancel: the engine job stops; the timeline is as it was. */
  stopJob(): void {
    this.job.cancel();
  }

  // -------------------------------------------------------------------------------- playback

  /** Moves the playhead (a playing mixdown jumps there). */
  seek(t: number): void {
    this.playhead = Math.max(0, t);
    if (this.playing) void this.play();
  }

  async toggle(): Promise<void> {
    if (this.playing) this.pause();
    else await this.play();
  }

  /** Plays the mixdown from the playhead, rendering it first when it is missing or out of date. */
  async play(): Promise<void> {
    this.pause();
    const m = this.mixCurrent ? this.mix : await this.render();
    if (!m || !m.samples.length) return;
    await this.player.play(m);
  }

  pause(): void {
    this.player.pause();
  }

  // ------------------------------------------------------------------------------- downloads

  stem(): string {
    return fileStem(this.project?.name ?? '', 'project');
  }

  downloading = $state<string | null>(null);

  /** Saves the mixdown (or other audio) in a download format (the DownloadMenu's target). */
  download(choice: DownloadChoice, audio: () => Promise<MonoAudio>, stem: string): Promise<void> {
    return runDownload(this, this.studio, choice, audio, stem);
  }

  /** Each clip as its own WAV in one zip (rendered first when the mixdown is out of date). */
  async downloadZip(): Promise<void> {
    if (this.downloading) return;
    this.downloading = 'zip';
    try {
      if (!this.mixCurrent || !this.rendered) await this.mixAudio();
      if (!this.rendered) return;
      downloadClipsZip(this.rendered, this.stem());
    } catch (e) {
      this.studio.fail(e, 'Could not make the zip of clips');
    } finally {
      this.downloading = null;
    }
  }

  /** The project as one file, with the library audio it uses. */
  async exportFile(id: string): Promise<void> {
    await this.flush();
    try {
      await downloadProjectFile(this.store, this.clips, id);
    } catch (e) {
      this.studio.fail(e, 'Could not export the project');
    }
  }

  /** Reads a project file: its audio goes into the clip library, the project opens as a new one. */
  async importFile(file: File): Promise<void> {
    try {
      const stored = await storeProjectFile(this.store, this.clips, file);
      await this.refresh();
      await this.loadLibrary();
      await this.open(stored.id);
      this.studio.toast(`Imported “${stored.name}”.`, { kind: 'success' });
    } catch (e) {
      this.studio.fail(e, `Could not import ${file.name}`);
    }
  }

  /** The mixdown for a download: rendered first when missing or out of date. */
  async mixAudio(): Promise<MonoAudio> {
    const m = this.mixCurrent ? this.mix : await this.render();
    if (!m) throw new Error(this.error ?? 'the project could not be rendered');
    return m;
  }

  /** Leaving the view: edits are saved and playback stops; a render keeps going. */
  leave(): void {
    void this.flush();
    this.pause();
    this.voices.stopPreview();
  }
}

/** One session per studio, so the open project and a running render survive switching views. */
export function projectsSession(studio: Studio): ProjectsSession {
  return sessionFor(studio, ProjectsSession);
}
