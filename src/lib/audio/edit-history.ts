// Undo and redo for the clip editor. Each step keeps a snapshot of the audio (the operations are pure, so
// a snapshot is just the previous result, never copied again). Snapshots of long clips are large, so the
// history keeps at most `maxBytes` of them and forgets the oldest undo steps first; the current state and
// the redo steps (which only exist right after an undo) always stay.
import { applyEdit, editLabel, type EditAudio, type EditOp } from './edit';

/** 256 MB: about 20 undo steps of a 5 min mono clip at 48 kHz in float. */
export const HISTORY_MAX_BYTES = 256 * 1024 * 1024;

interface Step {
  audio: EditAudio;
  /** The edit that made this state (null for the original). */
  label: string | null;
}

export function audioBytes(a: EditAudio): number {
  return a.channels.reduce((s, c) => s + c.byteLength, 0);
}

export class EditHistory {
  private past: Step[] = [];
  private future: Step[] = [];
  private now: Step;
  /** Undo steps dropped to stay under the bound. */
  dropped = 0;

  constructor(
    initial: EditAudio,
    private readonly maxBytes = HISTORY_MAX_BYTES,
  ) {
    this.now = { audio: initial, label: null };
  }

  get current(): EditAudio {
    return this.now.audio;
  }
  get canUndo(): boolean {
    return this.past.length > 0;
  }
  get canRedo(): boolean {
    return this.future.length > 0;
  }
  /** What Undo would take back, e.g. "Trim". */
  get undoLabel(): string | null {
    return this.canUndo ? this.now.label : null;
  }
  get redoLabel(): string | null {
    return this.future.at(-1)?.label ?? null;
  }
  /** Edits between the original (or the oldest kept state) and now. */
  get depth(): number {
    return this.past.length;
  }

  get bytes(): number {
    return [...this.past, this.now, ...this.future].reduce((s, x) => s + audioBytes(x.audio), 0);
  }

  /** Applies an edit; a new edit clears the redo steps. Throws (and changes nothing) if the edit does. */
  apply(op: EditOp): EditAudio {
    const next = applyEdit(this.now.audio, op);
    this.past.push(this.now);
    this.now = { audio: next, label: editLabel(op) };
    this.future = [];
    this.bound();
    return next;
  }

  undo(): EditAudio | null {
    const prev = this.past.pop();
    if (!prev) return null;
    this.future.push(this.now);
    this.now = prev;
    return prev.audio;
  }

  redo(): EditAudio | null {
    const next = this.future.pop();
    if (!next) return null;
    this.past.push(this.now);
    this.now = next;
    return next.audio;
  }

  /** After a save: the saved state becomes the base with no history before it. */
  reset(audio: EditAudio = this.now.audio): void {
    this.past = [];
    this.future = [];
    this.now = { audio, label: null };
  }

  private bound(): void {
    while (this.past.length && this.bytes > this.maxBytes) {
      this.past.shift();
      this.dropped++;
    }
  }
}
