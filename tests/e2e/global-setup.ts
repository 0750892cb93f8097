import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import type { Server } from 'node:http';
import { BASE, OTHER } from './browser';

let preview: ChildProcess | null = null;
let demo: Server | null = null;

async function waitFor(url: string, ms = 60_000) {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    try {
      const r = await fetch(url);
      if (r.ok) return;
    } catch {
      // not up yet
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`${url} did not come up within ${ms} ms`);
}

export async function setup() {
  if (!process.env.TIMBRE_E2E_SKIP_BUILD) {
    const r = spawnSync('npx', ['vite', 'build', '--logLevel', 'warn'], { stdio: 'inherit' });
    if (r.status !== 0) throw new Error('vite build failed');
  }
  const port = new URL(BASE).port;
  preview = spawn('npx', ['vite', 'preview', '--port', port, '--strictPort'], {
    stdio: 'ignore',
    detached: true,
  });
  // The embedding example on a second origin.
  const { createDemoServer } = (await import('../../scripts/embed-demo.mjs')) as {
    createDemoServer: () => Server;
  };
  demo = createDemoServer();
  await new Promise<void>((r) => demo!.listen(Number(new URL(OTHER).port), '127.0.0.1', () => r()));
  await waitFor(`${BASE}/`);
}

export async function teardown() {
  if (preview?.pid) {
    try {
      process.kill(-preview.pid, 'SIGTERM');
    } catch {
      // already gone
    }
  }
  await new Promise((r) => (demo ? demo.close(() => r(null)) : r(null)));
}
