// Storage full in a real browser (#22): the studio runs in a Chromium profile on its own tmpfs, whose
// size sets the origin's quota (60 % of the disk); a filler database takes what is left. A generation's
// history entry, a voice save and a model install each fail as storage full with nothing half-written,
// reads keep working, and all three work once the filler is deleted.
//
// What this Chromium does, found here: navigator.storage.estimate() reports usage + 1 GiB whatever the
// disk, so the filler writes until the browser refuses; OPFS files are not held to the quota (the disk
// fills, and Chromium then wipes the origin), IndexedDB is; and Cache Storage refuses the Service
// Worker's precache on a disk much under 6 GB, so the disk cannot be smaller (a tmpfs uses memory only
// for what is written). Needs mount (root or CAP_SYS_ADMIN); skipped, saying why, without it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { CHROMIUM, FLAGS, createKeyInPage, openStudio, pageFetch } from './browser';

/**
 * The profile's disk. Chromium enforces an origin quota of 60 % of it (about 3.6 GB), but Cache Storage
 * refuses the Service Worker's precache (the 31 MB ffmpeg core) on disks much under 6 GB, so it cannot be
 * smaller. tmpfs takes memory only for what is written; the filler is deleted and the disk unmounted.
 */
const DISK = '6g';
const TTS = 'kokoro-82m-q8';
/** The model installed under a full disk: 45 MB, fits once the filler is gone. */
const WHISPER = 'whisper-tiny-q8';

/** Why this machine cannot mount a tmpfs (not root, no CAP_SYS_ADMIN), or null when it can. */
function mountProblem(): string | null {
  if (process.platform !== 'linux') return 'tmpfs mounts need Linux';
  const probe = mkdtempSync(join(tmpdir(), 'timbre-quota-probe-'));
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', probe], { stdio: 'pipe' });
    execFileSync('umount', [probe], { stdio: 'pipe' });
    return null;
  } catch (e) {
    const err = (e as { stderr?: Buffer }).stderr?.toString().trim();
    return `mount is not allowed here (needs root or CAP_SYS_ADMIN): ${err || (e as Error).message}`;
  } finally {
    rmSync(probe, { recursive: true, force: true });
  }
}

const why = mountProblem();
if (why) console.warn(`[quota.test] skipped: ${why}`);

let dir = '';
let mounted = false;
let context: BrowserContext | undefined;
let page: Page;
let key = '';

interface Studio {
  models: {
    install(id: string): Promise<unknown>;
    list(): Promise<{ id: string; installed: boolean; partial_bytes: number; bytes_on_disk: number }[]>;
  };
}

const modelStatus = (id: string) =>
  page.evaluate(async (id) => {
    const s = (globalThis as unknown as { __timbre: Studio }).__timbre;
    const m = (await s.models.list()).find((x) => x.id === id)!;
    return { installed: m.installed, partial: m.partial_bytes, onDisk: m.bytes_on_disk };
  }, id);

const install = (id: string) =>
  page.evaluate(async (id) => {
    const s = (globalThis as unknown as { __timbre: Studio }).__timbre;
    try {
      await s.models.install(id);
      return { ok: true, name: '', message: '' };
    } catch (e) {
      return { ok: false, name: (e as Error).name, message: (e as Error).message };
    }
  }, id);

const FILLER_DB = 'quota-filler';

/**
 * Puts values of shrinking sizes (down to `smallest`) into a database of its own until the browser
 * refuses one: the origin's storage then has less than `smallest` bytes left. Returns the bytes written.
 * (OPFS is no filler here: Chromium does not hold a new file's writes to the quota and fills the disk.
 * Past the quota, Chromium sometimes completes a large put without storing it, so a size also ends when
 * the usage stops growing.)
 */
