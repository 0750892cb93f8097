// The Clone view's state: the converter's install, the samples (recorded or dropped, each with a chosen
// region), the quality report of clone.extract, saving the voice, and then speech in the voice
// (clone.speak) and conversion of a recording (clone.convert), both streamed into Web Audio.
import type { Studio } from './studio.svelte';
import type { Progress } from '../lib/core/run';
import type { Gender, Voice, VoiceSample } from '../lib/voices/types';
import { StreamPlayer } from './stream-player';
import { encodeWav } from '../lib/dsp/wav';
import {
  CLONE_SAMPLE_RATE,
  CONVERTER_MODEL_IDS,
  DEFAULT_TAU,
  isCloneChunk,
  type CloneExtractResult,
  type CloneStatusResult,
  type ConverterPrecision,
} from '../lib/clone/contract';
import { clampRegion, sliceRegion, type Region } from '../lib/ui/clone-audio';
import { cloneStageLine, installLine, OFFICIAL_RELEASE_URL, releaseBase } from '../lib/ui/clone-report';
import { newId } from '../lib/core/ids';
import { viewJob, type JobProgress } from './job.svelte';
import { sessionFor } from './sessions';
import type { MonoAudio } from '../lib/dsp/audio';

export interface CloneSample {
  id: string;
  name: string;
  origin: 'recording' | 'file';
  /** Mono samples at CLONE_SAMPLE_RATE (decoded and resampled once, in the page). */
  samples: Float32Array;
  duration: number;
  /** The same audio as a WAV blob, for the waveform. */
  wav: Blob;
  region: Region;
}

export interface CloneAudioResult {
  samples: Float32Array;
  sampleRate: number;
  duration: number;
  wav: Blob;
  elapsedMs: number;
  firstAudioMs: number | null;
}

export type Busy = 'install' | 'extract' | 'save' | 'speak' | 'convert' | null;
type Work = NonNullable<Busy>;

const NO_PROGRESS: JobProgress = Object.freeze({ done: 0, total: 0 });

const wavBlob = (samples: Float32Array, rate: number) =>
  new Blob([encodeWav(samples, rate, 's16') as Uint8Array<ArrayBuffer>], { type: 'audio/wav' });

function message(e: unknown): string {
  const err = e instanceof Error ? e : new Error(String(e));
  return err.message || 'Something went wrong.';
}

let nextId = 1;

export class CloneSession {
  // Converter.
  status = $state<CloneStatusResult | null>(null);
  statusError = $state<string | null>(null);
  releaseUrl = $state(OFFICIAL_RELEASE_URL);
  installError = $state<string | null>(null);
  /** Said after an install from a checkpoint that is not the published weights (a fixture, another model). */
  weightsNote = $state<string | null>(null);

  // Samples and the voice.
  samples = $state<CloneSample[]>([]);
  report = $state.raw<CloneExtractResult | null>(null);
  extractError = $state<string | null>(null);
  name = $state('');
  language = $state('en-us');
  gender = $state<Gender>('unknown');
  keepRecordings = $state(false);
  /** The voice "Say something" and "Convert" use (a saved cloned voice). */
  target = $state.raw<Voice | null>(null);
  clonedVoices = $state.raw<Voice[]>([]);

  // Say something.
  text = $state('Hello! This is my cloned voice, speaking entirely in the browser.');
  spoken = $state.raw<CloneAudioResult | null>(null);
  speakError = $state<string | null>(null);

  // Convert a recording.
  source = $state.raw<CloneSample | null>(null);
  tau = $state(DEFAULT_TAU);
  /** The converter graph asked for; null: the engine's default (int8 when the device's variant is recommended). */
  precision = $state<ConverterPrecision | null>(null);
  converted = $state.raw<CloneAudioResult | null>(null);
  convertError = $state<string | null>(null);

