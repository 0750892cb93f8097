// The Speak view's state: the form (text, voice, controls), a generation streamed into Web Audio as its
// sentences arrive, the finished result, voice previews, downloads and the history of generations.
import type { Studio } from './studio.svelte';
import type { Progress } from '../lib/core/run';
import { errorKind } from '../lib/core/errors';
import { isTtsChunk, type SynthesizeParams } from '../lib/tts/contract';
import type { TtsChunkData } from '../lib/tts/contract';
import { SpeakAhead } from '../lib/ui/speak-ahead';
import { waitingFor } from '../lib/ui/engine-jobs';
import type { HistoryParams, HistoryRecord } from '../lib/storage/records';
import type { Voice } from '../lib/voices/types';
import { spanAt } from '../lib/audio/playback-plan';
import { StreamPlayer } from './stream-player';
import { decodeWav, encodeWav } from '../lib/dsp/wav';
import { isMixFormula, parseMixFormula } from '../lib/voices/mix';
import { KOKORO_VOICE_IDS } from '../lib/voices/presets';
import {
  PREVIEW_TEXT,
  sentenceOfRun,
  sentencesDone,
  speakSentences,
  STUDIO_MAX_CHARS,
} from '../lib/ui/speak-text';
import { engineVoice, voiceLanguages } from '../lib/ui/speak-voices';
import type { DownloadChoice } from '../lib/ui/speak-download';
import { runDownload } from './download';
import { isCloneChunk, type CloneStatusResult } from '../lib/clone/contract';
import { baseVoiceFor } from '../lib/voices/base-voice';
import { viewJob, type JobProgress } from './job.svelte';
import { sessionFor } from './sessions';
import { recall, remember } from './settings';
import type { MonoAudio } from '../lib/dsp/audio';

export type SpeakStatus = 'idle' | 'generating';

export interface SpeakError {
  message: string;
  /** The model is missing: the view links to the Models view. */
  models: boolean;
  /** The voice converter is missing (a cloned voice): the view links to the Clone view's install. */
  converter?: boolean;
}

export interface Span {
  text: string;
  start: number;
  end: number;
}

export interface SpeakResult {
  samples: Float32Array;
  sampleRate: number;
  duration: number;
  /** Each sentence's span in the audio (empty for a replay of an entry kept without them). */
  spans: Span[];
  text: string;
  /** The voice as chosen (library id or formula) and what the engine was given. */
  voice: string;
  voiceResolved: string;
  params: HistoryParams;
  elapsedMs: number;
  /** 16-bit WAV of the result, for the waveform's player. */
  wav: Blob;
  historyId?: string;
  /** Play it as soon as the waveform has it (a replay from the history). */
  autoplay?: boolean;
}

/** A generation's sentences and how far it has got. */
export interface Spoken {
  text: string;
  sentences: string[];
  /** Sentences with audio ready (index of the last one). */
  ready: number;
}

const PRESETS = new Set<string>(KOKORO_VOICE_IDS);
const LOADING_VOICE = 'Loading the voice model…';
function describe(e: unknown, cloned = false): SpeakError {
  const err = e instanceof Error ? e : new Error(String(e));
  const notInstalled = errorKind(err) === 'model_not_installed';
  if (cloned && notInstalled && /converter/i.test(err.message))
    return { message: err.message, models: false, converter: true };
  if (notInstalled)
    return { message: `The speech model is not installed on this device. ${err.message}`, models: true };
  if (err.name === 'EngineCrashedError') return { message: err.message, models: false };
  return { message: err.message || 'Speech failed.', models: false };
}

export class SpeakSession {
  // The form.
  text = $state('');
  /** A library voice id, or a mix formula not saved in the library. */
  #voice = $state(recall('speak.voice', 'af_heart'));
  get voice(): string {
    return this.#voice;
  }
  /** Kept across reloads. */
  set voice(v: string) {
    this.#voice = v;
    remember('speak.voice', v);
  }
  speed = $state(1);
  volumeDb = $state(0);
  pauseMs = $state(250);
  /** '' = the voice's own language. */
  language = $state('');

