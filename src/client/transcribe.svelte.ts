// The Transcribe view's state: the model list (installed Whisper models), the file or recording being
// transcribed (decoded once in the page to 16 kHz, so the waveform and the timestamps agree), the live
// segments of asr.transcribe, playback of a line, line edits, exports, and the stored transcripts.
import type { Studio } from './studio.svelte';
import type { Progress } from '../lib/core/run';
import type { Segment } from '../lib/documents/transcript';
// Not the operation module: Whisper and the VAD stay out of the page's bundle.
import { isAsrPartial, isAsrSegment, type AsrPartialData } from '../lib/asr/contract';
import {
  editLine,
  exportTranscript,
  isEmptyTranscript,
  lineAt,
  mergeSegments,
  stageLine,
  transcriptText,
  type EditableTranscript,
  type ExportFormat,
} from '../lib/asr/transcript-edit';
import { languageUncertain } from '../lib/documents/transcript-warnings';
import { encodeWav } from '../lib/dsp/wav';
import { TranscriptStore, type TranscriptSummary } from '../lib/storage/transcripts';
import { type TranscriptRecord } from '../lib/storage/records';
import { newId } from '../lib/core/ids';
import { viewJob, type JobRun } from './job.svelte';
import { sessionFor } from './sessions';
import { recall, remember } from './settings';

const RATE = 16000;
const WHISPER_TINY = 'whisper-tiny-q8';
const WHISPER_BASE = 'whisper-base-q8';

/** Longer audio is not kept with the transcript (about 58 MB of WAV); the text still is. */
const MAX_KEPT_SECONDS = 30 * 60;

export interface AsrModelChoice {
  id: string;
  name: string;
  installed: boolean;
}

/** The transcript on screen: the stored record's fields plus the audio as a playable blob. */
export interface OpenTranscript extends EditableTranscript {
  id: string;
  name: string;
  model: string;
  created_at: number;
  wav: Blob | null;
  /** Saved in IndexedDB (false while it is still being made, or after a cancel). */
  saved: boolean;
}

export type Phase = 'idle' | 'decoding' | 'transcribing';

/** What the last transcription said about itself (not stored with the transcript). */
export interface TranscriptionCheck {
  /** The transcript it belongs to. */
  id: string;
  model: string;
  language: string;
  /** Null when the language was chosen. */
  language_probability: number | null;
  warnings: string[];
}

/** The language warning is shown by the uncertain-language notice, with its retry buttons. */
const LANGUAGE_WARNING = /^Language uncertain/;

function message(e: unknown): string {
  const err = e instanceof Error ? e : new Error(String(e));
  return err.message || 'Something went wrong.';
}

/** Files up to this size are decoded for playback at once (a fraction of a second); larger ones after the first text. */
const EARLY_PLAYBACK_BYTES = 8 * 1024 * 1024;

export class TranscribeSession {
  models = $state.raw<AsrModelChoice[]>([]);
  // The model and language chosen last time (kept across reloads).
  #model = $state(recall('transcribe.model', WHISPER_TINY));
  #language = $state(recall('transcribe.language', 'auto'));
  get model(): string {
    return this.#model;
  }
  set model(v: string) {
    this.#model = v;
    remember('transcribe.model', v);
  }
  /** 'auto' detects. */
  get language(): string {
    return this.#language;
  }
  set language(v: string) {
    this.#language = v;
    remember('transcribe.language', v);
  }
  task = $state<'transcribe' | 'translate'>('transcribe');

  /** The running transcription; when it ends or is cancelled the greyed window text goes. */
  private readonly job = viewJob<Exclude<Phase, 'idle'>>(() => (this.partial = null));
  /** The text of the window decoding now: shown greyed after the lines until its lines arrive. */
  partial = $state<AsrPartialData | null>(null);
  error = $state<string | null>(null);
  /** A plain notice about the last run (no speech found, cancelled). */
  notice = $state<string | null>(null);
  /** Milliseconds from the file being handed over to its first line on screen. */
  firstLineMs = $state<number | null>(null);
  /** The model is warming (asr.prepare) for the first transcription. */
  warming = $state(false);
  /** The finished transcription's language probability and warnings. */
  check = $state.raw<TranscriptionCheck | null>(null);

  current = $state.raw<OpenTranscript | null>(null);
  saved = $state.raw<TranscriptSummary[]>([]);
  /** The line being edited (segment id). */
  editing = $state<number | null>(null);

