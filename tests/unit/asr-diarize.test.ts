// Speaker diarization: clustering on synthetic vectors, the acoustic path on conversations of the
// project's Kokoro voices (Silero VAD regions, real speech), the tone-colour path with the tiny OpenVoice
// fixture (random weights: shapes and reporting only), and /v1/stt diarize=true through the real router.
import 'fake-indexeddb/auto';
import { readFile } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as ort from 'onnxruntime-web';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { createApiContext, type ApiContext } from '../../src/lib/api/context';
import { createRouter } from '../../src/lib/api/routes';
import {
  acousticEmbedder,
  clusterVectors,
  cutPieces,
  diarize,
  labelSegments,
  toneColourEmbedder,
  type DiarizationResult,
  type SpeakerTurn,
} from '../../src/lib/asr/diarize';
import { runAsrTranscribe } from '../../src/lib/asr/operation';
import { type AsrTranscribeArgs } from '../../src/lib/asr/contract';
import { formatTranscript } from '../../src/lib/documents/transcript-formats';
import type { Segment } from '../../src/lib/documents/transcript';
import { resample } from '../../src/lib/dsp/resample';
import { sileroProbabilities, speechRegions, type SpeechRegion } from '../../src/lib/vad/vad';
import type { CloneDeps } from '../../src/lib/clone/deps';
import { resetClone, toneColourExtractor } from '../../src/lib/clone/converter';
import type { RunOptions } from '../../src/lib/core/run';
import { MemoryModelStore } from '../../src/lib/models/store';
import type { InstalledModel } from '../../src/lib/storage/records';
import { installRuntime } from '../../src/lib/runtime/host';
import { encodeWav } from '../../src/lib/dsp/wav';
import { cacheDeps, concat, HAVE_KOKORO, HAVE_TINY, kokoroSpeech, MODELS, silence } from './asr-helpers';
import { ENGLISH } from './asr-corpus';
import { FACTS, setup } from './helpers';
import { caller, errorOf, HIGH_LIMITS, mulberry32, okJson, toBase64 } from './test-utils';

vi.setConfig({ testTimeout: 900_000, hookTimeout: 900_000 });

const SR = 16000;
const GAP = 0.7;
const sentences = (voice: string) => ENGLISH.filter((e) => e.voice === voice).map((e) => e.text);

interface Conversation {
  samples: Float32Array;
  /** Where each voice's turn is (seconds) and who speaks. */
  truth: { start: number; end: number; voice: string }[];
}

/** Turns of Kokoro speech at 16 kHz joined by `gap` seconds of silence. */
async function conversation(turns: { voice: string; text: string }[], gap = GAP): Promise<Conversation> {
  const parts: Float32Array[] = [silence(0.5, SR)];
  const truth: Conversation['truth'] = [];
  let at = 0.5;
  for (const t of turns) {
    const k = await kokoroSpeech(t.text, t.voice);
    const x = resample(k.samples, k.sampleRate, SR);
    truth.push({ start: at, end: at + x.length / SR, voice: t.voice });
    parts.push(x, silence(gap, SR));
    at += x.length / SR + gap;
  }
  return { samples: concat(parts), truth };
}

async function regionsOf(x: Float32Array): Promise<SpeechRegion[]> {
  const bytes = new Uint8Array(readFileSync(`${MODELS}/silero-vad-v5/silero_vad_v5.onnx`));
  return speechRegions(await sileroProbabilities(x, async () => bytes), x.length / SR);
}

/** The label covering most of [start, end] in the turns. */
function labelOver(turns: readonly SpeakerTurn[], start: number, end: number): string {
  const cover = new Map<string, number>();
  for (const t of turns) {
    const o = Math.min(end, t.end) - Math.max(start, t.start);
    if (o > 0) cover.set(t.speaker, (cover.get(t.speaker) ?? 0) + o);
  }
  return [...cover].sort((a, b) => b[1] - a[1])[0]?.[0] ?? 'none';
}

