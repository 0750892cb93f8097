import { describe, expect, it } from 'vitest';
import { Emitter } from '../../src/lib/core/emitter';

describe('Emitter', () => {
  it('calls each listener until it unsubscribes', () => {
    const e = new Emitter<number>();
    const seen: number[] = [];
    const off = e.subscribe((n) => seen.push(n));
    e.emit(1);
    off();
    e.emit(2);
    expect(seen).toEqual([1]);
    expect(e.size).toBe(0);
  });

  it('emits to a snapshot: a listener may unsubscribe itself, and a new one waits for the next emit', () => {
    const e = new Emitter<string>();
    const seen: string[] = [];
    const off = e.subscribe((v) => {
      seen.push(`a${v}`);
      off();
      e.subscribe((w) => seen.push(`c${w}`));
    });
    e.subscribe((v) => seen.push(`b${v}`));
    e.emit('1');
    e.emit('2');
    expect(seen).toEqual(['a1', 'b1', 'b2', 'c2']);
  });

  it('a throwing listener does not stop the others', () => {
    const e = new Emitter<number>();
    const seen: number[] = [];
    e.subscribe(() => {
      throw new Error('broken');
    });
    e.subscribe((n) => seen.push(n));
    expect(() => e.emit(3)).not.toThrow();
    expect(seen).toEqual([3]);
  });
});
