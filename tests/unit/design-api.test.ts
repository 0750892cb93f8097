// POST /api/design/create and POST /api/generate/design over a recording engine: what is stored, and what
// the engine is asked to speak (formula, speed from the recipe, the voice's own lexicon entries).
import 'fake-indexeddb/auto';
import { beforeEach, describe, expect, it } from 'vitest';
import { createApiContext } from '../../src/lib/api/context';
import { createRouter } from '../../src/lib/api/routes';
import { openTimbreDB } from '../../src/lib/storage/db';
import { designVoice } from '../../src/lib/voices/design';
import { decodeWav } from '../../src/lib/dsp/wav';
import type { SynthesizeParams } from '../../src/lib/tts/contract';
import { FACTS } from './helpers';
import { caller, errorOf, HIGH_LIMITS, okJson } from './test-utils';

const SR = 24000;
let n = 0;

/** An engine that records tts.generate calls and answers one second of tone per call, shortened by speed. */
async function env() {
  const calls: SynthesizeParams[] = [];
  const engine = {
    hostCount: async () => 1,
    run: async (op: string, args: unknown) => {
      if (op !== 'tts.generate') throw new Error(`unexpected op ${op}`);
      const a = args as SynthesizeParams;
      calls.push(a);
      const len = Math.round(SR / (a.speed ?? 1));
      const samples = Float32Array.from(
        { length: len },
        (_, i) => 0.3 * Math.sin((2 * Math.PI * 150 * i) / SR),
      );
      return {
        samples,
        sampleRate: SR,
        chunks: [{ text: a.text, start: 0, end: len / SR }],
        dropped_chars: 0,
      };
    },
  };
  const db = await openTimbreDB(`design-api-${process.pid}-${++n}`);
  const ctx = createApiContext({
    db,
    engine: engine as never,
    system: async () => FACTS,
    version: 'test',
    now: () => 1_700_000_000_000,
  });
  const call = caller(createRouter(), ctx);
  const key = (await ctx.keys.create({ name: 't', now: 1_700_000_000_000, limits: HIGH_LIMITS })).secret;
  return { calls, ctx, call, key };
}

type Env = Awaited<ReturnType<typeof env>>;
const DESC = 'a calm older British man, slow and deep';

interface VoiceOut {
  id: string;
  kind: string;
  name: string;
  language: string;
  gender: string;
  recipe: { formula: string; speed: number; attributes: Record<string, string> };
}

describe('POST /api/design/create', () => {
  let e: Env;
  beforeEach(async () => {
    e = await env();
  });

  it('saves a designed voice whose recipe is the design, and answers with the explanation', async () => {
    const want = designVoice(DESC);
    const res = await okJson<{
      voice_id: string;
      voice: VoiceOut;
      design: { explanation: string[]; chosen: unknown[] };
    }>(
      await e.call('POST', '/api/design/create', {
        key: e.key,
        body: { description: DESC, name: 'Narrator' },
      }),
      201,
    );
    expect(res.voice).toMatchObject({
      id: res.voice_id,
      kind: 'designed',
      name: 'Narrator',
      language: 'en-gb',
      gender: 'male',
      recipe: { formula: want.formula, speed: want.speed },
    });
    expect(res.voice.recipe.attributes).toMatchObject({
      pitch: 'low',
      pace: 'slow',
      energy: 'calm',
      age: 'older',
      pitch_words: 'deep',
      language_words: 'british',
    });
    expect(res.design.explanation.join(' ')).toContain(want.formula);
    expect(res.design.chosen).toHaveLength(want.terms.length);
    // stored, and listed among the designed voices
    const stored = await okJson<VoiceOut>(await e.call('GET', `/api/voices/${res.voice_id}`, { key: e.key }));
    expect(stored.recipe).toEqual(res.voice.recipe);
    const list = await okJson<{ voices: VoiceOut[] }>(
      await e.call('GET', '/api/voices?kind=designed', { key: e.key }),
    );
    expect(list.voices.map((v) => v.id)).toEqual([res.voice_id]);
  });

  it('names the voice from the description when no name is given; two saves are two voices', async () => {
    const a = await okJson<{ voice: VoiceOut }>(
      await e.call('POST', '/api/design/create', {
        key: e.key,
        body: { description: 'a bright young American woman' },
      }),
      201,
    );
    const b = await okJson<{ voice: VoiceOut }>(
      await e.call('POST', '/api/design/create', {
        key: e.key,
        body: { description: 'a bright young American woman' },
      }),
      201,
    );
    expect(a.voice.name).toBe('A bright young American woman');
    expect(a.voice.id).not.toBe(b.voice.id);
    expect(a.voice.recipe).toEqual(b.voice.recipe);
  });

  it('a description that names no voice, or a language no preset speaks, is a 400 naming description', async () => {
    for (const description of ['purple elephant', 'a German man']) {
      const err = await errorOf(
        await e.call('POST', '/api/design/create', { key: e.key, body: { description } }),
        400,
        'bad_request',
      );
      expect(err.field).toBe('description');
    }
    expect((await e.ctx.voices.query({ kind: 'designed' })).total).toBe(0);
  });

  it('needs the clone:create scope', async () => {
    const k = (await e.ctx.keys.create({ name: 'r', now: 1, scopes: ['voices:write', 'tts:generate'] }))
      .secret;
    const err = await errorOf(
      await e.call('POST', '/api/design/create', { key: k, body: { description: DESC } }),
      403,
      'forbidden',
    );
    expect(err.scope).toBe('clone:create');
  });
});

