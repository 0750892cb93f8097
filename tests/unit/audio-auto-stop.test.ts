// Auto-stop on silence, on synthetic microphone blocks (2048 samples every 100 ms, as the recorder feeds it).
import { describe, expect, it } from 'vitest';
import { SilenceWatch } from '../../src/lib/audio/auto-stop';
import { mulberry32 } from '../../src/lib/core/random';

const RATE = 48000;
const rand = mulberry32(7);
const noise = (amp: number) => Float32Array.from({ length: 2048 }, () => (rand() * 2 - 1) * amp);
const tone = (amp: number) =>
  Float32Array.from(
    { length: 2048 },
    (_, i) => amp * Math.sin((2 * Math.PI * 440 * i) / RATE) + (rand() - 0.5) * 1e-3,
  );

/** Feeds blocks of 0.1 s; returns the time (s) at which the watch said stop, or null. */
function run(watch: SilenceWatch, blocks: Float32Array[]): number | null {
  for (let i = 0; i < blocks.length; i++) if (watch.push(blocks[i]!, 0.1).stop) return (i + 1) / 10;
  return null;
}
const times = (n: number, f: () => Float32Array) => Array.from({ length: n }, f);

describe('SilenceWatch', () => {
  it('stops after N s of room noise once speech was heard', () => {
    const w = new SilenceWatch({ silenceSeconds: 2 });
    const blocks = [
      ...times(10, () => noise(0.002)),
      ...times(15, () => tone(0.3)),
      ...times(40, () => noise(0.002)),
    ];
    // Speech ends at 2.5 s; stop once 2 s of quiet follow: at 4.5 s.
    expect(run(w, blocks)).toBeCloseTo(4.5, 5);
  });

  it('does not stop on silence before any speech', () => {
    const w = new SilenceWatch({ silenceSeconds: 1 });
    expect(
      run(
        w,
        times(60, () => noise(0.002)),
      ),
    ).toBeNull();
    expect(w.state().heardSpeech).toBe(false);
  });

  it('does not stop during a pause shorter than N s', () => {
    const w = new SilenceWatch({ silenceSeconds: 2 });
    const talk = () => [...times(8, () => tone(0.3)), ...times(15, () => noise(0.002))];
    const blocks = [...talk(), ...talk(), ...talk(), ...times(5, () => tone(0.3))];
    expect(run(w, blocks)).toBeNull();
    expect(w.state().silence).toBe(0);
  });

  it('does not stop on one steady sound (no floor to stand out from)', () => {
    const w = new SilenceWatch({ silenceSeconds: 1 });
    expect(
      run(
        w,
        times(50, () => tone(0.3)),
      ),
    ).toBeNull();
  });

  it('counts digital silence as silence', () => {
    const w = new SilenceWatch({ silenceSeconds: 1.5 });
    const blocks = [...times(10, () => tone(0.2)), ...times(30, () => new Float32Array(2048))];
    expect(run(w, blocks)).toBeCloseTo(2.5, 5);
  });
});
