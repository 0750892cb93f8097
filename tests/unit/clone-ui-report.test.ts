import { describe, expect, it } from 'vitest';
import {
  cloneStageLine,
  fastSummary,
  installLine,
  precisionOptions,
  pickReleaseFiles,
  releaseBase,
  reportRows,
  verdict,
  warningAdvice,
} from '../../src/lib/ui/clone-report';
import {
  fastIsDefault,
  fastLabel,
  speedMeasurement,
  type CloneChecks,
  type FastConverterInfo,
} from '../../src/lib/clone/contract';

const checks = (over: Partial<CloneChecks> = {}): CloneChecks => ({
  speech_seconds: 12.4,
  total_seconds: 15,
  clipped_fraction: 0,
  snr_db: 35,
  non_speech_fraction: 0.17,
  pieces: 2,
  samples: 1,
  warnings: [],
  ...over,
});

describe('quality report', () => {
  it('is all ok for a clean reference', () => {
    const rows = reportRows(checks());
    expect(rows.every((r) => r.level === 'ok')).toBe(true);
    expect(rows[0]!.value).toBe('12.4 s of 15.0 s');
    expect(verdict(checks()).level).toBe('ok');
  });
  it('marks the rows the warnings name', () => {
    const c = checks({
      clipped_fraction: 0.02,
      warnings: [
        { code: 'clipping', message: '2 % clipped' },
        { code: 'noisy', message: 'noisy' },
      ],
    });
    const rows = Object.fromEntries(reportRows(c).map((r) => [r.label, r.level]));
    expect(rows['Clipping']).toBe('warn');
    expect(rows['Signal to noise']).toBe('warn');
    expect(rows['Not speech']).toBe('ok');
    expect(verdict(c)).toMatchObject({ level: 'warn' });
    expect(verdict(c).text).toContain('2 warnings');
  });
  it('is an error under 3 s of speech', () => {
    const c = checks({ speech_seconds: 2.2 });
    expect(reportRows(c)[0]!.level).toBe('error');
    expect(verdict(c).level).toBe('error');
    expect(verdict(c).text).toContain('2.2 s');
  });
  it('advises on every warning code', () => {
    for (const code of ['clipping', 'noisy', 'non_speech', 'short'] as const)
      expect(warningAdvice({ code, message: '' }).length).toBeGreaterThan(10);
  });
});

describe('install', () => {
  it('tells download bytes in MB and other stages by count', () => {
    expect(installLine({ stage: 'download', done: 12e6, total: 131e6 })).toBe(
      'Downloading the release · 12.0 of 131.0 MB',
    );
    expect(installLine({ stage: 'build', done: 1, total: 2 })).toBe('Building the ONNX graphs · 1 of 2');
    expect(installLine({ stage: 'download', done: 2.5e6, total: 0 })).toBe(
      'Downloading the release · 2.5 MB',
    );
    expect(installLine({ stage: 'store', done: 0, total: 0 })).toBe('Storing the graphs on this device');
    // The int8 variant's steps say themselves.
    expect(installLine({ stage: 'tune', done: 5, total: 6, message: 'Timing the int8 graph' })).toBe(
      'Timing the int8 graph · 5 of 6',
    );
  });
  it('finds config.json and the checkpoint among files in any order', () => {
    const f = pickReleaseFiles([{ name: 'checkpoint.pth' }, { name: 'notes.txt' }, { name: 'config.json' }]);
    expect(f.config?.name).toBe('config.json');
    expect(f.checkpoint?.name).toBe('checkpoint.pth');
    expect(pickReleaseFiles([{ name: 'config.json' }]).checkpoint).toBeUndefined();
  });
  it('ends a release URL with a slash', () => {
    expect(releaseBase(' http://x/y ')).toBe('http://x/y/');
    expect(releaseBase('http://x/y/')).toBe('http://x/y/');
  });
});

