import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createHash } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import type { Browser, Page } from 'playwright-core';
import { createKeyInPage, launch, openStudio, pageFetch } from './browser';
import { mulberry32 } from '../../src/lib/core/random';

let browser: Browser;
let server: Server;
let origin = '';
const requests: { url: string; range: string | undefined }[] = [];

/** Deterministic bytes, so the test knows their hash. */
function bytes(n: number, seed: number): Buffer {
  const b = Buffer.alloc(n);
  const next = mulberry32(seed);
  for (let i = 0; i < n; i++) b[i] = Math.floor(next() * 256);
  return b;
}
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

const WEIGHTS = bytes(3_000_000, 7);
const A = bytes(200_000, 11);
const B = bytes(150_000, 13);

function entry(id: string, files: { path: string; data: Buffer; url: string }[]) {
  return {
    id,
    name: `Test ${id}`,
    kind: 'denoise',
    languages: [],
    sample_rate: 16000,
    licence: 'test data',
    source: ['local test server'],
    files: files.map((f) => ({ path: f.path, bytes: f.data.length, sha256: sha(f.data), url: f.url })),
  };
}

const CATALOG = {
  version: 1,
  models: [
    entry('test-resume', [{ path: 'weights.bin', data: WEIGHTS, url: 'resume/weights.bin' }]),
    entry('test-slow', [{ path: 'weights.bin', data: WEIGHTS, url: 'slow/weights.bin' }]),
    entry('test-corrupt', [{ path: 'weights.bin', data: WEIGHTS, url: 'corrupt/weights.bin' }]),
    entry('test-import', [
      { path: 'a.bin', data: A, url: 'missing/a.bin' },
      { path: 'sub/b.bin', data: B, url: 'missing/b.bin' },
    ]),
  ],
};

let dropped = false;

function serve(req: IncomingMessage, res: ServerResponse) {
  const cors = {
    'Access-Control-Allow-Origin': '*',
    'Access-Control-Allow-Headers': 'Range',
    'Access-Control-Expose-Headers': 'Content-Range, Content-Length, Accept-Ranges',
  };
  if (req.method === 'OPTIONS') {
    res.writeHead(204, cors);
    res.end();
    return;
  }
  const url = req.url ?? '/';
  requests.push({ url, range: req.headers.range });
  if (url === '/catalog.json') {
    res.writeHead(200, { ...cors, 'Content-Type': 'application/json' });
    res.end(JSON.stringify(CATALOG));
  } else if (url === '/resume/weights.bin') {
    const m = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
    if (m) {
      const from = Number(m[1]);
      res.writeHead(206, {
        ...cors,
        'Content-Length': String(WEIGHTS.length - from),
        'Content-Range': `bytes ${from}-${WEIGHTS.length - 1}/${WEIGHTS.length}`,
        'Accept-Ranges': 'bytes',
      });
      res.end(WEIGHTS.subarray(from));
    } else if (!dropped) {
      // The first download dies a little past the middle of the file.
      dropped = true;
      res.writeHead(200, { ...cors, 'Content-Length': String(WEIGHTS.length), 'Accept-Ranges': 'bytes' });
      res.write(WEIGHTS.subarray(0, 1_700_000), () => setTimeout(() => res.socket?.destroy(), 50));
    } else {
      res.writeHead(200, { ...cors, 'Content-Length': String(WEIGHTS.length) });
      res.end(WEIGHTS);
    }
  } else if (url === '/slow/weights.bin') {
    // 64 kB every 40 ms (about 5 s for the file), honouring Range, so a reload lands mid-download.
    const m = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
    const from = m ? Number(m[1]) : 0;
    res.writeHead(m ? 206 : 200, {
      ...cors,
      'Content-Length': String(WEIGHTS.length - from),
      'Accept-Ranges': 'bytes',
      ...(m ? { 'Content-Range': `bytes ${from}-${WEIGHTS.length - 1}/${WEIGHTS.length}` } : {}),
    });
    let at = from;
    const timer = setInterval(() => {
      if (res.destroyed) return clearInterval(timer);
      const end = Math.min(at + 65_536, WEIGHTS.length);
      res.write(WEIGHTS.subarray(at, end));
      at = end;
      if (at >= WEIGHTS.length) {
        clearInterval(timer);
        res.end();
      }
    }, 40);
    res.on('close', () => clearInterval(timer));
  } else if (url === '/corrupt/weights.bin') {
    const bad = Buffer.from(WEIGHTS);
    bad[1_234_567] = bad[1_234_567]! ^ 0xff;
    res.writeHead(200, { ...cors, 'Content-Length': String(bad.length) });
    res.end(bad);
  } else {
    res.writeHead(404, cors);
    res.end();
  }
}

