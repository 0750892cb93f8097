// What the benchmarks share: building and serving the studio, driving Debian's Chromium to the studio page
// (cross-origin isolated, the engine worker ready), running engine operations there, and the machine's
// description. stdout carries only each benchmark's JSON: everything else goes to stderr.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { createServer } from 'node:net';
import { availableParallelism, cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

export const root = fileURLToPath(new URL('../..', import.meta.url));
export const MODELS = join(root, '.cache', 'models');
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const CORES = availableParallelism();
/** onnxruntime-node session options for every benchmark and evaluation: CPU, all optimisations, one thread a core. */
export const NODE_SESSION_OPTIONS = {
  executionProviders: ['cpu'],
  graphOptimizationLevel: 'all',
  intraOpNumThreads: CORES,
  interOpNumThreads: 1,
};

export const logger =
  (tag) =>
  (...a) =>
    console.error(`[${tag}]`, ...a);
export const round = (x) => Math.round(x * 10) / 10;
export const round2 = (x) => Math.round(x * 100) / 100;
export const round3 = (x) => Math.round(x * 1000) / 1000;

export const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

/** The 1-, 5- and 15-minute load averages: other work on the machine skews every number. */
export const loadAverages = () => loadavg().map(round2);

export const packageVersion = (name) =>
  JSON.parse(readFileSync(join(root, 'node_modules', name, 'package.json'), 'utf8')).version;

export const machine = () => ({
  cores: CORES,
  cpu: cpus()[0]?.model ?? null,
  node: process.version,
});

// ---------------------------------------------------------------- build and serve

const SOURCES = [
  'src',
  'public',
  'index.html',
  'embed.html',
  'vite.config.ts',
  'package.json',
  'scripts/vite-models.ts',
];

function newest(p) {
  const full = join(root, p);
  if (!existsSync(full)) return 0;
  const st = statSync(full);
  if (!st.isDirectory()) return st.mtimeMs;
  return Math.max(st.mtimeMs, ...readdirSync(full).map((n) => newest(join(p, n))));
}

/** Builds the studio when dist/ is missing or older than the sources. */
export function ensureBuild(log) {
  const built = join(root, 'dist', 'index.html');
  if (existsSync(built) && statSync(built).mtimeMs >= Math.max(...SOURCES.map(newest))) return;
  log('building the studio (dist/ is missing or older than the sources)…');
  // Build output on stderr: stdout carries only the JSON.
  const r = spawnSync('npx', ['vite', 'build', '--logLevel', 'warn'], {
    cwd: root,
    stdio: ['ignore', process.stderr, process.stderr],
  });
  if (r.status !== 0) throw new Error('vite build failed');
}

function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.unref();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

/** `vite preview` (COOP/COEP headers from vite.config.ts) on a free port; stop() ends it. */
export async function serve() {
  const port = await freePort();
  const child = spawn('npx', ['vite', 'preview', '--port', String(port), '--strictPort'], {
    cwd: root,
    stdio: 'ignore',
    detached: true,
  });
  const base = `http://127.0.0.1:${port}`;
  const stop = () => {
    try {
      process.kill(-child.pid, 'SIGTERM');
    } catch {
      // already gone
    }
  };
  const end = Date.now() + 60_000;
  for (;;) {
    try {
      if ((await fetch(`${base}/`)).ok) break;
    } catch {
      // not up yet
    }
    if (Date.now() > end) {
      stop();
      throw new Error(`vite preview did not come up on ${base}`);
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  return { base, stop };
}

// ---------------------------------------------------------------- Chromium

export const FLAGS = [
  '--no-sandbox',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
];

/**
 * Opens the studio in headless Chromium with automatic model installation off (a fresh profile would
 * otherwise copy the bundled models into its storage, competing with the benchmark for the cores).
 * Returns the browser, the page and its environment; throws unless the page is cross-origin isolated.
 */
export async function openStudio(base, log) {
  if (!existsSync(CHROMIUM)) throw new Error(`Chromium not found at ${CHROMIUM} (set CHROMIUM_PATH).`);
  const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: FLAGS });
  try {
    const context = await browser.newContext();
    await context.addInitScript(() => localStorage.setItem('timbre:auto-install', 'off'));
    const page = await context.newPage();
    page.on('pageerror', (e) => log('[pageerror]', e.message));
    await page.goto(`${base}/`);
    await page.waitForFunction(() => '__timbre' in globalThis, null, { timeout: 60_000 });
    await new Promise((r) => setTimeout(r, 2000)); // let the page's own start-up settle
    const env = await page.evaluate(() => ({
      isolated: crossOriginIsolated,
      cores: navigator.hardwareConcurrency,
      ua: navigator.userAgent,
    }));
    if (!env.isolated) throw new Error('the studio page is not cross-origin isolated: no WASM threads');
    return { browser, page, env, browserVersion: env.ua.match(/Chrome\/[\d.]+/)?.[0] ?? env.ua };
  } catch (e) {
    await browser.close();
    throw e;
  }
}

/** Runs an engine operation in the studio page (its engine worker); bench inputs travel as base64. */
export function engineRun(page, op, args) {
  return page.evaluate(
    async ({ op, args }) => {
      const decode = async (b64) =>
        (await fetch(`data:application/octet-stream;base64,${b64}`)).arrayBuffer();
      if (args.models) for (const m of args.models) for (const i of m.inputs) i.data = await decode(i.data);
      return globalThis.__timbre.engine.run(op, args);
    },
    { op, args },
  );
}

/** An input of runtime.bench: name, element type, dims, and its little-endian bytes. */
export function benchInput(name, type, dims, typed) {
  return { name, type, dims, data: new Uint8Array(typed.buffer, typed.byteOffset, typed.byteLength) };
}

/** The same, ready for engineRun (bytes as base64). */
export const forPage = (i) => ({ ...i, data: Buffer.from(i.data).toString('base64') });
