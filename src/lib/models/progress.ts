// Progress accounting for installs and imports: speed over the last seconds, the ETA, the message, and a
// rate limit on reports so a fast download does not flood the page.
import { formatBytes, type InstallProgress, type InstallProgressFn } from './types';

export class Meter {
  private samples: { t: number; n: number }[] = [];
  private received = 0;
  private lastEmit = -Infinity;
  private speed = 0;

  constructor(
    private readonly onProgress: InstallProgressFn | undefined,
    private readonly clock: () => number,
    private readonly interval: number,
  ) {}

  /** Counts bytes that arrived from the network (for speed). */
  add(n: number): void {
    this.received += n;
    const t = this.clock();
    this.samples.push({ t, n: this.received });
    while (this.samples.length > 2 && t - this.samples[1]!.t > 5000) this.samples.shift();
    const first = this.samples[0]!;
    const dt = (t - first.t) / 1000;
    if (dt > 0) this.speed = (this.received - first.n) / dt;
  }

  emit(
    p: Omit<InstallProgress, 'bytesPerSecond' | 'etaSeconds' | 'message'> & { message?: string },
    force = false,
  ): void {
    if (!this.onProgress) return;
    const t = this.clock();
    if (!force && t - this.lastEmit < this.interval) return;
    this.lastEmit = t;
    const remaining = p.total > 0 ? Math.max(0, p.total - p.done) : null;
    const eta =
      remaining === 0 ? 0 : remaining !== null && this.speed > 0 ? Math.round(remaining / this.speed) : null;
    const message =
      p.message ??
      `${p.stage === 'download' ? 'Downloading' : p.stage === 'verify' ? 'Checking' : 'Storing'} ${p.file}: ` +
        `${formatBytes(p.done)}${p.total ? ` of ${formatBytes(p.total)}` : ''}`;
    this.onProgress({ ...p, message, bytesPerSecond: Math.round(this.speed), etaSeconds: eta });
  }

  /** The final report: the whole model's `bytes` done, always sent. */
  done(bytes: number, message: string): void {
    this.emit(
      { stage: 'done', file: '', done: bytes, total: bytes, fileDone: 0, fileTotal: 0, message },
      true,
    );
  }
}