  /** The library's voices Kokoro can speak with (presets, mixes, designed voices). */
  voices = $state.raw<Voice[]>([]);
  /** Cloned voices of the library (spoken by clone.speak: Kokoro, then the tone-colour converter). */
  cloned = $state.raw<Voice[]>([]);
  /** Whether the converter is installed (null: not known yet, e.g. no engine). */
  converter = $state.raw<CloneStatusResult | null>(null);

  /** The generation running. */
  private readonly job = viewJob<'generating'>();
  /** The preview being made (its sound plays after the job ends). */
  private readonly previewJob = viewJob<'preview'>();
  error = $state<SpeakError | null>(null);
  spoken = $state<Spoken | null>(null);
  result = $state.raw<SpeakResult | null>(null);
  /** Seconds into the result being heard (stream or waveform). */
  position = $state(0);
  /** The sentence being spoken, or -1. */
  active = $state(-1);
  /** The stream is still playing what was generated. */
  streaming = $state(false);
  /** ms from Generate to the first audio scheduled, and to the end of generation (the last run). */
  firstAudioMs = $state<number | null>(null);
  /** Bumped when the history changes, so its list reloads. */
  historyRevision = $state(0);
  /** Voice whose preview is being made or played. */
  previewing = $state<string | null>(null);
  previewLoading = $state(false);
  /** What the preview being made waits for ("Loading the voice model…", "Waiting for … to finish…"). */
  previewNote = $state<string | null>(null);
  /** Runs of the last generation whose audio was spoken ahead while the text was typed. */
  aheadRuns = $state(0);
  /** The download being encoded (its id). */
  downloading = $state<string | null>(null);
  /** The person paused the stream (its clock is suspended). */
  streamPaused = $state(false);

  readonly sentences = $derived(speakSentences(this.text));
  readonly tooLong = $derived(this.text.length > STUDIO_MAX_CHARS);

  private ctx: AudioContext | null = null;
  private stream: StreamPlayer | null = null;
  /** tts.prepare has run (or is running) in this page. */
  private warmed = false;
  private previewSource: AudioBufferSourceNode | null = null;
  /** A preview made now plays as its runs arrive. */
  private previewStream: StreamPlayer | null = null;
  private previewTimer: ReturnType<typeof setTimeout> | undefined;
  /** Kokoro's session is known to be made in the engine (a speech job or tts.prepare ended well). */
  private modelWarm = false;
  private frame = 0;
  /** The first sentence spoken while the text is typed (src/lib/ui/speak-ahead.ts has the rules). */
  private readonly ahead = new SpeakAhead({
    speak: async (a) => {
      const r = await this.studio.engine.run('tts.ahead', a);
      this.modelWarm = true;
      return r;
    },
    idle: () => !this.studio.engine.busy,
  });

  constructor(private readonly studio: Studio) {}

  get status(): SpeakStatus {
    return this.job.kind ?? 'idle';
  }

  get stage(): string {
    return this.job.stage;
  }

  get progress(): JobProgress {
    return this.job.progress;
  }

  // ------------------------------------------------------------------------------------- voices

  /**
   * Makes Kokoro's session and loads espeak-ng now (the view opened), so the first Generate starts at the
   * text; once per page, tried again after a failure (e.g. the model not installed yet) when asked again.
   */
  async warm(): Promise<void> {
    if (this.warmed) return;
    this.warmed = true;
    try {
      await this.studio.engine.run('tts.prepare', { voice: this.resolve(this.voice) ?? undefined });
      this.modelWarm = true;
    } catch {
      // Only a head start: Generate loads the model itself and reports any error.
      this.warmed = false;
    }
  }