  /** What runs: one thing at a time (install, extraction, saving, speech or conversion). */
  private readonly job = viewJob<Work>();
  /** Where the stream being heard is (s), while it plays. */
  position = $state(0);
  streaming = $state<'speak' | 'convert' | null>(null);
  /** A/B: which one plays ('converted' or 'source'), null when stopped. */
  abPlaying = $state<'converted' | 'source' | null>(null);

  private ctx: AudioContext | null = null;
  private stream: StreamPlayer | null = null;
  private frame = 0;
  private ab: { src: AudioBufferSourceNode; startedAt: number; offset: number } | null = null;

  constructor(private readonly studio: Studio) {}

  get installed(): boolean {
    return this.status?.installed === true;
  }

  get busy(): Busy {
    return this.job.kind;
  }

  /** The job's stage line while `kind` runs, else ''. */
  private stageOf(kind: Work): string {
    return this.job.kind === kind ? this.job.stage : '';
  }

  get installStage(): string {
    return this.stageOf('install');
  }

  get installProgress(): JobProgress {
    return this.job.kind === 'install' ? this.job.progress : NO_PROGRESS;
  }

  get extractStage(): string {
    return this.stageOf('extract');
  }

  get speakStage(): string {
    return this.stageOf('speak');
  }

  get convertStage(): string {
    return this.stageOf('convert');
  }

  get convertProgress(): JobProgress {
    return this.job.kind === 'convert' ? this.job.progress : NO_PROGRESS;
  }

  // ---------------------------------------------------------------------------------- converter

  async refreshStatus(): Promise<void> {
    try {
      this.status = await this.studio.engine.run('clone.status', {});
      this.statusError = null;
    } catch (e) {
      this.status = { installed: false };
      this.statusError = message(e);
    }
  }

  /** Installs the converter from the release URL or from the two imported files. */
  async install(source: { url: string } | { config: File; checkpoint: File }): Promise<void> {
    if (this.busy) return;
    this.installError = null;
    let installed = false;
    const out = await this.job.run(
      'install',
      async (run) => {
        const src =
          'url' in source
            ? { kind: 'url' as const, base: releaseBase(source.url) }
            : {
                kind: 'files' as const,
                config: await source.config.text(),
                checkpoint: new Uint8Array(await source.checkpoint.arrayBuffer()),
              };
        if (src.kind === 'url' && !URL.canParse(src.base))
          throw new Error(`"${src.base}" is not a URL: give the release's address (…/resolve/main/).`);
        const r = await this.studio.engine.run(
          'clone.install',
          { source: src },
          {
            signal: run.signal,
            onProgress: run.guard((p: Progress) =>
              run.report(installLine(p), { done: p.done, total: p.total }),
            ),
          },
        );
        this.status = {
          installed: true,
          id: r.id,
          version: r.version,
          sampleRate: r.sampleRate,
          toneDimension: r.toneDimension,
          ...(r.fast ? { fast: r.fast } : {}),
        };
        this.precision = null;
        this.statusError = null;
        this.weightsNote = r.weightsNote ?? null;
        this.studio.toast('The voice converter is installed: you can clone voices now.', { kind: 'success' });
        this.studio.touch();
        installed = true;
      },
      { stage: 'Starting…' },
    );
    // An install that finished as Cancel was pressed is installed all the same.
    if (out?.status === 'cancelled' && !installed) this.studio.toast('Install cancelled.');
    else if (out?.status === 'failed') this.installError = message(out.error);
  }

  /** Cancels what runs (install, extraction, speech or conversion). */
  cancel(): void {
    this.job.cancel();
    this.endStream();
  }

  // ------------------------------------------------------------------------------------ samples

  /** Adds a recording or a file as a sample: the whole of it chosen at first. */
  async addSample(bytes: Uint8Array, name: string, origin: CloneSample['origin']): Promise<CloneSample> {
    const samples = (await this.studio.formats.decodeInput(bytes, { rate: CLONE_SAMPLE_RATE })).samples;
    if (!samples.length) throw new Error(`"${name}" has no audio in it.`);
    const duration = samples.length / CLONE_SAMPLE_RATE;
    const s: CloneSample = {
      id: `s${nextId++}`,
      name,
      origin,
      samples,
      duration,
      wav: wavBlob(samples, CLONE_SAMPLE_RATE),
      region: { start: 0, end: duration },
    };
    this.samples = [...this.samples, s];
    this.report = null;
    return s;
  }

