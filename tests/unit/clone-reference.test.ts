// Reference checks on synthetic signals: SNR estimate, clipping, non-speech share, pieces and averaging.
import { describe, expect, it } from 'vitest';
import {
  averageEmbeddings,
  clippedFraction,
  estimateSnrDb,
  pieces,
  qualityChecks,
  requireSpeech,
  speechOnly,
} from '../../src/lib/clone/reference';
import { mulberry32 } from './test-utils';

const SR = 22050;

/** Syllable-like bursts (a 180 Hz tone with a 4 Hz envelope) with short pauses, `seconds` long. */
function speechLike(seconds: number, amp = 0.3): Float32Array {
  const x = new Float32Array(seconds * SR);
  for (let i = 0; i < x.length; i++) {
    const t = i / SR;
    const env = Math.max(0, Math.sin(2 * Math.PI * 2 * t)) ** 2;
    x[i] = amp * env * (Math.sin(2 * Math.PI * 180 * t) + 0.5 * Math.sin(2 * Math.PI * 360 * t));
  }
  return x;
}

function withNoise(x: Float32Array, rms: number, seed = 1): Float32Array {
  const r = mulberry32(seed);
  return x.map((v) => v + rms * Math.sqrt(3) * (2 * r() - 1));
}

describe('quality checks', () => {
  it('SNR: clean speech-like audio scores high, the same with strong noise low', () => {
    const clean = speechLike(10);
    const noisy = withNoise(clean, 0.1);
    expect(estimateSnrDb(withNoise(clean, 0.0005), SR)).toBeGreaterThan(30);
    expect(estimateSnrDb(noisy, SR)).toBeLessThan(15);
    const c = qualityChecks([{ samples: noisy, speech: noisy }], SR, 1);
    expect(c.warnings.map((w) => w.code)).toContain('noisy');
    const ok = qualityChecks([{ samples: withNoise(clean, 0.0005), speech: clean }], SR, 1);
    expect(ok.warnings.map((w) => w.code)).not.toContain('noisy');
  });

  it('clipping: flat tops at full scale are counted, a clean peak is not', () => {
    const x = speechLike(5, 0.45);
    // A sine's rounded top touches its peak for a sample or two only: far below the warning limit.
    expect(clippedFraction(x)).toBeLessThan(1e-3);
    expect(qualityChecks([{ samples: x, speech: x }], SR, 1).warnings.map((w) => w.code)).not.toContain(
      'clipping',
    );
    const clipped = x.map((v) => Math.max(-1, Math.min(1, v * 4)));
    expect(clippedFraction(clipped)).toBeGreaterThan(0.01);
    const c = qualityChecks([{ samples: clipped, speech: clipped }], SR, 1);
    expect(c.warnings.map((w) => w.code)).toContain('clipping');
  });

  it('mostly non-speech (music, silence) is warned about; under 3 s of speech throws', () => {
    const all = speechLike(20);
    const speech = all.subarray(0, 4 * SR);
    const c = qualityChecks([{ samples: all, speech }], SR, 1);
    expect(c.non_speech_fraction).toBeCloseTo(0.8, 2);
    expect(c.warnings.map((w) => w.code)).toEqual(expect.arrayContaining(['non_speech', 'short']));
    expect(() => requireSpeech(2.9)).toThrow(/at least 3 s/);
    expect(() => requireSpeech(3.1)).not.toThrow();
  });

  it('speech regions are cut out and split into ~10 s pieces; a short tail joins the last piece', () => {
    const x = new Float32Array(40 * SR).map((_, i) => i);
    const s = speechOnly(x, SR, [
      { start: 1, end: 2 },
      { start: 5, end: 30 },
    ]);
    expect(s.length).toBe(26 * SR);
    expect(s[0]).toBe(SR);
    expect(s[SR]).toBe(5 * SR);
    const p = pieces(s, SR);
    expect(p.map((q) => q.length / SR)).toEqual([10, 10, 6]);
    expect(pieces(new Float32Array(22 * SR), SR).map((q) => q.length / SR)).toEqual([10, 12]);
    expect(pieces(new Float32Array(25 * SR), SR).map((q) => q.length / SR)).toEqual([10, 10, 5]);
  });

  it('embeddings average with weights', () => {
    const e = averageEmbeddings([Float32Array.of(0, 2), Float32Array.of(4, 6)], [3, 1]);
    expect(Array.from(e)).toEqual([1, 3]);
  });
});