describe('POST /api/generate/design', () => {
  let e: Env;
  beforeEach(async () => {
    e = await env();
  });

  const say = (body: Record<string, unknown>) =>
    e.call('POST', '/api/generate/design', { key: e.key, body: { text: 'Hello there.', ...body } });

  it('from a description: speaks the designed formula at the design speed, and says why', async () => {
    const want = designVoice(DESC);
    const res = await okJson<{
      speed: number;
      duration: number;
      audio_base64: string;
      design: { formula: string };
    }>(await say({ description: DESC }));
    expect(e.calls).toHaveLength(1);
    expect(e.calls[0]).toMatchObject({ voice: want.formula, speed: want.speed, text: 'Hello there.' });
    expect(res.speed).toBe(want.speed);
    expect(res.design.formula).toBe(want.formula);
    const wav = decodeWav(Buffer.from(res.audio_base64, 'base64'));
    expect(wav.sampleRate).toBe(SR);
    expect(wav.samples.length / SR).toBeCloseTo(res.duration, 2);
  });

  it("from a stored designed voice: its formula, its recipe speed times the caller's, its lexicon entries", async () => {
    const created = await okJson<{ voice: VoiceOut }>(
      await e.call('POST', '/api/design/create', {
        key: e.key,
        body: { description: 'a slow deep American man' },
      }),
      201,
    );
    const v = created.voice;
    expect(v.recipe.speed).toBeLessThan(1);
    await okJson(
      await e.call('PUT', '/api/lexicon', {
        key: e.key,
        body: { entries: [{ word: 'Timbre', respelling: 'Tamber', scope: v.id }] },
      }),
    );
    const res = await okJson<{ speed: number; recipe_speed: number; voice_id: string }>(
      await say({ voice_id: v.id, speed: 1.2 }),
    );
    const call = e.calls.at(-1)!;
    expect(call.voice).toBe(v.recipe.formula);
    expect(call.speed).toBeCloseTo(Math.round(v.recipe.speed * 1.2 * 100) / 100, 6);
    expect(res).toMatchObject({ voice_id: v.id, recipe_speed: v.recipe.speed, speed: call.speed });
    expect(call.voice_id).toBe(v.id);
    expect(call.lexicon).toEqual([{ word: 'Timbre', respelling: 'Tamber', scope: v.id }]);
    // the speed stays within Kokoro's range whatever the product
    await okJson(await say({ voice_id: v.id, speed: 0.5 }));
    expect(e.calls.at(-1)!.speed).toBeGreaterThanOrEqual(0.5);
  });

  it('the same description twice asks the engine for the same voice and speed', async () => {
    await okJson(await say({ description: 'a lively fast young American woman' }));
    await okJson(await say({ description: 'a lively fast young American woman' }));
    expect(e.calls[0]!.voice).toBe(e.calls[1]!.voice);
    expect(e.calls[0]!.speed).toBe(e.calls[1]!.speed);
  });

  it('needs exactly one of description and voice_id; a preset has no recipe; an unknown id is 404', async () => {
    expect((await errorOf(await say({}), 400)).field).toBe('description');
    expect((await errorOf(await say({ description: DESC, voice_id: 'af_heart' }), 400)).field).toBe(
      'description',
    );
    const preset = await errorOf(await say({ voice_id: 'af_heart' }), 400, 'bad_request');
    expect(preset.field).toBe('voice_id');
    expect(preset.message).toMatch(/generate\/preset/);
    await errorOf(await say({ voice_id: 'design_nope' }), 404, 'not_found');
    expect((await errorOf(await say({ description: '???' }), 400)).field).toBe('description');
    expect(e.calls).toHaveLength(0);
  });

  it('a stored designed voice speaks through the other speech routes too (its formula)', async () => {
    const created = await okJson<{ voice: VoiceOut }>(
      await e.call('POST', '/api/design/create', { key: e.key, body: { description: DESC } }),
      201,
    );
    await okJson(
      await e.call('POST', '/api/generate/preset', {
        key: e.key,
        body: { text: 'Hi.', voice_id: created.voice.id },
      }),
    );
    expect(e.calls.at(-1)!.voice).toBe(created.voice.recipe.formula);
  });
});
