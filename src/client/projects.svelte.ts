// The Projects view's state: the list of projects (create, open, rename, duplicate, delete with undo,
// import/export a project file), the open project with debounced autosave, timeline edits (tracks, clips,
// selection, nudges, trims, fades), clips added from a script (one a line, each speaker's voice from the
// cast), from the clip library or from a dropped file, the render (renderProject with speech made in the
// page's engine) with progress and cancel, playback of the mixdown from the playhead, and its downloads.
import type { Studio } from './studio.svelte';
import { CancelledError } from '../lib/core/run';
import { errorKind } from '../lib/core/errors';
import {
  layoutProject,
  newClip,
  newTrack,
  speechKey,
  timelineDuration,
  type ClipContent,
  type Project,
  type TimelineClip,
  type Track,
} from '../lib/documents/project';
import { parseScript, scriptToClips, type ScriptLine } from '../lib/projects/script';
import { renderProject, type RenderDeps, type RenderResult } from '../lib/projects/render';
import { exportProjectFile, importProjectFile, referencedClipIds, zipClips } from '../lib/projects/file';
import { clampFades, LINE_GAP, snap } from '../lib/ui/timeline-view';
import { ClipStore, type ClipSummary } from '../lib/storage/clips';
import { ProjectStore, summarizeProject, type ProjectSummary } from '../lib/storage/projects';
import { encodeWav } from '../lib/dsp/wav';
import { fileStem } from '../lib/ui/speak-text';
import { SpeakSession } from './speak.svelte';
import { saveAudioFile } from './download';
import type { DownloadChoice } from '../lib/ui/speak-download';

const SAVE_DELAY_MS = 600;

export type SaveState = 'saved' | 'saving' | 'pending' | 'failed';

export interface Mixdown {
  samples: Float32Array;
  sampleRate: number;
  duration: number;
  wav: Blob;
  /** The edit revision it was rendered from (older than the session's: out of date). */
  revision: number;
}

export interface ParsedScript {
  lines: ScriptLine[];
  /** Why the script cannot be read as it stands (shown under the box; the text is kept). */
  problems: string[];
}

/** The script has no line to speak. */
export class EmptyScriptError extends Error {
  override name = 'EmptyScriptError';
}

/** Words a person can act on, for the errors the view shows. */
function plain(e: unknown): string {
  const err = e instanceof Error ? e : new Error(String(e));
  if (errorKind(err) === 'model_not_installed')
    return `The speech model is not installed on this device: install it in Models. ${err.message}`;
  if (errorKind(err) === 'storage_full')
    return 'Not enough browser storage to save. Free space (delete clips, history or models); your edits stay in this page and are saved on the next change or with Retry.';
  return err.message || 'Something went wrong.';
}

const isCancel = (e: unknown) =>
  e instanceof CancelledError || (e instanceof Error && e.name === 'CancelledError');

export function clipLabel(c: TimelineClip, names?: Record<string, string>): string {
  if (c.content.kind === 'speech') return c.content.text;
  if (c.content.kind === 'audio') return c.content.name;
  return names?.[c.content.clip_id] ?? 'Library clip';
}

const short = (s: string) => (s.length > 40 ? `${s.slice(0, 40)}…` : s);

export class ProjectsSession {
  list = $state.raw<ProjectSummary[]>([]);
  loaded = $state(false);
  project = $state<Project | null>(null);
  saveState = $state<SaveState>('saved');
  saveError = $state<string | null>(null);

  selected = $state<string | null>(null);
  pxPerSec = $state(80);
  snapOn = $state(true);

  script = $state('');
  scriptError = $state<string | null>(null);

  /** A long job: a render, or decoding a dropped file. */
  busy = $state<null | 'render' | 'import'>(null);
  stage = $state('');
  progress = $state({ done: 0, total: 0 });
  error = $state<string | null>(null);

  mix = $state.raw<Mixdown | null>(null);
  /** Bumped by every edit that changes what is heard; a mixdown of an older revision is out of date. */
  revision = $state(0);
  playhead = $state(0);
  playing = $state(false);

  library = $state.raw<ClipSummary[]>([]);
  libraryNames = $derived(
    Object.fromEntries(this.library.map((c) => [c.id, c.name])) as Record<string, string>,
  );

  /** Voices, the voice picker, previews and downloads use the Speak view's machinery (own instance). */
  readonly voices: SpeakSession;
  readonly clips: ClipStore;
  readonly store: ProjectStore;

  private saveTimer: ReturnType<typeof setTimeout> | null = null;
  private saving: Promise<void> | null = null;
  private ctl: AbortController | null = null;
  /** The last render's result (its clips' own audio, for the zip of clips). */
  private rendered: RenderResult | null = null;