  async loadVoices(): Promise<void> {
    const { voices } = await this.studio.voices.query({});
    this.voices = voices.filter((v) => engineVoice(v) !== null);
    this.cloned = voices.filter((v) => v.kind === 'cloned' && v.embedding?.length);
    // The voice remembered from last time may have been deleted since.
    if (!this.resolve(this.voice) && !this.clonedVoice(this.voice)) this.#voice = 'af_heart';
    if (this.cloned.length)
      this.converter = await this.studio.engine.run('clone.status', {}).catch(() => this.converter);
  }

  /** The cloned library voice of that id, if it is one. */
  clonedVoice(id: string): Voice | undefined {
    return this.cloned.find((v) => v.id === id);
  }

  /** Picks a library voice; a designed voice brings its own speed. */
  choose(v: Voice): void {
    this.voice = v.id;
    if (v.recipe?.speed) this.speed = v.recipe.speed;
  }

  /** What the engine is given for a voice as the form names it (library id or formula); null if unknown. */
  resolve(voice: string): string | null {
    const stored = this.voices.find((v) => v.id === voice);
    if (stored) return engineVoice(stored);
    if (PRESETS.has(voice)) return voice;
    if (isMixFormula(voice)) {
      try {
        parseMixFormula(voice);
        return voice;
      } catch {
        return null;
      }
    }
    return null;
  }

  /** A readable name for a voice as the form names it. */
  label(voice: string): string {
    const stored = this.voices.find((v) => v.id === voice) ?? this.clonedVoice(voice);
    if (stored) return stored.name;
    if (isMixFormula(voice)) return `Mix ${voice}`;
    return voice;
  }

  /** Languages the chosen voice may be read in (its own first). */
  get languages(): string[] {
    // A cloned voice speaks through a base voice of its own language.
    if (this.clonedVoice(this.voice)) return [];
    const r = this.resolve(this.voice);
    try {
      return r ? voiceLanguages(r) : [];
    } catch {
      return [];
    }
  }

  // ------------------------------------------------------------------------------------ audio

  private audio(): AudioContext {
    this.ctx ??= new AudioContext({ latencyHint: 'interactive' });
    if (this.ctx.state === 'suspended') void this.ctx.resume();
    this.streamPaused = false;
    return this.ctx;
  }

  /** Follows the stream's clock to move the position and the highlighted sentence. */
  private follow = () => {
    const s = this.stream;
    if (!s) return;
    if (!s.stopped) {
      this.position = s.position;
      this.active = s.sentence;
    }
    this.streaming = s.pending || this.status === 'generating';
    if (this.streaming) this.frame = requestAnimationFrame(this.follow);
    else this.endStream();
  };

  private endStream(): void {
    cancelAnimationFrame(this.frame);
    this.stream?.stop();
    this.stream = null;
    this.streaming = false;
  }

  /** Pauses or resumes the stream (its clock stops, so what is scheduled waits). */
  async toggleStream(): Promise<void> {
    if (!this.ctx || !this.stream) return;
    if (this.ctx.state === 'running') await this.ctx.suspend();
    else await this.ctx.resume();
    this.streamPaused = this.ctx.state === 'suspended';
  }

  /** The waveform took over playback (the person pressed play or clicked in it). */
  waveTookOver(): void {
    if (this.stream) this.endStream();
    if (this.ctx?.state === 'suspended') void this.ctx.resume();
    this.streamPaused = false;
  }

  /** Position reported by the waveform's player. */
  waveTime(t: number): void {
    if (this.stream) return;
    this.position = t;
    this.active = this.result?.spans.length ? spanAt(this.result.spans, t) : -1;
  }

  // ----------------------------------------------------------------------------------- engine

  /**
   * tts.generate through the engine. One started right after a cancel is safe: if the bridge must stop the
   * worker to end the cancelled job, it starts this one again on a fresh worker.
   */
  private async speak(args: SynthesizeParams, signal: AbortSignal, onProgress?: (p: Progress) => void) {
    return this.studio.engine.run('tts.generate', args, { signal, onProgress });
  }

  // ------------------------------------------------------------------------------- generation

  private params(): HistoryParams {
    return {
      speed: this.speed,
      volume_db: this.volumeDb,
      pause_ms: this.pauseMs,
      ...(this.language ? { language: this.language } : {}),
    };
  }

