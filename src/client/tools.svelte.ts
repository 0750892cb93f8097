// The Tools view's state: one open file, and the four tools run on it in the engine worker —
// enhance (audio.enhance), convert (audio.convert), analyse (audio.analyze), trim silence / split
// (audio.silence) — each with progress and cancel, results kept until another file is opened.
import type { Studio } from './studio.svelte';
import type { Progress } from '../lib/core/run';
import { viewJob } from './job.svelte';
import { sessionFor } from './sessions';
import type { FormatId } from '../lib/codec/formats';
import type { AudioAnalyzeResult } from '../lib/audio/contract';

export type ToolTab = 'enhance' | 'convert' | 'analyse' | 'silence';
export const TOOL_TABS: { id: ToolTab; label: string }[] = [
  { id: 'enhance', label: 'Enhance' },
  { id: 'convert', label: 'Convert' },
  { id: 'analyse', label: 'Analyse' },
  { id: 'silence', label: 'Trim / split' },
];
export const CONVERT_TARGETS: FormatId[] = ['mp3', 'wav', 'ogg', 'opus', 'flac', 'm4a', 'aac', 'webm'];

export interface OpenFile {
  name: string;
  bytes: Uint8Array;
  blob: Blob;
}

export interface EnhanceOutcome {
  blob: Blob;
  duration: number;
  loudness_before: number | null;
  loudness_after: number | null;
  snr_before: number | null;
  snr_after: number | null;
  noise_before: number | null;
  noise_after: number | null;
  steps: string[];
  vad: string;
}

export interface ConvertOutcome {
  blob: Blob;
  name: string;
  format: string;
  sampleRate: number;
  channels: number;
  bitrate: number | null;
}

export interface PieceOutcome {
  start: number;
  end: number;
  blob: Blob;
}

const wavBlob = (b: Uint8Array) => new Blob([b as Uint8Array<ArrayBuffer>], { type: 'audio/wav' });
const stem = (name: string) => name.replace(/\.[^.]*$/, '').replace(/[^\w.-]+/g, '_') || 'audio';

function message(e: unknown): string {
  return (e instanceof Error ? e.message : String(e)) || 'Something went wrong.';
}

interface ToolRunOptions {
  signal: AbortSignal;
  onProgress: (p: Progress) => void;
}

class ToolsSession {
  tab = $state<ToolTab>('enhance');
  file = $state.raw<OpenFile | null>(null);
  /** The tool running (its name, as errors say it). */
  private readonly job = viewJob<string>();
  error = $state('');
  notice = $state('');

  denoise = $state(true);
  clarity = $state(false);
  strength = $state<1 | 2 | 3>(2);
  normalise = $state(true);
  target = $state(-16);
  enhanced = $state.raw<EnhanceOutcome | null>(null);

  format = $state<FormatId>('mp3');
  bitrate = $state(192);
  sampleRate = $state(0);
  channels = $state<'keep' | 'mono' | 'stereo'>('keep');
  converted = $state.raw<ConvertOutcome | null>(null);

  analysis = $state.raw<AudioAnalyzeResult | null>(null);

  maxPause = $state(0.8);
  shorten = $state(false);
  minPause = $state(0.5);
  trimmed = $state.raw<{ blob: Blob; start: number; end: number; duration: number } | null>(null);
  pieces = $state.raw<PieceOutcome[]>([]);

  constructor(private readonly studio: Studio) {}

  get busy(): boolean {
    return this.job.busy;
  }

  get stage(): string {
    return this.job.stage;
  }

  /** 0–100, or null when the stage does not know its length. */
  get pct(): number | null {
    const p = this.job.progress;
    return p.total > 0 ? Math.round((100 * p.done) / p.total) : null;
  }

  async open(f: File): Promise<void> {
    this.cancel();
    const bytes = new Uint8Array(await f.arrayBuffer());
    this.file = { name: f.name, bytes, blob: new Blob([bytes], { type: f.type || 'audio/wav' }) };
    this.enhanced = this.converted = this.analysis = this.trimmed = null;
    this.pieces = [];
    this.error = this.notice = '';
  }

  cancel(): void {
    if (this.job.cancel()) this.notice = 'Cancelled.';
  }