const fill = (smallest: number) =>
  page.evaluate(
    async ({ name, smallest }) => {
      const db = await new Promise<IDBDatabase>((resolve, reject) => {
        const open = indexedDB.open(name, 1);
        open.onupgradeneeded = () => open.result.createObjectStore('fill');
        open.onsuccess = () => resolve(open.result);
        open.onerror = () => reject(open.error);
      });
      const put = (value: Uint8Array) =>
        new Promise<void>((resolve, reject) => {
          const tx = db.transaction('fill', 'readwrite');
          tx.objectStore('fill').put(value, crypto.randomUUID());
          tx.oncomplete = () => resolve();
          tx.onabort = () => reject(tx.error);
        });
      const usage = async () => (await navigator.storage.estimate()).usage ?? 0;
      let written = 0;
      for (const size of [64 << 20, 4 << 20, 256 << 10, 16 << 10, 1 << 10].filter((s) => s >= smallest)) {
        // Random bytes: Chromium compresses IndexedDB values, and would store little of a constant one.
        const full = new Uint8Array(size);
        for (let i = 0; i < size; i += 65536) crypto.getRandomValues(full.subarray(i, i + 65536));
        for (;;) {
          const before = await usage();
          try {
            await put(full);
          } catch (e) {
            if ((e as Error).name !== 'QuotaExceededError') throw e;
            break;
          }
          if ((await usage()) - before < size / 2) break;
          written += size;
        }
      }
      db.close();
      return written;
    },
    { name: FILLER_DB, smallest },
  );

const unfill = () =>
  page.evaluate(
    (name) =>
      new Promise<void>((resolve, reject) => {
        const del = indexedDB.deleteDatabase(name);
        del.onsuccess = () => resolve();
        del.onerror = () => reject(del.error);
      }),
    FILLER_DB,
  );

const RESERVE_DB = 'quota-reserve';

/**
 * A database of its own holding `bytes` of random data, made before the filler: deleting it (a whole
 * database's files go at once, unlike single deletes) then leaves a known room of at least `bytes`,
 * where the filler alone leaves anywhere from 0 to its smallest piece.
 */
const reserve = (bytes: number) =>
  page.evaluate(
    async ({ name, bytes }) => {
      const db = await new Promise<IDBDatabase>((resolve, reject) => {
        const open = indexedDB.open(name, 1);
        open.onupgradeneeded = () => open.result.createObjectStore('r');
        open.onsuccess = () => resolve(open.result);
        open.onerror = () => reject(open.error);
      });
      const value = new Uint8Array(bytes);
      for (let i = 0; i < bytes; i += 65536) crypto.getRandomValues(value.subarray(i, i + 65536));
      await new Promise<void>((resolve, reject) => {
        const tx = db.transaction('r', 'readwrite');
        tx.objectStore('r').put(value, 'r');
        tx.oncomplete = () => resolve();
        tx.onabort = () => reject(tx.error);
      });
      db.close();
    },
    { name: RESERVE_DB, bytes },
  );

const release = () =>
  page.evaluate(
    (name) =>
      new Promise<void>((resolve, reject) => {
        const del = indexedDB.deleteDatabase(name);
        del.onsuccess = () => resolve();
        del.onerror = () => reject(del.error);
      }),
    RESERVE_DB,
  );

const h = () => ({ 'X-API-Key': key });
const designBody = { description: 'a calm older British man, slow and deep', name: 'Quota voice' };
// About 7 s of speech: a 16-bit WAV of some 330 kB, far more than the 64–80 kB left for it below.
const speechBody = {
  text: 'Storage is full, so this generation cannot be kept in the history, though its audio still comes back.',
  voice_id: 'af_heart',
  format: 'wav',
};

async function voiceIds(): Promise<string[]> {
  const r = await pageFetch(page, '/api/voices?limit=500', { headers: h() });
  expect(r.status).toBe(200);
  return (r.body as { voices: { id: string }[] }).voices.map((v) => v.id).sort();
}

async function historyTotal(): Promise<number> {
  const r = await pageFetch(page, '/api/v1/tts/history', { headers: h() });
  expect(r.status).toBe(200);
  return (r.body as { total: number }).total;
}

