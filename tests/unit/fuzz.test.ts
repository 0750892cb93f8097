/**
 * Fuzzes the whole API through the real router and (fake-indexeddb) storage with a seeded PRNG.
 * Reproduce a failure with FUZZ_SEED=<seed printed in the failure> npx vitest run tests/unit/fuzz.test.ts
 */
import { compatibleKeys, keyName } from '../../src/lib/dsp/analyze';
import { expect, it } from 'vitest';
import { z } from 'zod';
import { ROUTES, createRouter } from '../../src/lib/api/routes';
import { createApiContext, type ApiContext } from '../../src/lib/api/context';
import type { AnyRoute } from '../../src/lib/api/router';
import { SCOPES } from '../../src/lib/auth/scopes';
import { CancelledError, type RunOptions } from '../../src/lib/core/run';
import type { Voice } from '../../src/lib/voices/types';
import type { ApiKeyRecord } from '../../src/lib/auth/keys';
import { FACTS, setup } from './helpers';
import { ERROR_STATUS, HIGH_LIMITS, makeWav, mulberry32, toBase64 } from './test-utils';

const SEED = Number(process.env.FUZZ_SEED ?? 20_251_121);
const REQUESTS = 10_000;
const BATCH = 40;

/** Statuses the API documents: any 2xx, or the status of a documented error code. 500 would be a bug. */
const ALLOWED_ERRORS = new Set(
  Object.entries(ERROR_STATUS)
    .filter(([code]) => code !== 'internal_error')
    .map(([, s]) => s),
);

/** Runs engine operations at once (no compute), honouring cancellation; speech is a short tone, a transcript empty. */
function instantEngine(): ApiContext['engine'] {
  return {
    hostCount: async () => 1,
    run: (async (op: string, args: unknown, opts?: RunOptions) => {
      await new Promise((r) => setTimeout(r, 0));
      if (opts?.signal?.aborted) throw new CancelledError();
      if (op === 'tts.generate') {
        const samples = Float32Array.from({ length: 240 }, (_, i) => Math.sin(i / 3) / 2);
        opts?.onProgress?.({ stage: 'chunk', done: 1, total: 1, data: { samples, sampleRate: 24000 } });
        return { samples, sampleRate: 24000, chunks: [], dropped_chars: 0 };
      }
      if (op === 'audio.encode') return { bytes: new Uint8Array(16), mime: 'audio/mpeg' };
      if (op === 'audio.analyze')
        return {
          ...keyName(0, 'major'),
          bpm: 120,
          time_signature: '4/4',
          compatible_keys: compatibleKeys(0, 'major'),
          tempo_confidence: 0.5,
          key_confidence: 0.5,
          music: true,
          held_notes: 0.5,
          key_certainty: 'likely',
          verdict: 'C major, 120 BPM.',
          chroma: new Array(12).fill(0),
          duration: 1,
          method: 'instant',
          analysed_seconds: 1,
        };
      if (op === 'audio.convert')
        return {
          bytes: new Uint8Array(16),
          mime: 'audio/wav',
          extension: 'wav',
          format: 'wav',
          sampleRate: 16000,
          channels: 1,
          bitrate: null,
          duration: 0,
        };
      if (op === 'audio.enhance') {
        const snr = { snr_db: 10, speech_db: -20, noise_db: -30 };
        return {
          audio: {
            bytes: new Uint8Array(16),
            mime: 'audio/wav',
            extension: 'wav',
            format: 'wav',
            sampleRate: 48000,
            channels: 1,
            bitrate: null,
            duration: 0,
          },
          loudness_before: -20,
          loudness_after: -16,
          true_peak_after: -1,
          snr_before: snr,
          snr_after: snr,
          vad: 'energy',
          duration: 0,
          steps: [],
        };
      }
      if (op === 'audio.silence') {
        const wav = new Uint8Array(44);
        const trimmed = { wav, start: 0, end: 0, duration: 0, pauses_shortened: 0, removed_seconds: 0 };
        return {
          vad: 'energy',
          duration: 0,
          sample_rate: 16000,
          trimmed,
          pieces: [{ start: 0, end: 0, wav }],
        };
      }
      if (op === 'asr.transcribe')
        return {
          language: 'en',
          language_probability: 1,
          duration: 0.05,
          text: '',
          segments: [],
          windows: 0,
          model: 'whisper-tiny',
          vad: 'energy',
          task: 'transcribe',
          elapsed_ms: 0,
          rtf: 0,
        };
      opts?.onProgress?.({ stage: 'compute', done: 1, total: 1 });
      return { gflops: 1, size: (args as { size?: number }).size ?? 0, repeats: 1, seconds: 0 };
    }) as ApiContext['engine']['run'],
  };
}

