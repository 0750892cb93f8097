// The Clips view driven as a person would: record ~3 s from Chromium's fake microphone, open the clip,
// drag a region on the waveform, trim, save, and after a reload the stored WAV is the region's length and
// decodes; cut with the Delete key and undo with Ctrl+Z; delete + Undo; a dropped and a chosen WAV land in
// the library with their own length and rate; and auto-stop on silence ends a recording from a fake-device
// file that is a tone followed by silence.
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { FAKE_MEDIA, launch, openStudio } from './browser';
import { decodeWav, encodeWav } from '../../src/lib/dsp/wav';
import { integratedLoudness } from '../../src/lib/dsp/loudness';

vi.setConfig({ testTimeout: 180_000, hookTimeout: 180_000 });

let browser: Browser;
let page: Page;

function sine(seconds: number, rate: number, amp = 0.5): Float32Array {
  return Float32Array.from(
    { length: Math.round(seconds * rate) },
    (_, i) => amp * Math.sin((2 * Math.PI * 440 * i) / rate),
  );
}

interface StoredClip {
  id: string;
  name: string;
  duration: number;
  sample_rate: number;
  source: string;
  /** Frames in the WAV's data chunk (16-bit mono). */
  frames: number;
  /** Seconds of the audio as the browser decodes it. */
  decoded: number;
}

/** The clips as stored in IndexedDB, each WAV measured and decoded by the browser. */
function stored(p: Page): Promise<StoredClip[]> {
  return p.evaluate(async () => {
    const t = globalThis as unknown as {
      __timbre: { db: { getAll(s: string): Promise<Record<string, unknown>[]> } };
    };
    const all = await t.__timbre.db.getAll('clips');
    const out = [];
    for (const c of all) {
      const audio = c.audio as ArrayBuffer;
      const v = new DataView(audio);
      const dataBytes = v.getUint32(40, true);
      const ctx = new OfflineAudioContext(1, 1, 48000);
      const buf = await ctx.decodeAudioData(audio.slice(0));
      out.push({
        id: c.id as string,
        name: c.name as string,
        duration: c.duration as number,
        sample_rate: c.sample_rate as number,
        source: c.source as string,
        frames: dataBytes / 2,
        decoded: buf.duration,
      });
    }
    return out;
  });
}

const listed = (p: Page) =>
  p.getByTestId('clip').evaluateAll((els) =>
    els.map((e) => ({
      id: e.getAttribute('data-id') ?? '',
      duration: Number(e.getAttribute('data-duration')),
      name: e.querySelector('[data-testid="clip-open"]')?.textContent?.trim() ?? '',
    })),
  );

/** The region drawn on the editor's waveform (wavesurfer renders into a shadow root). */
const regionCount = (p: Page) =>
  p
    .getByTestId('clip-editor')
    .getByTestId('waveform')
    .evaluate((el) => el.querySelector('div')?.shadowRoot?.querySelectorAll('[part~="region"]').length ?? 0);

async function selection(p: Page): Promise<{ start: number; end: number }> {
  return {
    start: Number(await p.getByTestId('sel-start').inputValue()),
    end: Number(await p.getByTestId('sel-end').inputValue()),
  };
}

beforeAll(async () => {
  browser = await launch([...FAKE_MEDIA, '--autoplay-policy=no-user-gesture-required']);
  const context = await browser.newContext({ acceptDownloads: true, viewport: { width: 1280, height: 900 } });
  page = await openStudio(context, '#/clips');
  await page.getByRole('heading', { name: 'Clips', level: 1 }).waitFor();
});

afterAll(async () => {
  await browser?.close();
});

