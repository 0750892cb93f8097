// `npm start` (scripts/start.mjs) stopped with SIGTERM frees its port: `vite preview` runs under npx,
// which does not pass signals on, so the server used to stay behind holding the port.
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { describe, expect, it } from 'vitest';

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

async function answers(url: string): Promise<boolean> {
  try {
    await fetch(url, { signal: AbortSignal.timeout(2000) });
    return true;
  } catch {
    return false;
  }
}

/** Whether something still listens on the port (a bind fails with EADDRINUSE). */
function portTaken(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.once('error', () => resolve(true));
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(false)));
  });
}

describe('npm start', () => {
  it('leaves nothing on the port after SIGTERM', async () => {
    const port = await freePort();
    const url = `http://127.0.0.1:${port}/`;
    const child = spawn(process.execPath, ['scripts/start.mjs'], {
      env: { ...process.env, PORT: String(port) },
      stdio: 'ignore',
      // Its own group, so the cleanup below also ends a server left behind by a failing start.mjs.
      detached: true,
    });
    try {
      // The e2e setup has built the app, so this is only the server starting (a build if sources changed).
      const end = Date.now() + 170_000;
      while (!(await answers(url))) {
        if (Date.now() > end) throw new Error(`npm start did not serve ${url}`);
        await new Promise((r) => setTimeout(r, 300));
      }
      const exited = new Promise<void>((r) => child.once('exit', () => r()));
      child.kill('SIGTERM');
      await exited;
      // Generous: a loaded 2-core machine may take a while to end the server.
      const free = Date.now() + 15_000;
      while ((await portTaken(port)) && Date.now() < free) await new Promise((r) => setTimeout(r, 250));
      expect(await portTaken(port)).toBe(false);
      expect(await answers(url)).toBe(false);
    } finally {
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        // all gone, as it should be
      }
    }
  }, 200_000);
});