  async addFiles(files: readonly File[]): Promise<void> {
    for (const f of files) {
      try {
        await this.addSample(new Uint8Array(await f.arrayBuffer()), f.name, 'file');
      } catch (e) {
        this.studio.fail(e, `Could not read "${f.name}"`);
      }
    }
  }

  setRegion(id: string, r: Region): void {
    this.samples = this.samples.map((s) => (s.id === id ? { ...s, region: clampRegion(r, s.duration) } : s));
    this.report = null;
  }

  /** Removes a sample, with Undo. */
  removeSample(id: string): void {
    const i = this.samples.findIndex((s) => s.id === id);
    const s = this.samples[i];
    if (!s) return;
    this.samples = this.samples.filter((x) => x.id !== id);
    this.report = null;
    this.studio.toast(`Removed the sample "${s.name}".`, {
      action: {
        label: 'Undo',
        run: () => {
          const next = [...this.samples];
          next.splice(Math.min(i, next.length), 0, s);
          this.samples = next;
        },
      },
    });
  }

  // -------------------------------------------------------------------------------- extraction

  /** Runs clone.extract on the chosen regions: the quality report, and the embedding to save. */
  async analyse(): Promise<void> {
    if (this.busy || !this.samples.length) return;
    this.report = null;
    this.extractError = null;
    const out = await this.job.run(
      'extract',
      async (run) => {
        const audio = this.samples.map((s) => ({
          samples: sliceRegion(s.samples, CLONE_SAMPLE_RATE, s.region),
          sampleRate: CLONE_SAMPLE_RATE,
        }));
        this.report = await this.studio.engine.run(
          'clone.extract',
          { audio },
          {
            signal: run.signal,
            onProgress: run.guard((p: Progress) => {
              run.report(
                p.stage === 'decode'
                  ? 'Reading the samples…'
                  : p.stage === 'vad'
                    ? 'Finding the speech…'
                    : p.stage === 'embed'
                      ? `Measuring the voice · ${p.done} of ${p.total || '?'} pieces`
                      : (p.message ?? p.stage),
              );
            }),
          },
        );
        if (!this.name) this.name = `My voice ${new Intl.DateTimeFormat().format(Date.now())}`;
      },
      { stage: 'Starting…' },
    );
    if (out?.status === 'failed') this.extractError = message(out.error);
  }

  /** Saves the analysed voice in the library (with the chosen regions only when recordings are kept). */
  async save(): Promise<Voice | null> {
    const r = this.report;
    const name = this.name.trim();
    if (!r || this.busy) return null;
    if (!name) {
      this.studio.toast('Give the voice a name first.', { kind: 'error' });
      return null;
    }
    const run = this.job.start('save')!;
    try {
      const now = Date.now();
      const samples: VoiceSample[] = this.keepRecordings
        ? this.samples.map((s) => {
            const part = sliceRegion(s.samples, CLONE_SAMPLE_RATE, s.region);
            return {
              id: s.id,
              name: s.name,
              mime: 'audio/wav',
              duration: part.length / CLONE_SAMPLE_RATE,
              data: encodeWav(part, CLONE_SAMPLE_RATE, 's16').slice().buffer as ArrayBuffer,
            };
          })
        : [];
      const voice: Voice = {
        id: newId('cloned'),
        name,
        description: `Cloned from ${this.samples.length} ${this.samples.length === 1 ? 'sample' : 'samples'} (${r.speech_seconds.toFixed(1)} s of speech).`,
        tags: ['cloned'],
        language: this.language,
        gender: this.gender,
        kind: 'cloned',
        model: CONVERTER_MODEL_IDS[this.status?.version ?? 'v2'],
        samples,
        embedding: Array.from(r.embedding),
        checks: { ...r.checks },
        favorite: false,
        created_at: now,
        updated_at: now,
      };
      await this.studio.voices.put(voice);
      this.target = voice;
      this.studio.touch();
      await this.loadVoices();
      this.studio.toast(`Saved "${name}" in the library.`, { kind: 'success' });
      return voice;
    } catch (e) {
      this.studio.fail(e, 'Could not save the voice');
      return null;
    } finally {
      run.end();
    }
  }