describe('converter precision', () => {
  const fast = (over: Partial<FastConverterInfo> = {}): FastConverterInfo => ({
    snr_db: 31.44,
    speedup: 1.58,
    steady: true,
    recommended: true,
    convs: 68,
    calibration_seconds: 9.2,
    made_at: 0,
    ...over,
  });
  it('tells what the int8 variant measured here', () => {
    expect(fastSummary(fast())).toBe('1.6× faster · 31.4 dB from full precision');
  });
  it('words the label from the figures (#21): never "faster" for a slower variant', () => {
    // The case: 0.8× on a loaded machine was labelled "0.8× faster" and made the default.
    expect(fastSummary(fast({ speedup: 0.8 }))).toBe('slower here: not used · 31.4 dB from full precision');
    expect(fastLabel(fast({ speedup: 1.1 }))).toBe('only 1.10× faster here: not used');
    expect(fastLabel(fast({ speedup: 1.15 }))).toBe('1.1× faster');
    expect(fastLabel(fast({ snr_db: 18 }))).toBe('18.0 dB from full precision: not used');
    expect(fastLabel(fast({ steady: false }))).toMatch(/busy: not used until measured again/);
    expect(fastLabel(fast({ steady: undefined }))).toMatch(/busy/);
  });
  it('int8 is the default only when ≥ 1.15× faster on a steady measurement, close to full precision', () => {
    expect(fastIsDefault(fast())).toBe(true);
    expect(fastIsDefault(fast({ speedup: 1.15 }))).toBe(true);
    expect(fastIsDefault(fast({ speedup: 1.14 }))).toBe(false);
    expect(fastIsDefault(fast({ speedup: 0.8 }))).toBe(false);
    expect(fastIsDefault(fast({ snr_db: 24.9 }))).toBe(false);
    expect(fastIsDefault(fast({ steady: false }))).toBe(false);
    // A record from before the check has no `steady`: measured again, not trusted.
    expect(fastIsDefault(fast({ steady: undefined }))).toBe(false);
    expect(fastIsDefault(undefined)).toBe(false);
    expect(precisionOptions(fast({ speedup: 0.8 })).map((o) => o.value)).toEqual(['fp32', 'int8']);
  });
  it('a measurement is steady when each graph’s timings agree, and takes their fastest runs', () => {
    expect(speedMeasurement([1600, 1650], [1000, 1020])).toEqual({ speedup: 1.6, steady: true });
    // The machine got busy during the second float run: not steady, whatever the ratio says.
    expect(speedMeasurement([1600, 2600], [1000, 1010])).toEqual({ speedup: 1.6, steady: false });
    expect(speedMeasurement([800, 810], [1000, 1600]).steady).toBe(false);
    expect(speedMeasurement([1600], [1000]).steady).toBe(false);
  });
  it('offers full precision alone without a variant, and the default first with one', () => {
    expect(precisionOptions(undefined).map((o) => o.value)).toEqual(['fp32']);
    expect(precisionOptions(fast()).map((o) => o.value)).toEqual(['int8', 'fp32']);
    expect(precisionOptions(fast({ recommended: false, snr_db: 18 })).map((o) => o.value)).toEqual([
      'fp32',
      'int8',
    ]);
    expect(precisionOptions(fast())[0]!.label).toBe(
      'Fast (int8) · 1.6× faster · 31.4 dB from full precision',
    );
  });
});

describe('speak and convert progress', () => {
  it('tells each stage, and else the message', () => {
    expect(cloneStageLine('convert', { stage: 'decode', done: 0, total: 1 })).toBe('Reading the recording…');
    expect(cloneStageLine('convert', { stage: 'chunk', done: 2, total: 5 })).toBe(
      'Converting while you listen…',
    );
    expect(cloneStageLine('speak', { stage: 'base', done: 0, total: 1 })).toBe('Preparing the base voice…');
    expect(cloneStageLine('speak', { stage: 'build', done: 0, total: 1, message: 'Building' })).toBe(
      'Building',
    );
    expect(cloneStageLine('convert', { stage: 'other', done: 0, total: 0 })).toBe('Working…');
  });
});