  constructor(private readonly studio: Studio) {
    this.voices = new SpeakSession(studio);
    this.clips = new ClipStore(studio.db);
    this.store = new ProjectStore(studio.db);
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
    this.saveError = null;
    this.saveState = 'saved';
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
    this.saveState = 'pending';
    if (this.saveTimer) clearTimeout(this.saveTimer);
    this.saveTimer = setTimeout(() => void this.flush(), SAVE_DELAY_MS);
  }

  /** Saves a pending edit now (waits for a save under way). */
  async flush(): Promise<void> {
    if (this.saveTimer) clearTimeout(this.saveTimer);
    this.saveTimer = null;
    while (this.saving) await this.saving;
    const p = this.project;
    if (!p || this.saveState === 'saved') return;
    this.saveState = 'saving';
    const snapshot = $state.snapshot(p) as Project;
    this.saving = (async () => {
      try {
        const stored = await this.store.put(snapshot);
        if (this.project?.id === stored.id) this.project.updated_at = stored.updated_at;
        this.saveError = null;
        // An edit made while saving keeps the state pending (its timer saves it).
        if (this.saveState === 'saving') this.saveState = 'saved';
        const sum = summarizeProject(stored);
        this.list = [sum, ...this.list.filter((s) => s.id !== sum.id)];
      } catch (e) {
        // Nothing is lost: the project stays in the page and the next edit or Retry saves it.
        this.saveError = `Not saved: ${plain(e)}`;
        this.saveState = 'failed';
      }
    })();
    await this.saving;
    this.saving = null;
  }

  async retrySave(): Promise<void> {
    if (this.saveState === 'failed') this.saveState = 'pending';
    await this.flush();
  }

  // -------------------------------------------------------------------------------- timeline