  async loadVoices(): Promise<void> {
    const { voices } = await this.studio.voices.query({ kind: 'cloned' });
    this.clonedVoices = voices.filter((v) => v.embedding?.length);
    if (this.target && !this.clonedVoices.some((v) => v.id === this.target!.id)) this.target = null;
    this.target ??= this.clonedVoices[0] ?? null;
  }

  chooseTarget(id: string): void {
    this.target = this.clonedVoices.find((v) => v.id === id) ?? null;
  }

  // ----------------------------------------------------------------------------------- playback

  private audio(): AudioContext {
    this.ctx ??= new AudioContext({ latencyHint: 'interactive' });
    if (this.ctx.state === 'suspended') void this.ctx.resume();
    return this.ctx;
  }

  private follow = () => {
    const s = this.stream;
    if (!s) return;
    if (!s.stopped) this.position = s.position;
    if (s.pending || this.busy === 'speak' || this.busy === 'convert')
      this.frame = requestAnimationFrame(this.follow);
    else this.endStream();
  };

  private endStream(): void {
    cancelAnimationFrame(this.frame);
    this.stream?.stop();
    this.stream = null;
    this.streaming = null;
  }

  /** The waveform's player took over: the stream stops. */
  waveTookOver(): void {
    this.endStream();
    this.stopAB();
  }

  /** Runs clone.speak or clone.convert, playing each chunk as it arrives; null when cancelled. */
  private async streamed(
    kind: 'speak' | 'convert',
    run: (
      signal: AbortSignal,
      onProgress: (p: Progress) => void,
    ) => Promise<{
      samples: Float32Array;
      sampleRate: number;
    }>,
    onStage: (p: Progress) => { stage: string; progress?: JobProgress },
  ): Promise<CloneAudioResult | null> {
    this.stopAB();
    this.endStream();
    const out = await this.job.run(
      kind,
      async (job) => {
        const stream = new StreamPlayer(this.audio());
        this.stream = stream;
        this.streaming = kind;
        this.position = 0;
        const t0 = performance.now();
        let firstAudioMs: number | null = null;
        this.frame = requestAnimationFrame(this.follow);
        try {
          const r = await run(
            job.signal,
            job.guard((p: Progress) => {
              if (isCloneChunk(p)) {
                stream.push(p.data.samples, p.data.sampleRate);
                firstAudioMs ??= performance.now() - t0;
              }
              const { stage, progress } = onStage(p);
              job.report(stage, progress);
            }),
          );
          return {
            samples: r.samples,
            sampleRate: r.sampleRate,
            duration: r.samples.length / r.sampleRate,
            wav: wavBlob(r.samples, r.sampleRate),
            elapsedMs: performance.now() - t0,
            firstAudioMs,
          };
        } catch (e) {
          if (this.stream === stream) this.endStream();
          throw e;
        }
      },
      { stage: 'Starting…', total: 0 },
    );
    if (out?.status === 'failed') throw out.error;
    return out?.status === 'done' ? out.value : null;
  }

  /** Speaks the text in the target voice. */
  async speak(): Promise<void> {
    const v = this.target;
    if (!v?.embedding || !this.text.trim() || this.busy) return;
    this.speakError = null;
    this.spoken = null;
    try {
      const r = await this.streamed(
        'speak',
        (signal, onProgress) =>
          this.studio.engine.run(
            'clone.speak',
            {
              text: this.text,
              embedding: v.embedding!,
              language: v.language,
              gender: v.gender,
              ...(v.recipe?.base_voice ? { baseVoice: v.recipe.base_voice } : {}),
              ...(this.precision ? { precision: this.precision } : {}),
            },
            { signal, onProgress },
          ),
        (p) => ({ stage: cloneStageLine('speak', p) }),
      );
      if (r) this.spoken = r;
    } catch (e) {
      this.speakError = message(e);
    }
  }

