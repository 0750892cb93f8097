// The Clips view's state: the clip library (list, import, recordings, rename, download, delete with undo),
// files waiting in the inbox, and the editor of one clip (selection, edits with undo/redo, save).
// Clips are stored as 16-bit mono WAV at the rate they were decoded at (the timeline reads them as such).
import type { Studio } from './studio.svelte';
import type { DownloadTarget } from './download';
import { runDownload } from './download';
import type { DownloadChoice } from '../lib/ui/speak-download';
import { ClipStore, type ClipSummary } from '../lib/storage/clips';
import { type ClipRecord, type ClipSource } from '../lib/storage/records';
import { NotFoundError } from '../lib/storage/errors';
import { listInbox, readInbox, removeFromInbox, type InboxItem } from '../lib/storage/inbox';
import { decodeWav, encodeWav } from '../lib/dsp/wav';
import { mixDown, type Region } from '../lib/ui/clone-audio';
import { frames, toSample, type EditAudio, type EditOp, type FadeCurve } from '../lib/audio/edit';
import { EditHistory } from '../lib/audio/edit-history';
import { CancelledError } from '../lib/core/run';
import { sessionFor } from './sessions';
import type { MonoAudio } from '../lib/dsp/audio';

/** Files above this rate are brought down to it (the editor and players need no more). */
const DECODE_RATE = 48000;
/** A fade without a selection covers this much of the clip's start or end. */
export const DEFAULT_FADE_SECONDS = 0.5;
/** The shortest selection an edit acts on (a click without a drag makes none). */
const MIN_SELECTION = 0.01;

/** Something that could not be read as audio. */
export class ClipDecodeError extends Error {
  override name = 'ClipDecodeError';
}

/** Any audio → mono at its own rate (at most 48 kHz), through the studio's one decoder. */
export async function decodeAny(studio: Studio, bytes: Uint8Array): Promise<EditAudio> {
  try {
    const d = await studio.formats.decodeInput(bytes, { maxRate: DECODE_RATE });
    return { channels: [d.samples], sampleRate: d.sampleRate };
  } catch (e) {
    if (e instanceof CancelledError) throw e;
    throw new ClipDecodeError(
      `This file could not be read as audio (${e instanceof Error ? e.message : String(e)}).`,
    );
  }
}

function wavBytes(a: EditAudio): ArrayBuffer {
  const samples = a.channels.length === 1 ? a.channels[0]! : mixDown(a.channels);
  const w = encodeWav(samples, a.sampleRate, 's16');
  return w.buffer as ArrayBuffer;
}

function stemOf(name: string): string {
  return name.replace(/\.[a-z0-9]{2,5}$/i, '') || 'clip';
}

export interface OpenClip {
  id: string;
  name: string;
  source: ClipSource;
}

export class ClipsSession implements DownloadTarget {
  clips = $state.raw<ClipSummary[]>([]);
  inbox = $state.raw<InboxItem[]>([]);
  /** Files being read in (names), for the progress line. */
  importing = $state.raw<string[]>([]);
  downloading = $state<string | null>(null);
  renaming = $state<string | null>(null);

  /** The clip in the editor. */
  open = $state.raw<OpenClip | null>(null);
  /** The editor's audio as shown (a WAV blob of the current state). */
  wav = $state.raw<Blob | null>(null);
  duration = $state(0);
  selection = $state.raw<Region | null>(null);
  canUndo = $state(false);
  canRedo = $state(false);
  undoLabel = $state<string | null>(null);
  redoLabel = $state<string | null>(null);
  /** Edits not saved yet. */
  dirty = $state(false);
  saving = $state(false);
  fadeCurve = $state<FadeCurve>('linear');
  /** Normalise to the peak (−1 dBFS) or to a loudness in LUFS. */
  normalizeTarget = $state<'peak' | '-16' | '-19' | '-23'>('peak');

  readonly store: ClipStore;
  private history: EditHistory | null = null;
  private playing: HTMLAudioElement | null = null;
  playingId = $state<string | null>(null);

  constructor(private readonly studio: Studio) {
    this.store = new ClipStore(studio.db);
  }

  // ------------------------------------------------------------------------------------- library

  async load(): Promise<void> {
    this.clips = await this.store.list();
  }

  async loadInbox(): Promise<void> {
    try {
      this.inbox = await listInbox(caches);
    } catch {
      this.inbox = []; // no Cache Storage (private mode): there is no inbox either
    }
  }

  /** Adds a decoded clip to the library; returns it. */
  async addClip(name: string, source: ClipSource, audio: EditAudio): Promise<ClipRecord> {
    const rec = await this.store.add({
      name,
      source,
      duration: frames(audio) / audio.sampleRate,
      sample_rate: audio.sampleRate,
      channels: 1,
      audio: wavBytes(audio),
    });
    await this.load();
    this.studio.touch();
    return rec;
  }