  find(clipId: string): { track: Track; clip: TimelineClip; index: number } | null {
    for (const track of this.project?.tracks ?? []) {
      const index = track.clips.findIndex((c) => c.id === clipId);
      if (index >= 0) return { track, clip: track.clips[index]!, index };
    }
    return null;
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
    // Clips placed after it now follow what it followed (or stay where they are).
    for (const t of p.tracks)
      for (const c of t.clips)
        if (c.after?.clip === id) {
          if (clip.after) c.after = { ...clip.after };
          else delete c.after;
        }
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
    if (!text.trim()) return { lines: [], problems: [] };
    try {
      return { lines: parseScript(text).lines, problems: [] };
    } catch (e) {
      return { lines: [], problems: [plain(e)] };
    }
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
      const script = parseScript(text);
      if (!script.lines.length)
        throw new EmptyScriptError(
          'The script has no lines to speak. Write one line a part, like “[Narrator] Once upon a time.”',
        );
      for (const s of script.speakers) {
        const v = p.cast[s];
        if (v && !this.voices.resolve(v))
          throw new Error(
            `The voice of “${s}” (${this.voices.label(v)}) is not in the library any more: choose another.`,
          );
      }
      // scriptToClips checks every speaker has a voice and links each line after the previous one.
      const clips = scriptToClips(p, script, { gap: LINE_GAP });
      const last = this.lastClip();
      if (last && clips[0]) clips[0].after = { clip: last.id, gap: LINE_GAP };
      for (const c of clips) {
        const speaker = c.content.kind === 'speech' ? (c.content.speaker ?? 'Voices') : 'Voices';
        this.speakerTrack(speaker).clips.push(c);
      }
      p.script = p.script ? `${p.script}\n\n${text}` : text;
      this.script = '';
      this.changed();
      return true;
    } catch (e) {
      this.scriptError = plain(e);
      return false;
    }
  }

  /** The clip that ends last on the timeline. */
  private lastClip(): TimelineClip | null {
    let best: TimelineClip | null = null;
    let end = -1;
    for (const t of this.project?.tracks ?? [])
      for (const c of t.clips) {
        const e = c.start + (c.source_duration ?? 0);
        if (e >= end) [best, end] = [c, e];
      }
    return best;
  }

  /** The speaker's track: one named after them, else the first empty "Track n", else a new one. */
  private speakerTrack(speaker: string): Track {
    const p = this.project!;
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

  // ----------------------------------------------------------------------------- library/files

  addLibraryClip(c: ClipSummary): void {
    const track = this.targetTrack();
    if (track) this.place(track, { kind: 'library', clip_id: c.id }, this.playhead, c.duration);
  }

  /** A dropped audio file goes into the clip library (other projects can use it) and onto the timeline. */
  async addFile(file: File): Promise<void> {
    if (!this.project || this.busy) return;
    const ctl = this.begin('import', 1);
    this.stage = `Reading ${file.name}…`;
    try {
      const bytes = new Uint8Array(await file.arrayBuffer());
      const audio = await this.decodeAny(bytes, ctl);
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
    } catch (e) {
      this.failJob(e, `Could not add ${file.name}`);
    } finally {
      this.end(ctl);
    }
  }

  /** Any file, mixed to mono at the project's rate, through the studio's one decoder. */
  private async decodeAny(bytes: Uint8Array, ctl: AbortController) {
    const rate = this.project?.sample_rate ?? 24000;
    const d = await this.studio.formats.decodeInput(bytes, { rate }, { signal: ctl.signal });
    return { samples: d.samples, sampleRate: d.rate };
  }

  // --------------------------------------------------------------------------------- render

  /** What the renderer needs from the page: speech from the engine, the clip library for sources. */
  private deps(): RenderDeps {
    return {
      speak: async (text, voice, speed, opts) => {
        const resolved = this.voices.resolve(voice);
        if (!resolved)
          throw new Error(`The voice ${this.voices.label(voice)} is not in the library any more.`);
        const r = await this.studio.engine.run(
          'tts.generate',
          { text, voice: resolved, speed, ...(resolved !== voice ? { voice_id: voice } : {}) },
          { signal: opts.signal, onProgress: opts.onProgress },
        );
        return { samples: r.samples, sampleRate: r.sampleRate };
      },
      loadClip: async (id) => {
        const rec = await this.clips.get(id);
        if (!rec) throw new Error('it is not in the clip library any more');
        return new Uint8Array(rec.audio);
      },
      saveGenerated: async (wav, info) => {
        const rec = await this.clips.add({
          name: info.name,
          source: 'generated',
          duration: info.duration,
          sample_rate: info.sample_rate,
          channels: 1,
          audio: wav.slice().buffer,
        });
        return rec.id;
      },
      dropGenerated: async (id) => {
        await this.clips.delete(id);
      },
    };
  }

  /**
   * Renders the mixdown: speech made where it is missing (each kept in the clip library for the next
   * render), sources trimmed, faded and mixed. Measured lengths and exact starts go back into the project.
   */
  async render(): Promise<Mixdown | null> {
    const p = this.project;
    if (!p || this.busy) return null;
    if (!this.voices.voices.length) await this.voices.loadVoices();
    const revision = this.revision;
    const ctl = this.begin('render', 1);
    const snapshot = $state.snapshot(p) as Project;
    try {
      const r = await renderProject(snapshot, this.deps(), {
        signal: ctl.signal,
        keepClipAudio: true,
        onProgress: (pr) => {
          if (ctl.signal.aborted) return;
          if (pr.stage === 'mix') this.stage = 'Mixing…';
          else if (pr.stage === 'sources')
            this.stage = pr.message ? `Preparing ${pr.message}…` : 'Preparing the clips…';
          if (pr.total) this.progress = { done: pr.done ?? 0, total: pr.total };
        },
      });
      // The measured project goes back, clip by clip (an edit made meanwhile keeps its own values).
      this.absorb(r.project);
      const still = this.revision === revision;
      const wav = new Blob([encodeWav(r.samples, r.sampleRate, 's16') as Uint8Array<ArrayBuffer>], {
        type: 'audio/wav',
      });
      const mix: Mixdown = {
        samples: r.samples,
        sampleRate: r.sampleRate,
        duration: r.duration,
        wav,
        revision: still ? this.revision : revision,
      };
      this.mix = mix;
      this.rendered = r;
      void this.loadLibrary();
      return mix;
    } catch (e) {
      this.failJob(e, 'The render stopped');
      return null;
    } finally {
      this.end(ctl);
    }
  }

  /** Copies measured lengths and speech caches from a rendered copy into the open project. */
  private absorb(rendered: Project): void {
    const p = this.project;
    if (!p || p.id !== rendered.id) return;
    for (const t of rendered.tracks)
      for (const rc of t.clips) {
        const c = this.find(rc.id)?.clip;
        if (!c || c.content.kind !== rc.content.kind) continue;
        if (c.content.kind === 'speech' && rc.content.kind === 'speech') {
          if (speechKey(c.content.text, c.content.voice, c.content.speed) !== rc.content.generated?.key)
            continue;
          c.content.generated = { ...rc.content.generated };
        }
        c.source_duration = rc.source_duration;
      }
    this.changed(false);
  }

  // ------------------------------------------------------------------------------------ jobs

  private begin(kind: NonNullable<ProjectsSession['busy']>, total: number): AbortController {
    const ctl = new AbortController();
    this.ctl = ctl;
    this.busy = kind;
    this.error = null;
    this.progress = { done: 0, total };
    this.stage = 'Starting…';
    return ctl;
  }

  private end(ctl: AbortController): void {
    if (this.ctl !== ctl) return;
    this.ctl = null;
    this.busy = null;
    this.stage = '';
  }

  private failJob(e: unknown, what: string): void {
    if (isCancel(e)) {
      this.studio.toast('Stopped. Nothing on the timeline was lost.');
      return;
    }
    this.error = `${what}: ${plain(e)}`;
  }

  /** Cancel: the engine job stops; the timeline is as it was. */
  stopJob(): void {
    const ctl = this.ctl;
    if (!ctl) return;
    ctl.abort();
    this.end(ctl);
  }

  // -------------------------------------------------------------------------------- playback

  private ctx: AudioContext | null = null;
  private source: AudioBufferSourceNode | null = null;
  private frame = 0;

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
    this.ctx ??= new AudioContext({ latencyHint: 'interactive' });
    const ctx = this.ctx;
    if (ctx.state === 'suspended') await ctx.resume();
    const buf = ctx.createBuffer(1, m.samples.length, m.sampleRate);
    buf.copyToChannel(m.samples as Float32Array<ArrayBuffer>, 0);
    const src = ctx.createBufferSource();
    src.buffer = buf;
    src.connect(ctx.destination);
    const from = this.playhead >= m.duration - 0.01 ? 0 : this.playhead;
    const t0 = ctx.currentTime;
    src.onended = () => {
      if (this.source !== src) return;
      this.source = null;
      this.playing = false;
      cancelAnimationFrame(this.frame);
    };
    src.start(0, from);
    this.source = src;
    this.playing = true;
    const follow = () => {
      if (this.source !== src) return;
      this.playhead = Math.min(from + (ctx.currentTime - t0), m.duration);
      this.frame = requestAnimationFrame(follow);
    };
    follow();
  }

  pause(): void {
    cancelAnimationFrame(this.frame);
    const src = this.source;
    this.source = null;
    this.playing = false;
    try {
      src?.stop();
    } catch {
      // not started
    }
    src?.disconnect();
  }

  // ------------------------------------------------------------------------------- downloads

  stem(): string {
    return fileStem(this.project?.name ?? '', 'project');
  }

  downloading = $state<string | null>(null);

  /** Saves the mixdown (or other audio) in a download format (the DownloadMenu's target). */
  async download(
    choice: DownloadChoice,
    audio: () => Promise<{ samples: Float32Array; sampleRate: number }>,
    stem: string,
  ): Promise<void> {
    if (this.downloading) return;
    this.downloading = choice.id;
    try {
      await saveAudioFile(this.studio.formats, choice, audio, stem);
    } catch (e) {
      this.studio.fail(e, `Could not make the ${choice.label} file`);
    } finally {
      this.downloading = null;
    }
  }

  /** Each clip as its own WAV in one zip (rendered first when the mixdown is out of date). */
  async downloadZip(): Promise<void> {
    if (this.downloading) return;
    this.downloading = 'zip';
    try {
      if (!this.mixCurrent || !this.rendered) await this.mixAudio();
      if (!this.rendered) return;
      saveBytes(zipClips(this.rendered), 'application/zip', `${this.stem()}-clips.zip`);
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
      const p = await this.store.require(id);
      const recs = await Promise.all(referencedClipIds(p).map((c) => this.clips.get(c)));
      const bytes = exportProjectFile(
        p,
        recs.filter((r) => r !== undefined),
      );
      saveBytes(bytes, 'application/json', `${fileStem(p.name, 'project')}.timbre-project.json`);
    } catch (e) {
      this.studio.fail(e, 'Could not export the project');
    }
  }

  /** Reads a project file: its audio goes into the clip library, the project opens as a new one. */
  async importFile(file: File): Promise<void> {
    try {
      const { project, clips } = importProjectFile(new Uint8Array(await file.arrayBuffer()));
      for (const c of clips) if (!(await this.clips.get(c.id))) await this.clips.put(c);
      const stored = await this.store.put(project, { touch: false });
      await this.refresh();
      await this.loadLibrary();
      await this.open(stored.id);
      this.studio.toast(`Imported “${stored.name}”.`, { kind: 'success' });
    } catch (e) {
      this.studio.fail(e, `Could not import ${file.name}`);
    }
  }

  /** The mixdown for a download: rendered first when missing or out of date. */
  async mixAudio(): Promise<{ samples: Float32Array; sampleRate: number }> {
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

/** Hands bytes to the browser as a downloaded file. */
function saveBytes(bytes: Uint8Array, type: string, name: string): void {
  const url = URL.createObjectURL(new Blob([bytes as Uint8Array<ArrayBuffer>], { type }));
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  a.style.display = 'none';
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

const sessions = new WeakMap<Studio, ProjectsSession>();

/** One session per studio, so the open project and a running render survive switching views. */
export function projectsSession(studio: Studio): ProjectsSession {
  let s = sessions.get(studio);
  if (!s) sessions.set(studio, (s = new ProjectsSession(studio)));
  return s;
}
