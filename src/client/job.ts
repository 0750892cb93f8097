// The state of a view's long job (a render, a transcription, an install …), one home for what every view
// session repeated: a fresh AbortController per run, replacing or refusing a run already going, its stage
// and progress, cancel, ignoring the events of a run that is no longer current, and ending in one place.
// Plain TypeScript over a state object the caller provides: `job.svelte.ts` gives it a `$state` one for
// the page, the unit tests a plain one.
import { CancelledError } from '../lib/core/run';

export interface JobProgress {
  done: number;
  total: number;
}

/** What a view shows of its job; `kind` is null when none runs. */
export interface JobState<K extends string> {
  kind: K | null;
  stage: string;
  progress: JobProgress;
}

export const idleJob = <K extends string>(): JobState<K> => ({
  kind: null,
  stage: '',
  progress: { done: 0, total: 0 },
});

export interface StartOptions {
  /** A run already going is cancelled (true) or this start is refused (false, the default). */
  replace?: boolean;
  stage?: string;
  /** The progress total shown until the first event. */
  total?: number;
}

/** How a run ended: its value, a cancel (or a replacement by a newer run), or its error. */
export type JobOutcome<T> =
  { status: 'done'; value: T } | { status: 'cancelled' } | { status: 'failed'; error: unknown };

/** One run of a job: its signal, and updates that count only while it is the job's current run. */
export class JobRun<K extends string> {
  readonly #ctl = new AbortController();

  constructor(private readonly job: Job<K>) {}

  get signal(): AbortSignal {
    return this.#ctl.signal;
  }

  /** Still the job's run and not cancelled: its events may change what the view shows. */
  get live(): boolean {
    return this.job.current === this && !this.#ctl.signal.aborted;
  }

  /** Wraps an event handler so a cancelled or replaced run's late events are dropped. */
  guard<A extends unknown[]>(fn: (...args: A) => void): (...args: A) => void {
    return (...args) => {
      if (this.live) fn(...args);
    };
  }

  /** The run moves on to another kind of work (e.g. from decoding to transcribing). */
  phase(kind: K): void {
    if (this.live) this.job.state.kind = kind;
  }

  report(stage: string | undefined, progress?: JobProgress): void {
    if (!this.live) return;
    if (stage !== undefined) this.job.state.stage = stage;
    if (progress) this.job.state.progress = progress;
  }

  /** Ends the run (success or failure); nothing happens once another run took its place. */
  end(): void {
    if (this.job.current === this) this.job.finish();
  }

  abort(): void {
    this.#ctl.abort();
  }
}

export class Job<K extends string> {
  #run: JobRun<K> | null = null;

  /** `onFinish`: what the view resets when a run ends or is cancelled (beside kind and stage). */
  constructor(
    readonly state: JobState<K>,
    private readonly onFinish?: () => void,
  ) {}

  get kind(): K | null {
    return this.state.kind;
  }

  get busy(): boolean {
    return this.state.kind !== null;
  }

  get stage(): string {
    return this.state.stage;
  }

  set stage(s: string) {
    this.state.stage = s;
  }

  get progress(): JobProgress {
    return this.state.progress;
  }

  set progress(p: JobProgress) {
    this.state.progress = p;
  }

  /** The run going now, if any. */
  get current(): JobRun<K> | null {
    return this.#run;
  }

  /** Starts a run, or returns null when one is going and `replace` is not set. */
  start(kind: K, opts: StartOptions = {}): JobRun<K> | null {
    if (this.busy) {
      if (!opts.replace) return null;
      this.cancel();
    }
    const run = new JobRun(this);
    this.#run = run;
    this.state.kind = kind;
    this.state.stage = opts.stage ?? '';
    this.state.progress = { done: 0, total: opts.total ?? 0 };
    return run;
  }

  /**
   * Starts a run and awaits `work`, ending it whichever way it goes. A run cancelled or replaced meanwhile
   * (or failing with CancelledError) comes back as 'cancelled'; null: refused, another run is going.
   */
  async run<T>(
    kind: K,
    work: (run: JobRun<K>) => Promise<T>,
    opts: StartOptions = {},
  ): Promise<JobOutcome<T> | null> {
    const run = this.start(kind, opts);
    if (!run) return null;
    try {
      const value = await work(run);
      return run.live ? { status: 'done', value } : { status: 'cancelled' };
    } catch (error) {
      return !run.live || isCancel(error) ? { status: 'cancelled' } : { status: 'failed', error };
    } finally {
      run.end();
    }
  }

  /** Cancels the run going (its job is aborted, the view is idle at once); false when none was. */
  cancel(): boolean {
    const run = this.#run;
    if (!run) return false;
    run.abort();
    this.finish();
    return true;
  }

  /** @internal The one place a run ends. */
  finish(): void {
    this.#run = null;
    this.state.kind = null;
    this.state.stage = '';
    this.onFinish?.();
  }
}

/** A cancel, also one that crossed a worker boundary (only its name survives). */
export const isCancel = (e: unknown): boolean =>
  e instanceof CancelledError || (e instanceof Error && e.name === 'CancelledError');
