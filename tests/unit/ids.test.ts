import { describe, expect, it } from 'vitest';
import { newId } from '../../src/lib/core/ids';

describe('newId', () => {
  it('is the prefix, an underscore and 16 hex digits', () => {
    expect(newId('clip')).toMatch(/^clip_[0-9a-f]{16}$/);
    expect(newId('job')).toMatch(/^job_[0-9a-f]{16}$/);
  });

  it('does not repeat over many draws', () => {
    const ids = new Set(Array.from({ length: 10000 }, () => newId('x')));
    expect(ids.size).toBe(10000);
  });
});