describe('Clips view', () => {
  it('is in the navigation, after Transcribe', async () => {
    const nav = await page.locator('nav[aria-label="Main"] li a').allTextContents();
    expect(nav.indexOf('Clips')).toBeGreaterThan(nav.indexOf('Transcribe'));
  });

  let recorded = '';

  it('records about 3 s from the fake microphone into the library', async () => {
    await page.getByTestId('record-start').click();
    await page.locator('[data-testid="recorder"][data-state="recording"]').waitFor({ timeout: 30_000 });
    // Record until the recorder's own clock passes 3 s.
    await page.waitForFunction(
      () => {
        const t = document.querySelector('[data-testid="record-time"]')?.textContent ?? '';
        const [m, s] = t.split(':').map(Number);
        return (m ?? 0) * 60 + (s ?? 0) >= 3;
      },
      null,
      { timeout: 30_000 },
    );
    await page.getByTestId('record-stop').click();
    await page.getByTestId('clip').first().waitFor({ timeout: 30_000 });
    const [clip] = await listed(page);
    recorded = clip!.id;
    console.log(`[clips] recorded ${clip!.duration.toFixed(3)} s`);
    expect(clip!.name).toBe('Recording 1');
    expect(clip!.duration).toBeGreaterThan(2.7);
    expect(clip!.duration).toBeLessThan(4.5);
    const [rec] = await stored(page);
    expect(rec!.source).toBe('recording');
    expect(rec!.frames / rec!.sample_rate).toBeCloseTo(rec!.duration, 3);
    // The fake device's beeps are in it: the clip is not silent (peak well above the floor).
    const peak = await page.evaluate(async (id) => {
      const t = globalThis as unknown as {
        __timbre: { db: { get(s: string, k: string): Promise<{ audio: ArrayBuffer }> } };
      };
      const v = new Int16Array((await t.__timbre.db.get('clips', id)).audio.slice(44));
      return v.reduce((m, x) => Math.max(m, Math.abs(x)), 0) / 32768;
    }, recorded);
    expect(peak).toBeGreaterThan(0.05);
  });

  let region = { start: 0, end: 0 };

  it('selects a region by dragging on the waveform, trims, saves, and the reloaded clip is that long', async () => {
    await page.locator(`[data-testid="clip"][data-id="${recorded}"] [data-testid="clip-open"]`).click();
    const editor = page.getByTestId('clip-editor');
    await editor.waitFor();
    await expect.poll(() => editor.getByTestId('wave-play').isEnabled(), { timeout: 30_000 }).toBe(true);
    const box = (await editor.getByTestId('waveform').boundingBox())!;
    const y = box.y + box.height / 2;
    await page.mouse.move(box.x + box.width * 0.2, y);
    await page.mouse.down();
    await page.mouse.move(box.x + box.width * 0.4, y, { steps: 8 });
    await page.mouse.move(box.x + box.width * 0.7, y, { steps: 8 });
    await page.mouse.up();
    await expect.poll(() => page.getByTestId('sel-start').inputValue()).not.toBe('');
    expect(await regionCount(page)).toBe(1);
    region = await selection(page);
    const clipSeconds = (await listed(page))[0]!.duration;
    // About 20 %–70 % of the clip, as dragged.
    expect(region.start / clipSeconds).toBeGreaterThan(0.12);
    expect(region.end / clipSeconds).toBeLessThan(0.78);
    expect(region.end - region.start).toBeGreaterThan(0.3 * clipSeconds);

    await page.getByTestId('edit-trim').click();
    await expect.poll(() => page.getByTestId('sel-length').textContent()).toContain('Nothing selected');
    expect(await regionCount(page)).toBe(0);
    await page.getByTestId('edit-save').click();
    await expect
      .poll(async () => (await listed(page)).find((c) => c.id === recorded)?.duration)
      .toBeCloseTo(region.end - region.start, 1);

    await page.reload();
    await page.waitForFunction(() => '__timbre' in globalThis);
    await page.getByTestId('clip').first().waitFor();
    const rec = (await stored(page)).find((c) => c.id === recorded)!;
    const want = region.end - region.start;
    expect(Math.abs(rec.duration - want)).toBeLessThan(0.02);
    expect(Math.abs(rec.frames / rec.sample_rate - want)).toBeLessThan(0.02);
    expect(Math.abs(rec.decoded - want)).toBeLessThan(0.02);
    console.log(
      `[clips] region ${region.start.toFixed(3)}–${region.end.toFixed(3)} s (${want.toFixed(3)} s); stored ${rec.duration.toFixed(3)} s, decoded ${rec.decoded.toFixed(3)} s`,
    );
  });

  it('cuts the selected region with the Delete key and undoes it with Ctrl+Z', async () => {
    await page.locator(`[data-testid="clip"][data-id="${recorded}"] [data-testid="clip-open"]`).click();
    const editor = page.getByTestId('clip-editor');
    await expect.poll(() => editor.getByTestId('wave-play').isEnabled(), { timeout: 30_000 }).toBe(true);
    const before = (await listed(page)).find((c) => c.id === recorded)!.duration;
    await page.getByTestId('sel-start').fill('0.2');
    await page.getByTestId('sel-start').press('Tab');
    await page.getByTestId('sel-end').fill('0.7');
    await page.getByTestId('sel-end').press('Tab');
    await expect.poll(() => regionCount(page)).toBe(1);
    // A key typed in a field does nothing: Delete in the field edits the number, not the audio.
    await page.getByTestId('sel-end').press('Delete');
    expect(await page.getByTestId('edit-undo').isDisabled()).toBe(true);
    await editor.getByTestId('waveform').focus();
    await page.keyboard.press('Delete');
    await expect.poll(() => page.getByTestId('edit-undo').textContent()).toContain('Undo cut');
    expect(await page.getByTestId('edit-save').isEnabled()).toBe(true);
    // Save as new: the cut clip is 0.5 s shorter, the original unchanged.
    await page.getByTestId('edit-save-new').click();
    await expect.poll(async () => (await listed(page)).length).toBe(2);
    const all = await stored(page);
    const cutClip = all.find((c) => c.source === 'edit')!;
    expect(Math.abs(cutClip.duration - (before - 0.5))).toBeLessThan(0.002);
    expect(all.find((c) => c.id === recorded)!.duration).toBeCloseTo(before, 3);
    // Ctrl+Z in the editor (now on the new clip) brings the cut part back.
    await editor.getByTestId('waveform').focus();
    await page.keyboard.press('Control+z');
    await expect.poll(() => page.getByTestId('edit-redo').isEnabled()).toBe(true);
    await page.getByTestId('edit-save').click();
    await expect
      .poll(async () => (await stored(page)).find((c) => c.id === cutClip.id)?.duration)
      .toBeCloseTo(before, 2);
    await page.keyboard.press('Control+Shift+z');
    await expect.poll(() => page.getByTestId('edit-redo').isDisabled()).toBe(true);
  });

  it('deletes a clip and brings it back with Undo', async () => {
    const before = await listed(page);
    await page.locator(`[data-testid="clip"][data-id="${recorded}"] [data-testid="clip-delete"]`).click();
    await expect.poll(async () => (await listed(page)).length).toBe(before.length - 1);
    expect((await stored(page)).some((c) => c.id === recorded)).toBe(false);
    await page.getByRole('button', { name: 'Undo', exact: true }).click();
    await expect.poll(async () => (await listed(page)).length).toBe(before.length);
    const back = (await stored(page)).find((c) => c.id === recorded)!;
    expect(Math.abs(back.duration - (region.end - region.start))).toBeLessThan(0.02);
  });

  it('imports a dropped WAV and a chosen one at their own length and rate', async () => {
    const dropped = Buffer.from(encodeWav(sine(1.25, 22050), 22050));
    await page.evaluate(
      ({ b64 }) => {
        const dt = new DataTransfer();
        dt.items.add(
          new File([Uint8Array.from(atob(b64), (c) => c.charCodeAt(0))], 'tone.wav', { type: 'audio/wav' }),
        );
        const el = document.querySelector('[data-testid="clips-drop"]')!;
        el.dispatchEvent(new DragEvent('dragover', { dataTransfer: dt, bubbles: true, cancelable: true }));
        el.dispatchEvent(new DragEvent('drop', { dataTransfer: dt, bubbles: true, cancelable: true }));
      },
      { b64: dropped.toString('base64') },
    );
    await expect
      .poll(async () => (await listed(page)).some((c) => c.name === 'tone'), { timeout: 30_000 })
      .toBe(true);
    await page.getByTestId('clips-drop-file').setInputFiles({
      name: 'chosen.wav',
      mimeType: 'audio/wav',
      buffer: Buffer.from(encodeWav(sine(0.8, 16000), 16000)),
    });
    await expect
      .poll(async () => (await listed(page)).some((c) => c.name === 'chosen'), { timeout: 30_000 })
      .toBe(true);
    const all = await stored(page);
    const tone = all.find((c) => c.name === 'tone')!;
    expect(tone.source).toBe('import');
    expect(tone.sample_rate).toBe(22050);
    expect(tone.frames).toBe(Math.round(1.25 * 22050));
    const chosen = all.find((c) => c.name === 'chosen')!;
    expect(chosen.sample_rate).toBe(16000);
    expect(chosen.frames).toBe(12800);
    // Not audio: refused with a message naming the file, nothing stored.
    const n = all.length;
    await page.getByTestId('clips-drop-file').setInputFiles({
      name: 'notes.wav',
      mimeType: 'audio/wav',
      buffer: Buffer.from('these are not samples'),
    });
    await page.getByText('Could not import "notes.wav"', { exact: false }).waitFor({ timeout: 30_000 });
    expect((await stored(page)).length).toBe(n);
  });

  it('renames a clip (Enter keeps, Escape drops) and downloads it as WAV with all its samples', async () => {
    const row = page.locator(`[data-testid="clip"][data-id="${recorded}"]`);
    await row.getByRole('button', { name: /^Rename/ }).click();
    await page.getByTestId('clip-rename-input').fill('Intro take');
    await page.getByTestId('clip-rename-input').press('Enter');
    await expect
      .poll(async () => (await stored(page)).find((c) => c.id === recorded)?.name)
      .toBe('Intro take');
    await row.getByRole('button', { name: /^Rename/ }).click();
    await page.getByTestId('clip-rename-input').fill('Never mind');
    await page.getByTestId('clip-rename-input').press('Escape');
    await page.getByTestId('clip-rename-input').waitFor({ state: 'detached' });
    expect((await stored(page)).find((c) => c.id === recorded)?.name).toBe('Intro take');

    await row.getByRole('button', { name: /^Download/ }).click();
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      row.locator('[data-format="wav16"]').click(),
    ]);
    expect(download.suggestedFilename()).toBe('Intro take.wav');
    const path = await download.path();
    const wav = decodeWav(new Uint8Array(await readFile(path)));
    const rec = (await stored(page)).find((c) => c.id === recorded)!;
    expect(wav.samples.length).toBe(rec.frames);
    expect(wav.sampleRate).toBe(rec.sample_rate);
  });

  it('offers a file from the inbox (file handler / share target) and imports it', async () => {
    const b64 = Buffer.from(encodeWav(sine(0.6, 24000), 24000)).toString('base64');
    await page.evaluate(async (b64) => {
      const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
      // As the share target leaves it (src/lib/storage/inbox.ts).
      const cache = await caches.open('timbre-inbox');
      await cache.put(
        '/inbox/1700000000000-0/shared.wav',
        new Response(bytes, {
          headers: {
            'Content-Type': 'audio/wav',
            'X-Received-At': '1700000000000',
            'Content-Length': String(bytes.length),
          },
        }),
      );
    }, b64);
    await page.reload();
    await page.waitForFunction(() => '__timbre' in globalThis);
    await page.getByRole('button', { name: 'Import shared.wav' }).click();
    await expect
      .poll(async () => (await listed(page)).some((c) => c.name === 'shared'), { timeout: 30_000 })
      .toBe(true);
    const rec = (await stored(page)).find((c) => c.name === 'shared')!;
    expect(rec.sample_rate).toBe(24000);
    expect(rec.frames).toBe(14400);
    await page.getByTestId('clips-inbox').waitFor({ state: 'detached' });
    expect(await page.evaluate(async () => (await (await caches.open('timbre-inbox')).keys()).length)).toBe(
      0,
    );
  });

  it('normalises a clip to −16 LUFS and saves it (measured again in Node)', async () => {
    const tone = (await listed(page)).find((c) => c.name === 'tone')!;
    await page.locator(`[data-testid="clip"][data-id="${tone.id}"] [data-testid="clip-open"]`).click();
    const editor = page.getByTestId('clip-editor');
    await expect.poll(() => editor.getByTestId('wave-play').isEnabled(), { timeout: 30_000 }).toBe(true);
    await page.getByTestId('normalize-target').selectOption('-16');
    await page.getByTestId('edit-normalize').click();
    await expect.poll(() => page.getByTestId('edit-undo').textContent()).toContain('Undo normalise loudness');
    await page.getByTestId('edit-save').click();
    // Not the button's state: it is disabled while the write is still under way. The toast follows the write.
    await page.getByText('Saved "tone".').waitFor({ timeout: 30_000 });
    expect(await page.getByTestId('edit-save').isDisabled()).toBe(true);
    const b64 = await page.evaluate(async (id) => {
      const t = globalThis as unknown as {
        __timbre: { db: { get(s: string, k: string): Promise<{ audio: ArrayBuffer }> } };
      };
      const bytes = new Uint8Array((await t.__timbre.db.get('clips', id)).audio);
      let bin = '';
      for (const b of bytes) bin += String.fromCharCode(b);
      return btoa(bin);
    }, tone.id);
    const wav = decodeWav(new Uint8Array(Buffer.from(b64, 'base64')));
    expect(wav.samples.length).toBe(Math.round(1.25 * 22050));
    const before = integratedLoudness(sine(1.25, 22050), 22050);
    const after = integratedLoudness(wav.samples, wav.sampleRate);
    console.log(`[clips] loudness ${before.toFixed(2)} → ${after.toFixed(2)} LUFS`);
    expect(Math.abs(after + 16)).toBeLessThan(0.2);

    // Leaving with unsaved edits: the notice brings them back.
    await page.getByTestId('edit-fade-in').click();
    await page.getByRole('button', { name: 'Close the editor' }).click();
    await page.getByTestId('clip-editor').waitFor({ state: 'detached' });
    await page.getByRole('button', { name: 'Reopen edits' }).click();
    await expect.poll(() => page.getByTestId('edit-undo').textContent()).toContain('Undo fade in');
    expect(await page.getByTestId('edit-save').isEnabled()).toBe(true);
  });
});