beforeAll(async () => {
  browser = await launch();
  server = createServer(serve);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await browser?.close();
  await new Promise((r) => server?.close(() => r(null)));
});

const card = (page: Page, id: string) => page.locator(`[data-model-id="${id}"]`);
const statusOf = async (page: Page, id: string) =>
  (await card(page, id).getByTestId('model-status').textContent())?.trim();

/** Names of files the model manager keeps in OPFS for a model (complete and partial). */
async function opfsFiles(page: Page, id: string): Promise<string[]> {
  return page.evaluate(async (id) => {
    const out: string[] = [];
    const walk = async (dir: FileSystemDirectoryHandle, prefix: string) => {
      for await (const [name, h] of (
        dir as unknown as { entries(): AsyncIterable<[string, FileSystemHandle]> }
      ).entries())
        if (h.kind === 'file') out.push(prefix + name);
        else await walk(h as FileSystemDirectoryHandle, `${prefix}${name}/`);
    };
    try {
      const root = await navigator.storage.getDirectory();
      await walk(await (await root.getDirectoryHandle('models')).getDirectoryHandle(id), '');
    } catch {
      // no folder: nothing stored
    }
    return out;
  }, id);
}

describe('model manager in the browser', () => {
  it('installs the bundled models on first start, verified, and keeps them offline', async () => {
    const context = await browser.newContext();
    const page = await openStudio(context, '#/models', { autoInstallModels: true });
    const bundled = ['kokoro-82m-q8', 'whisper-tiny-q8', 'whisper-base-q8', 'silero-vad-v5'];
    for (const id of bundled)
      await page.waitForFunction(
        (id) =>
          document
            .querySelector(`[data-model-id="${id}"] [data-testid="model-status"]`)
            ?.textContent?.includes('Installed · verified'),
        id,
        { timeout: 180_000 },
      );
    const kokoro = await opfsFiles(page, 'kokoro-82m-q8');
    expect(kokoro).toContain('model.onnx');
    expect(kokoro.filter((f) => f.startsWith('voices/'))).toHaveLength(54);

    await context.setOffline(true);
    await page.reload();
    await page.waitForFunction(() => '__timbre' in globalThis);
    for (const id of bundled) {
      await card(page, id).getByTestId('model-status').waitFor();
      expect(await statusOf(page, id)).toBe('Installed · verified');
    }
    const key = await createKeyInPage(page);
    const r = await pageFetch(page, '/v1/models', { headers: { Authorization: `Bearer ${key}` } });
    expect(r.status).toBe(200);
    const models = (
      r.body as { models: { id: string; installed: boolean; type: string; supports_streaming: boolean }[] }
    ).models;
    for (const id of bundled) expect(models.find((m) => m.id === id)?.installed).toBe(true);
    expect(models.find((m) => m.id === 'kokoro-82m-q8')).toMatchObject({
      type: 'tts',
      supports_streaming: true,
    });
    expect(models.some((m) => !m.installed)).toBe(true); // the optional catalogue is listed as available
    await context.close();
  });

  it('resumes a download after the connection drops, rejects corrupt bytes, and imports from disk', async () => {
    const context = await browser.newContext();
    const page = await openStudio(context, '#/models');
    await page.getByLabel('Catalogue URL').fill(`${origin}/catalog.json`);
    await page.getByRole('button', { name: 'Add catalogue' }).click();
    await card(page, 'test-resume').waitFor();

    // Resume: the first response dies mid-file; the manager asks for the rest with a Range request.
    await card(page, 'test-resume').getByRole('button', { name: 'Install' }).click();
    await page.waitForFunction(
      () =>
        document
          .querySelector('[data-model-id="test-resume"] [data-testid="model-status"]')
          ?.textContent?.includes('Installed · verified'),
      null,
      { timeout: 60_000 },
    );
    const tries = requests.filter((r) => r.url === '/resume/weights.bin');
    expect(tries.length).toBeGreaterThanOrEqual(2);
    const resumed = tries.find((r) => r.range);
    expect(resumed?.range).toMatch(/^bytes=\d+-$/);
    expect(Number(/\d+/.exec(resumed!.range!)![0])).toBeGreaterThan(0);
    expect(await opfsFiles(page, 'test-resume')).toEqual(['weights.bin']);

    // Across a reload: what was downloaded stays in OPFS and the next install asks only for the rest.
    await card(page, 'test-slow').getByRole('button', { name: 'Install' }).click();
    await page.waitForFunction(
      () => {
        const t = document.querySelector('[data-model-id="test-slow"] progress')?.getAttribute('value');
        return Number(t) > 1_000_000;
      },
      null,
      { timeout: 30_000 },
    );
    await page.reload();
    await page.waitForFunction(() => '__timbre' in globalThis);
    await card(page, 'test-slow').getByTestId('model-status').waitFor();
    expect(await statusOf(page, 'test-slow')).toMatch(/^Incomplete: .* kept/);
    await card(page, 'test-slow').getByRole('button', { name: 'Resume' }).click();
    await page.waitForFunction(
      () =>
        document
          .querySelector('[data-model-id="test-slow"] [data-testid="model-status"]')
          ?.textContent?.includes('Installed · verified'),
      null,
      { timeout: 60_000 },
    );
    const slow = requests.filter((r) => r.url === '/slow/weights.bin');
    const resumedFrom = Number(/\d+/.exec(slow.at(-1)?.range ?? '')?.[0] ?? 0);
    expect(resumedFrom).toBeGreaterThan(500_000);

    // Corrupt: refused with a clear message, nothing kept.
    await card(page, 'test-corrupt').getByRole('button', { name: 'Install' }).click();
    const alert = page.getByRole('alert').filter({ hasText: 'Installing Test test-corrupt' });
    await alert.waitFor({ timeout: 60_000 });
    expect(await alert.textContent()).toMatch(/sha-?256/i);
    expect(await statusOf(page, 'test-corrupt')).toBe('Not installed');
    expect(await opfsFiles(page, 'test-corrupt')).toEqual([]);

    // Import from disk: a wrong file is refused, the right ones (matched by name) install verified.
    const input = card(page, 'test-import').getByLabel('Import files for Test test-import');
    await input.setInputFiles([
      { name: 'a.bin', mimeType: 'application/octet-stream', buffer: A },
      { name: 'b.bin', mimeType: 'application/octet-stream', buffer: bytes(150_000, 99) },
    ]);
    const refused = page.getByRole('alert').filter({ hasText: 'Importing Test test-import' });
    await refused.waitFor({ timeout: 30_000 });
    expect(await refused.textContent()).toContain('b.bin');
    // The good file may be kept for the next attempt; the bad one never is, and the model is not installed.
    expect(await statusOf(page, 'test-import')).not.toMatch(/^Installed/);
    expect(await opfsFiles(page, 'test-import')).not.toContain('sub/b.bin');
    await input.setInputFiles([
      { name: 'a.bin', mimeType: 'application/octet-stream', buffer: A },
      { name: 'b.bin', mimeType: 'application/octet-stream', buffer: B },
    ]);
    await page.waitForFunction(
      () =>
        document
          .querySelector('[data-model-id="test-import"] [data-testid="model-status"]')
          ?.textContent?.includes('Installed · verified'),
      null,
      { timeout: 30_000 },
    );
    expect((await opfsFiles(page, 'test-import')).sort()).toEqual(['a.bin', 'sub/b.bin']);
    await context.close();
  });
});