  /** What tts.generate would be given for the form as it is; null when Generate would not run Kokoro on it. */
  formArgs(): SynthesizeParams | null {
    const text = this.text;
    if (!text.trim() || text.length > STUDIO_MAX_CHARS || this.clonedVoice(this.voice)) return null;
    const resolved = this.resolve(this.voice);
    if (!resolved) return null;
    return this.synthArgs(text, this.voice, resolved, this.params());
  }

  /** tts.generate's arguments: one shape for Generate and for what is spoken ahead (#21), so both match. */
  private synthArgs(text: string, voice: string, resolved: string, params: HistoryParams): SynthesizeParams {
    return {
      text,
      voice: resolved,
      speed: params.speed,
      volume_db: params.volume_db,
      pause_ms: params.pause_ms,
      ...(params.language ? { language: params.language } : {}),
      ...(voice !== resolved ? { voice_id: voice } : {}),
    };
  }

  /** The form changed (the view's effect reads it): the first sentence is spoken ahead once typing pauses. */
  typed(): void {
    const args = this.formArgs();
    if (this.status !== 'generating') this.ahead.edit(args);
  }

  /** Speaks the form's text, playing each sentence as soon as it is made. */
  async generate(): Promise<void> {
    if (this.status === 'generating') return;
    const text = this.text;
    const voice = this.voice;
    this.error = null;
    if (!text.trim()) {
      this.error = { message: 'Type or paste some text to speak first.', models: false };
      return;
    }
    if (text.length > STUDIO_MAX_CHARS) {
      this.error = {
        message: `The text has ${text.length} characters; the studio speaks up to ${STUDIO_MAX_CHARS} at a time.`,
        models: false,
      };
      return;
    }
    const cloned = this.clonedVoice(voice);
    if (cloned && this.converter && !this.converter.installed) {
      this.error = {
        message: `"${cloned.name}" is a cloned voice: it needs the voice converter, which is not installed on this device.`,
        models: false,
        converter: true,
      };
      return;
    }
    const resolved = cloned
      ? (cloned.recipe?.base_voice ?? baseVoiceFor(cloned.language, cloned.gender))
      : this.resolve(voice);
    if (!resolved) {
      this.error = {
        message: `The voice "${voice}" is not in the library any more: pick another.`,
        models: false,
      };
      return;
    }
    this.stopPreview();
    this.endStream();
    const params = this.params();
    const sentences = speakSentences(text).map((s) => s.text);
    const gain = 10 ** (params.volume_db! / 20);
    const args = this.synthArgs(text, voice, resolved, params);
    // What was spoken ahead for this text is taken by the engine; nothing more is started ahead.
    if (!cloned) this.ahead.claim(args);
    this.aheadRuns = 0;
    const out = await this.job.run(
      'generating',
      async (run) => {
        const ctx = this.audio();
        const stream = new StreamPlayer(ctx);
        this.stream = stream;
        this.spoken = { text, sentences, ready: -1 };
        this.result = null;
        this.position = 0;
        this.active = -1;
        this.firstAudioMs = null;
        const t0 = performance.now();
        this.frame = requestAnimationFrame(this.follow);

        let sentence = -1;
        const onProgress = run.guard((p: Progress) => {
          if (cloned) {
            if (isCloneChunk(p)) {
              const x = gain === 1 ? p.data.samples : p.data.samples.map((v) => v * gain);
              stream.push(x, p.data.sampleRate, -1);
              this.firstAudioMs ??= performance.now() - t0;
              run.report('Speaking while the rest is made…', {
                done: p.data.index + 1,
                total: p.data.total || p.data.index + 1,
              });
            } else if (p.stage === 'base') run.report('Preparing the base voice (once)…');
            else if (p.stage === 'build') run.report('Loading the voice converter…');
            else if (this.firstAudioMs === null) run.report(`Speaking in ${cloned.name}…`);
            return;
          }
          if (p.stage === 'chunk' && p.data) {
            const d = p.data as TtsChunkData;
            if (d.ahead) this.aheadRuns++;
            sentence = sentenceOfRun(sentences, sentence, d.text);
            stream.push(d.samples, d.sampleRate, sentence);
            this.firstAudioMs ??= performance.now() - t0;
            if (this.spoken) this.spoken = { ...this.spoken, ready: sentence };
            const last = d.index + 1 >= d.total;
            run.report(
              last ? 'Finishing…' : 'Speaking while the rest is made…',
              sentences.length
                ? {
                    done: sentencesDone(this.job.progress.done, sentence, sentences.length, last),
                    total: sentences.length,
                  }
                : { done: d.index + 1, total: d.total },
            );
          } else if (p.stage === 'load' || p.stage === 'create' || p.stage === 'warmup') {
            run.report('Loading the speech model (first use)…');
          } else if (p.stage === 'phonemes') {
            run.report('Reading the text…');
          } else if (p.stage === 'synthesis' && this.firstAudioMs === null) {
            run.report('Making the first sentence…');
          }
        });

        const r = cloned
          ? await this.speakCloned(cloned, text, resolved, params, gain, run.signal, onProgress)
          : await this.speak(args, run.signal, onProgress);
        if (!run.live) return null;
        if (!cloned) this.modelWarm = true;
        const elapsedMs = performance.now() - t0;
        const wavBytes = encodeWav(r.samples, r.sampleRate, 's16');
        const result: SpeakResult = {
          samples: r.samples,
          sampleRate: r.sampleRate,
          duration: r.samples.length / r.sampleRate,
          spans: r.chunks,
          text,
          voice,
          voiceResolved: resolved,
          params,
          elapsedMs,
          wav: new Blob([wavBytes as Uint8Array<ArrayBuffer>], { type: 'audio/wav' }),
        };
        this.result = result;
        this.spoken = { text, sentences: r.chunks.map((c) => c.text), ready: r.chunks.length - 1 };
        return { result, wavBytes };
      },
      { stage: 'Starting the engine…', total: sentences.length },
    );
    // A cancel (stop()) has reset everything already.
    if (out?.status === 'done' && out.value) await this.keep(out.value.result, out.value.wavBytes);
    else if (out?.status === 'failed') {
      this.endStream();
      this.spoken = null;
      this.error = describe(out.error, !!cloned);
    }
  }

