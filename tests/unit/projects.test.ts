// Timeline projects: the model's validation, multi-voice scripts, the renderer's maths, the store, the
// project file and clips zip, and the routes through the real router and storage (speech from a fake
// engine whose audio length and pitch depend on text and voice, so placement can be measured).
import 'fake-indexeddb/auto';
import { beforeAll, describe, expect, it } from 'vitest';
import { createApiContext, type ApiContext } from '../../src/lib/api/context';
import { createRouter } from '../../src/lib/api/routes';
import { CancelledError, type RunOptions } from '../../src/lib/core/run';
import { openTimbreDB } from '../../src/lib/storage/db';
import { ProjectStore } from '../../src/lib/storage/projects';
import { NotFoundError } from '../../src/lib/storage/errors';
import type { ClipRecord } from '../../src/lib/storage/records';
import {
  ClipCycleError,
  clipSpan,
  newClip,
  newProject,
  newTrack,
  ProjectValidationError,
  timelineDuration,
  validateProject,
  type Project,
} from '../../src/lib/documents/project';
import {
  applyScript,
  parseScript,
  scriptToClips,
  ScriptSyntaxError,
  UnknownSpeakerError,
} from '../../src/lib/projects/script';
import { renderProject, type RenderDeps } from '../../src/lib/projects/render';
import {
  exportProjectFile,
  importProjectFile,
  ProjectFileError,
  zipClips,
} from '../../src/lib/projects/file';
import { ZipArchive } from '../../src/lib/openvoice/zip';
import { decodeWav, encodeWav } from '../../src/lib/dsp/wav';
import { FACTS } from './helpers';
import { caller, errorOf, HIGH_LIMITS, okJson, until } from './test-utils';

const SPEECH_RATE = 24000;
/** Fake speech: 0.25 s per word, a sine whose pitch depends on the voice. */
function fakeSpeech(text: string, voice: string) {
  const words = text.trim().split(/\s+/).length;
  const n = Math.round(words * 0.25 * SPEECH_RATE);
  const f = 150 + (voice.length % 7) * 40;
  const samples = new Float32Array(n);
  for (let i = 0; i < n; i++) samples[i] = 0.3 * Math.sin((2 * Math.PI * f * i) / SPEECH_RATE);
  return { samples, sampleRate: SPEECH_RATE };
}

/** Deps over an in-memory library; counts what was spoken. */
function memoryDeps(library = new Map<string, Uint8Array>()) {
  const spoken: string[] = [];
  let n = 0;
  const deps: RenderDeps = {
    speak: async (text, voice, _speed, o) => {
      if (o.signal?.aborted) throw new CancelledError();
      spoken.push(text);
      return fakeSpeech(text, voice);
    },
    loadClip: async (id) => {
      const b = library.get(id);
      if (!b) throw new NotFoundError(`no clip ${id}`);
      return b;
    },
    saveGenerated: async (wav) => {
      const id = `gen_${++n}`;
      library.set(id, wav);
      return id;
    },
    dropGenerated: async (id) => void library.delete(id),
  };
  return { deps, spoken, library };
}

const constant = (v: number, seconds: number, rate: number) =>
  new Float32Array(Math.round(seconds * rate)).fill(v);
const ramp = (seconds: number, rate: number) => {
  const n = Math.round(seconds * rate);
  return Float32Array.from({ length: n }, (_, i) => i / n);
};