describe('auto-stop on silence', () => {
  let other: Browser;
  afterAll(async () => {
    await other?.close();
  });

  it('stops a recording by itself after the chosen silence once the sound ended', async () => {
    // The fake device plays this file instead of its beeps: 1.5 s of tone, then 12 s of silence.
    const dir = await mkdtemp(join(tmpdir(), 'timbre-clips-'));
    const file = join(dir, 'tone-then-silence.wav');
    const rate = 48000;
    const samples = new Float32Array(Math.round(13.5 * rate));
    samples.set(sine(1.5, rate, 0.4));
    await writeFile(file, encodeWav(samples, rate));
    other = await launch([...FAKE_MEDIA, `--use-file-for-fake-audio-capture=${file}%noloop`]);
    const p = await openStudio(await other.newContext(), '#/clips');
    await p.getByRole('heading', { name: 'Clips', level: 1 }).waitFor();
    await p.getByTestId('auto-stop').check();
    await p.getByTestId('auto-stop-seconds').fill('1.5');
    await p.getByTestId('record-start').click();
    await p.locator('[data-testid="recorder"][data-state="recording"]').waitFor({ timeout: 30_000 });
    // No Stop pressed: the recorder goes back to idle on its own and the clip is saved.
    await p.locator('[data-testid="recorder"][data-state="idle"]').waitFor({ timeout: 60_000 });
    await p.getByTestId('clip').first().waitFor({ timeout: 30_000 });
    const [clip] = await stored(p);
    // What was heard: some of the tone (recording starts a moment after capture), then silence until the
    // watch saw 1.5 s of it: the clip ends in 1.5 s (±0.5 s for the 100 ms blocks and the encoder's tail)
    // of silence, well before the file's 13.5 s.
    const shape = await p.evaluate(async (id) => {
      const t = globalThis as unknown as {
        __timbre: { db: { get(s: string, k: string): Promise<{ audio: ArrayBuffer; sample_rate: number }> } };
      };
      const rec = await t.__timbre.db.get('clips', id);
      const v = new Int16Array(rec.audio.slice(44));
      let last = -1;
      let peak = 0;
      for (let i = 0; i < v.length; i++) {
        const a = Math.abs(v[i]!) / 32768;
        peak = Math.max(peak, a);
        if (a > 0.05) last = i;
      }
      return { peak, tail: (v.length - 1 - last) / rec.sample_rate };
    }, clip!.id);
    console.log(
      `[clips] auto-stop: clip ${clip!.duration.toFixed(2)} s, silent tail ${shape.tail.toFixed(2)} s`,
    );
    expect(shape.peak).toBeGreaterThan(0.2);
    expect(shape.tail).toBeGreaterThan(1.0);
    expect(shape.tail).toBeLessThan(2.5);
    expect(clip!.duration).toBeLessThan(8);
  });
});
