// Early text: the first window is short, and the VAD runs only a window ahead of the decoding (its
// regions the same as one pass over the file).
import { readFileSync, existsSync } from 'node:fs';
import * as ort from 'onnxruntime-web';
import { beforeAll, describe, expect, it } from 'vitest';
import { FIRST_WINDOW, firstWindow, nextWindow, windowRegions } from '../../src/lib/asr/transcribe';
import {
  FRAME_SECONDS,
  findSpeech,
  sileroProbabilities,
  SpeechFinder,
  speechRegions,
  speechSource,
  type RegionSource,
  type SpeechRegion,
} from '../../src/lib/vad/vad';
import { installRuntime } from '../../src/lib/runtime/host';
import { concat, HAVE_KOKORO, kokoroSpeech, MODELS, silence } from './asr-helpers';
import { ENGLISH } from './asr-corpus';
import { resample } from '../../src/lib/dsp/resample';

const SILERO = `${MODELS}/silero-vad-v5/silero_vad_v5.onnx`;

beforeAll(() => {
  installRuntime({ loadOrt: async () => ort, isolated: true, cores: 2 });
});

/** A source over known regions that records how far it was asked to look. */
function recording(all: SpeechRegion[], total: number) {
  const asked: number[] = [];
  const src: RegionSource = {
    total,
    async upTo(t) {
      const covered = Math.min(total, t);
      asked.push(covered);
      // As a VAD pass over [0, covered] would see them: an open region ends at the covered end.
      const regions = all
        .filter((r) => r.start < covered)
        .map((r) => ({ start: r.start, end: Math.min(r.end, covered) }));
      return { regions, covered };
    },
  };
  return { src, asked };
}

describe('the first window', () => {
  const regions = [
    { start: 1, end: 2.5 },
    { start: 2.9, end: 6 },
    { start: 6.5, end: 12 },
    { start: 12.6, end: 25 },
    { start: 25.5, end: 40 },
  ];

  it(`ends at the first pause after ${FIRST_WINDOW} s of speech`, () => {
    const w = nextWindow(0, 90, regions, true)!;
    expect(w.start).toBe(1);
    // The pause at 2.5–2.9 comes too soon; the one at 6–6.5 is the first after 4 s.
    expect(w.end).toBeCloseTo(6.25, 5);
    expect(w.endsInPause).toBe(true);
    // Later windows are planned as before (the latest pause ≥ 10 s in).
    expect(nextWindow(w.end, 90, regions)!.end).toBeCloseTo(25.25, 5);
  });

  it('is a whole window when there is no pause, and the speech when it is short', () => {
    expect(nextWindow(0, 100, [{ start: 0, end: 100 }], true)).toEqual({
      start: 0,
      end: 30,
      endsInPause: false,
    });
    expect(nextWindow(0, 10, [{ start: 0.5, end: 3 }], true)).toEqual({
      start: 0.5,
      end: 3,
      endsInPause: true,
    });
  });
});

describe('the first window from a short look at the VAD', () => {
  const regions = [
    { start: 1, end: 2.5 },
    { start: 2.9, end: 6 },
    { start: 6.5, end: 12 },
    { start: 12.6, end: 25 },
  ];

  it('is the window a full look would plan, from about 10 s of VAD instead of 35', async () => {
    const { src, asked } = recording(regions, 90);
    const w = await firstWindow(src, 0);
    expect(w).toEqual(nextWindow(0, 90, regions, true));
    expect(Math.max(...asked)).toBeLessThanOrEqual(11);
  });

  it('looks past leading silence, and gives up (null) on 30 s of unbroken speech', async () => {
    const late = regions.map((r) => ({ start: r.start + 100, end: r.end + 100 }));
    const a = recording(late, 300);
    expect(await firstWindow(a.src, 0)).toEqual(nextWindow(0, 300, late, true));
    expect(Math.max(...a.asked)).toBeLessThan(100 + 12 + 30);
    const b = recording([{ start: 0, end: 3600 }], 3600);
    expect(await firstWindow(b.src, 0)).toBeNull();
    expect(Math.max(...b.asked)).toBeLessThanOrEqual(35);
  });

  it('a pause still open at the covered end is not taken for one', async () => {
    // Speech 0–6.5 s, then (as far as a 7 s look hears) silence: the pause is not known to be one yet.
    const all = [
      { start: 0, end: 6.5 },
      { start: 11.5, end: 20 },
    ];
    const { src } = recording(all, 60);
    const w = await firstWindow(src, 0);
    expect(w).toEqual(nextWindow(0, 60, all, true));
    expect(w!.end).toBeCloseTo(6.5, 5);
  });
});

