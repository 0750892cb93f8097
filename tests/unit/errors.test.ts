// The one error table (src/lib/core/errors.ts) and the one job-error policy (api/errors.ts jobError): every
// name in the table keeps its kind through each reviver and toApiError, and one failed job answers the same
// status on every route that runs jobs.
import { describe, expect, it } from 'vitest';
import { ERROR_KINDS, errorKind, type ErrorKind } from '../../src/lib/core/errors';
import {
  CancelledError,
  EngineCrashedError,
  EngineUnavailableError,
  reviveError,
} from '../../src/lib/core/run';
import { ApiError, jobError, toApiError, type ErrorCode } from '../../src/lib/api/errors';
import { reviveModelError } from '../../src/lib/models/types';
import { reviveFormatError } from '../../src/lib/codec/formats';
import { isQuotaError } from '../../src/lib/storage/errors';
import { createApiContext, type ApiContext } from '../../src/lib/api/context';
import { createRouter } from '../../src/lib/api/routes';
import type { JobRecord } from '../../src/lib/storage/records';
import { FACTS, setup } from './helpers';
import { caller, ERROR_STATUS, errorOf, HIGH_LIMITS, makeWav } from './test-utils';

/** The table as it stands, written out so that changing any name's kind fails here. */
const EXPECTED: Record<ErrorKind, string[]> = {
  cancelled: ['CancelledError', 'AbortError'],
  bad_request: [
    'TtsParamError',
    'MixFormulaError',
    'UnsupportedLanguageError',
    'LexiconError',
    'DesignError',
    'FormatOptionError',
    'UnsupportedFormatError',
    'DecodeError',
    'AnalysisInputError',
    'AsrParamError',
    'UnknownAsrModelError',
    'WordTimestampsUnavailableError',
    'WavFormatError',
    'CheckpointError',
    'OpenVoiceConfigError',
    'OpenVoiceWeightsError',
    'TooLittleSpeechError',
    'CloneParamError',
    'ConverterGraphError',
  ],
  not_found: ['UnknownVoiceError'],
  engine_unavailable: ['EngineUnavailableError'],
  engine_crashed: ['EngineCrashedError'],
  model_not_installed: ['ModelNotInstalledError'],
  model_loading: ['ModelLoadingError'],
  storage_full: ['StorageFullError', 'QuotaExceededError', 'NS_ERROR_DOM_QUOTA_REACHED'],
  internal_error: [],
};

const REVIVERS = { reviveError, reviveModelError, reviveFormatError };

/** An error as it arrives from a worker or port: a plain object with a name and a message. */
const wire = (name: string, message = `${name}: what went wrong`) => ({ name, message });

describe('the error table', () => {
  it('holds exactly the names and kinds above', () => {
    const expected = new Map(
      Object.entries(EXPECTED).flatMap(([kind, names]) => names.map((n) => [n, kind] as const)),
    );
    expect(new Map(ERROR_KINDS)).toEqual(expected);
  });

  it('kinds are API error codes with their documented status', () => {
    for (const kind of new Set(ERROR_KINDS.values()))
      expect(new ApiError(kind, 'x').status, kind).toBe(ERROR_STATUS[kind]);
  });

  for (const [name, kind] of ERROR_KINDS)
    it(`${name} is ${kind} as thrown, through each reviver and as an API error`, () => {
      expect(errorKind(wire(name))).toBe(kind);
      const direct = toApiError(wire(name));
      expect(direct.code).toBe(kind);
      expect(direct.status).toBe(ERROR_STATUS[kind]);
      for (const [which, revive] of Object.entries(REVIVERS)) {
        const revived = revive(wire(name));
        expect(revived, which).toBeInstanceOf(Error);
        expect(errorKind(revived), which).toBe(kind);
        const api = toApiError(revived);
        expect(api.code, which).toBe(kind);
        expect(api.message, which).toBe(direct.message);
        if (kind === 'cancelled') expect(revived, which).toBeInstanceOf(CancelledError);
        if (kind === 'engine_unavailable') expect(revived, which).toBeInstanceOf(EngineUnavailableError);
        if (name === 'EngineCrashedError') expect(revived, which).toBeInstanceOf(EngineCrashedError);
      }
    });

  it('messages: a cancel and storage-full in their own words, the others as thrown', () => {
    expect(toApiError(wire('AbortError', 'The user aborted a request.')).message).toBe(
      'The job was cancelled.',
    );
    expect(toApiError(wire('QuotaExceededError', 'quota hit')).message).toBe(
      'Browser storage is full: quota hit. Nothing was stored.',
    );
    expect(toApiError(wire('QuotaExceededError', '')).message).toBe(
      'Browser storage is full: quota exceeded. Nothing was stored.',
    );
    expect(toApiError(wire('StorageFullError', 'Not enough browser storage to save x.')).message).toBe(
      'Not enough browser storage to save x.',
    );
    expect(toApiError(wire('UnknownVoiceError', 'No voice "x".')).message).toBe('No voice "x".');
    expect(toApiError(wire('EngineCrashedError', 'The engine stopped.')).message).toBe('The engine stopped.');
  });

  it('names outside the table (or inherited from Object) are internal errors that never show their text', () => {
    for (const name of [
      'Error',
      'TypeError',
      'EncodeError',
      'UnknownOperationError',
      'toString',
      'constructor',
    ]) {
      expect(errorKind(wire(name)), name).toBeUndefined();
      const api = toApiError(wire(name, 'secret detail'));
      expect(api.code, name).toBe('internal_error');
      expect(api.message, name).not.toMatch(/secret/);
    }
    for (const v of [null, undefined, 'text', 42, {}]) {
      expect(errorKind(v)).toBeUndefined();
      expect(toApiError(v).code).toBe('internal_error');
    }
  });

  it('isQuotaError: the browser quota names of the table, not our StorageFullError', () => {
    for (const name of EXPECTED.storage_full)
      expect(isQuotaError(wire(name)), name).toBe(name !== 'StorageFullError');
    expect(isQuotaError(wire('DecodeError'))).toBe(false);
    expect(isQuotaError(null)).toBe(false);
  });
});