  /** Playback: where the audio is (s), whether it plays, and the line heard (index, -1 for none). */
  position = $state(0);
  playing = $state(false);
  activeLine = $state(-1);

  private store: TranscriptStore;
  private audio: HTMLAudioElement | null = null;
  private audioUrl: string | null = null;
  private stopAt: number | null = null;
  private frame = 0;
  /** Models warmed in this page (plain data, not shown). */
  private prepared: string[] = [];
  /** The last file transcribed, for a retry with another model or language. */
  private input: { bytes: Uint8Array; name: string; id: string } | null = null;

  constructor(private readonly studio: Studio) {
    this.store = new TranscriptStore(studio.db);
  }

  get phase(): Phase {
    return this.job.kind ?? 'idle';
  }

  get busy(): boolean {
    return this.job.busy;
  }

  get stage(): string {
    return this.job.stage;
  }

  get progress(): { done: number; total: number } {
    return this.job.progress;
  }

  get installedChoice(): boolean {
    return this.models.some((m) => m.id === this.model && m.installed);
  }

  /** The open transcript's detected language when Whisper was unsure of it, else null. */
  get uncertain(): { language: string; probability: number; model: string; modelName: string } | null {
    const c = this.check;
    if (!c || c.id !== this.current?.id || !languageUncertain(c)) return null;
    const modelName = this.models.find((m) => m.id === c.model)?.name ?? c.model;
    return { language: c.language, probability: c.language_probability!, model: c.model, modelName };
  }

  /** Every other warning of the open transcript (audio or speech left out …), each shown as it is. */
  get warnings(): string[] {
    const c = this.check;
    if (!c || c.id !== this.current?.id) return [];
    return c.warnings.filter((w) => !LANGUAGE_WARNING.test(w));
  }

  /** Base is installed and was not the model that was unsure. */
  get canRetryBase(): boolean {
    const u = this.uncertain;
    return !!u && u.model !== WHISPER_BASE && this.models.some((m) => m.id === WHISPER_BASE && m.installed);
  }

  /** The uncertain transcript again with Whisper base, detecting the language. */
  retryWithBase(): Promise<void> {
    this.chooseModel(WHISPER_BASE);
    this.language = 'auto';
    return this.retry();
  }

  /** The uncertain transcript again with the same model, in the language chosen. */
  retryAs(language: string): Promise<void> {
    this.language = language;
    return this.retry();
  }

  /** Transcribes the last file again; the new transcript replaces the one retried. */
  private async retry(): Promise<void> {
    if (this.busy) return;
    // After a reload the file is gone, but a reopened transcript kept its audio (16 kHz WAV).
    const open = this.current;
    const last =
      this.input ??
      (open?.wav
        ? { bytes: new Uint8Array(await open.wav.arrayBuffer()), name: open.name, id: open.id }
        : null);
    if (!last) return;
    await this.transcribe(last.bytes, last.name, last.id);
  }

  // ------------------------------------------------------------------------------------- models

  /** The Whisper models: tiny and base always listed (installed or not), other installed ones after. */
  async loadModels(): Promise<void> {
    const list = await this.studio.models.list();
    const asr = list.filter((m) => m.kind === 'asr');
    const known = [WHISPER_TINY, WHISPER_BASE];
    const rows: AsrModelChoice[] = known.map((id) => {
      const m = asr.find((x) => x.id === id);
      return { id, name: m?.name ?? id, installed: m?.installed === true };
    });
    for (const m of asr)
      if (!known.includes(m.id) && m.installed) rows.push({ id: m.id, name: m.name, installed: true });
    this.models = rows;
    if (!this.installedChoice) this.model = rows.find((r) => r.installed)?.id ?? this.model;
  }

  /** Creates the chosen model's sessions now, so the first text comes soon after a drop. */
  async warm(): Promise<void> {
    const id = this.model;
    if (!this.installedChoice || this.prepared.includes(id)) return;
    this.prepared.push(id);
    this.warming = true;
    try {
      await this.studio.engine.run('asr.prepare', { model: id });
    } catch {
      // Only a head start: the transcription itself loads the model and reports any error.
      this.prepared = this.prepared.filter((x) => x !== id);
    } finally {
      this.warming = false;
    }
  }

  chooseModel(id: string): void {
    this.model = id;
    void this.warm();
  }

  // ------------------------------------------------------------------------------ transcription

  async transcribeFile(file: File): Promise<void> {
    await this.transcribe(new Uint8Array(await file.arrayBuffer()), file.name);
  }

