// The rules of speaking ahead in Speak (src/lib/ui/speak-ahead.ts): after a pause in typing, cancelled by
// every edit, keyed by what the model hears, only on an idle engine, stopping between runs for a job.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { AHEAD_DEBOUNCE_MS, aheadKey, SpeakAhead } from '../../src/lib/ui/speak-ahead';
import type { SynthesizeParams, TtsAheadArgs } from '../../src/lib/tts/contract';

const base: SynthesizeParams = {
  text: 'Timbre speaks while you are still typing, and you hear it at once. The rest follows.',
  voice: 'af_heart',
  speed: 1,
  volume_db: 0,
  pause_ms: 250,
};

/** An engine double that records tts.ahead calls and finishes each when told (runs: 2 per sentence). */
function engine(runs = 2) {
  const calls: TtsAheadArgs[] = [];
  const pending: (() => void)[] = [];
  let jobs = 0;
  const ahead = new SpeakAhead({
    idle: () => jobs === 0,
    speak: (args) =>
      new Promise((resolve) => {
        calls.push(args);
        pending.push(() => resolve({ runs, made: true }));
      }),
  });
  const finish = async () => {
    pending.shift()?.();
    await vi.advanceTimersByTimeAsync(0);
  };
  return { ahead, calls, finish, setJobs: (n: number) => (jobs = n) };
}

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe('aheadKey: what the model hears of the first sentence', () => {
  it('changes with the first sentence, voice, speed, language and lexicon voice, not with volume, pause or later text', () => {
    const k = aheadKey(base);
    expect(k).not.toBeNull();
    expect(aheadKey({ ...base, voice: 'bf_emma' })).not.toBe(k);
    expect(aheadKey({ ...base, speed: 1.2 })).not.toBe(k);
    expect(aheadKey({ ...base, language: 'en-gb' })).not.toBe(k);
    expect(aheadKey({ ...base, voice_id: 'my-voice' })).not.toBe(k);
    expect(aheadKey({ ...base, text: base.text.replace('once', 'last') })).not.toBe(k);
    expect(aheadKey({ ...base, volume_db: 6, pause_ms: 900 })).toBe(k);
    expect(aheadKey({ ...base, text: base.text.replace('The rest follows.', 'Then more.') })).toBe(k);
    expect(aheadKey({ ...base, text: '   ' })).toBeNull();
    expect(aheadKey({ ...base, voice: new Float32Array(4) })).toBeNull();
  });
});

