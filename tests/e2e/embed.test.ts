import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { chromium } from 'playwright-core';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BASE, CHROMIUM, FLAGS, OTHER, createKeyInPage, launch, openStudio, pageFetch } from './browser';

let browser: Browser;
let context: BrowserContext;
let studio: Page;

beforeAll(async () => {
  browser = await launch();
  context = await browser.newContext();
  studio = await openStudio(context);
});
afterAll(async () => {
  await browser?.close();
});

async function openDemo(key: string): Promise<Page> {
  const demo = await context.newPage();
  await demo.goto(`${OTHER}/?timbre=${encodeURIComponent(BASE)}&key=${encodeURIComponent(key)}`);
  await demo.getByRole('button', { name: 'Connect' }).click();
  await demo.waitForFunction(() => document.body.dataset.state !== undefined, null, { timeout: 30_000 });
  return demo;
}

describe('embedding from another origin', () => {
  it('serves a cross-origin page whose origin the key allows', async () => {
    const key = await createKeyInPage(studio, { allowed_origins: [OTHER] });
    const demo = await openDemo(key);
    expect(await demo.evaluate(() => document.body.dataset.state)).toBe('connected');
    expect(await demo.evaluate(() => location.origin)).not.toBe(BASE);

    await demo.getByRole('button', { name: 'List voices' }).click();
    await demo.waitForFunction(() => document.getElementById('out')!.textContent!.includes('"total": 54'));

    // Compute runs in the iframe's own engine worker.
    const r = await demo.evaluate(async () => {
      const c = (
        window as unknown as {
          timbreDemo: {
            client: {
              request(
                m: string,
                p: string,
                b?: unknown,
              ): Promise<{ status: number; body: { result: { gflops: number } } }>;
            };
          };
        }
      ).timbreDemo.client;
      return c.request('POST', '/api/system/benchmark', { seconds: 0.3, size: 64 });
    });
    expect(r.status).toBe(200);
    expect(r.body.result.gflops).toBeGreaterThan(0);

    // Scopes still apply inside the iframe.
    const denied = await demo.evaluate(async () => {
      const c = (
        window as unknown as {
          timbreDemo: { client: { request(m: string, p: string, b?: unknown): Promise<{ status: number }> } };
        }
      ).timbreDemo.client;
      return (await c.request('GET', '/api/nope')).status;
    });
    expect(denied).toBe(404);
    await demo.close();
  });

  it('refuses a page whose origin the key does not allow', async () => {
    const key = await createKeyInPage(studio, { allowed_origins: ['https://elsewhere.example'] });
    const demo = await openDemo(key);
    expect(await demo.evaluate(() => document.body.dataset.state)).toBe('refused');
    expect(await demo.locator('#out').textContent()).toContain(`does not allow embedding from ${OTHER}`);
    await demo.close();
  });

  it('refuses an unknown key', async () => {
    const demo = await openDemo('tmb_0000');
    expect(await demo.evaluate(() => document.body.dataset.state)).toBe('refused');
    expect(await demo.locator('#out').textContent()).toContain('not valid');
    await demo.close();
  });

  it('applies the key scopes to embedded calls', async () => {
    const key = await createKeyInPage(studio, { allowed_origins: [OTHER], scopes: ['system:read'] });
    const demo = await openDemo(key);
    const status = await demo.evaluate(async () => {
      const c = (
        window as unknown as {
          timbreDemo: {
            client: {
              request(m: string, p: string): Promise<{ status: number; body: { error: { code: string } } }>;
            };
          };
        }
      ).timbreDemo.client;
      const r = await c.request('GET', '/api/voices');
      return [r.status, r.body.error.code];
    });
    expect(status).toEqual([403, 'forbidden']);
    await demo.close();
  });
});

// ---------------------------------------------------------------------------------------------------------
// Another *site* (issue #20): the demo page on http://localhost:PORT embeds the studio on 127.0.0.1.

const OTHER_SITE = OTHER.replace('127.0.0.1', 'localhost');

/**
 * Playwright launches Chromium with ThirdPartyStoragePartitioning off (see its chromiumSwitches), so a
 * cross-site frame's storage is simply denied there; a real Chrome partitions it. Chromium keeps the last
 * --disable-features switch: this one repeats Playwright's behaviour switches without that feature.
 */
const PARTITIONED = [
  '--disable-features=AvoidUnnecessaryBeforeUnloadCheckSync,DestroyProfileOnBrowserClose,HttpsUpgrades,HttpsFirstBalancedModeAutoEnable,MediaRouter,PaintHolding,AvoidCorsURLLoaderRestartOnRedirect,OptimizationHints',
];