  /**
   * Runs asr.transcribe on the file as it is (the engine decodes it while it transcribes, so an hour-long
   * file shows text as soon as a short one does), showing each window's segments as they come. The page
   * decodes its own copy for the waveform and playback: at once for a small file, and for a large one once
   * the first text is in, so that long decode does not compete with the first window for the processor.
   */
  async transcribe(bytes: Uint8Array, name: string, replaces?: string): Promise<void> {
    const t0 = performance.now();
    this.stopPlayback();
    this.error = null;
    this.notice = null;
    this.check = null;
    this.editing = null;
    this.firstLineMs = null;
    this.partial = null;
    const open: OpenTranscript = {
      id: newId('tr'),
      name,
      model: this.model,
      created_at: Date.now(),
      language: this.language === 'auto' ? '' : this.language,
      task: this.task,
      duration: 0,
      segments: [],
      edited: [],
      wav: null,
      saved: false,
    };
    this.input = { bytes, name, id: open.id };
    let startPlayback = () => undefined as void;
    const gate = new Promise<void>((resolve) => (startPlayback = resolve));
    if (bytes.length <= EARLY_PLAYBACK_BYTES) startPlayback();
    const playback = gate.then(() => this.attachAudio(open.id, bytes));
    playback.catch(() => undefined); // judged after the transcription
    // A new file replaces a transcription still going.
    const out = await this.job.run(
      'decoding',
      async (run) => {
        this.show(open);
        // A drop while the view warms the model waits for that warm-up in the engine's queue.
        run.report(this.warming ? 'Loading the Whisper model…' : 'Reading the audio…');
        const r = await this.studio.engine.run(
          'asr.transcribe',
          {
            audio: bytes,
            model: this.model,
            task: this.task,
            ...(this.language === 'auto' ? {} : { language: this.language }),
          },
          {
            signal: run.signal,
            onProgress: (p) => {
              if (p.stage === 'partial' || p.stage === 'segment') startPlayback();
              // A cancelled run's last events may still arrive: they must not make the view busy again.
              if (!run.live) return;
              run.phase('transcribing');
              this.onProgress(run, open.id, p, t0);
            },
          },
        );
        startPlayback();
        if (!run.live || this.current?.id !== open.id) return;
        if (!this.prepared.includes(r.model)) this.prepared.push(r.model);
        let wavBytes: Uint8Array | null = null;
        try {
          wavBytes = await playback;
        } catch (e) {
          // The engine read it, the browser could not: the transcript stands, without playback.
          this.notice = `The transcript is kept, but "${name}" could not be decoded for playback (${message(e)}).`;
        }
        if (!run.live || this.current?.id !== open.id) return;
        // The final segments, with any edit made while it ran kept.
        const cur = this.current;
        const segments = r.segments.map((s) => {
          const had = cur.edited.includes(s.id) ? cur.segments.find((x) => x.id === s.id) : undefined;
          return had ? { ...s, text: had.text } : s;
        });
        const done: OpenTranscript = {
          ...cur,
          model: r.model,
          language: r.language,
          segments,
          duration: r.duration,
        };
        this.current = done;
        this.check = {
          id: open.id,
          model: r.model,
          language: r.language,
          language_probability: r.language_probability,
          warnings: r.warnings,
        };
        if (isEmptyTranscript(segments)) {
          this.notice = `No speech was found in "${name}": nothing to transcribe. Try a recording with someone speaking.`;
          return;
        }
        await this.persist(done, wavBytes);
        // A retry's transcript takes the place of the one it retried.
        if (replaces && this.current?.saved) await this.forget(replaces);
      },
      { replace: true, stage: 'Reading the audio…' },
    );
    startPlayback();
    if (out?.status === 'failed') this.error = message(out.error);
  }

  /** Decodes the file for the waveform and playback, and puts it on the transcript if still open. */
  private async attachAudio(id: string, bytes: Uint8Array): Promise<Uint8Array> {
    // The studio's one decoder: the same samples the engine reads.
    const samples = (await this.studio.formats.decodeInput(bytes, { rate: RATE })).samples;
    if (!samples.length) throw new Error('it has no audio in it');
    const wavBytes = encodeWav(samples, RATE, 's16') as Uint8Array<ArrayBuffer>;
    if (this.current?.id === id) {
      const duration = this.current.duration || samples.length / RATE;
      this.current = { ...this.current, duration, wav: new Blob([wavBytes], { type: 'audio/wav' }) };
      this.load();
    }
    return wavBytes;
  }