/** Checks a diarization against the truth: labels per voice, one voice per label, first-appearance order. */
function expectMatches(d: DiarizationResult, c: Conversation) {
  const voices = [...new Set(c.truth.map((t) => t.voice))];
  expect(d.speakers).toBe(voices.length);
  const labelOf = new Map<string, string>();
  for (const t of c.truth) {
    const l = labelOver(d.turns, t.start, t.end);
    if (!labelOf.has(t.voice)) labelOf.set(t.voice, l);
    // The same voice keeps its label throughout.
    expect(l, `${t.voice} at ${t.start.toFixed(1)} s`).toBe(labelOf.get(t.voice));
  }
  // Different voices, different labels, named in order of first appearance.
  expect(new Set(labelOf.values()).size).toBe(voices.length);
  expect(voices.map((v) => labelOf.get(v))).toEqual(voices.map((_, i) => `SPEAKER_0${i}`));
  // Turns change where the voice changes (the middle of the pause), within half a second.
  const changes = c.truth
    .slice(1)
    .map((t, i) => ({ at: (c.truth[i]!.end + t.start) / 2, same: t.voice === c.truth[i]!.voice }));
  const found = d.turns.slice(1).map((t, i) => (d.turns[i]!.end + t.start) / 2);
  expect(found.length).toBe(changes.filter((ch) => !ch.same).length);
  for (const ch of changes.filter((x) => !x.same))
    expect(Math.min(...found.map((f) => Math.abs(f - ch.at)))).toBeLessThan(0.5);
  // Turns are ordered and do not overlap.
  for (let i = 1; i < d.turns.length; i++)
    expect(d.turns[i]!.start).toBeGreaterThanOrEqual(d.turns[i - 1]!.end);
}

beforeAll(() => {
  installRuntime({ loadOrt: async () => ort, isolated: true, cores: 2 });
});

describe('clustering', () => {
  /** `n` noisy copies around each of the centres, interleaved A B C A B C … */
  function groups(centres: number[][], n: number, noise: number, seed = 7) {
    const rnd = mulberry32(seed);
    const gauss = () => Math.sqrt(-2 * Math.log(rnd() + 1e-12)) * Math.cos(2 * Math.PI * rnd());
    const out: { v: Float32Array; who: number }[] = [];
    for (let i = 0; i < n; i++)
      centres.forEach((c, who) => out.push({ v: Float32Array.from(c, (x) => x + noise * gauss()), who }));
    return out;
  }
  const centres = [
    [1, 0, 0, 0, 0.2],
    [0, 1, 0, 0, 0.2],
    [0, 0, 1, 0.3, 0],
  ];

  it('finds the groups by cosine distance and numbers them in order of first appearance', () => {
    const g = groups(centres, 6, 0.08);
    const labels = clusterVectors(
      g.map((x) => x.v),
      { threshold: 0.5 },
    );
    // Interleaved A B C …: the labels are exactly the group indices.
    expect(labels).toEqual(g.map((x) => x.who));
    // A group scaled up is still the same direction: cosine, not Euclidean.
    const scaled = g.map((x, i) => (i % 2 ? x.v.map((y) => y * 10) : x.v));
    expect(clusterVectors(scaled, { threshold: 0.5 })).toEqual(g.map((x) => x.who));
  });

  it('stops at the threshold; num_speakers and max_speakers hints override it', () => {
    const g = groups(centres, 5, 0.08).map((x) => x.v);
    expect(new Set(clusterVectors(g, { threshold: 1.5 })).size).toBe(1);
    expect(new Set(clusterVectors(g, { threshold: 0.001 })).size).toBeGreaterThan(3);
    expect(new Set(clusterVectors(g, { threshold: 0.5, speakers: 2 })).size).toBe(2);
    expect(new Set(clusterVectors(g, { threshold: 0.001, speakers: 3 })).size).toBe(3);
    expect(new Set(clusterVectors(g, { threshold: 0.5, maxSpeakers: 2 })).size).toBe(2);
    expect(new Set(clusterVectors(g, { threshold: 0.5, maxSpeakers: 5 })).size).toBe(3);
    expect(clusterVectors([], { threshold: 0.5 })).toEqual([]);
  });

  it('cuts long regions into ~2 s pieces and keeps short ones whole', () => {
    const p = cutPieces([
      { start: 0, end: 0.6 },
      { start: 1, end: 9 },
    ]);
    expect(p[0]).toEqual({ start: 0, end: 0.6 });
    expect(p.length).toBe(5);
    for (const x of p.slice(1)) expect(x.end - x.start).toBeCloseTo(2, 5);
    expect(p[p.length - 1]!.end).toBe(9);
  });

  it('labels each segment and word with the speaker covering most of it', () => {
    const turns: SpeakerTurn[] = [
      { start: 0, end: 4, speaker: 'SPEAKER_00' },
      { start: 4.5, end: 9, speaker: 'SPEAKER_01' },
    ];
    const segs = labelSegments(
      [
        { start: 0.2, end: 3.9, words: [{ start: 0.2, end: 0.5 }] },
        {
          start: 3,
          end: 8,
          words: [
            { start: 3, end: 3.4 },
            { start: 7, end: 7.5 },
          ],
        },
        { start: 9.5, end: 10 },
      ] as {
        start: number;
        end: number;
        speaker?: string;
        words?: { start: number; end: number; speaker?: string }[];
      }[],
      turns,
    );
    expect(segs.map((s) => s.speaker)).toEqual(['SPEAKER_00', 'SPEAKER_01', 'SPEAKER_01']);
    expect(segs[1]!.words!.map((w) => w.speaker)).toEqual(['SPEAKER_00', 'SPEAKER_01']);
  });
});