describe('VAD a window ahead', () => {
  it('an hour of unbroken speech is planned from its first 35 s', async () => {
    const { src, asked } = recording([{ start: 0, end: 3600 }], 3600);
    const r = await windowRegions(src, 0);
    expect(Math.max(...asked)).toBeLessThanOrEqual(35);
    expect(nextWindow(0, 3600, r)).toEqual({ start: 0, end: 30, endsInPause: false });
  });

  it('looks past a long silence to the next speech, and no further than a window beyond it', async () => {
    const all = [
      { start: 0, end: 5 },
      { start: 300, end: 320 },
      { start: 330, end: 400 },
    ];
    const { src, asked } = recording(all, 1000);
    const r = await windowRegions(src, 5.2);
    const covered = Math.max(...asked);
    expect(covered).toBeGreaterThanOrEqual(300 + 35);
    expect(covered).toBeLessThan(300 + 35 + 36);
    const w = nextWindow(5.2, 1000, r)!;
    // The same window as with every region known.
    expect(w).toEqual(nextWindow(5.2, 1000, all));
  });

  it('no speech left: reads to the end and plans nothing', async () => {
    const { src, asked } = recording([{ start: 0, end: 5 }], 200);
    const r = await windowRegions(src, 5.1);
    expect(Math.max(...asked)).toBe(200);
    expect(nextWindow(5.1, 200, r)).toBeNull();
  });
});

describe.skipIf(!existsSync(SILERO) || !HAVE_KOKORO)('Silero run on demand', () => {
  it('gives the same probabilities and regions as one pass over the file', async () => {
    const bytes = new Uint8Array(readFileSync(SILERO));
    // Three known sentences with pauses, at 16 kHz (Kokoro speech, cached like the other ASR tests).
    const parts: Float32Array[] = [silence(0.5, 16000)];
    for (const e of ENGLISH.slice(0, 3)) {
      const a = await kokoroSpeech(e.text, e.voice);
      parts.push(resample(a.samples, a.sampleRate, 16000), silence(0.8, 16000));
    }
    const x = concat(parts);
    const total = x.length / 16000;
    const full = await findSpeech(x, async () => bytes);
    const stream = new SpeechFinder(x, async () => bytes);
    const src = speechSource(stream);
    const a = await src.upTo(total / 2);
    expect(stream.done).toBe(Math.ceil(total / 2 / FRAME_SECONDS));
    expect(a.covered).toBeCloseTo(stream.done * FRAME_SECONDS, 6);
    await src.upTo(total * 0.7);
    const b = await src.upTo(total + 5);
    expect(b.covered).toBe(total);
    expect(Array.from(stream.probs)).toEqual(Array.from(full.probs));
    expect(b.regions).toEqual(full.regions);
    // Regions well before the covered end of a partial pass are already final.
    const early = a.regions.filter((r) => r.end < a.covered - 1);
    expect(early.length).toBeGreaterThan(0);
    expect(b.regions.slice(0, early.length)).toEqual(early);
  }, 600_000);
});

describe.skipIf(!existsSync(SILERO))('the speech finder and a tone', () => {
  it('does not take beeps Silero does not hear for speech (the energy detector joins only for speech)', async () => {
    const bytes = new Uint8Array(readFileSync(SILERO));
    // A 250 Hz beep of 60 ms every 0.5 s, ringing out over 0.3 s, as a microphone test tone sounds.
    const x = new Float32Array(6 * 16000);
    for (let t0 = 0.5; t0 < 6; t0 += 0.5)
      for (let i = 0; i < 0.36 * 16000; i++) {
        const t = i / 16000;
        const env = t < 0.06 ? 0.9 : 0.9 * Math.exp(-(t - 0.06) / 0.04);
        x[Math.round(t0 * 16000) + i] = env * Math.sin(2 * Math.PI * 250 * t);
      }
    const found = await findSpeech(x, async () => bytes);
    // Silero's own answer, and nothing the energy detector would add: the loud frames are a tone.
    const silero = await sileroProbabilities(x, async () => bytes);
    expect(found.method).toBe('silero-vad-v5');
    expect(found.regions).toEqual(speechRegions(silero, x.length / 16000));
    // Silero hears under half of the loud frames, so without the tone check the energy detector would join.
    const energy = await findSpeech(x, null);
    const seconds = (rs: { start: number; end: number }[]) => rs.reduce((n, r) => n + r.end - r.start, 0);
    expect(seconds(energy.regions)).toBeGreaterThan(2 * seconds(found.regions));
  }, 120_000);
});
