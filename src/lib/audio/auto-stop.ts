// Auto-stop on silence for the recorder, DOM-free. The page hands in a block of microphone samples about
// every 100 ms (the analyser's frame); the energy VAD of src/lib/vad/vad.ts judges all blocks kept so far
// together, so its noise floor is the room's quiet between words. The energy detector, not Silero, because
// it runs on the page's thread at any sample rate in well under a millisecond per block, with no model to
// load, and a recorder only needs "loud against the room" vs "quiet" — not speech vs other sound.
import { energyProbabilities, VAD_FRAME } from '../vad/vad';

export interface AutoStopOptions {
  /** Stop after this much silence once speech was heard. */
  silenceSeconds: number;
  /** How much recent audio sets the noise floor. */
  windowSeconds?: number;
}

export const AUTO_STOP_DEFAULT_SECONDS = 2;
const SPEECH = 0.5;

interface Block {
  samples: Float32Array;
  /** Seconds of the recording this block stands for. */
  seconds: number;
}

export interface AutoStopState {
  heardSpeech: boolean;
  /** Seconds of silence at the end. */
  silence: number;
  stop: boolean;
}

export class SilenceWatch {
  private blocks: Block[] = [];
  private kept = 0;
  private readonly window: number;

  constructor(private readonly opts: AutoStopOptions) {
    this.window = Math.max(opts.windowSeconds ?? 30, opts.silenceSeconds + 1);
  }

  /** Adds one block heard over `seconds`; says whether the recording should stop now. */
  push(block: Float32Array, seconds: number): AutoStopState {
    // Whole VAD frames only; the block is copied since the analyser reuses its buffer.
    const n = Math.max(VAD_FRAME, block.length - (block.length % VAD_FRAME));
    const samples = new Float32Array(n);
    samples.set(block.subarray(0, n));
    this.blocks.push({ samples, seconds });
    this.kept += seconds;
    while (this.blocks.length > 1 && this.kept - this.blocks[0]!.seconds >= this.window)
      this.kept -= this.blocks.shift()!.seconds;
    return this.state();
  }

  state(): AutoStopState {
    const all = new Float32Array(this.blocks.reduce((s, b) => s + b.samples.length, 0));
    let at = 0;
    for (const b of this.blocks) {
      all.set(b.samples, at);
      at += b.samples.length;
    }
    const probs = energyProbabilities(all);
    const speech: boolean[] = [];
    let f = 0;
    for (const b of this.blocks) {
      const frames = b.samples.length / VAD_FRAME;
      let loud = false;
      for (let i = 0; i < frames; i++) loud ||= probs[f + i]! >= SPEECH;
      speech.push(loud);
      f += frames;
    }
    const heardSpeech = speech.includes(true);
    let silence = 0;
    for (let i = this.blocks.length - 1; i >= 0 && !speech[i]; i--) silence += this.blocks[i]!.seconds;
    return { heardSpeech, silence, stop: heardSpeech && silence >= this.opts.silenceSeconds };
  }

  reset(): void {
    this.blocks = [];
    this.kept = 0;
  }
}