describe('formats', () => {
  it('verbose_json carries the speaker of a diarized segment, and no speaker field otherwise', () => {
    const seg = (speaker?: string): Segment => ({
      id: 0,
      start: 0,
      end: 1,
      text: 'hi',
      tokens: [],
      temperature: 0,
      avg_logprob: 0,
      compression_ratio: 1,
      no_speech_prob: 0,
      ...(speaker ? { speaker } : {}),
    });
    const t = (s: Segment) => ({ text: 'hi', language: 'en', duration: 1, segments: [s] });
    const v = JSON.parse(formatTranscript(t(seg('SPEAKER_01')), 'verbose_json', 'transcribe').body) as {
      segments: Record<string, unknown>[];
    };
    expect(v.segments[0]!.speaker).toBe('SPEAKER_01');
    const plain = JSON.parse(formatTranscript(t(seg()), 'verbose_json', 'transcribe').body) as {
      segments: Record<string, unknown>[];
    };
    expect('speaker' in plain.segments[0]!).toBe(false);
  });
});

describe.skipIf(!HAVE_KOKORO)('acoustic diarization of Kokoro conversations', () => {
  const heart = sentences('af_heart');
  const george = sentences('bm_george');
  const michael = sentences('am_michael');

  it('two voices taking turns A B A B: two speakers, changes at the turns, one label per voice', async () => {
    const c = await conversation([
      { voice: 'af_heart', text: heart[0]! },
      { voice: 'bm_george', text: george[0]! },
      { voice: 'af_heart', text: heart[1]! },
      { voice: 'bm_george', text: george[1]! },
    ]);
    const d = await diarize(c.samples, await regionsOf(c.samples), acousticEmbedder());
    expect(d.method).toBe('acoustic');
    expect(d.description).toMatch(/MFCC/);
    expect(d.turns.length).toBe(4);
    expectMatches(d, c);
    // Hints: exactly one speaker asked for gives one.
    const one = await diarize(c.samples, await regionsOf(c.samples), acousticEmbedder(), { speakers: 1 });
    expect(one.speakers).toBe(1);
    expect(one.description).toMatch(/1 speakers asked for/);
  });

  it('three voices (two of them men): three speakers', async () => {
    const c = await conversation([
      { voice: 'bm_george', text: george[2]! },
      { voice: 'af_heart', text: heart[2]! },
      { voice: 'am_michael', text: michael[0]! },
      { voice: 'bm_george', text: george[0]! },
      { voice: 'am_michael', text: michael[1]! },
      { voice: 'af_heart', text: heart[0]! },
    ]);
    const d = await diarize(c.samples, await regionsOf(c.samples), acousticEmbedder());
    expectMatches(d, c);
  });

  it('one voice throughout: one speaker', async () => {
    for (const voice of ['af_heart', 'bm_george']) {
      const c = await conversation(sentences(voice).map((text) => ({ voice, text })));
      const d = await diarize(c.samples, await regionsOf(c.samples), acousticEmbedder());
      expect(d.speakers, voice).toBe(1);
      expect(d.turns.every((t) => t.speaker === 'SPEAKER_00')).toBe(true);
    }
  });

  it('finds a change of voice inside one speech region (no pause between the turns)', async () => {
    const c = await conversation(
      [
        { voice: 'af_heart', text: heart[1]! },
        { voice: 'bm_george', text: george[1]! },
      ],
      0.05,
    );
    const regions = await regionsOf(c.samples);
    // One region spans the change …
    const at = c.truth[0]!.end;
    expect(regions.some((r) => r.start < at - 1 && r.end > at + 1)).toBe(true);
    const d = await diarize(c.samples, regions, acousticEmbedder());
    expect(d.speakers).toBe(2);
    expect(d.turns.length).toBe(2);
    // … and the change is found at a piece boundary (pieces are ~2 s long, so within about one second).
    expect(Math.abs(d.turns[0]!.end - at)).toBeLessThan(1.1);
  });
});