describe('model validation', () => {
  it('fills defaults and names the field at fault', () => {
    const p = validateProject({
      name: 'A',
      tracks: [{ clips: [{ content: { kind: 'speech', text: 'hi', voice: 'af_heart' } }] }],
    });
    expect(p.sample_rate).toBe(24000);
    expect(p.tracks[0]!.clips[0]!).toMatchObject({
      start: 0,
      offset: 0,
      length: null,
      gain_db: 0,
      source_duration: null,
    });
    const bad = (v: unknown, field: string) => {
      let err: unknown;
      try {
        validateProject(v);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(ProjectValidationError);
      expect((err as ProjectValidationError).field).toBe(field);
    };
    const clip = (over: object) => ({
      name: 'A',
      tracks: [{ clips: [{ content: { kind: 'speech', text: 'hi', voice: 'v' }, ...over }] }],
    });
    bad(clip({ gain_db: 13 }), 'tracks[0].clips[0].gain_db');
    bad(clip({ start: -1 }), 'tracks[0].clips[0].start');
    bad(clip({ length: 1, fade_in: 0.6, fade_out: 0.6 }), 'tracks[0].clips[0].fade_in');
    bad(clip({ content: { kind: 'speech', text: '  ', voice: 'v' } }), 'tracks[0].clips[0].content.text');
    bad(clip({ content: { kind: 'video' } }), 'tracks[0].clips[0].content.kind');
    bad({ name: 'A', sample_rate: 44100.5 }, 'sample_rate');
    bad({ name: '' }, 'name');
    bad({ name: 'A', tracks: [{ id: 't' }, { id: 't' }] }, 'tracks[1].id');
  });

  it('refuses after-links in a circle and to unknown clips', () => {
    const a = newClip(
      { kind: 'speech', text: 'a', voice: 'v', speed: 1 },
      { id: 'a', after: { clip: 'b', gap: 0 } },
    );
    const b = newClip(
      { kind: 'speech', text: 'b', voice: 'v', speed: 1 },
      { id: 'b', after: { clip: 'a', gap: 0 } },
    );
    expect(() => validateProject(newProject('x', { tracks: [newTrack('t', { clips: [a, b] })] }))).toThrow(
      ClipCycleError,
    );
    const c = newClip(
      { kind: 'speech', text: 'c', voice: 'v', speed: 1 },
      { after: { clip: 'nope', gap: 0 } },
    );
    expect(() => validateProject(newProject('x', { tracks: [newTrack('t', { clips: [c] })] }))).toThrow(
      /no clip "nope"/,
    );
  });
});

describe('scripts', () => {
  const text =
    '[Narrator] Once upon a time\nthere was a fox.\n[Anna]: Hello there.\n\nAnd goodbye.\n[narrator] The end.';
  it('parses labels, continuation lines and paragraph gaps', () => {
    const s = parseScript(text);
    expect(s.lines.map((l) => [l.speaker, l.text, l.line, l.paragraph])).toEqual([
      ['Narrator', 'Once upon a time there was a fox.', 1, false],
      ['Anna', 'Hello there.', 3, false],
      ['Anna', 'And goodbye.', 5, true],
      ['narrator', 'The end.', 6, false],
    ]);
    expect(() => parseScript('no label here')).toThrow(ScriptSyntaxError);
  });

  it('makes one clip per line in its cast voice, chained one after another', () => {
    const p = newProject('s', { cast: { Narrator: 'bm_george', Anna: 'af_heart' } });
    const clips = scriptToClips(p, text, { gap: 0.5, paragraphGap: 1.5 });
    expect(clips.map((c) => c.content.kind === 'speech' && c.content.voice)).toEqual([
      'bm_george',
      'af_heart',
      'af_heart',
      'bm_george',
    ]);
    expect(clips[0]!.after).toBeUndefined();
    expect(clips.slice(1).map((c) => c.after)).toEqual([
      { clip: clips[0]!.id, gap: 0.5 },
      { clip: clips[1]!.id, gap: 1.5 },
      { clip: clips[2]!.id, gap: 0.5 },
    ]);
    let err: unknown;
    try {
      scriptToClips(newProject('s', { cast: { Narrator: 'bm_george' } }), text);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(UnknownSpeakerError);
    expect((err as UnknownSpeakerError).speaker).toBe('Anna');
    expect((err as Error).message).toContain('"Anna"');
  });

  it('renders a script gap-exactly once lengths are measured', async () => {
    const p = newProject('s', { sample_rate: 24000, cast: { A: 'af_heart', B: 'bm_george' } });
    applyScript(p, '[A] one two three four\n[B] five six', { gap: 0.5 });
    const r = await renderProject(p, memoryDeps().deps);
    const [c1, c2] = r.clips;
    expect(c1!.end - c1!.start).toBeCloseTo(1.0, 9);
    expect(c2!.start - c1!.end).toBeCloseTo(0.5, 9);
    expect(r.duration).toBeCloseTo(timelineDuration(r.project), 9);
    expect(r.duration).toBeCloseTo(2.0, 9);
    expect(r.samples.length).toBe(Math.round(2.0 * 24000));
  });
});

describe('render maths', () => {
  const RATE = 16000;
  const lib = (samples: Float32Array, rate = RATE) => encodeWav(samples, rate, 'f32');

  it('a clip at 1.0 s with fade and gain lands exactly where it should', async () => {
    const library = new Map([['c1', lib(constant(0.5, 2, RATE))]]);
    const p = newProject('m', {
      sample_rate: RATE,
      tracks: [
        newTrack('t', {
          gain_db: -3,
          clips: [
            newClip(
              { kind: 'library', clip_id: 'c1' },
              { start: 1, fade_in: 0.1, fade_out: 0.2, gain_db: -3 },
            ),
          ],
        }),
      ],
    });
    const r = await renderProject(p, memoryDeps(library).deps);
    const g = Math.pow(10, -6 / 20);
    expect(r.duration).toBe(3);
    expect(r.samples.length).toBe(3 * RATE);
    expect(Math.max(...r.samples.subarray(0, RATE).map(Math.abs))).toBe(0);
    expect(r.samples[RATE]).toBe(0); // fade starts at silence
    expect(r.samples[RATE + 800]).toBeCloseTo(0.5 * g * 0.5, 6); // half-way through the 0.1 s fade
    expect(r.samples[RATE + 1600 + 10]).toBeCloseTo(0.5 * g, 6);
    expect(r.samples[3 * RATE - 1600]).toBeCloseTo(0.5 * g * 0.5, 6); // half-way through the fade out
    expect(r.clips[0]).toMatchObject({ start: 1, end: 3, source_duration: 2 });
    expect(r.project.tracks[0]!.clips[0]!.source_duration).toBe(2);
    expect(r.limited).toBe(1);
  });

  it('trims by offset and length, and resamples other rates', async () => {
    const src = ramp(3, RATE);
    const library = new Map([
      ['r', lib(src)],
      ['s', lib(constant(0.25, 1, 44100), 44100)],
    ]);
    const p = newProject('t', {
      sample_rate: RATE,
      tracks: [
        newTrack('a', {
          clips: [newClip({ kind: 'library', clip_id: 'r' }, { start: 0.5, offset: 1, length: 1.25 })],
        }),
        newTrack('b', { clips: [newClip({ kind: 'library', clip_id: 's' }, { start: 2 })] }),
      ],
    });
    const r = await renderProject(p, memoryDeps(library).deps);
    expect(r.duration).toBe(3);
    for (const j of [0, 100, 19999]) expect(r.samples[8000 + j]).toBeCloseTo(src[16000 + j]!, 6);
    expect(r.samples[8000 + 20000]).toBe(0); // trimmed out
    expect(r.clips[1]!.source_duration).toBe(1); // measured at the source's own rate
    expect(r.samples[2 * RATE + 8000]).toBeCloseTo(0.25, 3); // resampled 44.1 kHz, mid-clip
  });

  it('a muted track is silent but still counts for the length', async () => {
    const library = new Map([
      ['c', lib(constant(0.5, 1, RATE))],
      ['d', lib(constant(0.9, 2, RATE))],
    ]);
    const p = newProject('m', {
      sample_rate: RATE,
      tracks: [
        newTrack('on', { clips: [newClip({ kind: 'library', clip_id: 'c' })] }),
        newTrack('off', { muted: true, clips: [newClip({ kind: 'library', clip_id: 'd' }, { start: 1 })] }),
      ],
    });
    const r = await renderProject(p, memoryDeps(library).deps);
    expect(r.duration).toBe(3);
    expect(r.samples[RATE / 2]).toBeCloseTo(0.5, 6);
    expect(Math.max(...r.samples.subarray(RATE).map(Math.abs))).toBe(0);
  });

  it('keeps the sum from clipping: normalise keeps the balance, soft bends only the loud part', async () => {
    const library = new Map([
      ['a', lib(constant(0.8, 1, RATE))],
      ['b', lib(constant(0.2, 2, RATE))],
    ]);
    const p = newProject('l', {
      sample_rate: RATE,
      tracks: [
        newTrack('a', { clips: [newClip({ kind: 'library', clip_id: 'a' })] }),
        newTrack('b', {
          clips: [
            newClip({ kind: 'library', clip_id: 'b' }),
            newClip({ kind: 'library', clip_id: 'a' }, { start: 0 }),
          ],
        }),
      ],
    });
    const n = await renderProject(p, memoryDeps(library).deps);
    expect(n.peak).toBeCloseTo(1.8, 6);
    expect(n.samples[100]).toBeCloseTo(0.98, 6);
    expect(n.samples[RATE + 100]! / n.samples[100]!).toBeCloseTo(0.2 / 1.8, 6);
    const s = await renderProject(p, memoryDeps(library).deps, { limiter: 'soft' });
    expect(Math.max(...s.samples)).toBeLessThanOrEqual(0.98);
    expect(s.samples[100]).toBeGreaterThan(0.9);
    expect(s.samples[RATE + 100]).toBeCloseTo(0.2, 6); // under the knee: untouched
    expect(s.limited).toBeCloseTo(0.5, 6);
  });

  it('caches generated speech, re-speaks only what changed, reports progress and honours abort', async () => {
    const m = memoryDeps();
    const p = newProject('c', { cast: { A: 'af_heart', B: 'bm_george' } });
    applyScript(p, '[A] first line here\n[B] second line');
    const stages = new Set<string>();
    const r1 = await renderProject(p, m.deps, { onProgress: (x) => stages.add(x.stage) });
    expect([...stages]).toEqual(['sources', 'mix']);
    expect([r1.spoken, r1.reused]).toEqual([2, 0]);
    const r2 = await renderProject(r1.project, m.deps);
    expect([r2.spoken, r2.reused]).toEqual([0, 2]);
    expect(Array.from(r2.samples)).toEqual(Array.from(r1.samples));
    const edited = structuredClone(r2.project);
    const c = edited.tracks[0]!.clips[1]!;
    if (c.content.kind === 'speech') c.content.text = 'the second line, longer now';
    const r3 = await renderProject(edited, m.deps);
    expect([r3.spoken, r3.reused]).toEqual([1, 1]);
    expect(m.library.size).toBe(2); // the stale render was dropped
    expect(r3.duration).toBeCloseTo(timelineDuration(r3.project), 9);
    const ac = new AbortController();
    ac.abort();
    await expect(renderProject(edited, m.deps, { signal: ac.signal })).rejects.toBeInstanceOf(CancelledError);
  });
});

describe('store, project file and clips zip', () => {
  let store: ProjectStore;
  beforeAll(async () => {
    store = new ProjectStore(await openTimbreDB(`projects-${process.pid}`));
  });

  it('lists newest first, duplicates with new ids, deletes and hands back', async () => {
    const a = await store.create('A');
    await new Promise((r) => setTimeout(r, 5));
    const b = newProject('B', { cast: { A: 'af_heart', B: 'bm_george' } });
    applyScript(b, '[A] one\n[B] two');
    await store.put(b);
    expect((await store.list()).map((s) => s.name)).toEqual(['B', 'A']);
    const copy = await store.duplicate(b.id);
    const ids = (p: Project) => p.tracks.flatMap((t) => t.clips.map((c) => c.id));
    expect(copy.name).toBe('B (copy)');
    expect(ids(copy).some((id) => ids(b).includes(id))).toBe(false);
    expect(copy.tracks[0]!.clips[1]!.after!.clip).toBe(copy.tracks[0]!.clips[0]!.id);
    const gone = await store.delete(a.id);
    expect(gone.name).toBe('A');
    expect(await store.get(a.id)).toBeUndefined();
    await expect(store.delete(a.id)).rejects.toBeInstanceOf(NotFoundError);
    await expect(store.put({ ...b, sample_rate: 5 })).rejects.toBeInstanceOf(ProjectValidationError);
  });

  it('round-trips a project file with its library audio, and zips every clip readably', async () => {
    const wav = encodeWav(ramp(1, 24000), 24000, 's16');
    const rec: ClipRecord = {
      id: 'lib1',
      name: 'ramp',
      created_at: 1,
      updated_at: 1,
      source: 'recording',
      duration: 1,
      sample_rate: 24000,
      channels: 1,
      audio: wav.slice().buffer,
    };
    const p = newProject('F', { cast: { A: 'af_heart' } });
    p.tracks[0]!.clips.push(newClip({ kind: 'library', clip_id: 'lib1' }, { start: 0.25, gain_db: -2 }));
    applyScript(p, '[A] hello world. Up the stairs.');
    const file = exportProjectFile(p, [rec]);
    const back = importProjectFile(file);
    expect(back.project.id).not.toBe(p.id);
    expect(back.project.tracks).toEqual(p.tracks);
    expect(new Uint8Array(back.clips[0]!.audio)).toEqual(wav);
    expect(() => exportProjectFile(p, [])).toThrow(ProjectFileError);
    expect(() => importProjectFile(new TextEncoder().encode('{"format":"other"}'))).toThrow(ProjectFileError);

    const library = new Map([['lib1', wav]]);
    const r = await renderProject(back.project, memoryDeps(library).deps, { keepClipAudio: true });
    const zip = new ZipArchive(zipClips(r));
    const names = [...zip.entries.keys()];
    // Timeline order: the library clip at 0.25 s, then the script line placed after it.
    expect(names[0]).toMatch(/^01 clp_\w+\.wav$/);
    // A line ending in a full stop is not named "….wav" with a double dot.
    expect(names[1]).toBe('02 A - hello world. Up the stairs.wav');
    for (const c of r.clips) {
      const name = names.find((n) => n.includes(c.text ?? c.id))!;
      const d = decodeWav(await zip.read(name));
      expect(d.samples.length).toBe(Math.round((c.end - c.start) * r.sampleRate));
    }
    expect(names).toHaveLength(2);
  });
});

describe('routes', () => {
  let call: ReturnType<typeof caller>;
  let key: string;
  let reader: string;
  let db: Awaited<ReturnType<typeof openTimbreDB>>;
  const ops: string[] = [];
  const engine: ApiContext['engine'] = {
    hostCount: async () => 1,
    run: (async (op: string, args: unknown, o: RunOptions = {}) => {
      ops.push(op);
      if (op !== 'tts.generate') throw new Error(`unexpected op ${op}`);
      if (o.signal?.aborted) throw new CancelledError();
      const a = args as { text: string; voice: string };
      const s = fakeSpeech(a.text, a.voice);
      return { ...s, chunks: [], dropped_chars: 0 };
    }) as ApiContext['engine']['run'],
  };

  beforeAll(async () => {
    db = await openTimbreDB(`projects-api-${process.pid}`);
    const ctx = createApiContext({ db, engine, system: async () => FACTS, version: 'test' });
    call = caller(createRouter(), ctx);
    key = (await ctx.keys.create({ name: 'k', limits: HIGH_LIMITS, now: Date.now() })).secret;
    reader = (await ctx.keys.create({ name: 'r', scopes: ['projects:read'], now: Date.now() })).secret;
  });

  const script = '[Narrator] The story begins here.\n[Anna] I am Anna.\n[Ben] And I am Ben, hello.';
  const cast = { Narrator: 'af_heart', Anna: 'bf_emma', Ben: 'bm_george' };

  it('creates from a script, renders as a job to a file as long as the timeline, and reuses speech', async () => {
    const p = await okJson<Project & { duration: number }>(
      await call('POST', '/api/projects', { key, body: { name: 'Three', script, cast, gap: 0.3 } }),
      201,
    );
    expect(p.tracks[0]!.clips.map((c) => c.content.kind === 'speech' && c.content.speaker)).toEqual([
      'Narrator',
      'Anna',
      'Ben',
    ]);
    const list = await okJson<{ projects: { id: string; clips: number }[]; total: number }>(
      await call('GET', '/api/projects', { key: reader }),
    );
    expect(list.projects.find((x) => x.id === p.id)?.clips).toBe(3);

    const start = await okJson<{ job_id: string; audio_url: string }>(
      await call('POST', `/api/projects/${p.id}/render`, { key, body: { format: 'wav' } }),
      202,
    );
    const job = await until(async () => {
      const j = await okJson<{
        status: string;
        result: { duration: number; clips: { start: number; end: number }[]; spoken: number };
      }>(await call('GET', `/api/jobs/${start.job_id}`, { key }));
      return j.status === 'succeeded'
        ? j
        : j.status === 'failed'
          ? Promise.reject(new Error(JSON.stringify(j)))
          : null;
    });
    const clips = job.result.clips;
    expect(clips[0]!.end - clips[0]!.start).toBeCloseTo(1.0, 6); // 4 words at 0.25 s
    expect(clips[1]!.start - clips[0]!.end).toBeCloseTo(0.3, 6);
    expect(clips[2]!.start - clips[1]!.end).toBeCloseTo(0.3, 6);
    // Render files are their job owner's, like job results.
    await errorOf(await call('GET', start.audio_url, { key: reader }), 404, 'not_found');
    const res = await call('GET', start.audio_url, { key });
    expect(res.headers.get('Content-Type')).toBe('audio/wav');
    const wav = decodeWav(new Uint8Array(await res.arrayBuffer()));
    expect(wav.samples.length / wav.sampleRate).toBeCloseTo(job.result.duration, 3);
    const saved = await okJson<Project & { duration: number }>(
      await call('GET', `/api/projects/${p.id}`, { key }),
    );
    expect(saved.duration).toBeCloseTo(job.result.duration, 9);
    expect(saved.tracks[0]!.clips.every((c) => clipSpan(c) !== null)).toBe(true);

    const before = ops.filter((o) => o === 'tts.generate').length;
    const again = await okJson<{ job_id: string }>(
      await call('POST', `/api/projects/${p.id}/render`, { key, body: {} }),
      202,
    );
    const j2 = await until(async () => {
      const j = await okJson<{ status: string; result: { spoken: number; reused: number } }>(
        await call('GET', `/api/jobs/${again.job_id}`, { key }),
      );
      return j.status === 'succeeded' ? j : null;
    });
    expect([j2.result.spoken, j2.result.reused]).toEqual([0, 3]);
    expect(ops.filter((o) => o === 'tts.generate').length).toBe(before);
  });

  it('answers errors in the documented shape', async () => {
    let e = await errorOf(
      await call('POST', '/api/projects', {
        key,
        body: { name: 'X', script, cast: { Narrator: 'af_heart' } },
      }),
      400,
      'bad_request',
    );
    expect(e.field).toBe('cast.Anna');
    expect(e.message).toContain('"Anna"');
    e = await errorOf(
      await call('POST', '/api/projects', {
        key,
        body: { name: 'X', script: '[A] hi', cast: { A: 'no_such_voice' } },
      }),
      400,
    );
    expect(e.field).toBe('cast.A');
    const p = await okJson<Project>(await call('POST', '/api/projects', { key, body: { name: 'Y' } }), 201);
    e = await errorOf(
      await call('PUT', `/api/projects/${p.id}`, {
        key,
        body: { ...p, tracks: [{ clips: [{ content: { kind: 'library', clip_id: 'x' }, gain_db: 99 }] }] },
      }),
      400,
    );
    expect(e.field).toBe('tracks[0].clips[0].gain_db');
    await errorOf(await call('GET', '/api/projects/nope', { key }), 404, 'not_found');
    await errorOf(await call('PUT', '/api/projects/nope', { key, body: { name: 'Z' } }), 404, 'not_found');
    await errorOf(await call('POST', '/api/projects/nope/render', { key, body: {} }), 404, 'not_found');
    e = await errorOf(await call('POST', `/api/projects/${p.id}/render`, { key, body: {} }), 400);
    expect(e.message).toContain('no clips');
    const q = await okJson<Project>(
      await call('POST', '/api/projects', {
        key,
        body: { name: 'Q', script: '[A] hi', cast: { A: 'af_heart' } },
      }),
      201,
    );
    e = await errorOf(
      await call('POST', `/api/projects/${q.id}/render`, { key, body: { format: 'doc' } }),
      400,
    );
    expect(e.field).toBe('format');
    await errorOf(
      await call('POST', '/api/projects', { key: reader, body: { name: 'W' } }),
      403,
      'forbidden',
    );
    const renamed = await okJson<Project>(
      await call('PUT', `/api/projects/${p.id}`, { key, body: { ...p, name: 'Y2' } }),
    );
    expect([renamed.name, renamed.created_at]).toEqual(['Y2', p.created_at]);
    await okJson(await call('DELETE', `/api/projects/${p.id}`, { key }));
    await errorOf(await call('DELETE', `/api/projects/${p.id}`, { key }), 404);
  });

  it('exports a project file with its library audio and imports it as a new project', async () => {
    const wav = encodeWav(ramp(0.5, 24000), 24000, 's16');
    await db.put('clips', {
      id: 'lib_x',
      name: 'ramp',
      created_at: 1,
      updated_at: 1,
      source: 'import',
      duration: 0.5,
      sample_rate: 24000,
      channels: 1,
      audio: wav.slice().buffer,
    });
    const p = await okJson<Project>(
      await call('POST', '/api/projects', {
        key,
        body: {
          name: 'Exp',
          tracks: [{ name: 'a', clips: [{ content: { kind: 'library', clip_id: 'lib_x' }, start: 1 }] }],
        },
      }),
      201,
    );
    const file = await call('GET', `/api/projects/${p.id}/export`, { key: reader });
    expect(file.headers.get('Content-Type')).toBe('application/vnd.timbre.project+json');
    const bytes = new Uint8Array(await file.arrayBuffer());
    await db.delete('clips', 'lib_x');
    const back = await okJson<Project & { duration: number }>(
      await call('POST', '/api/projects/import', {
        key,
        raw: bytes,
        headers: { 'Content-Type': 'application/json' },
      }),
      201,
    );
    expect(back.id).not.toBe(p.id);
    expect(back.tracks).toEqual(p.tracks);
    expect(new Uint8Array((await db.get('clips', 'lib_x'))!.audio)).toEqual(wav);
    await errorOf(
      await call('POST', '/api/projects/import', { key, raw: '{"format":"x"}' }),
      400,
      'bad_request',
    );
    await errorOf(await call('POST', '/api/projects/import', { key: reader, raw: bytes }), 403, 'forbidden');
  });
});