  private onProgress(run: JobRun<Exclude<Phase, 'idle'>>, id: string, p: Progress, t0: number): void {
    if (!run.live || this.current?.id !== id) return;
    if (isAsrPartial(p)) {
      this.partial = p.data;
      return;
    }
    run.report(
      stageLine(p),
      p.total > 0 && (p.stage === 'transcribe' || p.stage === 'segment')
        ? { done: p.done, total: p.total }
        : undefined,
    );
    if (p.stage === 'language' && p.message) this.current = { ...this.current, language: p.message };
    if (!isAsrSegment(p)) return;
    this.partial = null;
    const cur = this.current;
    // A line edited while the job runs keeps its edit when its window is sent again.
    const incoming = p.data.segments.filter((s) => !cur.edited.includes(s.id));
    const segments = mergeSegments(cur.segments, incoming);
    this.current = { ...cur, segments, language: p.data.language || cur.language };
    if (this.firstLineMs === null && segments.some((s) => s.text.trim()))
      this.firstLineMs = Math.round(performance.now() - t0);
  }

  /** Stops the running transcription at once; what arrived stays on screen, unsaved. */
  cancel(): void {
    if (!this.job.cancel()) return;
    this.notice = 'Transcription cancelled: the lines so far are shown but not saved.';
  }

  private async persist(t: OpenTranscript, wavBytes: Uint8Array | null): Promise<void> {
    const now = Date.now();
    const rec: TranscriptRecord = {
      id: t.id,
      name: t.name,
      created_at: t.created_at,
      updated_at: now,
      model: t.model,
      language: t.language,
      task: t.task,
      duration: t.duration,
      segments: t.segments,
      edited: t.edited,
      audio: wavBytes && t.duration <= MAX_KEPT_SECONDS ? (wavBytes.slice().buffer as ArrayBuffer) : null,
      ...(this.check?.id === t.id
        ? { language_probability: this.check.language_probability, warnings: this.check.warnings }
        : {}),
    };
    try {
      await this.store.put(rec);
      if (this.current?.id === t.id) this.current = { ...this.current, saved: true };
      await this.loadSaved();
    } catch (e) {
      this.studio.fail(e, 'Could not keep the transcript');
    }
  }

  // ------------------------------------------------------------------------------------ editing

  startEdit(id: number): void {
    if (this.current?.segments.some((s) => s.id === id)) this.editing = id;
  }

  cancelEdit(): void {
    this.editing = null;
  }

  /** Saves a line's new text (in the open transcript and, once it is stored, in IndexedDB). */
  async saveEdit(id: number, text: string): Promise<boolean> {
    const cur = this.current;
    if (!cur) return false;
    try {
      const next = editLine(cur, id, text);
      this.editing = null;
      if (next === cur) return true;
      this.current = { ...cur, ...next };
      if (cur.saved) {
        const seg = next.segments.find((s) => s.id === id)!;
        await this.store.editLine(cur.id, id, seg.text);
        await this.loadSaved();
      }
      return true;
    } catch (e) {
      this.studio.fail(e, 'Could not change the line');
      return false;
    }
  }

  // ----------------------------------------------------------------------------------- playback

  /** The view's audio element (wavesurfer draws from it); the session drives it. */
  attach(el: HTMLAudioElement | null): void {
    if (this.audio === el) return;
    this.audio?.pause();
    this.audio = el;
    if (!el) return;
    el.addEventListener('play', () => {
      this.playing = true;
      this.follow();
    });
    el.addEventListener('pause', () => {
      this.playing = false;
      this.tick();
    });
    el.addEventListener('seeked', () => this.tick());
    this.load();
  }

  private show(t: OpenTranscript): void {
    this.current = t;
    this.position = 0;
    this.activeLine = -1;
    this.load();
  }

  private load(): void {
    const el = this.audio;
    const wav = this.current?.wav ?? null;
    if (this.audioUrl) URL.revokeObjectURL(this.audioUrl);
    this.audioUrl = wav ? URL.createObjectURL(wav) : null;
    if (el) {
      if (this.audioUrl) el.src = this.audioUrl;
      else el.removeAttribute('src');
    }
  }

  /** The URL of the open transcript's audio (for the waveform). */
  get audioSrc(): string | null {
    return this.audioUrl;
  }

  /** Plays one line from its start to its end, and marks it. */
  playLine(index: number): void {
    const s = this.current?.segments[index];
    const el = this.audio;
    if (!s || !el || !this.current?.wav) return;
    this.stopAt = s.end;
    el.currentTime = s.start;
    this.activeLine = index;
    void el.play().catch((e: unknown) => this.studio.fail(e, 'Could not play the line'));
  }