  /** clone.speak for a cloned voice, in the shape of a tts.generate result (its sentence spans too). */
  private async speakCloned(
    v: Voice,
    text: string,
    base: string,
    params: HistoryParams,
    gain: number,
    signal: AbortSignal,
    onProgress: (p: Progress) => void,
  ) {
    const r = await this.studio.engine.run(
      'clone.speak',
      {
        text,
        embedding: v.embedding!,
        language: v.language,
        gender: v.gender,
        baseVoice: base,
        speed: params.speed,
      },
      { signal, onProgress },
    );
    const samples = gain === 1 ? r.samples : r.samples.map((x) => x * gain);
    return { samples, sampleRate: r.sampleRate, chunks: r.chunks };
  }

  /** Stops a generation at once: the engine job is cancelled and what was made is dropped. */
  stop(): void {
    if (!this.job.cancel()) return;
    this.endStream();
    this.spoken = null;
    this.position = 0;
    this.active = -1;
    this.job.progress = { done: 0, total: 0 };
  }

  /** Saves a finished generation in the history; a full disk is said plainly and the result stays. */
  private async keep(r: SpeakResult, wav: Uint8Array): Promise<void> {
    try {
      const rec = await this.studio.history.add({
        created_at: Date.now(),
        text: r.text,
        voice: r.voice,
        voice_resolved: r.voiceResolved,
        params: r.params,
        duration: r.duration,
        elapsed_ms: Math.round(r.elapsedMs),
        sample_rate: r.sampleRate,
        audio: wav.slice().buffer,
        chunks: r.spans,
        source: 'studio',
      });
      if (this.result === r) this.result = { ...r, historyId: rec.id };
      this.historyRevision++;
    } catch (e) {
      if (e instanceof Error && e.name === 'StorageFullError')
        this.studio.toast(
          `${e.message} This result is not in the history, but you can still play and download it.`,
          { kind: 'error', ms: 12000 },
        );
      else this.studio.fail(e, 'Could not save the generation in the history');
    }
  }

