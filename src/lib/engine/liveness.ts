/**
 * A heartbeat: while started, `ping` is sent every `everyMs`; any sign of life (`answered`) clears the
 * count of unanswered pings, and after `misses` pings in a row go unanswered `onDead` runs once. It counts
 * pings rather than wall time, so a background tab whose timers the browser slows to one a minute is not
 * taken for dead: each slow tick still sends a ping that is answered before the next one.
 */
export interface HeartbeatOptions {
  everyMs: number;
  misses: number;
  /** The limit until the first answer ever (the other side may still be starting); default `misses`. */
  firstMisses?: number;
  ping: () => void;
  onDead: () => void;
}

export class Heartbeat {
  private timer: ReturnType<typeof setInterval> | undefined;
  private unanswered = 0;
  private everAnswered = false;

  constructor(private readonly o: HeartbeatOptions) {}

  get running(): boolean {
    return this.timer !== undefined;
  }

  /** Starts beating (again) with a clean count; a no-op while running. */
  start(): void {
    if (this.timer !== undefined) return;
    this.unanswered = 0;
    this.timer = setInterval(() => this.tick(), this.o.everyMs);
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /** A sign of life: a ping's answer, or anything else the other side sent. */
  answered(): void {
    this.unanswered = 0;
    this.everAnswered = true;
  }

  private tick() {
    const limit = this.everAnswered ? this.o.misses : (this.o.firstMisses ?? this.o.misses);
    if (this.unanswered >= limit) {
      this.stop();
      this.o.onDead();
      return;
    }
    this.unanswered++;
    this.o.ping();
  }
}
