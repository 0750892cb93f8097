// The audio input path on real recordings (../shared/audio: 16 kHz FLAC, 44.1 kHz MP3 up to 91 s; not
// committed here, skipped saying so where absent) and on files made from them at test time in other
// containers, rates, channel counts and lengths: nothing comes back shorter than it went in, and trim,
// split, enhance and transcription judge real speech right. `npm run eval:inputs` runs the full matrix.
import * as ort from 'onnxruntime-web';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { existsSync, readFileSync } from 'node:fs';
import { decodeInput } from '../../src/lib/codec/decode';
import { GrowingAudio } from '../../src/lib/codec/stream';
import {
  findSpeech,
  sileroProbabilities,
  SpeechFinder,
  speechRegions,
  speechSource,
  VAD_RATE,
} from '../../src/lib/vad/vad';
import { concatAudio } from '../../src/lib/dsp/join';
import { Transcoder } from '../../src/lib/codec/transcoder';
import { installRuntime } from '../../src/lib/runtime/host';
import { cacheDeps, HAVE_SHARED, HAVE_TINY, MODELS } from './asr-helpers';
import { NodeCoreProvider } from './ffmpeg-node';
import { cellName, checkInput, makeCell, matrix, realFiles, type InputDeps } from './inputs';

vi.setConfig({ testTimeout: 600_000, hookTimeout: 600_000 });

const SILERO = `${MODELS}/silero-vad-v5/silero_vad_v5.onnx`;
const READY = HAVE_SHARED && HAVE_TINY && existsSync(SILERO);
if (!HAVE_SHARED)
  console.warn(
    'tests/unit/real-inputs.test.ts: ../shared/audio is absent; skipping the real-recording checks.',
  );

let deps: InputDeps;
/** The files of the report, checked in tests of their own. */
const SYMPTOMS = ['librispeech/1998-15444-0000.flac', 'demo_speaker1.mp3'];
const everyPass = (pass: object) => Object.fromEntries(Object.keys(pass).map((k) => [k, true]));
const files = realFiles() ?? [];
const file = (name: string) => files.find((f) => f.name === name)!.bytes;

beforeAll(() => {
  installRuntime({ loadOrt: async () => ort, isolated: true, cores: 2 });
  if (!READY) return;
  const transcoder = new Transcoder(new NodeCoreProvider());
  const vad = new Uint8Array(readFileSync(SILERO));
  deps = {
    transcoder: () => transcoder,
    vad: async () => vad,
    asr: cacheDeps(['whisper-tiny-q8', 'silero-vad-v5'], transcoder),
  };
});

describe.skipIf(!READY)('the symptoms of issue 18, on the real recordings', () => {
  it('a 16 kHz FLAC decoded in a worker is transcribed whole (it came back as 4.096 s)', async () => {
    const r = await checkInput(file('librispeech/1998-15444-0000.flac'), deps);
    expect(r.figures.ffmpeg_seconds).toBeCloseTo(13.31, 1);
    expect(r.figures.streamed_seconds).toBeCloseTo(r.figures.ffmpeg_seconds, 2);
    expect(r.figures.transcription!.duration).toBeCloseTo(r.figures.ffmpeg_seconds, 1);
    expect(r.figures.transcription!.last_segment_end).toBeGreaterThan(r.figures.speech_end - 2);
    expect(r.pass).toEqual(everyPass(r.pass));
  });

  it('the 91 s MP3 of continuous speech: trim keeps ≥ 95 %, split covers it, enhance gives a real SNR', async () => {
    const r = await checkInput(file('demo_speaker1.mp3'), deps);
    const f = r.figures;
    expect(f.decoded_seconds).toBeGreaterThan(90.5);
    expect(f.trim.kept_seconds).toBeGreaterThanOrEqual(0.95 * f.decoded_seconds);
    expect(f.split.seconds).toBeGreaterThanOrEqual(0.9 * f.decoded_seconds);
    expect(f.enhance.snr_before).toBeGreaterThan(0);
    expect(f.enhance.snr_before).toBeLessThan(80);
    expect(f.transcription!.duration).toBeCloseTo(f.decoded_seconds, 1);
    expect(r.pass).toEqual(everyPass(r.pass));
  });

  const others = files.map((f) => f.name).filter((n) => !SYMPTOMS.includes(n));
  it.each(others)('%s keeps every invariant', async (name) => {
    const r = await checkInput(file(name), deps);
    expect({ name, ...r.pass }).toEqual({ name, ...everyPass(r.pass) });
  });
});