describe('tone-colour diarization (tiny OpenVoice fixture, random weights)', () => {
  const dir = join(import.meta.dirname, '..', 'fixtures', 'openvoice-v2-tiny');

  async function installedFixture(): Promise<CloneDeps> {
    await resetClone();
    const store = new MemoryModelStore();
    const records = new Map<string, InstalledModel>();
    const id = 'openvoice-v2-converter';
    const files = [];
    for (const [path, name] of [
      ['converter/config.json', 'config.json'],
      ['converter/checkpoint.pth', 'checkpoint.pth'],
    ] as const) {
      const b = new Uint8Array(await readFile(join(dir, name)));
      await store.append(id, path, b, 0);
      await store.commit(id, path);
      files.push({ path, bytes: b.byteLength, sha256: '', verified_at: 0, pinned: false });
    }
    records.set(id, { id, files, installed_at: 0, origin: 'download' });
    return {
      registry: { get: async (k) => records.get(k), put: async (r) => void records.set(r.id, r) },
      store,
      ort,
      vadModel: async () => null,
    };
  }

  it('no converter: no extractor (the acoustic path is used)', async () => {
    await resetClone();
    const none: CloneDeps = {
      registry: { get: async () => undefined, put: async () => undefined },
      store: new MemoryModelStore(),
      ort,
    };
    expect(await toneColourExtractor(none)).toBeNull();
  });

  it.skipIf(!HAVE_KOKORO)('embeds each piece with the extractor and reports the method', async () => {
    const x = await toneColourExtractor(await installedFixture());
    expect(x).not.toBeNull();
    expect(x!.sampleRate).toBe(22050);
    const calls: number[] = [];
    const counting = { ...x!, embed: async (s: Float32Array) => (calls.push(s.length), x!.embed(s)) };
    const c = await conversation([
      { voice: 'af_heart', text: sentences('af_heart')[0]! },
      { voice: 'bm_george', text: sentences('bm_george')[0]! },
    ]);
    const regions = await regionsOf(c.samples);
    const d = await diarize(c.samples, regions, toneColourEmbedder(counting));
    expect(d.method).toBe('tone-colour');
    expect(d.description).toMatch(/tone-colour embedding \(256 values/);
    // One embedding per piece, of the piece resampled to 22.05 kHz.
    const pieces = cutPieces(regions).filter((p) => p.end - p.start >= 0.8);
    expect(calls.length).toBe(pieces.length);
    calls.forEach((n, i) =>
      expect(Math.abs(n - (pieces[i]!.end - pieces[i]!.start) * 22050)).toBeLessThan(22050 * 0.01),
    );
    expect(d.speakers).toBeGreaterThanOrEqual(1);
    expect(d.speakers).toBeLessThanOrEqual(pieces.length);
    for (const t of d.turns) expect(t.speaker).toMatch(/^SPEAKER_\d\d$/);
    expect(d.turns[0]!.speaker).toBe('SPEAKER_00');
    await resetClone();
  });
});

describe.skipIf(!HAVE_TINY || !HAVE_KOKORO)('through the engine operation and the router', () => {
  const deps = cacheDeps(['whisper-tiny-q8', 'silero-vad-v5']);
  let wav: Uint8Array;
  let c: Conversation;

  beforeAll(async () => {
    c = await conversation([
      { voice: 'af_heart', text: sentences('af_heart')[0]! },
      { voice: 'bm_george', text: sentences('bm_george')[0]! },
      { voice: 'af_heart', text: sentences('af_heart')[1]! },
    ]);
    wav = encodeWav(c.samples, SR, 's16');
  });

  async function env() {
    const base = await setup();
    const engine: ApiContext['engine'] = {
      hostCount: async () => 1,
      run: (async (op: string, args: unknown, o: RunOptions = {}) => {
        if (op !== 'asr.transcribe') throw new Error(`unexpected op ${op}`);
        return runAsrTranscribe(args as AsrTranscribeArgs, o, deps);
      }) as ApiContext['engine']['run'],
    };
    const ctx = createApiContext({ db: base.db, engine, system: async () => FACTS, version: 'test' });
    const call = caller(createRouter(), ctx);
    const key = (await ctx.keys.create({ name: 'k', limits: HIGH_LIMITS, now: Date.now() })).secret;
    const post = (fields: Record<string, string>, path = '/v1/stt') => {
      const form = new FormData();
      form.set('file', new Blob([wav as Uint8Array<ArrayBuffer>], { type: 'audio/wav' }), 'talk.wav');
      for (const [k, v] of Object.entries(fields)) form.append(k, v);
      return call('POST', path, { key, raw: form, bearer: true });
    };
    return { post, call, key };
  }

  /** Each segment's speaker is the voice that spoke most of it: af_heart first, so SPEAKER_00. */
  function expectTruth(segments: { start: number; end: number; text: string; speaker?: string | null }[]) {
    expect(segments.length).toBeGreaterThanOrEqual(3);
    for (const s of segments) {
      const truth = c.truth.find((t) => Math.min(s.end, t.end) - Math.max(s.start, t.start) > 0)!;
      expect(s.speaker, s.text).toBe(truth.voice === 'af_heart' ? 'SPEAKER_00' : 'SPEAKER_01');
    }
  }

  it('/api/transcribe (base64 JSON) and /v1/audio/transcriptions (verbose_json) diarize too', async () => {
    const e = await env();
    const studio = await okJson<{
      segments: { start: number; end: number; text: string; speaker: string }[];
      diarization: DiarizationResult;
    }>(
      await e.call('POST', '/api/transcribe', { key: e.key, body: { audio: toBase64(wav), diarize: true } }),
    );
    expect(studio.diarization.speakers).toBe(2);
    expectTruth(studio.segments);
    const openai = await okJson<{
      segments: { start: number; end: number; text: string; speaker?: string }[];
    }>(await e.post({ response_format: 'verbose_json', diarize: 'true' }, '/v1/audio/transcriptions'));
    expectTruth(openai.segments);
    // OpenAI's diarizing model name asks for the speakers without diarize.
    const named = await okJson<{
      segments: { start: number; end: number; text: string; speaker?: string }[];
    }>(
      await e.post(
        { response_format: 'verbose_json', model: 'gpt-4o-transcribe-diarize' },
        '/v1/audio/transcriptions',
      ),
    );
    expectTruth(named.segments);
    // Without diarize no speaker field is invented.
    const plain = await okJson<{ segments: { speaker?: string }[] }>(
      await e.post({ response_format: 'verbose_json' }, '/v1/audio/transcriptions'),
    );
    expect(plain.segments.every((x) => x.speaker === undefined)).toBe(true);
  });

  it('/v1/stt diarize=true: each segment carries its speaker; diarization says how', async () => {
    const e = await env();
    const r = await e.post({ diarize: 'true', timestamps: 'true' });
    const b = await okJson<{
      segments: {
        start: number;
        end: number;
        text: string;
        speaker: string;
        words: { speaker?: string }[];
      }[];
      diarization: DiarizationResult;
    }>(r);
    expect(b.diarization.method).toBe('acoustic');
    expect(b.diarization.speakers).toBe(2);
    expect(b.diarization.description).toMatch(/cosine/);
    expect(b.segments.length).toBeGreaterThanOrEqual(3);
    for (const s of b.segments) {
      const truth = c.truth.find((t) => Math.min(s.end, t.end) - Math.max(s.start, t.start) > 0)!;
      expect(s.speaker, s.text).toBe(truth.voice === 'af_heart' ? 'SPEAKER_00' : 'SPEAKER_01');
      for (const w of s.words) expect(w.speaker).toMatch(/^SPEAKER_0[01]$/);
    }
    // A hint is taken; a bad one, or one without diarize, is refused before decoding.
    const one = await okJson<{ diarization: DiarizationResult }>(
      await e.post({ diarize: 'true', num_speakers: '1' }),
    );
    expect(one.diarization.speakers).toBe(1);
    expect((await errorOf(await e.post({ diarize: 'true', num_speakers: 'two' }), 400)).field).toBe(
      'num_speakers',
    );
    expect((await errorOf(await e.post({ num_speakers: '2' }), 400)).message).toMatch(/diarize/);
  });

  it('asr.transcribe uses the tone-colour extractor when one is given', async () => {
    const fake = {
      sampleRate: 22050,
      dimension: 4,
      embed: async (s: Float32Array) => Float32Array.of(1, s.length % 7, 0, 1),
    };
    const r = await runAsrTranscribe(
      { audio: wav, diarize: true },
      {},
      { ...deps, toneColour: async () => fake },
    );
    expect(r.diarization!.method).toBe('tone-colour');
    expect(r.segments.every((s) => /^SPEAKER_\d\d$/.test(s.speaker ?? ''))).toBe(true);
  });
});
