// Acoustic diarization on real speech: conversations of LibriSpeech readers from ../shared/audio (not
// committed here; skipped, saying so, where that folder is absent) with known turns (tests/unit/
// diarize-eval.ts), scored on the HELD-OUT readers only, which chose none of the embedder's constants.
// `npm run eval:diarize` prints the same figures (and the calibration conversations') in full.
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import * as ort from 'onnxruntime-web';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { acousticEmbedder, type SpeakerTurn } from '../../src/lib/asr/diarize';
import { installRuntime } from '../../src/lib/runtime/host';
import { MODELS } from './asr-helpers';
import {
  diarizationError,
  HELD_OUT,
  HELD_OUT_MIXES,
  loadUtterances,
  mixesOf,
  scoreMix,
  summarise,
  vadRegions,
  type MixScore,
} from './diarize-eval';

vi.setConfig({ testTimeout: 300_000, hookTimeout: 300_000 });

const dir = new URL('../../../shared/audio/librispeech/', import.meta.url);
const present = existsSync(dir) && existsSync(`${MODELS}/silero-vad-v5/silero_vad_v5.onnx`);
if (!present)
  console.warn(
    'tests/unit/asr-diarize-real.test.ts: ../shared/audio/librispeech (or the Silero model) is absent; skipping diarization of real speech.',
  );

const turn = (start: number, end: number, speaker: string): SpeakerTurn => ({ start, end, speaker });

describe('diarization error rate', () => {
  const ref = [turn(0, 4, 'a'), turn(5, 9, 'b'), turn(10, 12, 'a')];

  it('is 0 for the reference under other names, and maps speakers one-to-one for the least error', () => {
    const renamed = ref.map((t) => ({ ...t, speaker: t.speaker === 'a' ? 'X' : 'Y' }));
    expect(diarizationError(ref, renamed, 0).der).toBe(0);
    // Everything one speaker: b's 4 s are confusion (one hypothesis speaker can map to one reference one).
    const one = diarizationError(ref, [turn(0, 12, 'X')], 0);
    expect(one.confusion).toBeCloseTo(4, 5);
    expect(one.false_alarm).toBeCloseTo(2, 5); // the two pauses
    expect(one.der).toBeCloseTo(6 / 10, 5);
  });

  it('counts missed speech and false alarms; the collar leaves the turn edges unscored', () => {
    const late = diarizationError(ref, [turn(1, 4, 'a'), turn(5, 9, 'b'), turn(10, 12.5, 'a')], 0);
    expect(late.missed).toBeCloseTo(1, 5);
    expect(late.false_alarm).toBeCloseTo(0.5, 5);
    expect(late.der).toBeCloseTo(1.5 / 10, 5);
    // 0.2 s late everywhere is inside a 0.25 s collar: no error.
    const shifted = ref.map((t) => turn(t.start + 0.2, t.end + 0.2, t.speaker));
    expect(diarizationError(ref, shifted, 0.25).der).toBe(0);
    expect(diarizationError(ref, shifted, 0).der).toBeGreaterThan(0);
  });
});

describe.skipIf(!present)('acoustic diarization of held-out LibriSpeech conversations', () => {
  const scores: MixScore[] = [];

  beforeAll(async () => {
    installRuntime({ loadOrt: async () => ort, isolated: true, cores: 2 });
    const model = new Uint8Array(readFileSync(`${MODELS}/silero-vad-v5/silero_vad_v5.onnx`));
    const utts = await loadUtterances(fileURLToPath(dir));
    const e = acousticEmbedder();
    for (const m of mixesOf(utts, HELD_OUT, HELD_OUT_MIXES))
      scores.push(await scoreMix(m, await vadRegions(m.samples, model), e));
  });

  it('22 conversations of 2, 3 and 4 held-out readers, each reader heard 2–3 times', () => {
    expect(scores.length).toBe(22);
    expect(new Set(scores.map((s) => s.reference_speakers))).toEqual(new Set([2, 3, 4]));
  });

  // What the calibrated embedder reaches (measured 15 of 22 counts right, mean DER 11 %); the constants
  // before calibration counted 10 of 22 right with a mean DER of 15.8 %.
  it('counts the speakers right in at least 60 % of them, mean DER (0.25 s collar) at most 12 %', () => {
    const s = summarise(scores);
    console.info(`held-out: ${JSON.stringify(s)}`);
    expect(s.count_accuracy).toBeGreaterThanOrEqual(0.6);
    expect(s.mean_der).toBeLessThanOrEqual(0.12);
  });

  // Issue #18's goal (right count in ≥ 90 %, DER ≤ 15 % in every conversation) is not reached by this
  // embedder and is not asserted: the two shortest held-out readers (2.9 and 2.6 s of speech, so ~1.3 s
  // pieces) are split or merged. Tried against it, chosen on calibration speakers only (see the comment on
  // ACOUSTIC_THRESHOLD in src/lib/asr/diarize.ts): Whisper encoder states, other acoustic features, a
  // silhouette-chosen count and merging short clusters; none did better on the calibration conversations
  // cross-validated, nor on these.
});
