// Vite plugin: self-hosts the ffmpeg.wasm cores (never a CDN). The single-thread core (@ffmpeg/core) goes to
// /ffmpeg/ and the multi-threaded one (@ffmpeg/core-mt, with its pthread worker) to /ffmpeg-mt/: served from
// node_modules in dev (with the dev server's COOP/COEP headers), copied into dist/ on build.
// src/lib/codec/ffmpeg-core.ts loads them in the audio worker.
import type { Plugin, ResolvedConfig } from 'vite';
import { copyFileSync, createReadStream, existsSync, linkSync, mkdirSync, rmSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));

/** URL folder → the package folder it is served from, and its files. */
export const FFMPEG_CORES: Record<string, { dir: string; files: string[] }> = {
  ffmpeg: {
    dir: join(root, 'node_modules', '@ffmpeg', 'core', 'dist', 'esm'),
    files: ['ffmpeg-core.js', 'ffmpeg-core.wasm'],
  },
  'ffmpeg-mt': {
    dir: join(root, 'node_modules', '@ffmpeg', 'core-mt', 'dist', 'esm'),
    files: ['ffmpeg-core.js', 'ffmpeg-core.wasm', 'ffmpeg-core.worker.js'],
  },
};

function place(src: string, dst: string) {
  rmSync(dst, { force: true });
  try {
    linkSync(src, dst);
  } catch {
    copyFileSync(src, dst);
  }
}

export function ffmpegPlugin(): Plugin {
  let config: ResolvedConfig;
  return {
    name: 'timbre-ffmpeg',
    configResolved(c) {
      config = c;
    },
    configureServer(server) {
      server.middlewares.use((req, res, next) => {
        const m = /^\/(ffmpeg|ffmpeg-mt)\/([\w.-]+)$/.exec(new URL(req.url ?? '/', 'http://x').pathname);
        const core = m ? FFMPEG_CORES[m[1]!] : undefined;
        if (!m || !core || !core.files.includes(m[2]!)) return next();
        const file = join(core.dir, m[2]!);
        if (!existsSync(file)) return next();
        // COOP/COEP too: the multi-threaded core's pthread workers load ffmpeg-core.worker.js, which a
        // cross-origin isolated page refuses without them.
        for (const [k, v] of Object.entries(config.server.headers ?? {}))
          if (v !== undefined) res.setHeader(k, v);
        res.setHeader('Content-Length', String(statSync(file).size));
        res.setHeader('Content-Type', file.endsWith('.wasm') ? 'application/wasm' : 'text/javascript');
        createReadStream(file).pipe(res);
      });
    },
    closeBundle() {
      if (config.command !== 'build' || config.build.ssr) return;
      const out = resolve(config.root, config.build.outDir);
      // Only the app build, not the Service Worker's own sub-build into the same folder.
      if (!existsSync(join(out, 'index.html'))) return;
      for (const [folder, core] of Object.entries(FFMPEG_CORES)) {
        mkdirSync(join(out, folder), { recursive: true });
        for (const f of core.files) {
          const src = join(core.dir, f);
          if (!existsSync(src))
            throw new Error(`${src} is missing: run "npm install" (@ffmpeg/core and @ffmpeg/core-mt).`);
          place(src, join(out, folder, f));
        }
      }
    },
  };
}
