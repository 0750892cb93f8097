// Playback of a project's mixdown from the playhead, which follows the audio while it plays.
import type { Mixdown } from './project-render';

export class MixPlayer {
  playhead = $state(0);
  playing = $state(false);

  private ctx: AudioContext | null = null;
  private source: AudioBufferSourceNode | null = null;
  private frame = 0;

  /** Plays `m` from the playhead (from the start when the playhead is at its end). */
  async play(m: Mixdown): Promise<void> {
    this.pause();
    this.ctx ??= new AudioContext({ latencyHint: 'interactive' });
    const ctx = this.ctx;
    if (ctx.state === 'suspended') await ctx.resume();
    const buf = ctx.createBuffer(1, m.samples.length, m.sampleRate);
    buf.copyToChannel(m.samples as Float32Array<ArrayBuffer>, 0);
    const src = ctx.createBufferSource();
    src.buffer = buf;
    src.connect(ctx.destination);
    const from = this.playhead >= m.duration - 0.01 ? 0 : this.playhead;
    const t0 = ctx.currentTime;
    src.onended = () => {
      if (this.source !== src) return;
      this.source = null;
      this.playing = false;
      cancelAnimationFrame(this.frame);
    };
    src.start(0, from);
    this.source = src;
    this.playing = true;
    const follow = () => {
      if (this.source !== src) return;
      this.playhead = Math.min(from + (ctx.currentTime - t0), m.duration);
      this.frame = requestAnimationFrame(follow);
    };
    follow();
  }

  pause(): void {
    cancelAnimationFrame(this.frame);
    const src = this.source;
    this.source = null;
    this.playing = false;
    try {
      src?.stop();
    } catch {
      // not started
    }
    src?.disconnect();
  }
}
