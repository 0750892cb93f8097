// Gapless playback of audio that arrives in pieces while the rest is still being made.
import { PlaybackPlan } from '../lib/audio/playback-plan';

/**
 * Plays streamed pieces gaplessly on an AudioContext, following a PlaybackPlan (the Speak view's sentences,
 * the Clone view's converted chunks).
 */
export class StreamPlayer {
  readonly plan = new PlaybackPlan();
  /** The sentence each piece speaks. */
  readonly sentenceOf: number[] = [];
  private readonly out: GainNode;
  private readonly sources = new Set<AudioBufferSourceNode>();
  stopped = false;

  constructor(readonly ctx: AudioContext) {
    this.out = ctx.createGain();
    this.out.connect(ctx.destination);
  }

  /** Schedules a piece right after the last one; `sentence` is what it speaks (-1: not told). */
  push(samples: Float32Array, sampleRate: number, sentence = -1): void {
    if (this.stopped) return;
    this.sentenceOf.push(sentence);
    if (!samples.length) {
      this.plan.add(this.ctx.currentTime, 0);
      return;
    }
    const buf = this.ctx.createBuffer(1, samples.length, sampleRate);
    buf.copyToChannel(samples as Float32Array<ArrayBuffer>, 0);
    const piece = this.plan.add(this.ctx.currentTime, buf.duration);
    const src = this.ctx.createBufferSource();
    src.buffer = buf;
    src.connect(this.out);
    src.onended = () => this.sources.delete(src);
    this.sources.add(src);
    src.start(piece.at);
  }

  get position(): number {
    return this.plan.positionAt(this.ctx.currentTime);
  }

  get sentence(): number {
    const i = this.plan.pieceAt(this.ctx.currentTime);
    return i < 0 ? -1 : (this.sentenceOf[i] ?? -1);
  }

  /** Audio is scheduled and not all of it has played. */
  get pending(): boolean {
    return !this.stopped && this.plan.pieces.length > 0 && !this.plan.finishedAt(this.ctx.currentTime);
  }

  stop(): void {
    this.stopped = true;
    for (const s of this.sources) {
      try {
        s.stop();
      } catch {
        // never started
      }
      s.disconnect();
    }
    this.sources.clear();
    this.out.disconnect();
  }
}