interface Sent {
  method: string;
  path: string;
  keyKind: string;
  bodyKind: string;
  contentType: string | null;
}

it(
  `fuzz: ${REQUESTS} malformed requests across all routes (seed ${SEED})`,
  { timeout: 120_000 },
  async () => {
    const rand = mulberry32(SEED);
    const int = (n: number) => Math.floor(rand() * n);
    const chance = (p: number) => rand() < p;
    const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)]!;

    const env = await setup();
    const ctx = createApiContext({
      db: env.db,
      engine: instantEngine(),
      system: async () => FACTS,
      version: 'test',
      now: () => env.clock.t,
    });
    const router = createRouter();

    const fuzzKey = await env.makeKey({ limits: HIGH_LIMITS });
    const narrowKey = await env.makeKey({ scopes: ['voices:read'] });
    const targetA = (await ctx.keys.create({ name: 'target A', scopes: ['voices:read'], now: env.clock.t }))
      .key.id;
    const targetB = (await ctx.keys.create({ name: 'target B', scopes: ['ws:connect'], now: env.clock.t }))
      .key.id;
    const fuzzKeyId = (await ctx.keys.verify(fuzzKey))!.id;
    const narrowKeyId = (await ctx.keys.verify(narrowKey))!.id;
    const mine: Voice = {
      id: 'fuzz_voice',
      name: 'Fuzz',
      description: 'd',
      tags: ['t'],
      language: 'en-us',
      gender: 'female',
      kind: 'cloned',
      model: 'openvoice',
      samples: [
        { id: 's', name: 's.wav', mime: 'audio/wav', duration: 1, data: new Uint8Array([1, 2, 3]).buffer },
      ],
      favorite: false,
      created_at: 1,
      updated_at: 1,
    };
    await ctx.voices.put(mine);
    const exportFile = await ctx.voices.export(['fuzz_voice'], 0);

    const voicesBefore = new Map((await env.db.getAll('voices')).map((v) => [v.id, v]));
    const keysBefore = new Map((await env.db.getAll('apiKeys')).map((k) => [k.id, k]));

    // Ids worth trying: real ones (so some writes succeed), made-up and hostile ones.
    const jobIds: string[] = ['job_0000000000000000'];
    const idPool = () =>
      pick([
        'af_heart',
        'bm_lewis',
        'zf_xiaobei',
        'fuzz_voice',
        'fuzz_voice-2',
        targetA,
        targetB,
        narrowKeyId,
        pick(jobIds),
        'nope',
        '',
        '%',
        '%E0%A4%A',
        '..',
        '%2e%2e',
        encodeURIComponent('ü/ß'),
        'a'.repeat(3000),
        '%00',
        'null',
        '0',
        '-1',
        '__proto__',
        'constructor',
      ]);

    const routeFields = new Set<string>([
      'audio',
      'file',
      'format',
      'version',
      'voices',
      'exported_at',
      'ids',
    ]);
    const schemaOf = (r: AnyRoute) => {
      const t = r.body ?? r.query;
      if (!t) return {} as { properties?: Record<string, { type?: string; enum?: unknown[] }> };
      return z.toJSONSchema(t, { io: 'input', unrepresentable: 'any' }) as {
        properties?: Record<string, { type?: string; enum?: unknown[] }>;
      };
    };
    for (const r of ROUTES) for (const f of Object.keys(schemaOf(r).properties ?? {})) routeFields.add(f);
    const fields = [...routeFields];

    const randString = (): string => {
      switch (int(9)) {
        case 0:
          return '';
        case 1:
          return 'x'.repeat(int(300));
        case 2:
          return String.fromCharCode(...Array.from({ length: int(40) }, () => int(0xd7ff)));
        case 3:
          return pick([
            'true',
            'false',
            '1',
            '0',
            'null',
            '-5',
            '1e400',
            'NaN',
            'en',
            'en-gb',
            'female',
            'preset',
            'https://a.example',
            'voices:read',
            'admin',
          ]);
        case 4:
          return '\u0000\u0001\n\r\t"\\';
        case 5:
          return '😀'.repeat(int(30));
        case 6:
          return pick(SCOPES);
        case 7:
          return 'y'.repeat(5000 + int(100_000));
        default:
          return Math.random.toString().slice(0, int(20));
      }
    };
    const randNumber = () =>
      pick([
        0,
        -0,
        1,
        -1,
        0.05,
        0.1,
        0.2,
        15,
        16,
        20,
        32,
        60,
        61,
        500,
        501,
        5000,
        1e6,
        1e308,
        -1e308,
        2 ** 53,
        1.5,
        Number.MIN_VALUE,
        rand() * 1000 - 500,
      ]);
    const randJson = (depth: number): unknown => {
      switch (int(depth > 3 ? 5 : 8)) {
        case 0:
          return null;
        case 1:
          return chance(0.5);
        case 2:
          return randNumber();
        case 3:
          return randString();
        case 4:
          return pick([[], {}, '', 0]);
        case 5:
          return Array.from({ length: int(6) }, () => randJson(depth + 1));
        default: {
          const o: Record<string, unknown> = Object.create(null) as Record<string, unknown>;
          for (let i = int(5); i >= 0; i--)
            o[
              chance(0.7)
                ? pick(fields)
                : pick(['__proto__', 'constructor', 'prototype', '', 'extra', randString().slice(0, 20)])
            ] = randJson(depth + 1);
          return o;
        }
      }
    };
    /** An object with the route's own field names and values of random (sometimes right) types. */
    const shaped = (r: AnyRoute): unknown => {
      const props = Object.entries(schemaOf(r).properties ?? {});
      const o: Record<string, unknown> = {};
      for (const [name, s] of props) {
        if (chance(0.4)) continue;
        if (chance(0.5))
          o[name] = s.enum
            ? pick([...s.enum, 'bogus'])
            : s.type === 'string'
              ? randString().slice(0, 60)
              : s.type === 'boolean'
                ? chance(0.5)
                : s.type === 'array'
                  ? [pick(['t', 'voices:read', 'https://a.example', 1])]
                  : s.type === 'object'
                    ? { [pick(SCOPES)]: int(200) }
                    : randNumber();
        else o[name] = randJson(2);
      }
      if (chance(0.1)) o[pick(fields)] = randJson(2);
      return o;
    };
    const mutatedExport = (): unknown => {
      const f = structuredClone(exportFile) as unknown as Record<string, unknown> & {
        voices: Record<string, unknown>[];
      };
      const v = f.voices[0]!;
      const target = chance(0.5) ? f : v;
      const keys = Object.keys(target);
      const k = pick(keys);
      switch (int(5)) {
        case 0:
          delete target[k];
          break;
        case 1:
          target[k] = randJson(2);
          break;
        case 2:
          (v.samples as Record<string, unknown>[])[0]!.data_base64 = pick([
            '!!!',
            '',
            'AAAA',
            'QQ',
            randString(),
          ]);
          break;
        case 3:
          v.id = pick(['af_heart', 'fuzz_voice', 'new_' + int(1000), '']);
          break;
        default:
          break; // left intact: a valid import
      }
      return f;
    };
    const wav = makeWav({ seconds: 0.05, sampleRate: 8000 });
    const randBytes = (n: number) => Uint8Array.from({ length: n }, () => int(256));

    function body(r: AnyRoute, method: string): { kind: string; raw?: BodyInit; contentType?: string } {
      if (method === 'GET' || method === 'HEAD') return { kind: 'none' };
      const json = (v: unknown, kind: string) => ({
        kind,
        raw: JSON.stringify(v) ?? 'undefined',
        contentType: chance(0.9)
          ? 'application/json'
          : pick(['text/plain', 'application/json; charset=utf-8', 'application/vnd.api+json', '']),
      });
      switch (int(13)) {
        case 0:
          return { kind: 'none' };
        case 1:
          return { kind: 'empty', raw: '', contentType: 'application/json' };
        case 2:
          return json(randJson(0), 'random-json');
        case 3:
        case 4:
          return json(shaped(r), 'shaped');
        case 5:
          return {
            kind: 'broken-json',
            raw: pick(['{', '{"a":', '[1,2', '{"text":"a",}', 'nul', '\u0000', '{"a":1}}', "{'a':1}"]),
            contentType: 'application/json',
          };
        case 6:
          return {
            kind: 'random-bytes',
            raw: randBytes(int(2000)),
            contentType: pick([
              'application/octet-stream',
              'audio/wav',
              'audio/mpeg',
              'application/json',
              'image/png',
              'video/webm',
              '',
            ]),
          };
        case 7:
          return json(
            {
              audio: pick([
                '!!!',
                'data:audio/wav;base64,',
                'data:audio/wav,abc',
                'QQ=',
                'A',
                toBase64(randBytes(200)),
                `data:audio/wav;base64,${toBase64(wav)}`,
                toBase64(wav).slice(0, 60),
                ' '.repeat(10),
              ]),
            },
            'audio-base64',
          );
        case 8: {
          if (chance(0.5))
            return {
              kind: 'garbage-multipart',
              raw: `--XyZ\r\nContent-Disposition: form-data; name="${pick(['file', 'x'])}"${chance(0.5) ? '; filename="a.wav"' : ''}\r\n\r\n${randString().slice(0, 200)}${chance(0.5) ? '\r\n--XyZ--' : ''}`,
              contentType: `multipart/form-data; boundary=${pick(['XyZ', 'other', ''])}`,
            };
          const form = new FormData();
          if (chance(0.7))
            form.set(
              pick(['file', 'audio', 'x']),
              new Blob([chance(0.3) ? wav : randBytes(int(500))], {
                type: pick(['audio/wav', '', 'text/plain']),
              }),
              'f.bin',
            );
          if (chance(0.5)) form.set('note', randString().slice(0, 100));
          return { kind: 'multipart', raw: form };
        }
        case 9:
          return chance(0.15)
            ? {
                kind: 'huge',
                raw: JSON.stringify({ text: 'z'.repeat(1024 * 1024 + int(1000)) }),
                contentType: 'application/json',
              }
            : json({ text: randString() }, 'text');
        case 10:
          return r.path === '/api/voices/import' || chance(0.2)
            ? json(mutatedExport(), 'export-file')
            : json(shaped(r), 'shaped');
        case 11:
          return {
            kind: 'wrong-type',
            raw: 'a=1&b=2',
            contentType: pick([
              'application/x-www-form-urlencoded',
              'application/xml',
              'text/html',
              'image/gif',
            ]),
          };
        default:
          return json(pick([[], 42, 'str', true, null]), 'non-object');
      }
    }

    function path(r: AnyRoute): string {
      let p = r.path.replace(/\{\w+\}/g, () => idPool());
      switch (int(14)) {
        case 0:
          p += '/';
          break;
        case 1:
          p += '/extra';
          break;
        case 2:
          p = p.toUpperCase();
          break;
        case 3:
          p = p.replace('/api/', '/api//');
          break;
        case 4:
          p = pick([
            '/api',
            '/v1',
            '/api/',
            '/apix',
            '/api/voices/export/more',
            '/' + randString().slice(0, 30).replace(/[#?]/g, ''),
            '/api/%',
            '/v1/audio',
          ]);
          break;
        default:
          break;
      }
      if (chance(0.5)) {
        const q = Array.from({ length: 1 + int(4) }, () => {
          const name = chance(0.7) ? pick(fields) : pick(['', '=', '_', 'ids', 'q']);
          const value = pick([
            '',
            '-1',
            '0',
            '1',
            '5',
            '501',
            '1.5',
            'abc',
            'true',
            'no',
            'en',
            'female',
            'robot',
            '%',
            '%zz',
            'a'.repeat(300),
            encodeURIComponent(randString().slice(0, 40)),
            'af_heart,nope',
          ]);
          return `${encodeURIComponent(name)}=${value}`;
        });
        p += `?${q.join('&')}${chance(0.1) ? '&&&' : ''}`;
      }
      return p;
    }

    const IMPLEMENTED = ROUTES.filter((x) => !x.planned);
    const failures: string[] = [];
    const touchedVoices = new Set<string>();
    const touchedKeys = new Set<string>();
    const createdKeys = new Set<string>();
    const stats = { statuses: new Map<number, number>(), ok: 0, sse: 0, audio: 0 };
    const describe = (s: Sent) =>
      `${s.method} ${s.path.slice(0, 120)} key=${s.keyKind} body=${s.bodyKind} ct=${s.contentType}`;

    async function one(i: number): Promise<void> {
      // Planned routes all answer 501 the same way; most of the corpus goes to implemented ones.
      const r = chance(0.8) ? pick(IMPLEMENTED) : pick(ROUTES);
      const method = chance(0.85)
        ? r.method
        : pick(['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS', 'FOO', 'PROPFIND']);
      const p = path(r);
      const headers = new Headers();
      const keyKind = pick([
        'fuzz',
        'fuzz',
        'fuzz',
        'fuzz',
        'fuzz',
        'fuzz',
        'bearer',
        'bearer',
        'none',
        'garbage',
        'narrow',
        'odd',
      ]);
      if (keyKind === 'fuzz') headers.set('X-API-Key', fuzzKey);
      else if (keyKind === 'bearer') headers.set('Authorization', `Bearer ${fuzzKey}`);
      else if (keyKind === 'garbage')
        headers.set('X-API-Key', pick(['tmb_', 'x', fuzzKey + 'x', fuzzKey.toUpperCase(), 'a'.repeat(5000)]));
      else if (keyKind === 'narrow') headers.set('X-API-Key', narrowKey);
      else if (keyKind === 'odd')
        headers.set(
          'Authorization',
          pick(['Bearer', 'Basic abc', `bearer    ${fuzzKey}`, 'Bearer  ', `Token ${fuzzKey}`]),
        );
      const b = body(r, method.toUpperCase());
      if (b.contentType !== undefined && b.contentType !== '') headers.set('Content-Type', b.contentType);
      if (b.raw !== undefined && chance(0.03))
        headers.set('Content-Length', pick(['0', '1', '999999999999', '-1', 'abc']));
      const sent: Sent = {
        method,
        path: p,
        keyKind,
        bodyKind: b.kind,
        contentType: headers.get('Content-Type'),
      };
      let req: Request;
      try {
        req = new Request(`http://127.0.0.1:4173${p}`, { method, headers, body: b.raw });
      } catch (e) {
        failures.push(
          `#${i} could not build the request (test bug): ${describe(sent)}: ${(e as Error).message}`,
        );
        return;
      }
      let res: Response;
      try {
        res = await router.handle(req, ctx);
      } catch (e) {
        failures.push(
          `#${i} exception escaped the router: ${describe(sent)}: ${(e as Error).stack ?? String(e)}`,
        );
        return;
      }
      stats.statuses.set(res.status, (stats.statuses.get(res.status) ?? 0) + 1);
      const fail = (why: string) => failures.push(`#${i} ${why}: ${describe(sent)}`);
      if (
        !res.headers.get('X-RateLimit-Limit') ||
        !res.headers.get('X-RateLimit-Remaining') ||
        !res.headers.get('X-RateLimit-Reset')
      )
        fail(`status ${res.status} without rate-limit headers`);
      if (res.headers.get('X-Served-By') !== 'timbre') fail('no X-Served-By');
      if (res.status >= 200 && res.status < 300) {
        stats.ok++;
        // Authorization holds: without a valid key only public routes succeed; a narrow key only in its scope.
        const found = router.match(req.method, new URL(req.url).pathname);
        const scope = found && found !== 'method' ? found.route.scope : 'unmatched';
        if ((keyKind === 'none' || keyKind === 'garbage') && scope !== null)
          fail(`2xx without a valid key on a route with scope ${String(scope)}`);
        if (keyKind === 'narrow' && scope !== null && scope !== 'any' && scope !== 'voices:read')
          fail(`2xx for a key without scope ${String(scope)}`);
        if ((res.headers.get('Content-Type') ?? '').startsWith('text/event-stream')) {
          stats.sse++;
          await res.body?.cancel();
          return;
        }
        // Speech routes answer audio bytes.
        if (/^(audio\/|application\/octet-stream)/.test(res.headers.get('Content-Type') ?? '')) {
          stats.audio++;
          if (!(await res.arrayBuffer()).byteLength) fail('2xx audio body is empty');
          return;
        }
        const text = await res.text();
        let data: Record<string, unknown> = {};
        try {
          data = JSON.parse(text) as Record<string, unknown>;
        } catch {
          fail(`2xx body is not JSON: ${text.slice(0, 100)}`);
        }
        // Writes that succeeded may change the library or the key table: note what they touched.
        const url = new URL(req.url);
        const segs = url.pathname.replace(/\/$/, '').split('/');
        const last = decodeURIComponent(segs.at(-1) ?? '');
        const m = method.toUpperCase();
        if (/^\/api\/(voices|favorites)\/[^/]+\/?$/.test(url.pathname) && m !== 'GET' && m !== 'HEAD')
          touchedVoices.add(last);
        if (url.pathname.startsWith('/api/voices/import'))
          for (const id of (data.ids as string[] | undefined) ?? []) touchedVoices.add(id);
        if (/^\/api\/api-keys\/[^/]+\/?$/.test(url.pathname) && m !== 'GET' && m !== 'HEAD')
          touchedKeys.add(last);
        if (/^\/api\/api-keys\/?$/.test(url.pathname) && m === 'POST') createdKeys.add(data.id as string);
        if (typeof data.job_id === 'string') jobIds.push(data.job_id);
        return;
      }
      if (!ALLOWED_ERRORS.has(res.status)) fail(`undocumented status ${res.status}`);
      const text = await res.text();
      try {
        const parsed = JSON.parse(text) as { error?: { code?: unknown; message?: unknown } };
        const code = parsed.error?.code;
        if (typeof code !== 'string' || typeof parsed.error?.message !== 'string')
          fail(`error body without code/message strings: ${text.slice(0, 200)}`);
        else if (ERROR_STATUS[code] !== res.status) fail(`code ${code} does not match status ${res.status}`);
        if (res.status === 500) fail(`internal error: ${text.slice(0, 200)}`);
      } catch {
        fail(`error body is not JSON: ${text.slice(0, 200)}`);
      }
    }

    const t0 = Date.now();
    for (let i = 0; i < REQUESTS; i += BATCH) {
      // A new minute now and then, so the per-minute limits do not turn most of the run into 429s.
      if ((i / BATCH) % 6 === 5) env.clock.t += 60_000;
      await Promise.all(Array.from({ length: Math.min(BATCH, REQUESTS - i) }, (_, j) => one(i + j)));
    }
    const ms = Date.now() - t0;

    // A burst from a fresh key limited to 3 per minute (the corpus may have revoked the others): past
    // its limit it must get a documented 429.
    const burst = await ctx.keys.create({
      name: 'burst',
      scopes: ['voices:read'],
      limits: { 'voices:read': 3 },
      now: env.clock.t,
    });
    createdKeys.add(burst.key.id);
    for (let k = 0; k < 5; k++) {
      const res = await router.handle(
        new Request('http://127.0.0.1:4173/api/favorites', { headers: { 'X-API-Key': burst.secret } }),
        ctx,
      );
      stats.statuses.set(res.status, (stats.statuses.get(res.status) ?? 0) + 1);
      if (k === 4) {
        expect(res.status).toBe(429);
        expect(Number(res.headers.get('Retry-After'))).toBeGreaterThan(0);
        expect(((await res.json()) as { error: { code: string } }).error.code).toBe('rate_limited');
      } else await res.body?.cancel();
    }

    // Let fire-and-forget writes (last_used_at) and instant jobs settle.
    await new Promise((r) => setTimeout(r, 100));
    for (let n = 0; n < 100 && ctx.jobs.stats().running > 0; n++) await new Promise((r) => setTimeout(r, 20));

    const summary = `seed ${SEED}: ${REQUESTS} requests in ${ms} ms; 2xx ${stats.ok} (SSE ${stats.sse}, audio ${stats.audio}); statuses ${JSON.stringify(Object.fromEntries([...stats.statuses].sort((a, b) => a[0] - b[0])))}`;
    if (failures.length)
      throw new Error(
        `FUZZ FAILED (reproduce with FUZZ_SEED=${SEED}): ${failures.length} failures\n${failures.slice(0, 15).join('\n')}\n${summary}`,
      );
    console.log(summary);

    // The corpus reached every kind of outcome.
    // (501 only while some route is still planned.)
    for (const s of [
      200,
      400,
      401,
      403,
      404,
      405,
      413,
      415,
      429,
      ...(IMPLEMENTED.length < ROUTES.length ? [501] : []),
    ])
      expect(stats.statuses.get(s) ?? 0, `${summary}\nno ${s} seen`).toBeGreaterThan(0);

    // Nothing leaked: event-stream subscribers, running jobs.
    expect(ctx.bus.size).toBe(0);
    expect(ctx.jobs.stats().running).toBe(0);

    // The voice library changed only where a 2xx write said it did.
    const voicesAfter = new Map((await env.db.getAll('voices')).map((v) => [v.id, v]));
    for (const [id, v] of voicesBefore) {
      if (touchedVoices.has(id)) continue;
      expect(voicesAfter.get(id), `seed ${SEED}: voice ${id} changed without a successful write`).toEqual(v);
    }
    for (const id of voicesAfter.keys())
      if (!voicesBefore.has(id))
        expect(touchedVoices.has(id), `seed ${SEED}: voice ${id} appeared without a successful import`).toBe(
          true,
        );
    expect(voicesAfter.size).toBeGreaterThanOrEqual(54);
    for (const p of ['af_heart', 'bm_lewis', 'zm_yunxi']) expect(voicesAfter.get(p)?.kind).toBe('preset');

    // The key table likewise; last_used_at is the only field plain use may change.
    const strip = (k: ApiKeyRecord) => ({ ...k, last_used_at: null });
    const keysAfter = new Map((await env.db.getAll('apiKeys')).map((k) => [k.id, k]));
    for (const [id, k] of keysBefore) {
      if (touchedKeys.has(id)) continue;
      expect(keysAfter.has(id), `seed ${SEED}: key ${id} vanished without a successful DELETE`).toBe(true);
      expect(strip(keysAfter.get(id)!), `seed ${SEED}: key ${id} changed without a successful PATCH`).toEqual(
        strip(k),
      );
    }
    for (const id of keysAfter.keys())
      if (!keysBefore.has(id))
        expect(createdKeys.has(id), `seed ${SEED}: key ${id} appeared without a successful POST`).toBe(true);
    expect(keysAfter.has(fuzzKeyId)).toBe(true);
    // Keys created by the fuzz hold no more than the fuzz key itself.
    for (const id of createdKeys) {
      const k = keysAfter.get(id);
      if (k) for (const s of k.scopes) expect(SCOPES).toContain(s);
    }
  },
);
