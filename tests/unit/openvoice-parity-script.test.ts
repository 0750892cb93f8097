// `npm run parity -- <dir>` (scripts/parity.mjs): JSON on stdout, exit 0 only on a pass — on the committed
// fixture it passes; on a copy whose reference audio was altered, or whose checkpoint was cut short, it
// does not.
import { spawn } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '..', '..');
const FIXTURE = join(ROOT, 'tests', 'fixtures', 'openvoice-v2-tiny');
const temp = mkdtempSync(join(tmpdir(), 'timbre-parity-'));
afterAll(() => rmSync(temp, { recursive: true, force: true }));

function runScript(dir: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(ROOT, 'scripts', 'parity.mjs'), dir], { cwd: ROOT });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d));
    child.stderr.on('data', (d: Buffer) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

function copyFixture(name: string): string {
  const dir = join(temp, name);
  cpSync(FIXTURE, dir, { recursive: true });
  return dir;
}

describe('scripts/parity.mjs', () => {
  it('passes on the fixture: exit 0 and the JSON of the comparison', async () => {
    const r = await runScript(FIXTURE);
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(Object.keys(out).sort()).toEqual(['audio_max_abs', 'pass', 'se_max_abs', 'spec_max_abs']);
    expect(out.pass).toBe(true);
    expect(out.spec_max_abs).toBeLessThan(1e-4);
    expect(out.se_max_abs).toBeLessThan(1e-4);
    expect(out.audio_max_abs).toBeLessThan(1e-3);
  }, 120_000);

  it('fails (exit 1) when the reference audio differs by 0.01 somewhere', async () => {
    const dir = copyFixture('altered');
    const file = join(dir, 'converted.f32');
    const b = readFileSync(file);
    const f = new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
    f[40_000] = f[40_000]! + 0.01;
    writeFileSync(file, new Uint8Array(f.buffer));
    const r = await runScript(dir);
    expect(r.code).toBe(1);
    const out = JSON.parse(r.stdout);
    expect(out.pass).toBe(false);
    expect(out.audio_max_abs).toBeGreaterThan(9e-3);
    expect(out.spec_max_abs).toBeLessThan(1e-4);
  }, 120_000);

  it('fails (exit 2) with the error in its JSON when the checkpoint is truncated', async () => {
    const dir = copyFixture('truncated');
    truncateSync(join(dir, 'checkpoint.pth'), 4_000_000);
    const r = await runScript(dir);
    expect(r.code).toBe(2);
    const out = JSON.parse(r.stdout);
    expect(out.pass).toBe(false);
    expect(out.error.name).toBe('CheckpointError');
  }, 120_000);
});
