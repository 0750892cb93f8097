// What a reference holds besides one clean voice: music under it (a steady beat or held notes) and a second
// speaker (acoustic diarization of its speech). Real Kokoro speech (cached), Silero VAD regions, music
// synthesised here (chords + a drum pattern); then the same warnings through clone.extract on the fixture.
import { readFile } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as ort from 'onnxruntime-web';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { resample } from '../../src/lib/dsp/resample';
import { sileroProbabilities, speechRegions } from '../../src/lib/vad/vad';
import type { CloneDeps } from '../../src/lib/clone/deps';
import { resetClone } from '../../src/lib/clone/converter';
import { runCloneInstall } from '../../src/lib/clone/install';
import { runCloneExtract } from '../../src/lib/clone/extract';
import {
  measureMusic,
  measureSpeakers,
  MUSIC_LIMITS,
  qualityChecks,
  speechOnly,
} from '../../src/lib/clone/reference';
import type { CloneChecks } from '../../src/lib/clone/contract';
import { MemoryModelStore } from '../../src/lib/models/store';
import type { InstalledModel } from '../../src/lib/storage/records';
import { installRuntime } from '../../src/lib/runtime/host';
import { concat, HAVE_KOKORO, kokoroSpeech, MODELS, silence } from './asr-helpers';
import { chords, drums, majorProgression, mix, noise, SR } from './music-clips';

vi.setConfig({ testTimeout: 900_000, hookTimeout: 900_000 });

const HEART = [
  'The museum opens at nine in the morning and closes late on Fridays.',
  'She bought fresh bread, a bottle of milk and some green apples.',
  'He forgot his umbrella and walked home in the pouring rain.',
];
const MICHAEL = [
  'Please remember to water the plants while I am away next week.',
  'The children laughed when the dog chased its own tail.',
];

/** Sentences of one Kokoro voice at 16 kHz with short pauses. */
async function say(voice: string, texts: string[]): Promise<Float32Array> {
  const parts: Float32Array[] = [silence(0.4, SR)];
  for (const t of texts) {
    const k = await kokoroSpeech(t, voice);
    parts.push(resample(k.samples, k.sampleRate, SR), silence(0.6, SR));
  }
  return concat(parts);
}

/** A I–vi–IV–V chord progression with kick and hats at 100 BPM, scaled by `gain`. */
const music = (length: number, gain: number) =>
  mix(chords(majorProgression(60), 100, length / SR), drums(100, length / SR)).map((v) => v * gain);

const vad = new Uint8Array(readFileSync(`${MODELS}/silero-vad-v5/silero_vad_v5.onnx`));

/** The checks clone.extract makes, on 16 kHz audio with Silero regions. */
async function checksOf(x: Float32Array): Promise<CloneChecks> {
  const regions = speechRegions(await sileroProbabilities(x, async () => vad), x.length / SR);
  const speakers = await measureSpeakers(x, regions);
  return qualityChecks([{ samples: x, speech: speechOnly(x, SR, regions) }], SR, 1, {
    music: [measureMusic(x, SR)],
    speakers: [speakers],
  });
}
const codes = (c: CloneChecks) => c.warnings.map((w) => w.code);

let heart: Float32Array;
let michael: Float32Array;

beforeAll(async () => {
  installRuntime({ loadOrt: async () => ort, isolated: true, cores: 2 });
  if (!HAVE_KOKORO) return;
  heart = await say('af_heart', HEART);
  michael = await say('am_michael', MICHAEL);
});