  togglePlay(): void {
    const el = this.audio;
    if (!el || !this.current?.wav) return;
    this.stopAt = null;
    if (el.paused) void el.play();
    else el.pause();
  }

  private tick(): void {
    const el = this.audio;
    if (!el) return;
    const t = el.currentTime;
    this.position = t;
    if (this.stopAt !== null && t >= this.stopAt) {
      this.stopAt = null;
      el.pause();
      return;
    }
    const at = lineAt(this.current?.segments ?? [], t);
    if (at >= 0 || this.stopAt === null) this.activeLine = at;
  }

  private follow = () => {
    cancelAnimationFrame(this.frame);
    this.tick();
    if (this.audio && !this.audio.paused) this.frame = requestAnimationFrame(this.follow);
  };

  stopPlayback(): void {
    cancelAnimationFrame(this.frame);
    this.stopAt = null;
    this.audio?.pause();
    this.playing = false;
  }

  // ------------------------------------------------------------------------------------ exports

  private get editable(): EditableTranscript | null {
    const c = this.current;
    return c && c.segments.length ? c : null;
  }

  exportFile(format: ExportFormat): void {
    const t = this.editable;
    if (!t || !this.current) return;
    const f = exportTranscript(t, format, this.current.name);
    const url = URL.createObjectURL(new Blob([f.body], { type: f.type }));
    const a = document.createElement('a');
    a.href = url;
    a.download = f.filename;
    a.style.display = 'none';
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10_000);
  }

  async copy(): Promise<void> {
    const t = this.editable;
    if (!t) return;
    try {
      await navigator.clipboard.writeText(transcriptText(t.segments));
      this.studio.toast('Copied the transcript.', { kind: 'success' });
    } catch (e) {
      this.studio.fail(e, 'Could not copy (the browser refused the clipboard)');
    }
  }

  // --------------------------------------------------------------------------- stored transcripts

  async loadSaved(): Promise<void> {
    this.saved = await this.store.list();
  }

  /** Opens a stored transcript (its audio too, when it was kept). */
  async open(id: string): Promise<void> {
    if (this.busy) return;
    const r = await this.store.get(id);
    if (!r) return;
    this.stopPlayback();
    this.error = null;
    this.notice = null;
    this.editing = null;
    this.show({
      id: r.id,
      name: r.name,
      model: r.model,
      created_at: r.created_at,
      language: r.language,
      task: r.task,
      duration: r.duration,
      segments: r.segments,
      edited: r.edited,
      wav: r.audio ? new Blob([r.audio], { type: 'audio/wav' }) : null,
      saved: true,
    });
    // What the transcription said of itself is said again (the uncertain language, audio left out).
    this.check = {
      id: r.id,
      model: r.model,
      language: r.language,
      language_probability: r.language_probability ?? null,
      warnings: r.warnings ?? [],
    };
  }

  /** On opening the view: the list, and the newest transcript shown again. */
  async restore(): Promise<void> {
    await this.loadSaved();
    const newest = this.saved[0];
    if (!this.current && newest) await this.open(newest.id);
  }

  /** Deletes a stored transcript without a word (the retry that replaced it is on screen). */
  private async forget(id: string): Promise<void> {
    try {
      await this.store.delete(id);
      await this.loadSaved();
    } catch {
      // Already gone (deleted meanwhile): nothing to replace.
    }
  }

  /** Deletes a stored transcript, with Undo. */
  async remove(id: string): Promise<void> {
    try {
      const gone = await this.store.delete(id);
      if (this.current?.id === id) {
        this.stopPlayback();
        this.current = null;
        this.load();
      }
      await this.loadSaved();
      this.studio.toast(`Deleted the transcript of "${gone.name}".`, {
        action: {
          label: 'Undo',
          run: async () => {
            await this.store.put(gone);
            await this.loadSaved();
          },
        },
      });
    } catch (e) {
      this.studio.fail(e, 'Could not delete the transcript');
    }
  }

  /** Leaving the view: the transcription stops and so does playback. */
  dispose(): void {
    this.cancel();
    this.notice = null;
    this.stopPlayback();
    this.attach(null);
  }
}

/** One session per studio, so the open transcript survives switching views. */
export function transcribeSession(studio: Studio): TranscribeSession {
  return sessionFor(studio, TranscribeSession);
}

export type { Segment };