interface DemoClient {
  request(m: string, p: string, b?: unknown): Promise<{ status: number; body: unknown }>;
}

async function openSiteDemo(ctx: BrowserContext, key: string): Promise<Page> {
  const demo = await ctx.newPage();
  await demo.goto(`${OTHER_SITE}/?timbre=${encodeURIComponent(BASE)}&key=${encodeURIComponent(key)}`);
  return demo;
}

/** Clicks Connect and waits until the connect settles; returns the state, the code and how long it took. */
async function connectDemo(demo: Page): Promise<{ state: string; code: string; ms: number; out: string }> {
  await demo.evaluate(() => delete document.body.dataset.state);
  const t0 = Date.now();
  await demo.getByRole('button', { name: 'Connect' }).click();
  await demo.waitForFunction(() => document.body.dataset.state !== undefined, null, { timeout: 30_000 });
  return demo.evaluate(
    (ms) => ({
      state: document.body.dataset.state!,
      code: document.body.dataset.code ?? '',
      ms: Date.now() - ms,
      out: document.getElementById('out')!.textContent!,
    }),
    t0,
  );
}

function embedFrame(demo: Page) {
  const f = demo.frames().find((x) => x.url().startsWith(`${BASE}/embed.html`));
  if (!f) throw new Error('no embed frame');
  return f;
}

