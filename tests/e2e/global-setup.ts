import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import type { Server } from 'node:http';
import { createServer } from 'node:net';

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

/** A free port on loopback, so parallel runs (a developer and CI on one machine) do not collide. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

export async function setup() {
  // Test files read these when they import ./browser (workers inherit this environment).
  process.env.TIMBRE_E2E_BASE ??= `http://127.0.0.1:${await freePort()}`;
  process.env.TIMBRE_E2E_OTHER ??= `http://127.0.0.1:${await freePort()}`;
  const BASE = process.env.TIMBRE_E2E_BASE;
  const OTHER = process.env.TIMBRE_E2E_OTHER;
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