  /** Imports dropped or chosen files (any format the decoders read); reports each failure by name. */
  async importFiles(files: File[]): Promise<void> {
    let added = 0;
    for (const f of files) {
      this.importing = [...this.importing, f.name];
      try {
        const audio = await decodeAny(this.studio, new Uint8Array(await f.arrayBuffer()));
        if (!frames(audio)) throw new ClipDecodeError('It holds no audio.');
        await this.addClip(stemOf(f.name), 'import', audio);
        added++;
      } catch (e) {
        this.studio.fail(e, `Could not import "${f.name}"`);
      } finally {
        this.importing = this.importing.filter((n) => n !== f.name);
      }
    }
    if (added) this.studio.toast(`Imported ${added} clip${added === 1 ? '' : 's'}.`, { kind: 'success' });
  }

  async importInbox(item: InboxItem): Promise<void> {
    try {
      const blob = await readInbox(caches, item.url);
      await this.importFiles([new File([blob], item.name, { type: item.type })]);
      await removeFromInbox(caches, item.url);
    } catch (e) {
      this.studio.fail(e, `Could not take "${item.name}" from the inbox`);
    }
    await this.loadInbox();
  }

  /** A finished recording (WebM/Opus from MediaRecorder), decoded to WAV and kept. */
  async saveRecording(bytes: Uint8Array, name: string, info: { autoStopped: boolean }): Promise<void> {
    try {
      const audio = await decodeAny(this.studio, bytes);
      const rec = await this.addClip(name, 'recording', audio);
      this.studio.toast(
        `${info.autoStopped ? 'Stopped after the silence: saved' : 'Saved'} "${rec.name}" (${rec.duration.toFixed(1)} s).`,
        { kind: 'success' },
      );
    } catch (e) {
      this.studio.fail(e, 'Could not save the recording');
    }
  }

  async rename(id: string, name: string): Promise<boolean> {
    const ok = await this.studio.act('Could not rename the clip', async () => {
      const r = await this.store.rename(id, name);
      if (this.open?.id === id) this.open = { ...this.open, name: r.name };
      await this.load();
    });
    this.renaming = null;
    return ok;
  }

  async remove(id: string): Promise<void> {
    try {
      if (this.playingId === id) this.stopPlay();
      const gone = await this.store.delete(id);
      if (this.open?.id === id) this.close(false);
      await this.load();
      this.studio.touch();
      this.studio.toast(`Deleted "${gone.name}".`, {
        action: {
          label: 'Undo',
          run: async () => {
            await this.store.restore(gone);
            await this.load();
            this.studio.touch();
          },
        },
      });
    } catch (e) {
      this.studio.fail(e, 'Could not delete the clip');
    }
  }

  /** Plays a clip from the list (pressing again stops it). */
  async play(id: string): Promise<void> {
    const again = this.playingId === id;
    this.stopPlay();
    if (again) return;
    const rec = await this.store.get(id);
    if (!rec) return;
    const url = URL.createObjectURL(new Blob([rec.audio], { type: 'audio/wav' }));
    const el = new Audio(url);
    this.playing = el;
    this.playingId = id;
    const end = () => {
      URL.revokeObjectURL(url);
      if (this.playing === el) {
        this.playing = null;
        this.playingId = null;
      }
    };
    el.onended = end;
    el.onerror = end;
    await el.play().catch(end);
  }

  stopPlay(): void {
    this.playing?.pause();
    this.playing = null;
    this.playingId = null;
  }

  async clipAudio(id: string): Promise<MonoAudio> {
    if (this.open?.id === id && this.history) {
      const a = this.history.current;
      return { samples: a.channels[0]!, sampleRate: a.sampleRate };
    }
    const rec = await this.store.get(id);
    if (!rec) throw new NotFoundError('This clip is no longer in the library.');
    return decodeWav(new Uint8Array(rec.audio));
  }

  download(choice: DownloadChoice, audio: () => Promise<MonoAudio>, stem: string): Promise<void> {
    return runDownload(this, this.studio, choice, audio, stem);
  }

  // -------------------------------------------------------------------------------------- editor

  async edit(id: string): Promise<void> {
    if (this.open?.id === id) return;
    const rec = await this.store.get(id);
    if (!rec) {
      this.studio.toast('This clip is no longer in the library.', { kind: 'error' });
      return;
    }
    this.offerUnsaved();
    const w = decodeWav(new Uint8Array(rec.audio));
    this.history = new EditHistory({ channels: [w.samples], sampleRate: w.sampleRate });
    this.open = { id: rec.id, name: rec.name, source: rec.source };
    this.selection = null;
    this.dirty = false;
    this.show();
  }

  /** Leaving a clip with unsaved edits: they are kept aside, and the notice can bring them back. */
  private offerUnsaved(): void {
    const history = this.history;
    const open = this.open;
    if (!history || !open || !this.dirty) return;
    this.studio.toast(`Left "${open.name}" without saving its edits.`, {
      action: {
        label: 'Reopen edits',
        run: () => {
          this.history = history;
          this.open = open;
          this.selection = null;
          this.dirty = true;
          this.show();
        },
      },
    });
  }