describe.skipIf(!HAVE_KOKORO)('music and a second speaker in a reference', () => {
  it('one Kokoro voice: one speaker, no beat, no held notes, no warning about either', async () => {
    for (const x of [heart, michael]) {
      const c = await checksOf(x);
      expect(codes(c)).not.toContain('music');
      expect(codes(c)).not.toContain('multiple_speakers');
      expect(c.speakers).toEqual([{ speakers: 1, shares: [1] }]);
      expect(c.music![0]!.beat_strength).toBeLessThan(MUSIC_LIMITS.beatStrength);
      expect(c.music![0]!.sustained_tone_fraction).toBeLessThan(MUSIC_LIMITS.sustainedTones);
    }
  });

  it('af_heart then am_michael: the multiple-speaker warning names both shares of the speech', async () => {
    const c = await checksOf(concat([heart, michael]));
    expect(codes(c)).toContain('multiple_speakers');
    expect(codes(c)).not.toContain('music');
    const s = c.speakers![0]!;
    expect(s.speakers).toBe(2);
    // Their shares follow the seconds each one speaks (VAD speech of each half over the whole).
    const own = async (x: Float32Array) =>
      speechRegions(await sileroProbabilities(x, async () => vad), x.length / SR).reduce(
        (t, r) => t + r.end - r.start,
        0,
      );
    const [a, b] = [await own(heart), await own(michael)];
    expect(s.shares[0]).toBeCloseTo(a / (a + b), 1);
    expect(s.shares[1]).toBeCloseTo(b / (a + b), 1);
    const w = c.warnings.find((x) => x.code === 'multiple_speakers')!;
    expect(w.message).toContain(`${Math.round(s.shares[0]! * 100)} %`);
    expect(w.message).toContain(`${Math.round(s.shares[1]! * 100)} %`);
  });

  it('speech over chords and drums: the music warning, with the beat found at 100 BPM', async () => {
    for (const gain of [0.3, 1]) {
      const c = await checksOf(mix(heart, music(heart.length, gain)));
      expect(codes(c), `music at ×${gain}`).toContain('music');
      expect(c.music![0]!.bpm).toBeCloseTo(100, 0);
      expect(codes(c)).not.toContain('multiple_speakers');
    }
    // Held chords alone (no drums) are found by their sustained tones.
    const held = await checksOf(mix(heart, chords(majorProgression(60), 100, heart.length / SR)));
    expect(held.music![0]!.sustained_tone_fraction).toBeGreaterThanOrEqual(MUSIC_LIMITS.sustainedTones);
    expect(codes(held)).toContain('music');
  });

  it('steady broadband noise is noise, not music', async () => {
    const r = noise(3);
    const c = await checksOf(heart.map((v) => v + 0.03 * r()));
    expect(codes(c)).not.toContain('music');
  });
});

describe.skipIf(!HAVE_KOKORO)('through clone.extract on the fixture converter', () => {
  const dir = join(import.meta.dirname, '..', 'fixtures', 'openvoice-v2-tiny');
  let d: CloneDeps;
  const records = new Map<string, InstalledModel>();
  beforeAll(async () => {
    await resetClone();
    d = {
      registry: { get: async (id) => records.get(id), put: async (r) => void records.set(r.id, r) },
      store: new MemoryModelStore(),
      ort,
      vadModel: async () => async () => vad,
    };
    await runCloneInstall(
      {
        source: {
          kind: 'files',
          config: new Uint8Array(await readFile(join(dir, 'config.json'))),
          checkpoint: new Uint8Array(await readFile(join(dir, 'checkpoint.pth'))),
        },
      },
      {},
      d,
    );
  });

  it('two voices in one recording come back with the warning and the speakers measured', async () => {
    const two = await runCloneExtract(
      { audio: [{ samples: concat([heart, michael]), sampleRate: SR }] },
      {},
      d,
    );
    expect(two.warnings.map((w) => w.code)).toContain('multiple_speakers');
    expect(two.checks.speakers![0]!.speakers).toBe(2);
    const one = await runCloneExtract({ audio: [{ samples: heart, sampleRate: SR }] }, {}, d);
    expect(one.warnings.map((w) => w.code)).not.toContain('multiple_speakers');
    expect(one.warnings.map((w) => w.code)).not.toContain('music');
    expect(one.checks.speakers).toEqual([{ speakers: 1, shares: [1] }]);
  });

  it('a converter deleted since it was loaded is not used any more (its sessions go too)', async () => {
    records.clear();
    await expect(
      runCloneExtract({ audio: [{ samples: heart, sampleRate: SR }] }, {}, d),
    ).rejects.toMatchObject({ name: 'ModelNotInstalledError' });
  });
});