describe('embedding from another site, with storage access', () => {
  let site: BrowserContext;
  let profile: string;
  let studioPage: Page;
  let key: string;
  let keyId: string;
  let voiceId: string;

  beforeAll(async () => {
    // The browser's record of the user's "Allow" (the storage_access content setting a click on the
    // prompt writes). A DevTools override (Browser.setPermission granted, or Playwright's
    // grantPermissions) only answers permission queries: Chromium 156 then kills the frame's renderer
    // when it opens the handle's IndexedDB, as the browser holds no grant.
    profile = mkdtempSync(join(tmpdir(), 'timbre-embed-'));
    mkdirSync(join(profile, 'Default'));
    writeFileSync(
      join(profile, 'Default', 'Preferences'),
      JSON.stringify({
        profile: {
          content_settings: {
            exceptions: {
              storage_access: {
                'http://127.0.0.1:*,http://localhost:*': { setting: 1, last_modified: '13370000000000000' },
              },
            },
          },
        },
      }),
    );
    site = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: [...FLAGS, ...PARTITIONED],
    });
    studioPage = await openStudio(site);
    const made = await studioPage.evaluate(async (origin) => {
      const t = (
        globalThis as unknown as {
          __timbre: {
            keys: { create(x: unknown): Promise<{ secret: string; key: { id: string } }> };
            models: { install(id: string): Promise<unknown> };
          };
        }
      ).__timbre;
      await t.models.install('kokoro-82m-q8');
      const k = await t.keys.create({ name: 'site', now: Date.now(), allowed_origins: [origin] });
      return { secret: k.secret, id: k.key.id };
    }, OTHER_SITE);
    key = made.secret;
    keyId = made.id;
    const now = Date.now();
    const imported = await pageFetch(studioPage, '/api/voices/import', {
      method: 'POST',
      headers: { 'X-API-Key': key },
      body: {
        format: 'timbre-voices',
        version: 1,
        exported_at: now,
        voices: [
          {
            id: 'mix_site',
            name: 'Made in the studio',
            description: 'A mix',
            tags: [],
            language: 'en-us',
            gender: 'female',
            kind: 'mixed',
            model: 'kokoro',
            samples: [],
            recipe: { formula: 'af_heart*0.5 + af_bella*0.5' },
            favorite: false,
            created_at: now,
            updated_at: now,
          },
        ],
      },
    });
    expect(imported.status).toBe(201);
    voiceId = (imported.body as { ids: string[] }).ids[0]!;
  }, 300_000);
  afterAll(async () => {
    await site?.close();
    if (profile) rmSync(profile, { recursive: true, force: true });
  });

  it('asks for consent, then serves the studio’s own keys, library and installed Kokoro', async () => {
    // Before the user's click the permission reads "prompt" (as on a first visit).
    const cdp = await site.newCDPSession(studioPage);
    const { targetInfo } = (await cdp.send('Target.getTargetInfo')) as {
      targetInfo: { browserContextId: string };
    };
    const browserCdp = cdp;
    await browserCdp.send('Browser.setPermission', {
      permission: { name: 'storage-access' },
      setting: 'prompt',
      origin: OTHER_SITE,
      embeddedOrigin: BASE,
      browserContextId: targetInfo.browserContextId,
    } as never);

    const demo = await openSiteDemo(site, key);
    const first = await connectDemo(demo);
    expect(first.state).toBe('refused');
    expect(first.code).toBe('storage_access_required');
    expect(first.ms).toBeLessThan(10_000);
    const frame = embedFrame(demo);
    const button = frame.getByRole('button', { name: 'Use Timbre on this site' });
    expect(await button.isVisible()).toBe(true);

    // The user allows it: the browser's stored grant answers from now on.
    await browserCdp.send('Browser.resetPermissions', {
      browserContextId: targetInfo.browserContextId,
    } as never);
    const modelRequests: string[] = [];
    demo.on('request', (r) => {
      if (new URL(r.url()).pathname.startsWith('/models/')) modelRequests.push(r.url());
    });
    await button.click();
    // The demo connects again on the frame's notice.
    await demo.waitForFunction(() => document.body.dataset.state === 'connected', null, { timeout: 30_000 });
    expect(await demo.locator('#out').textContent()).toContain("the studio's storage");

    const call = (m: string, p: string, b?: unknown) =>
      demo.evaluate(
        ([m, p, b]) =>
          (window as unknown as { timbreDemo: { client: DemoClient } }).timbreDemo.client.request(m!, p!, b),
        [m, p, b] as const,
      );
    const voices = (await call('GET', '/api/voices?limit=100')) as {
      status: number;
      body: { voices: { id: string }[]; total: number };
    };
    expect(voices.status).toBe(200);
    expect(voices.body.total).toBe(55);
    expect(voices.body.voices.map((v) => v.id)).toContain(voiceId);

    const speech = (await call('POST', '/api/generate/preset', {
      text: 'Hello from another site.',
      voice_id: 'af_heart',
      format: 'wav',
    })) as { status: number; body: { audio_base64: string; duration: number } };
    expect(speech.status, JSON.stringify(speech.body).slice(0, 300)).toBe(200);
    expect(speech.body.duration).toBeGreaterThan(0.5);
    expect(speech.body.audio_base64.length).toBeGreaterThan(20_000);
    // Kokoro came from the studio's OPFS through the frame's handle: nothing was downloaded, and the
    // frame's own partition holds no model.
    expect(modelRequests).toEqual([]);
    const partitioned = await frame.evaluate(async () => {
      const root = await navigator.storage.getDirectory();
      const names: string[] = [];
      for await (const k of (root as unknown as { keys(): AsyncIterable<string> }).keys()) names.push(k);
      return names;
    });
    expect(partitioned).not.toContain('models');
    await demo.close();
  });

  it('refuses an origin the key does not list, and a revoked key', async () => {
    const other = await studioPage.evaluate(
      async () =>
        (
          await (
            globalThis as unknown as {
              __timbre: { keys: { create(x: unknown): Promise<{ secret: string }> } };
            }
          ).__timbre.keys.create({
            name: 'elsewhere',
            now: Date.now(),
            allowed_origins: ['https://elsewhere.example'],
          })
        ).secret,
    );
    const demo = await openSiteDemo(site, other);
    const r = await connectDemo(demo);
    expect([r.state, r.code]).toEqual(['refused', 'forbidden']);
    expect(r.out).toContain(`does not allow embedding from ${OTHER_SITE}`);
    await demo.close();

    await studioPage.evaluate(
      async (id) =>
        (
          globalThis as unknown as { __timbre: { keys: { revoke(id: string): Promise<void> } } }
        ).__timbre.keys.revoke(id),
      keyId,
    );
    const again = await openSiteDemo(site, key);
    const r2 = await connectDemo(again);
    expect([r2.state, r2.code]).toEqual(['refused', 'unauthorized']);
    await again.close();
  });
});

