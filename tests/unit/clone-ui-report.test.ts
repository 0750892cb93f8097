import { describe, expect, it } from 'vitest';
import {
  installLine,
  pickReleaseFiles,
  releaseBase,
  reportRows,
  verdict,
  warningAdvice,
} from '../../src/lib/clone/ui-report';
import type { CloneChecks } from '../../src/lib/clone/types';

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
