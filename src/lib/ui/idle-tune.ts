// Idle-time work on the voice converter (clone.tune): its int8 variant made when there is none, or timed
// again when its measurement was taken while the device was busy. It waits until the studio has been idle
// a while (no engine job, no input) so that it neither delays a person's job nor is measured beside one;
// the engine stops it the moment another job is asked for, and the next idle time tries again.
import { errorKind } from '../core/errors';
import type { CloneStatusResult, CloneTuneResult } from '../clone/contract';

/** Idle time (no engine job, no input) before the converter is tuned (ms). */
export const IDLE_TUNE_MS = 15_000;
/** Tunes per page load at most: a device that stays busy is not measured over and over. */
export const IDLE_TUNE_TRIES = 3;

export interface IdleTuneDeps {
  /** clone.status: whether a converter is installed and how its variant was measured. */
  status: () => Promise<CloneStatusResult>;
  /** clone.tune, stopped (rejected) when another job is asked for. */
  tune: () => Promise<CloneTuneResult>;
  /** No job is running or waiting in the engine, and the engine has run in this page. */
  idle: () => boolean;
  /** The variant was made or measured again: views re-read the converter. */
  changed: (r: CloneTuneResult) => void;
  idleMs?: number;
  /** Timers (the page's; tests may pass their own). */
  setTimer?: (fn: () => void, ms: number) => unknown;
  clearTimer?: (t: unknown) => void;
}

export class IdleTune {
  private timer: unknown = null;
  private running = false;
  /** Nothing more to do in this page: steadily measured, cannot be made, or out of tries. */
  private finished = false;
  private tries = 0;
  private readonly idleMs: number;
  private readonly setTimer: (fn: () => void, ms: number) => unknown;
  private readonly clearTimer: (t: unknown) => void;

  constructor(private readonly deps: IdleTuneDeps) {
    this.idleMs = deps.idleMs ?? IDLE_TUNE_MS;
    this.setTimer = deps.setTimer ?? ((fn, ms) => setTimeout(fn, ms));
    this.clearTimer = deps.clearTimer ?? ((t) => clearTimeout(t as ReturnType<typeof setTimeout>));
  }

  /** A job started or ended, the person did something, or models changed: the idle wait starts over. */
  activity(): void {
    if (this.finished || this.running) return;
    this.cancelTimer();
    this.timer = this.setTimer(() => {
      this.timer = null;
      void this.tuneNow();
    }, this.idleMs);
  }

  /** Counts a try: true while tries are left. */
  private tried(): boolean {
    if (++this.tries < IDLE_TUNE_TRIES) return true;
    this.finished = true;
    return false;
  }

  private cancelTimer() {
    if (this.timer !== null) this.clearTimer(this.timer);
    this.timer = null;
  }

  private async tuneNow(): Promise<void> {
    // A job is under way: its end is activity, which waits again.
    if (this.finished || this.running || !this.deps.idle()) return;
    this.running = true;
    let again = false;
    try {
      const s = await this.deps.status();
      // No converter: an install (activity) brings this back.
      if (!s.installed) return;
      if (s.fast?.steady === true) {
        this.finished = true;
        return;
      }
      // A job came meanwhile: the tune would only queue behind it.
      if (!this.deps.idle()) {
        again = true;
        return;
      }
      const r = await this.deps.tune();
      if (r.done !== 'none') this.deps.changed(r);
      if (r.fast?.steady === true) this.finished = true;
      // Measured while busy again.
      else if (r.done !== 'none') again = this.tried();
      // It cannot be made here (with `retry`, no speech yet: after the next activity, e.g. Kokoro's install).
      else if (!r.retry) this.finished = true;
    } catch (e) {
      // Stopped for a person's job: the next idle time. Any other failure counts as a try.
      again = errorKind(e) === 'cancelled' || this.tried();
    } finally {
      this.running = false;
      if (again) this.activity();
    }
  }
}