  /** Closes the editor; unsaved edits are offered back (not when the clip itself was deleted). */
  close(offer = true): void {
    if (offer) this.offerUnsaved();
    this.history = null;
    this.open = null;
    this.wav = null;
    this.selection = null;
    this.dirty = false;
    this.sync();
  }

  select(r: Region | null): void {
    if (!r || r.end - r.start < MIN_SELECTION) {
      this.selection = null;
      return;
    }
    const start = Math.max(0, Math.min(r.start, this.duration));
    const end = Math.max(start, Math.min(r.end, this.duration));
    this.selection = end - start >= MIN_SELECTION ? { start, end } : null;
  }

  /** The selection in samples, or null. */
  private span(a: EditAudio): { start: number; end: number } | null {
    const s = this.selection;
    if (!s) return null;
    const start = toSample(a, s.start);
    const end = toSample(a, s.end);
    return end > start ? { start, end } : null;
  }

  /** Runs one of the editor's buttons; fades without a selection use the clip's first or last 0.5 s. */
  apply(kind: 'trim' | 'cut' | 'fade-in' | 'fade-out' | 'normalize'): void {
    const h = this.history;
    if (!h) return;
    const a = h.current;
    const n = frames(a);
    const span = this.span(a);
    let op: EditOp;
    if (kind === 'normalize')
      op =
        this.normalizeTarget === 'peak' ? { kind } : { kind: 'loudness', lufs: Number(this.normalizeTarget) };
    else if (kind === 'trim' || kind === 'cut') {
      if (!span) {
        this.studio.toast('Select a part of the clip first (drag across the waveform).', { kind: 'error' });
        return;
      }
      if (kind === 'cut' && span.start === 0 && span.end === n) {
        this.studio.toast('Cutting everything would leave nothing: select less.', { kind: 'error' });
        return;
      }
      op = { kind, ...span };
    } else {
      const len = Math.min(n, toSample(a, DEFAULT_FADE_SECONDS));
      const s = span ?? (kind === 'fade-in' ? { start: 0, end: len } : { start: n - len, end: n });
      op = { kind, ...s, curve: this.fadeCurve };
    }
    try {
      h.apply(op);
    } catch (e) {
      this.studio.fail(e, 'Could not edit the clip');
      return;
    }
    // After trim and cut the old selection means nothing; after a fade or normalise it still fits.
    if (kind === 'trim' || kind === 'cut') this.selection = null;
    this.dirty = true;
    this.show();
  }

  undo(): void {
    if (this.history?.undo()) {
      this.dirty = true;
      this.selection = null;
      this.show();
    }
  }

  redo(): void {
    if (this.history?.redo()) {
      this.dirty = true;
      this.selection = null;
      this.show();
    }
  }

  /** Overwrites the clip with the edited audio (undo still works afterwards, until the editor closes). */
  async save(): Promise<boolean> {
    const h = this.history;
    const open = this.open;
    if (!h || !open) return false;
    this.saving = true;
    try {
      const rec = await this.store.get(open.id);
      if (!rec) throw new NotFoundError('This clip was deleted meanwhile: use "Save as new clip".');
      const a = h.current;
      await this.store.put({
        ...rec,
        duration: frames(a) / a.sampleRate,
        sample_rate: a.sampleRate,
        channels: 1,
        audio: wavBytes(a),
        updated_at: Date.now(),
      });
      this.dirty = false;
      await this.load();
      this.studio.touch();
      this.studio.toast(`Saved "${rec.name}".`, { kind: 'success' });
      return true;
    } catch (e) {
      this.studio.fail(e, 'Could not save the clip');
      return false;
    } finally {
      this.saving = false;
    }
  }

  /** Keeps the edited audio as a new clip and opens that one; the original stays as it was. */
  async saveAsNew(): Promise<void> {
    const h = this.history;
    const open = this.open;
    if (!h || !open) return;
    this.saving = true;
    try {
      const rec = await this.addClip(`${open.name} (edit)`, 'edit', h.current);
      this.open = { id: rec.id, name: rec.name, source: rec.source };
      this.dirty = false;
      this.studio.toast(`Saved as "${rec.name}".`, { kind: 'success' });
    } catch (e) {
      this.studio.fail(e, 'Could not save the new clip');
    } finally {
      this.saving = false;
    }
  }

  /** The editor's current state to the waveform and the buttons. */
  private show(): void {
    const h = this.history;
    if (h) {
      const a = h.current;
      this.duration = frames(a) / a.sampleRate;
      this.wav = new Blob([wavBytes(a)], { type: 'audio/wav' });
    }
    this.sync();
  }

  private sync(): void {
    const h = this.history;
    this.canUndo = h?.canUndo ?? false;
    this.canRedo = h?.canRedo ?? false;
    this.undoLabel = h?.undoLabel ?? null;
    this.redoLabel = h?.redoLabel ?? null;
  }

  dispose(): void {
    this.stopPlay();
  }
}

export function clipsSession(studio: Studio): ClipsSession {
  return sessionFor(studio, ClipsSession);
}