  // ---------------------------------------------------------------------------------- history

  /** Loads a history entry as the result and plays it. */
  async replay(id: string): Promise<void> {
    try {
      const rec = await this.studio.history.get(id);
      this.stop();
      this.endStream();
      const { samples, sampleRate } = decodeWav(new Uint8Array(rec.audio));
      this.result = {
        samples,
        sampleRate,
        duration: samples.length / sampleRate,
        spans: rec.chunks ?? [],
        text: rec.text,
        voice: rec.voice,
        voiceResolved: rec.voice_resolved,
        params: rec.params,
        elapsedMs: rec.elapsed_ms,
        wav: new Blob([rec.audio], { type: 'audio/wav' }),
        historyId: rec.id,
        autoplay: true,
      };
      this.spoken = { text: rec.text, sentences: speakSentences(rec.text).map((s) => s.text), ready: -1 };
      this.position = 0;
      this.active = -1;
    } catch (e) {
      this.studio.fail(e, 'Could not play the generation');
    }
  }

  /** Puts an entry's text, voice and controls back in the form and speaks it again. */
  async regenerate(rec: Pick<HistoryRecord, 'text' | 'voice' | 'voice_resolved' | 'params'>): Promise<void> {
    this.stop();
    this.text = rec.text;
    this.voice = this.resolve(rec.voice) || this.clonedVoice(rec.voice) ? rec.voice : rec.voice_resolved;
    this.speed = rec.params.speed;
    this.volumeDb = rec.params.volume_db ?? 0;
    this.pauseMs = rec.params.pause_ms ?? 250;
    this.language = rec.params.language ?? '';
    await this.generate();
  }

  /** Deletes an entry, with Undo in the notice. */
  async remove(id: string): Promise<void> {
    try {
      const rec = await this.studio.history.delete(id);
      this.historyRevision++;
      if (this.result?.historyId === id) this.result = { ...this.result, historyId: undefined };
      const short = rec.text.length > 40 ? `${rec.text.slice(0, 40)}…` : rec.text;
      this.studio.toast(`Deleted "${short}" from the history.`, {
        action: {
          label: 'Undo',
          run: async () => {
            try {
              await this.studio.history.restore(rec);
              this.historyRevision++;
            } catch (e) {
              this.studio.fail(e, 'Could not restore the generation');
            }
          },
        },
      });
    } catch (e) {
      this.studio.fail(e, 'Could not delete the generation');
    }
  }

  /** The audio of a history entry, as float samples. */
  async historyAudio(id: string): Promise<MonoAudio> {
    const rec = await this.studio.history.get(id);
    return decodeWav(new Uint8Array(rec.audio));
  }

  // -------------------------------------------------------------------------------- downloads

  /** Encodes audio in the chosen format and saves it as a file. */
  download(choice: DownloadChoice, audio: () => Promise<MonoAudio>, stem: string): Promise<void> {
    return runDownload(this, this.studio, choice, audio, stem);
  }

  // --------------------------------------------------------------------------------- previews