describe('jobError', () => {
  const job = (error?: { code: string; message: string }): JobRecord => ({
    id: 'job_1',
    op: 'tts.generate',
    status: error?.code === 'cancelled' ? 'cancelled' : 'failed',
    progress: null,
    error,
    owner: 'k',
    created_at: 0,
    updated_at: 0,
  });

  it('keeps every API error code, with the job id', () => {
    for (const code of Object.keys(ERROR_STATUS)) {
      const e = jobError(job({ code, message: `m ${code}` }), 'fallback');
      expect(e.code).toBe(code);
      expect(e.status).toBe(ERROR_STATUS[code]);
      expect(e.message).toBe(`m ${code}`);
      expect(e.details).toEqual({ job_id: 'job_1' });
    }
  });

  it('anything else is an internal error; no message means the fallback', () => {
    for (const code of ['bogus', 'toString', '__proto__', ''])
      expect(jobError(job({ code, message: 'm' }), 'f').code, code).toBe('internal_error');
    const none = jobError(job(), 'The render failed.');
    expect(none.code).toBe('internal_error');
    expect(none.message).toBe('The render failed.');
  });
});

describe('one failed job, one status on every route', () => {
  /** An engine whose speech, transcription and compute jobs all fail with `thrown`. */
  function failingEngine(thrown: () => unknown): ApiContext['engine'] {
    return {
      hostCount: async () => 1,
      run: (async (op: string) => {
        if (op === 'tts.generate' || op === 'asr.transcribe' || op === 'system.compute') throw thrown();
        throw new Error(`unexpected op ${op}`);
      }) as ApiContext['engine']['run'],
    };
  }

  async function routes(thrown: () => unknown) {
    const base = await setup();
    const ctx = createApiContext({
      db: base.db,
      engine: failingEngine(thrown),
      system: async () => FACTS,
      version: 'test',
    });
    const call = caller(createRouter(), ctx);
    const key = (await ctx.keys.create({ name: 'k', limits: HIGH_LIMITS, now: Date.now() })).secret;
    const wav = makeWav({ seconds: 1, sampleRate: 16000 });
    const form = () => {
      const f = new FormData();
      f.set('file', new Blob([wav], { type: 'audio/wav' }), 'a.wav');
      f.set('model', 'whisper-1');
      return f;
    };
    return {
      speech: () =>
        call('POST', '/api/generate/preset', { key, body: { text: 'Hello there.', voice_id: 'af_heart' } }),
      transcription: () => call('POST', '/v1/audio/transcriptions', { key, raw: form() }),
      benchmark: () => call('POST', '/api/system/benchmark', { key, body: { seconds: 0.1, size: 16 } }),
    };
  }

  /** What the engine throws → the code every route answers. */
  const CASES: [string, () => unknown, ErrorCode][] = [
    ...(Object.keys(ERROR_STATUS) as ErrorCode[]).map(
      (code) =>
        [`ApiError ${code}`, () => new ApiError(code, `failed: ${code}`), code] as [
          string,
          () => unknown,
          ErrorCode,
        ],
    ),
    ...[...ERROR_KINDS].map(
      ([name, kind]) =>
        [name, () => Object.assign(new Error(`failed: ${name}`), { name }), kind] as [
          string,
          () => unknown,
          ErrorCode,
        ],
    ),
    ['an unnamed error', () => new Error('secret detail'), 'internal_error'],
    ['a code no route knows', () => new ApiError('bogus' as ErrorCode, 'failed: bogus'), 'internal_error'],
  ];

  it.each(CASES)('%s', async (_, thrown, code) => {
    const r = await routes(thrown);
    for (const [route, send] of Object.entries(r)) {
      const err = await errorOf(await send(), ERROR_STATUS[code], code);
      expect(err.job_id, route).toMatch(/^job_/);
      expect(err.message, route).not.toMatch(/secret/);
    }
  });
});
