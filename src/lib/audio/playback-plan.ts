// Gapless playback of audio that arrives piece by piece: where on the audio clock each piece starts, and
// the way back from a clock time to a position in the joined result. Pieces are made slower than real time
// on a small machine, so the queue can run dry: the next piece then starts a little after it arrives, and
// the schedule has a hole the result does not (positionAt holds at the end of the piece before the hole).

export interface PlannedPiece {
  index: number;
  /** Clock time (s) at which the piece starts playing. */
  at: number;
  /** Seconds long. */
  duration: number;
  /** Where it starts in the joined result (s). */
  offset: number;
}

export class PlaybackPlan {
  readonly pieces: PlannedPiece[] = [];
  /** Pieces that had to wait for the clock to catch up with them (the queue had run dry). */
  underruns = 0;
  private end = 0;
  private offset = 0;

  /** `lead`: how far ahead of "now" a piece that finds the queue empty is started, so its start is exact. */
  constructor(private readonly lead = 0.05) {}

  /** Schedules a piece of `duration` s that arrived at clock time `now`: right after the one before it when that is still ahead, else `lead` from now. */
  add(now: number, duration: number): PlannedPiece {
    const ready = now + this.lead;
    if (this.pieces.length && ready > this.end) this.underruns++;
    const at = Math.max(this.end, ready);
    const piece = { index: this.pieces.length, at, duration, offset: this.offset };
    this.pieces.push(piece);
    this.end = at + duration;
    this.offset += duration;
    return piece;
  }

  /** Clock time at which everything scheduled so far has played (0 before the first piece). */
  get endsAt(): number {
    return this.end;
  }

  /** Seconds of result scheduled so far. */
  get duration(): number {
    return this.offset;
  }

  /** The piece playing at clock time `t` (in a hole: the one before it), or -1 before the first one. */
  pieceAt(t: number): number {
    let lo = 0;
    let hi = this.pieces.length - 1;
    let found = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (this.pieces[mid]!.at <= t) {
        found = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    return found;
  }

  /** Seconds into the joined result heard at clock time `t`: 0 before the start, the end after it. */
  positionAt(t: number): number {
    const i = this.pieceAt(t);
    if (i < 0) return 0;
    const p = this.pieces[i]!;
    return p.offset + Math.min(Math.max(t - p.at, 0), p.duration);
  }

  /** True once clock time `t` is past the last piece scheduled. */
  finishedAt(t: number): boolean {
    return this.pieces.length > 0 && t >= this.end;
  }
}

/** The span (by index) holding time `t`: the last whose start is ≤ t, so a pause belongs to the span before it; -1 before the first. */
export function spanAt(spans: readonly { start: number }[], t: number): number {
  let found = -1;
  for (let i = 0; i < spans.length; i++) {
    if (spans[i]!.start <= t + 1e-9) found = i;
    else break;
  }
  return found;
}
