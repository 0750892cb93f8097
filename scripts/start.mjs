// `npm start`: builds when the build is missing or older than the sources, then serves it on
// http://127.0.0.1:4173 (PORT overrides) with the cross-origin isolation headers.
import { spawnSync, spawn } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const SOURCES = ['src', 'public', 'index.html', 'embed.html', 'vite.config.ts', 'package.json'];

function newest(p) {
  const full = join(root, p);
  if (!existsSync(full)) return 0;
  const st = statSync(full);
  if (!st.isDirectory()) return st.mtimeMs;
  return Math.max(st.mtimeMs, ...readdirSync(full).map((n) => newest(join(p, n))));
}

const built = join(root, 'dist', 'index.html');
if (!existsSync(built) || statSync(built).mtimeMs < Math.max(...SOURCES.map(newest))) {
  console.log('Building the studio…');
  const r = spawnSync('npx', ['vite', 'build'], { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) process.exit(r.status ?? 1);
}
const port = process.env.PORT ?? '4173';
console.log(`Timbre: http://127.0.0.1:${port}`);
// Its own process group: npx does not pass signals on to `vite preview`, so a SIGTERM sent to npx alone
// left the server holding the port. We signal the whole group instead.
const child = spawn('npx', ['vite', 'preview', '--port', port, '--strictPort'], {
  cwd: root,
  stdio: 'inherit',
  detached: true,
});
const stop = (sig) => {
  try {
    process.kill(-child.pid, sig);
  } catch {
    // the group is already gone
  }
};
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(sig, () => stop(sig));
process.on('exit', () => stop('SIGTERM'));
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 0 : 1)));