  async setSource(bytes: Uint8Array, name: string, origin: CloneSample['origin']): Promise<void> {
    const samples = (await this.studio.formats.decodeInput(bytes, { rate: CLONE_SAMPLE_RATE })).samples;
    if (!samples.length) throw new Error(`"${name}" has no audio in it.`);
    const duration = samples.length / CLONE_SAMPLE_RATE;
    this.source = {
      id: `src${nextId++}`,
      name,
      origin,
      samples,
      duration,
      wav: wavBlob(samples, CLONE_SAMPLE_RATE),
      region: { start: 0, end: duration },
    };
    this.converted = null;
  }

  /** Converts the source recording into the target voice. */
  async convert(): Promise<void> {
    const v = this.target;
    const src = this.source;
    if (!v?.embedding || !src || this.busy) return;
    this.convertError = null;
    this.converted = null;
    try {
      const r = await this.streamed(
        'convert',
        (signal, onProgress) =>
          this.studio.engine.run(
            'clone.convert',
            {
              source: { samples: src.samples, sampleRate: CLONE_SAMPLE_RATE },
              target: v.embedding!,
              tau: this.tau,
              ...(this.precision ? { precision: this.precision } : {}),
            },
            { signal, onProgress },
          ),
        (p) => ({
          stage: cloneStageLine('convert', p),
          ...(isCloneChunk(p) ? { progress: { done: p.data.index + 1, total: p.data.total } } : {}),
        }),
      );
      if (r) this.converted = r;
    } catch (e) {
      this.convertError = message(e);
    }
  }

  /** A/B: plays the converted result or the source from where the other one was, switching at once. */
  toggleAB(which?: 'converted' | 'source'): void {
    const conv = this.converted;
    const src = this.source;
    if (!conv || !src) return;
    const next = which ?? (this.abPlaying === 'converted' ? 'source' : 'converted');
    const ctx = this.audio();
    let at = 0;
    if (this.ab) at = this.ab.offset + (ctx.currentTime - this.ab.startedAt);
    this.stopAB();
    this.endStream();
    const samples = next === 'converted' ? conv.samples : src.samples;
    const rate = next === 'converted' ? conv.sampleRate : CLONE_SAMPLE_RATE;
    const buf = ctx.createBuffer(1, samples.length, rate);
    buf.copyToChannel(samples as Float32Array<ArrayBuffer>, 0);
    const node = ctx.createBufferSource();
    node.buffer = buf;
    node.connect(ctx.destination);
    const offset = at < buf.duration ? at : 0;
    node.onended = () => {
      if (this.ab?.src === node) {
        this.ab = null;
        this.abPlaying = null;
      }
    };
    node.start(0, offset);
    this.ab = { src: node, startedAt: ctx.currentTime, offset };
    this.abPlaying = next;
  }

  stopAB(): void {
    const ab = this.ab;
    this.ab = null;
    this.abPlaying = null;
    if (!ab) return;
    try {
      ab.src.stop();
    } catch {
      // not started
    }
    ab.src.disconnect();
  }

  /** Saves audio as a WAV file. */
  download(r: MonoAudio, stem: string): void {
    const url = URL.createObjectURL(wavBlob(r.samples, r.sampleRate));
    const a = document.createElement('a');
    a.href = url;
    a.download = `${stem}.wav`;
    a.style.display = 'none';
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10_000);
  }

  /** Leaving the view: playback stops and work is cancelled, except an install, which carries on. */
  dispose(): void {
    if (this.busy !== 'install') this.cancel();
    this.stopAB();
    void this.ctx?.close();
    this.ctx = null;
  }
}

/** One session per studio, so samples and results survive switching views. */
export function cloneSession(studio: Studio): CloneSession {
  return sessionFor(studio, CloneSession);
}
