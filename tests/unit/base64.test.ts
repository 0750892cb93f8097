import { describe, expect, it } from 'vitest';
import { decodeBase64, encodeBase64 } from '../../src/lib/core/base64';
import { decodeBase64Field } from '../../src/lib/api/http';
import { ApiError } from '../../src/lib/api/errors';
import { mulberry32 } from './test-utils';

function randomBytes(n: number, seed: number) {
  const r = mulberry32(seed);
  return Uint8Array.from({ length: n }, () => Math.floor(r() * 256));
}

/** The ApiError a call throws (fails when it does not throw one). */
function thrown(fn: () => unknown): ApiError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(ApiError);
    return e as ApiError;
  }
  throw new Error('expected an ApiError');
}

describe('encodeBase64 / decodeBase64', () => {
  it('matches Node’s Buffer for every length 0..70 and large inputs (past the 32 KiB chunking)', () => {
    for (const n of [...Array.from({ length: 71 }, (_, i) => i), 0x7fff, 0x8000, 0x8001, 100_000, 300_001]) {
      const bytes = randomBytes(n, n + 1);
      const b64 = encodeBase64(bytes);
      expect(b64).toBe(Buffer.from(bytes).toString('base64'));
      expect(decodeBase64(b64)).toEqual(bytes);
    }
  });

  it('round-trips every byte value', () => {
    const all = Uint8Array.from({ length: 256 }, (_, i) => i);
    expect(decodeBase64(encodeBase64(all))).toEqual(all);
  });

  it('returns null for text that is not base64', () => {
    for (const s of ['!!!!', 'ab$d', 'a', '====a', 'é']) expect(decodeBase64(s), s).toBeNull();
  });

  it('decodes the empty string to no bytes', () => {
    expect(decodeBase64('')).toEqual(new Uint8Array(0));
  });
});

describe('decodeBase64Field', () => {
  const bytes = randomBytes(100, 9);
  const b64 = Buffer.from(bytes).toString('base64');

  it('accepts plain, data-URL, line-wrapped, unpadded and URL-safe base64', () => {
    expect(decodeBase64Field(b64, 'audio', 1000)).toEqual(bytes);
    expect(decodeBase64Field(`data:audio/wav;base64,${b64}`, 'audio', 1000)).toEqual(bytes);
    expect(decodeBase64Field(b64.replace(/.{10}/g, '$&\r\n '), 'audio', 1000)).toEqual(bytes);
    const odd = randomBytes(101, 10);
    const oddB64 = Buffer.from(odd).toString('base64');
    expect(oddB64.endsWith('=')).toBe(true);
    expect(decodeBase64Field(oddB64.replace(/=+$/, ''), 'audio', 1000)).toEqual(odd);
    expect(decodeBase64Field(Buffer.from(bytes).toString('base64url'), 'audio', 1000)).toEqual(bytes);
  });

  it('refuses what is not base64 with 400 naming the field', () => {
    for (const s of [
      'not base64!',
      'abcde',
      'ab=cd',
      'ab+_',
      'abc===',
      '%%%%',
      'data:audio/wav,plain',
      'data:audio/wav;base64',
      '',
      '  \n ',
    ]) {
      const e = thrown(() => decodeBase64Field(s, 'reference_audio', 1000));
      expect(e.code, s).toBe('bad_request');
      expect(e.status).toBe(400);
      expect(e.details.field).toBe('reference_audio');
      expect(e.message).toContain('reference_audio');
    }
  });

  it('refuses a payload larger than the limit with 413 before decoding', () => {
    const e = thrown(() => decodeBase64Field(b64, 'audio', 99));
    expect(e.code).toBe('file_too_large');
    expect(e.status).toBe(413);
    expect(e.details).toMatchObject({ field: 'audio', limit_bytes: 99 });
    expect(decodeBase64Field(b64, 'audio', 100)).toHaveLength(100);
  });

  it('the limit is exact whatever the padding: n bytes pass a limit of n and fail a limit of n - 1', () => {
    for (let n = 1; n <= 40; n++) {
      const data = randomBytes(n, 100 + n);
      for (const enc of [
        Buffer.from(data).toString('base64'),
        Buffer.from(data).toString('base64url'),
        `data:application/octet-stream;base64,${Buffer.from(data).toString('base64')}`,
      ]) {
        expect(decodeBase64Field(enc, 'audio', n), `${n} bytes, ${enc}`).toEqual(data);
        expect(thrown(() => decodeBase64Field(enc, 'audio', n - 1)).code, `${n} bytes, ${enc}`).toBe(
          'file_too_large',
        );
      }
    }
  });
});