  /** Runs one tool on a copy of the file's bytes (the engine takes its arguments' buffers). */
  private async run<T>(what: string, work: (bytes: Uint8Array, opts: ToolRunOptions) => Promise<T>) {
    const f = this.file;
    if (!f || this.busy) return;
    this.error = this.notice = '';
    const out = await this.job.run(
      what,
      (run) =>
        work(f.bytes.slice(), {
          signal: run.signal,
          onProgress: run.guard((p: Progress) =>
            run.report(p.message ?? p.stage, { done: p.done, total: p.total }),
          ),
        }),
      { stage: 'Starting' },
    );
    if (out?.status === 'failed') this.error = `${what}: ${message(out.error)}`;
  }

  enhance(): Promise<void> {
    return this.run('Enhance', async (audio, opts) => {
      const r = await this.studio.engine.run(
        'audio.enhance',
        {
          audio,
          denoise: this.denoise,
          clarity: this.clarity,
          strength: this.strength,
          ...(this.normalise ? { target_lufs: this.target } : {}),
          options: { format: 'wav' },
        },
        opts,
      );
      if (opts.signal.aborted) return;
      this.enhanced = {
        blob: wavBlob(r.audio.bytes),
        duration: r.duration,
        loudness_before: r.loudness_before,
        loudness_after: r.loudness_after,
        snr_before: r.snr_before.snr_db,
        snr_after: r.snr_after.snr_db,
        noise_before: r.snr_before.noise_db,
        noise_after: r.snr_after.noise_db,
        steps: r.steps,
        vad: r.vad,
      };
    });
  }

  convert(): Promise<void> {
    return this.run('Convert', async (audio, opts) => {
      const lossless = this.format === 'wav' || this.format === 'flac';
      const r = await this.studio.engine.run(
        'audio.convert',
        {
          audio,
          options: {
            format: this.format,
            ...(lossless ? {} : { bitrate: this.bitrate }),
            ...(this.sampleRate ? { sampleRate: this.sampleRate } : {}),
            ...(this.channels === 'keep' ? {} : { channels: this.channels === 'mono' ? 1 : 2 }),
          },
        },
        opts,
      );
      if (opts.signal.aborted) return;
      this.converted = {
        blob: new Blob([r.bytes as Uint8Array<ArrayBuffer>], { type: r.mime }),
        name: `${stem(this.file!.name)}.${r.extension}`,
        format: r.format,
        sampleRate: r.sampleRate,
        channels: r.channels,
        bitrate: r.bitrate,
      };
    });
  }

  analyse(): Promise<void> {
    return this.run('Analyse', async (audio, opts) => {
      const r = await this.studio.engine.run('audio.analyze', { audio }, opts);
      if (!opts.signal.aborted) this.analysis = r;
    });
  }

  trim(): Promise<void> {
    return this.run('Trim silence', async (audio, opts) => {
      const r = await this.studio.engine.run(
        'audio.silence',
        { audio, mode: 'trim', ...(this.shorten ? { max_pause: this.maxPause } : {}) },
        opts,
      );
      if (opts.signal.aborted || !r.trimmed) return;
      const t = r.trimmed;
      this.trimmed = { blob: wavBlob(t.wav), start: t.start, end: t.end, duration: t.duration };
      if (!t.duration) this.notice = 'No speech was found in this file.';
    });
  }

  split(): Promise<void> {
    return this.run('Split', async (audio, opts) => {
      const r = await this.studio.engine.run(
        'audio.silence',
        { audio, mode: 'split', min_pause: this.minPause },
        opts,
      );
      if (opts.signal.aborted) return;
      this.pieces = (r.pieces ?? []).map((p) => ({ start: p.start, end: p.end, blob: wavBlob(p.wav) }));
      if (!this.pieces.length) this.notice = 'No speech was found in this file.';
    });
  }

  /** A download name for a result. */
  nameFor(suffix: string, ext = 'wav'): string {
    return `${stem(this.file?.name ?? 'audio')}-${suffix}.${ext}`;
  }
}

export function toolsSession(studio: Studio): ToolsSession {
  return sessionFor(studio, ToolsSession);
}

export type { ToolsSession };