describe.skipIf(why !== null)(`storage full in Chromium${why ? ` (skipped: ${why})` : ''}`, () => {
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'timbre-quota-'));
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${DISK}`, 'tmpfs', dir]);
    mounted = true;
    context = await chromium.launchPersistentContext(dir, {
      executablePath: CHROMIUM,
      headless: true,
      args: FLAGS,
    });
    // The bundled auto-install stays off (openStudio): the speech model alone is installed, so the test
    // fills less. It comes from the app's own origin like the bundled install.
    page = await openStudio(context);
    expect(await install(TTS)).toEqual({ ok: true, name: '', message: '' });
    key = await createKeyInPage(page, {
      limits: { 'voices:write': 100, 'voices:read': 100, 'clone:create': 100, 'tts:generate': 100 },
    });
  }, 400_000);

  afterAll(async () => {
    await context?.close().catch(() => undefined);
    if (mounted) execFileSync('umount', [dir]);
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('fails a voice save, a history entry and a model install as storage full, then works once freed', async () => {
    const voicesBefore = await voiceIds();
    const historyBefore = await historyTotal();
    expect((await modelStatus(WHISPER)).installed).toBe(false);

    // 64–80 kB left: a job record (well under 1 kB) fits, the generation's WAV (about 330 kB) does not.
    // (The filler alone leaves 0–16 kB, and Chromium holds IndexedDB to its quota only roughly: with
    // that, the job record itself sometimes did not fit, and a short WAV sometimes did.)
    await reserve(64 << 10);
    expect(await fill(16 << 10)).toBeGreaterThan(1 << 30);
    await release();

    // (2) A generation whose history entry cannot be written: 507 storage_full that still carries the
    // audio (the caller loses nothing), and no history entry.
    const speech = await pageFetch(page, '/api/v1/tts', { method: 'POST', headers: h(), body: speechBody });
    expect(speech.status).toBe(507);
    const serr = (speech.body as { error: { code: string; message: string; audio_base64?: string } }).error;
    expect(serr.code).toBe('storage_full');
    expect(serr.message).toMatch(
      /^Not enough browser storage to save this generation to the history\..*The generation was not kept in the history; its audio is in this response\.$/,
    );
    expect(
      Buffer.from(serr.audio_base64 ?? '', 'base64')
        .subarray(0, 4)
        .toString(),
    ).toBe('RIFF');
    expect(await historyTotal()).toBe(historyBefore);
    // Its job settled, though its record (with the audio) did not fit.
    const job = await pageFetch(page, `/api/jobs/${speech.headers['x-job-id']}`, { headers: h() });
    expect(job.body).toMatchObject({ status: 'succeeded' });

    // Less than 1 KB left.
    await fill(1 << 10);

    // (1) A voice save: 507 storage_full, and the list is unchanged.
    const design = await pageFetch(page, '/api/design/create', {
      method: 'POST',
      headers: h(),
      body: designBody,
    });
    expect(design.status).toBe(507);
    const derr = (design.body as { error: { code: string; message: string } }).error;
    expect(derr).toEqual({
      code: 'storage_full',
      message:
        'Not enough browser storage to save the voice "Quota voice". Free space by deleting voices, history or models; nothing was saved.',
    });
    expect(await voiceIds()).toEqual(voicesBefore);

    // (3) A model install: a storage error naming the model, and the model is not installed.
    const failed = await install(WHISPER);
    expect(failed).toMatchObject({ ok: false, name: 'ModelQuotaError' });
    expect(failed.message).toMatch(/Whisper/i);
    // Nothing of it is kept: the first file already did not fit (a later one's partial would be kept for
    // the next install to resume, by design).
    expect(await modelStatus(WHISPER)).toMatchObject({ installed: false, partial: 0 });

    // Space freed: each works.
    await unfill();
    const saved = await pageFetch(page, '/api/design/create', {
      method: 'POST',
      headers: h(),
      body: designBody,
    });
    expect(saved.status).toBe(201);
    const id = (saved.body as { voice_id: string }).voice_id;
    expect(await voiceIds()).toEqual([...voicesBefore, id].sort());

    const spoken = await pageFetch(page, '/api/v1/tts', { method: 'POST', headers: h(), body: speechBody });
    expect(spoken.status).toBe(200);
    expect(spoken.headers['x-history-id']).toMatch(/^gen/);
    expect(await historyTotal()).toBe(historyBefore + 1);

    expect(await install(WHISPER)).toEqual({ ok: true, name: '', message: '' });
    expect(await modelStatus(WHISPER)).toMatchObject({ installed: true, partial: 0 });
  }, 400_000);
});
