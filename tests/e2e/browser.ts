// Launches Debian's Chromium through playwright-core (never a downloaded browser).
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { build } from 'vite';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const BASE = process.env.TIMBRE_E2E_BASE ?? 'http://127.0.0.1:4310';
export const OTHER = process.env.TIMBRE_E2E_OTHER ?? 'http://127.0.0.1:4311';

export const FLAGS = [
  '--no-sandbox',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
];

/** Chromium's fake microphone (a beeping tone) granted without a prompt: pass to launch() to record. */
export const FAKE_MEDIA = ['--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream'];

export async function launch(extraArgs: string[] = []): Promise<Browser> {
  if (!existsSync(CHROMIUM))
    throw new Error(
      `Chromium not found at ${CHROMIUM}: run "apt-get update && apt-get install -y chromium" (or set CHROMIUM_PATH).`,
    );
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: [...FLAGS, ...extraArgs] });
}

/** Opens the studio and waits until its Service Worker controls the page and the page is an engine host. */
export async function openStudio(
  context: BrowserContext,
  hash = '',
  opts: { autoInstallModels?: boolean } = {},
): Promise<Page> {
  // Most tests do not need the 240 MB of bundled models copied into OPFS on first start.
  if (!opts.autoInstallModels)
    await context.addInitScript(() => localStorage.setItem('timbre:auto-install', 'off'));
  const page = await context.newPage();
  page.on('pageerror', (e) => console.error('[pageerror]', e.message));
  await page.goto(`${BASE}/${hash}`);
  await page.waitForFunction(
    () => navigator.serviceWorker.controller !== null && '__timbre' in globalThis,
    null,
    { timeout: 30_000 },
  );
  // Announce again now that the page is controlled, then give the Service Worker a moment to record it.
  await page.evaluate(() => navigator.serviceWorker.controller?.postMessage({ type: 'timbre:engine-host' }));
  return page;
}

/** Creates a key straight in the studio's IndexedDB through the page's own stores; returns the secret. */
export async function createKeyInPage(
  page: Page,
  opts: {
    scopes?: string[];
    limits?: Record<string, number>;
    allowed_origins?: string[];
    name?: string;
  } = {},
): Promise<string> {
  return page.evaluate(async (o) => {
    const studio = (
      globalThis as unknown as { __timbre: { keys: { create(x: unknown): Promise<{ secret: string }> } } }
    ).__timbre;
    return (await studio.keys.create({ name: o.name ?? 'e2e', now: Date.now(), ...o })).secret;
  }, opts);
}

export interface FetchResult {
  status: number;
  headers: Record<string, string>;
  body: unknown;
}

/** A fetch made by the page itself, so it goes through the Service Worker. */
export async function pageFetch(
  page: Page,
  path: string,
  init: { method?: string; headers?: Record<string, string>; body?: unknown } = {},
): Promise<FetchResult> {
  return page.evaluate(
    async ({ path, init }) => {
      const headers: Record<string, string> = { ...(init.headers ?? {}) };
      let body: string | undefined;
      if (init.body !== undefined) {
        body = typeof init.body === 'string' ? init.body : JSON.stringify(init.body);
        headers['Content-Type'] ??= 'application/json';
      }
      const r = await fetch(path, { method: init.method ?? 'GET', headers, body });
      const h: Record<string, string> = {};
      r.headers.forEach((v, k) => (h[k] = v));
      const text = await r.text();
      let parsed: unknown = text;
      try {
        parsed = JSON.parse(text);
      } catch {
        // not JSON
      }
      return { status: r.status, headers: h, body: parsed };
    },
    { path, init },
  );
}

/**
 * The official `openai` package's ESM build bundled as one script for a page (sets globalThis.OpenAISDK):
 * pass to page.addScriptTag({ content }).
 */
export async function openAiScript(): Promise<string> {
  const out = (await build({
    configFile: false,
    logLevel: 'warn',
    build: {
      write: false,
      minify: false,
      lib: {
        entry: fileURLToPath(new URL('../../node_modules/openai/index.mjs', import.meta.url)),
        formats: ['iife'],
        name: 'OpenAISDK',
        fileName: () => 'openai.js',
      },
    },
  })) as { output: { type: string; code?: string }[] }[] | { output: { type: string; code?: string }[] };
  const outputs = Array.isArray(out) ? out : [out];
  return outputs[0]!.output.find((o) => o.type === 'chunk')!.code!;
}