describe('the embed never hangs', () => {
  it('settles every connect within 10 s with a specific code: storage blocked, no engine, bad key', async () => {
    // Playwright's own context: third-party storage blocked outright, no prompt to answer.
    const blocked = await browser.newContext();
    const demo = await openSiteDemo(blocked, 'tmb_0000');
    const r = await connectDemo(demo);
    expect([r.state, r.code]).toEqual(['refused', 'storage_access_required']);
    expect(r.ms).toBeLessThan(10_000);
    // The click: nobody answers the browser's prompt (headless), so access is refused; the frame offers
    // the site's own storage, which this browser blocks too.
    const frame = embedFrame(demo);
    const denied = demo.waitForFunction(() =>
      document.getElementById('out')!.textContent!.startsWith('Storage access'),
    );
    await frame.getByRole('button', { name: 'Use Timbre on this site' }).click();
    await denied;
    expect(await demo.locator('#out').textContent()).toContain('storage_access_denied');
    const t0 = Date.now();
    const unavailable = demo.waitForFunction(
      () => document.getElementById('out')!.textContent!.includes('storage_unavailable'),
      null,
      { timeout: 10_000 },
    );
    await frame.getByRole('button', { name: "Use this site's own storage" }).click();
    await unavailable;
    expect(Date.now() - t0).toBeLessThan(10_000);
    await blocked.close();

    // The engine worker cannot start (its script fails to load): same site, so storage is fine.
    // No Service Worker, so the worker's script is fetched (and refused) rather than served from its cache.
    const noEngine = await browser.newContext({ serviceWorkers: 'block' });
    await noEngine.addInitScript(() => localStorage.setItem('timbre:auto-install', 'off'));
    const studioHere = await noEngine.newPage();
    await studioHere.goto(`${BASE}/`);
    await studioHere.waitForFunction(() => '__timbre' in globalThis, null, { timeout: 30_000 });
    const k = await createKeyInPage(studioHere, { allowed_origins: [OTHER] });
    await noEngine.route(/\/assets\/engine\.worker[^/]*\.js/, (route) =>
      route.fulfill({ status: 500, body: '' }),
    );
    const demo2 = await noEngine.newPage();
    await demo2.goto(`${OTHER}/?timbre=${encodeURIComponent(BASE)}&key=${encodeURIComponent(k)}`);
    const r2 = await connectDemo(demo2);
    expect([r2.state, r2.code]).toEqual(['refused', 'engine_unavailable']);
    expect(r2.ms).toBeLessThan(10_000);

    // A bad key.
    const demo3 = await noEngine.newPage();
    await demo3.goto(`${OTHER}/?timbre=${encodeURIComponent(BASE)}&key=tmb_0000`);
    const r3 = await connectDemo(demo3);
    expect([r3.state, r3.code]).toEqual(['refused', 'unauthorized']);
    expect(r3.ms).toBeLessThan(10_000);
    await noEngine.close();
  });
});

describe("the site's own storage, where access is refused", () => {
  it('creates a key there, installs Kokoro with progress and speaks', async () => {
    // Storage partitioned as in a real Chrome, and nobody to answer the browser's prompt (headless).
    const b = await launch(PARTITIONED);
    try {
      const ctx = await b.newContext();
      const demo = await openSiteDemo(ctx, 'tmb_none');
      expect((await connectDemo(demo)).code).toBe('storage_access_required');
      const frame = embedFrame(demo);
      await frame.getByRole('button', { name: 'Use Timbre on this site' }).click();
      await demo.waitForFunction(() =>
        document.getElementById('out')!.textContent!.includes('storage_access_denied'),
      );
      await frame.getByRole('button', { name: "Use this site's own storage" }).click();
      // The frame's key for this site reaches the page, which connects with it.
      await demo.waitForFunction(() => document.body.dataset.state === 'connected', null, {
        timeout: 30_000,
      });
      expect(
        await demo.evaluate(
          () =>
            (window as unknown as { timbreDemo: { client: { storage: string } } }).timbreDemo.client.storage,
        ),
      ).toBe('partition');
      await frame.getByText("Timbre is ready with this site's own storage.").waitFor({ timeout: 240_000 });
      const notices = await demo.evaluate(
        () =>
          (
            window as unknown as {
              timbreDemo: { notices: { type: string; key?: string; fraction?: number; done?: boolean }[] };
            }
          ).timbreDemo.notices,
      );
      expect(notices.find((n) => n.type === 'timbre:storage' && n.key)?.key).toMatch(/^tmb_/);
      const progress = notices.filter((n) => n.type === 'timbre:models');
      expect(progress.some((n) => !n.done && n.fraction! > 0 && n.fraction! < 1)).toBe(true);
      expect(progress.at(-1)).toMatchObject({ done: true, fraction: 1 });

      const speech = (await demo.evaluate(
        (b) =>
          (window as unknown as { timbreDemo: { client: DemoClient } }).timbreDemo.client.request(
            'POST',
            '/api/generate/preset',
            b,
          ),
        { text: 'Hello on this site.', voice_id: 'af_heart', format: 'wav' },
      )) as { status: number; body: { duration: number } };
      expect(speech.status, JSON.stringify(speech.body).slice(0, 300)).toBe(200);
      expect(speech.body.duration).toBeGreaterThan(0.5);
    } finally {
      await b.close();
    }
  }, 400_000);
});