  /**
   * Plays a short sample of a voice. A library voice's sample is made by the engine the first time and
   * kept (PreviewStore), so it is instant afterwards; an unsaved mix is made each time. Pressing again
   * while it plays stops it.
   */
  async preview(key: string, voice: string, opts: { cache: boolean }): Promise<void> {
    if (this.previewing === key) {
      this.stopPreview();
      return;
    }
    this.stopPreview();
    // Said before the job is queued: what it will wait for (the engine's queue runs one job at a time).
    const waiting = waitingFor(this.studio.engine.ops, 'tts.generate');
    const run = this.previewJob.start('preview')!;
    this.previewing = key;
    this.previewLoading = true;
    const ctx = this.audio();
    try {
      let audio: MonoAudio;
      const cached = opts.cache ? await this.studio.previews.get(key) : undefined;
      if (cached) audio = decodeWav(new Uint8Array(cached.audio));
      else {
        this.previewNote = waiting ?? (this.modelWarm ? null : LOADING_VOICE);
        const lang = voiceLanguages(voice)[0] ?? 'en-us';
        const text = PREVIEW_TEXT[lang];
        // Each run plays as it arrives, so the first words come as soon as they are made.
        const onProgress = (p: Progress) => {
          if (run.signal.aborted) return;
          if (isTtsChunk(p)) {
            this.previewStream ??= new StreamPlayer(ctx);
            this.previewStream.push(p.data.samples, p.data.sampleRate);
            this.previewLoading = false;
            this.previewNote = null;
          } else if (p.stage === 'load' || p.stage === 'create' || p.stage === 'warmup')
            this.previewNote = LOADING_VOICE;
          // Its turn came (it was waiting behind another job): a cold model loads before the first run.
          else if (this.previewNote && this.previewNote !== LOADING_VOICE)
            this.previewNote = this.modelWarm ? null : LOADING_VOICE;
        };
        const r = await this.speak(
          { text, voice, ...(key !== voice ? { voice_id: key } : {}) },
          run.signal,
          onProgress,
        );
        this.modelWarm = true;
        audio = r;
        if (opts.cache)
          await this.studio.previews
            .put({
              voice_id: key,
              text,
              sample_rate: r.sampleRate,
              audio: encodeWav(r.samples, r.sampleRate).buffer as ArrayBuffer,
              created_at: Date.now(),
            })
            .catch(() => undefined); // not kept: it is made again next time
      }
      if (run.signal.aborted) return;
      this.previewLoading = false;
      this.previewNote = null;
      const streamed = this.previewStream;
      if (streamed) {
        // Already heard as it was made: the preview ends when the last run has played.
        const left = Math.max(0, streamed.plan.endsAt - ctx.currentTime);
        this.previewTimer = setTimeout(
          () => {
            if (this.previewStream === streamed) this.stopPreview();
          },
          left * 1000 + 50,
        );
        run.end();
        return;
      }
      const buf = ctx.createBuffer(1, audio.samples.length, audio.sampleRate);
      buf.copyToChannel(audio.samples as Float32Array<ArrayBuffer>, 0);
      const src = ctx.createBufferSource();
      src.buffer = buf;
      src.connect(ctx.destination);
      src.onended = () => {
        if (this.previewSource === src) {
          this.previewSource = null;
          this.previewing = null;
        }
      };
      this.previewSource = src;
      src.start();
      run.end();
    } catch (e) {
      // Stopped (or another preview started): stopPreview has reset everything.
      if (run.signal.aborted) return;
      run.end();
      this.previewStream?.stop();
      this.previewStream = null;
      this.previewing = null;
      this.previewLoading = false;
      this.previewNote = null;
      const d = describe(e);
      this.studio.toast(`Could not preview the voice: ${d.message}`, { kind: 'error', ms: 8000 });
    }
  }

  stopPreview(): void {
    this.previewJob.cancel();
    try {
      this.previewSource?.stop();
    } catch {
      // not started
    }
    clearTimeout(this.previewTimer);
    this.previewStream?.stop();
    this.previewStream = null;
    this.previewSource = null;
    this.previewing = null;
    this.previewLoading = false;
    this.previewNote = null;
  }

  /** Leaving the view: nothing keeps playing or generating. */
  dispose(): void {
    this.ahead.dispose();
    this.stop();
    this.endStream();
    this.stopPreview();
    void this.ctx?.close();
    this.ctx = null;
  }
}

/** One session per studio, so the text, result and a running generation survive switching views. */
export function speakSession(studio: Studio): SpeakSession {
  return sessionFor(studio, SpeakSession);
}