describe('SpeakAhead', () => {
  it('speaks the first sentence only after a pause in typing, each run in turn, then is ready', async () => {
    const { ahead, calls, finish } = engine();
    ahead.edit(base);
    await vi.advanceTimersByTimeAsync(AHEAD_DEBOUNCE_MS - 50);
    expect(calls).toHaveLength(0);
    expect(ahead.state).toBe('waiting');
    await vi.advanceTimersByTimeAsync(50);
    expect(calls.map((c) => c.run)).toEqual([0]);
    expect(calls[0]).toMatchObject({ text: base.text, voice: 'af_heart', speed: 1 });
    expect(ahead.state).toBe('speaking');
    await finish();
    expect(calls.map((c) => c.run)).toEqual([0, 1]);
    await finish();
    expect(ahead.state).toBe('ready');
    // Nothing more: no call for a third run, and Generate takes it.
    await vi.advanceTimersByTimeAsync(5 * AHEAD_DEBOUNCE_MS);
    expect(calls).toHaveLength(2);
    expect(ahead.claim({ ...base, volume_db: 4 })).toBe('ready');
  });

  it('restarts the pause on every edit: only the text as it stands when typing stops is spoken', async () => {
    const { ahead, calls } = engine();
    for (const n of [10, 20, 30, 40, 50, base.text.length]) {
      ahead.edit({ ...base, text: base.text.slice(0, n) });
      await vi.advanceTimersByTimeAsync(AHEAD_DEBOUNCE_MS / 2);
    }
    expect(calls).toHaveLength(0);
    await vi.advanceTimersByTimeAsync(AHEAD_DEBOUNCE_MS);
    expect(calls).toHaveLength(1);
    expect(calls[0]!.text).toBe(base.text);
  });

  it('keeps what it made through edits the model does not hear, and drops it when the settings change', async () => {
    const { ahead, calls, finish } = engine();
    ahead.edit(base);
    await vi.advanceTimersByTimeAsync(AHEAD_DEBOUNCE_MS);
    await finish();
    await finish();
    expect(ahead.state).toBe('ready');
    ahead.edit({ ...base, volume_db: -3, text: `${base.text} And more.` });
    await vi.advanceTimersByTimeAsync(2 * AHEAD_DEBOUNCE_MS);
    expect(calls).toHaveLength(2);
    expect(ahead.state).toBe('ready');

    ahead.edit({ ...base, speed: 1.3 });
    expect(ahead.state).toBe('waiting'); // the old one is dropped at once
    expect(ahead.claim(base)).toBe('none'); // Generate with the old settings gets nothing from it
    ahead.edit({ ...base, speed: 1.3 });
    await vi.advanceTimersByTimeAsync(AHEAD_DEBOUNCE_MS);
    expect(calls.at(-1)).toMatchObject({ speed: 1.3, run: 0 });
  });

  it('drops a result that comes back after the text changed, and a cleared form speaks nothing', async () => {
    const { ahead, calls, finish } = engine();
    ahead.edit(base);
    await vi.advanceTimersByTimeAsync(AHEAD_DEBOUNCE_MS);
    ahead.edit({ ...base, text: 'Something else entirely.' });
    await finish(); // the call in flight ends: it is not continued with run 1
    expect(calls.map((c) => c.run)).toEqual([0]);
    expect(ahead.state).toBe('waiting');
    ahead.edit(null);
    await vi.advanceTimersByTimeAsync(3 * AHEAD_DEBOUNCE_MS);
    expect(calls).toHaveLength(1);
    expect(ahead.state).toBe('none');
  });

  it('never competes with a job: waits for an idle engine, and stops between runs when a job comes', async () => {
    const { ahead, calls, finish, setJobs } = engine(3);
    setJobs(1);
    ahead.edit(base);
    await vi.advanceTimersByTimeAsync(4 * AHEAD_DEBOUNCE_MS);
    expect(calls).toHaveLength(0);
    setJobs(0);
    await vi.advanceTimersByTimeAsync(AHEAD_DEBOUNCE_MS);
    expect(calls.map((c) => c.run)).toEqual([0]);
    setJobs(1); // a preview starts while run 0 is made
    await finish();
    expect(calls).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(3 * AHEAD_DEBOUNCE_MS);
    expect(calls).toHaveLength(1);
    setJobs(0); // it ended: the rest of the first sentence goes on
    await vi.advanceTimersByTimeAsync(AHEAD_DEBOUNCE_MS);
    expect(calls.map((c) => c.run)).toEqual([0, 1]);
  });

  it('stops when Generate claims it: the generation makes the rest, nothing more is spoken ahead', async () => {
    const { ahead, calls, finish, setJobs } = engine(3);
    ahead.edit(base);
    await vi.advanceTimersByTimeAsync(AHEAD_DEBOUNCE_MS);
    expect(ahead.claim(base)).toBe('speaking');
    setJobs(1); // the generation waits behind run 0
    await finish();
    setJobs(0);
    await vi.advanceTimersByTimeAsync(5 * AHEAD_DEBOUNCE_MS);
    expect(calls.map((c) => c.run)).toEqual([0]);
    expect(ahead.state).toBe('ready');
    // Before the pause ended: nothing was spoken, and nothing will be.
    const other = engine();
    other.ahead.edit(base);
    await vi.advanceTimersByTimeAsync(AHEAD_DEBOUNCE_MS / 2);
    expect(other.ahead.claim(base)).toBe('none');
    await vi.advanceTimersByTimeAsync(3 * AHEAD_DEBOUNCE_MS);
    expect(other.calls).toHaveLength(0);
  });

  it('gives up quietly when the engine fails (Generate reports the error itself)', async () => {
    let n = 0;
    const ahead = new SpeakAhead({
      idle: () => true,
      speak: async () => {
        n++;
        throw new Error('Kokoro-82M is not installed');
      },
    });
    ahead.edit(base);
    await vi.advanceTimersByTimeAsync(AHEAD_DEBOUNCE_MS);
    expect(n).toBe(1);
    expect(ahead.state).toBe('none');
    await vi.advanceTimersByTimeAsync(3 * AHEAD_DEBOUNCE_MS);
    expect(n).toBe(1);
  });
});