describe.skipIf(!READY)('the speech finder on a recording Silero does not hear', () => {
  it('joins the energy detector where Silero is deaf, and decides alike whole or streamed in pieces', async () => {
    // 15 s Silero hears, then 30 s it hears almost none of (demo_speaker1), then 15 s again.
    const a = await decodeInput(file('librispeech/1688-142285-0000.flac'), deps.transcoder, {
      rate: VAD_RATE,
    });
    const b = await decodeInput(file('demo_speaker1.mp3'), deps.transcoder, { rate: VAD_RATE });
    const x = concatAudio([a.samples, b.samples.subarray(0, 30 * VAD_RATE), a.samples]);
    const whole = await findSpeech(x, deps.vad);
    expect(whole.method).toBe('silero-vad-v5+energy');
    const deaf = { start: a.samples.length / VAD_RATE, end: a.samples.length / VAD_RATE + 30 };
    const heard = whole.regions.reduce(
      (s, r) => s + Math.max(0, Math.min(r.end, deaf.end) - Math.max(r.start, deaf.start)),
      0,
    );
    expect(heard).toBeGreaterThan(0.9 * 30);
    const silero = await sileroProbabilities(x, deps.vad!);
    const sileroHeard = speechRegions(silero, x.length / VAD_RATE).reduce(
      (s, r) => s + Math.max(0, Math.min(r.end, deaf.end) - Math.max(r.start, deaf.start)),
      0,
    );
    // Silero alone misses much of it.
    expect(heard - sileroHeard).toBeGreaterThan(5);
    // The same audio arriving in odd pieces, asked for in odd steps.
    const growing = new GrowingAudio(null);
    const finder = new SpeechFinder(growing, deps.vad);
    const src = speechSource(finder);
    const feed = (async () => {
      for (let i = 0; i < x.length; i += 37_013) {
        growing.push(x.slice(i, Math.min(x.length, i + 37_013)));
        await new Promise((r) => setTimeout(r, 0));
      }
      growing.end();
    })();
    for (const t of [3.3, 17.9, 31, 44.4, 61]) await src.upTo(t);
    await feed;
    const last = await src.upTo(x.length / VAD_RATE + 1);
    expect(Array.from(finder.probs)).toEqual(Array.from(whole.probs));
    expect(last.regions).toEqual(whole.regions);
  });
});

describe.skipIf(!READY)('files made from them in other containers, rates, channel counts and lengths', () => {
  const sources: { samples: Float32Array; rate: number }[] = [];
  beforeAll(async () => {
    for (const name of ['librispeech/1688-142285-0000.flac', 'demo_speaker0.mp3']) {
      const d = await decodeInput(file(name), deps.transcoder);
      sources.push({ samples: d.samples, rate: d.sampleRate });
    }
  });

  it.each(matrix({ quick: true, lengths: [1, 7, 19, 45] }).map((c) => [cellName(c), c] as const))(
    '%s decodes to its full length and keeps every invariant',
    async (_name, cell) => {
      const made = await makeCell(cell, sources, deps.transcoder());
      const r = await checkInput(made.bytes, deps, made.inSeconds);
      expect(r.figures.channels).toBe(cell.channels);
      expect(r.figures.decoded_seconds).toBeCloseTo(made.inSeconds, 0);
      expect(r.pass).toEqual(everyPass(r.pass));
    },
  );
});
