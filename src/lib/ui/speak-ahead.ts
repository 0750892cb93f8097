// Speaking ahead: while a person types in Speak, the first sentence of the text is spoken before Generate
// is pressed (tts.ahead keeps the model's output in the engine), so Generate's first audio is already made.
// The rules: a pause in typing (debounce) starts it, every edit that changes what would be spoken cancels
// what has not started, it never competes with another job (it starts only on an idle engine and stops
// between runs when a job comes), and it is keyed by all that the model hears.
import type { SynthesizeParams, TtsAheadArgs, TtsAheadResult } from '../tts/contract';
import { speakSentences } from './speak-text';

/** Typing pause before speaking ahead (ms). */
export const AHEAD_DEBOUNCE_MS = 600;

/**
 * What the model hears of a generation's first sentence: its text, the voice, speed, language and the
 * voice whose lexicon applies. Volume and pause are applied after the model, so changing them keeps what
 * was spoken ahead; an edit after the first sentence keeps it too. Null: nothing to speak.
 */
export function aheadKey(args: SynthesizeParams): string | null {
  if (typeof args.voice !== 'string') return null;
  const first = speakSentences(args.text)[0]?.text.trim();
  if (!first) return null;
  return JSON.stringify([first, args.voice, args.speed ?? 1, args.language ?? '', args.voice_id ?? '']);
}

export interface SpeakAheadDeps {
  /** Runs tts.ahead (one run of the first sentence). */
  speak: (args: TtsAheadArgs) => Promise<TtsAheadResult>;
  /** No job is running or waiting in the engine. */
  idle: () => boolean;
  debounceMs?: number;
  /** Timers (the page's; tests may pass their own). */
  setTimer?: (fn: () => void, ms: number) => unknown;
  clearTimer?: (t: unknown) => void;
}

/** Where speaking ahead stands for the form's current text and settings. */
export type AheadState = 'none' | 'waiting' | 'speaking' | 'ready';

interface Current {
  key: string;
  args: SynthesizeParams;
  state: AheadState;
  /** The next run of the first sentence to speak. */
  next: number;
  /** A generation took it: nothing more is spoken ahead for it. */
  claimed: boolean;
}

export class SpeakAhead {
  private current: Current | null = null;
  private timer: unknown = null;
  /** A tts.ahead call is in flight (never aborted: stopping Kokoro mid-run would cost its session). */
  private busy = false;
  private readonly debounceMs: number;
  private readonly setTimer: (fn: () => void, ms: number) => unknown;
  private readonly clearTimer: (t: unknown) => void;

  constructor(private readonly deps: SpeakAheadDeps) {
    this.debounceMs = deps.debounceMs ?? AHEAD_DEBOUNCE_MS;
    this.setTimer = deps.setTimer ?? ((fn, ms) => setTimeout(fn, ms));
    this.clearTimer = deps.clearTimer ?? ((t) => clearTimeout(t as ReturnType<typeof setTimeout>));
  }

  get state(): AheadState {
    return this.current?.state ?? 'none';
  }

  /**
   * The form changed: `args` is what Generate would send now (null: nothing to speak, e.g. no text, or a
   * voice that is not Kokoro's). Same key: what is done or under way stays. Otherwise it is dropped and
   * the new text is spoken ahead once typing pauses.
   */
  edit(args: SynthesizeParams | null): void {
    const key = args && aheadKey(args);
    if (key && this.current?.key === key) {
      this.current.args = args;
      if (this.current.state === 'waiting') this.schedule();
      return;
    }
    this.cancelTimer();
    this.current = key && args ? { key, args, state: 'waiting', next: 0, claimed: false } : null;
    if (this.current) this.schedule();
  }

  /**
   * Generate was pressed with `args`: nothing more is started ahead. Returns what was spoken ahead for
   * them ('ready' or 'speaking': the generation takes it; 'none': it was for other text or settings).
   */
  claim(args: SynthesizeParams): AheadState {
    this.cancelTimer();
    const key = aheadKey(args);
    const c = this.current;
    if (!c || c.key !== key || (c.state === 'waiting' && c.next === 0)) {
      this.current = null;
      return 'none';
    }
    // Nothing more is spoken ahead for it: the generation makes the rest (part of it may be made).
    c.claimed = true;
    if (c.state === 'waiting') c.state = 'ready';
    return c.state;
  }

  /** Leaving the view: nothing more starts. */
  dispose(): void {
    this.cancelTimer();
    this.current = null;
  }

  private cancelTimer() {
    if (this.timer !== null) this.clearTimer(this.timer);
    this.timer = null;
  }

  private schedule() {
    this.cancelTimer();
    this.timer = this.setTimer(() => {
      this.timer = null;
      void this.speak();
    }, this.debounceMs);
  }

  /** Speaks the first sentence run by run while it is still wanted and the engine has nothing else. */
  private async speak(): Promise<void> {
    const c = this.current;
    if (!c || c.state !== 'waiting' || c.claimed) return;
    // Another job (or our own previous call) is running: try again after another pause.
    if (this.busy || !this.deps.idle()) {
      this.schedule();
      return;
    }
    c.state = 'speaking';
    try {
      for (;;) {
        this.busy = true;
        let r: TtsAheadResult;
        try {
          r = await this.deps.speak({ ...c.args, run: c.next });
        } finally {
          this.busy = false;
        }
        if (this.current !== c) return;
        c.next++;
        if (c.next >= r.runs || c.claimed) break;
        // A job came (Generate, a preview…): it has the engine; the rest waits for another pause.
        if (!this.deps.idle()) {
          c.state = 'waiting';
          this.schedule();
          return;
        }
      }
      c.state = 'ready';
    } catch {
      // Only a head start: Generate makes the audio itself and reports any error.
      if (this.current === c) this.current = null;
    }
  }
}
