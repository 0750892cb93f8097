// The clip library in IndexedDB (fake-indexeddb): newest first without audio, rename, delete + restore,
// and a full disk reported as StorageFullError with nothing written.
import 'fake-indexeddb/auto';
import { afterEach, describe, expect, it } from 'vitest';
import { openTimbreDB } from '../../src/lib/storage/db';
import { ClipNameError, ClipStore } from '../../src/lib/storage/clips';
import { type ClipRecord } from '../../src/lib/storage/records';
import { NotFoundError, StorageFullError } from '../../src/lib/storage/errors';
import { encodeWav, decodeWav } from '../../src/lib/dsp/wav';

let n = 0;
async function store() {
  return new ClipStore(await openTimbreDB(`clips-${process.pid}-${++n}`));
}

function clip(seconds: number, name = 'Take'): Omit<ClipRecord, 'id' | 'created_at' | 'updated_at'> {
  const rate = 8000;
  const samples = new Float32Array(Math.round(seconds * rate)).map((_, i) => Math.sin(i / 10) * 0.5);
  const wav = encodeWav(samples, rate);
  return {
    name,
    source: 'recording',
    duration: samples.length / rate,
    sample_rate: rate,
    channels: 1,
    audio: wav.buffer.slice(wav.byteOffset, wav.byteOffset + wav.byteLength) as ArrayBuffer,
  };
}

const realPut = IDBObjectStore.prototype.put;
afterEach(() => {
  IDBObjectStore.prototype.put = realPut;
});

describe('ClipStore', () => {
  it('lists newest first without the audio, and gets the audio back intact', async () => {
    const s = await store();
    const a = await s.add(clip(0.5, 'first'), 1000);
    const b = await s.add(clip(0.25, 'second'), 2000);
    const list = await s.list();
    expect(list.map((c) => c.name)).toEqual(['second', 'first']);
    expect(list[0]).not.toHaveProperty('audio');
    expect(list[0]!.bytes).toBe(44 + 2000 * 2);
    expect(list[1]!.duration).toBe(0.5);
    const got = await s.get(a.id);
    const wav = decodeWav(new Uint8Array(got!.audio));
    expect(wav.samples.length).toBe(4000);
    expect(wav.sampleRate).toBe(8000);
    expect(b.id).not.toBe(a.id);
  });

  it('renames (trimmed), refuses an empty name and an unknown id', async () => {
    const s = await store();
    const a = await s.add(clip(0.1), 1000);
    const r = await s.rename(a.id, '  Intro  ', 5000);
    expect(r.name).toBe('Intro');
    expect(r.updated_at).toBe(5000);
    expect((await s.get(a.id))!.name).toBe('Intro');
    await expect(s.rename(a.id, '   ')).rejects.toBeInstanceOf(ClipNameError);
    await expect(s.rename('nope', 'x')).rejects.toBeInstanceOf(NotFoundError);
  });

  it('delete hands the record back and restore puts it back unchanged', async () => {
    const s = await store();
    const a = await s.add(clip(0.2, 'gone'), 1000);
    await s.add(clip(0.2, 'stays'), 2000);
    const removed = await s.delete(a.id);
    expect((await s.list()).map((c) => c.name)).toEqual(['stays']);
    await s.restore(removed);
    const back = await s.get(a.id);
    expect(back!.created_at).toBe(1000);
    expect(back!.audio.byteLength).toBe(removed.audio.byteLength);
    expect((await s.list()).map((c) => c.name)).toEqual(['stays', 'gone']);
    await expect(s.delete('nope')).rejects.toBeInstanceOf(NotFoundError);
  });

  it('a full disk is a StorageFullError and stores nothing', async () => {
    const s = await store();
    IDBObjectStore.prototype.put = function (
      this: IDBObjectStore,
      ...args: Parameters<IDBObjectStore['put']>
    ) {
      if (this.name === 'clips') throw new DOMException('The quota has been exceeded.', 'QuotaExceededError');
      return realPut.apply(this, args);
    };
    await expect(s.add(clip(0.1, 'big'))).rejects.toBeInstanceOf(StorageFullError);
    IDBObjectStore.prototype.put = realPut;
    expect(await s.list()).toEqual([]);
  });
});
