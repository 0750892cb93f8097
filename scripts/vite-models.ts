// Vite plugin: serves the bundled models in dev, and on build copies them into dist/models/<id>/…
// with dist/models/manifest.json, failing the build when any file's sha256 differs from the pinned one.
// Also self-hosts onnxruntime-web's wasm files under /ort/ (never a CDN).
import type { Plugin, ResolvedConfig } from 'vite';
import { createHash } from 'node:crypto';
import {
  copyFileSync,
  createReadStream,
  existsSync,
  linkSync,
  mkdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const CACHE = join(root, '.cache', 'models');
const SPEC = join(root, 'src', 'lib', 'models', 'bundled.json');
const ORT_DIST = join(root, 'node_modules', 'onnxruntime-web', 'dist');
/** The onnxruntime-web files the app loads: its default entry is the JSEP build (WASM and WebGPU). */
export const ORT_FILES = ['ort-wasm-simd-threaded.jsep.wasm', 'ort-wasm-simd-threaded.jsep.mjs'];

interface SpecFile {
  path: string;
  package: string;
  from: string;
  bytes: number;
  sha256: string;
}
interface SpecModel {
  id: string;
  name: string;
  kind: string;
  languages: string[];
  sample_rate: number;
  licence: string;
  files: SpecFile[];
}

export class ModelIntegrityError extends Error {
  override name = 'ModelIntegrityError';
}

function spec(): SpecModel[] {
  return (JSON.parse(readFileSync(SPEC, 'utf8')) as { models: SpecModel[] }).models;
}

/** The manifest the app reads at /models/manifest.json. */
export function manifest() {
  return {
    version: 1,
    models: spec().map((m) => ({
      id: m.id,
      name: m.name,
      kind: m.kind,
      languages: m.languages,
      sample_rate: m.sample_rate,
      licence: m.licence,
      source: [...new Set(m.files.map((f) => f.package))],
      bundled: true,
      total_bytes: m.files.reduce((a, f) => a + f.bytes, 0),
      files: m.files.map((f) => ({
        path: f.path,
        bytes: f.bytes,
        sha256: f.sha256,
        url: `/models/${m.id}/${f.path}`,
      })),
    })),
  };
}

function sha256File(path: string): string {
  const h = createHash('sha256');
  h.update(readFileSync(path));
  return h.digest('hex');
}

function checkedSource(m: SpecModel, f: SpecFile): string {
  const src = join(CACHE, m.id, f.path);
  if (!existsSync(src))
    throw new ModelIntegrityError(
      `Model file missing: ${m.id}/${f.path}. Run "npm install" (or "node scripts/fetch-models.mjs").`,
    );
  const size = statSync(src).size;
  if (size !== f.bytes)
    throw new ModelIntegrityError(`${m.id}/${f.path} is ${size} bytes, ${f.bytes} pinned.`);
  const got = sha256File(src);
  if (got !== f.sha256)
    throw new ModelIntegrityError(`${m.id}/${f.path} has sha256 ${got}, ${f.sha256} pinned.`);
  return src;
}

function place(src: string, dst: string) {
  mkdirSync(dirname(dst), { recursive: true });
  rmSync(dst, { force: true });
  try {
    linkSync(src, dst); // same disk: no copy of 240 MB
  } catch {
    copyFileSync(src, dst);
  }
}

export function modelsPlugin(): Plugin {
  let config: ResolvedConfig;
  return {
    name: 'timbre-models',
    configResolved(c) {
      config = c;
    },
    configureServer(server) {
      server.middlewares.use((req, res, next) => {
        const url = new URL(req.url ?? '/', 'http://x');
        let file: string | null = null;
        if (url.pathname === '/models/manifest.json') {
          res.setHeader('Content-Type', 'application/json');
          res.end(JSON.stringify(manifest()));
          return;
        }
        const m = /^\/models\/([\w.-]+)\/(.+)$/.exec(url.pathname);
        if (m) file = resolve(CACHE, m[1]!, decodeURIComponent(m[2]!));
        const o = /^\/ort\/([\w.-]+)$/.exec(url.pathname);
        if (o && ORT_FILES.includes(o[1]!)) file = join(ORT_DIST, o[1]!);
        if (!file || (!file.startsWith(CACHE) && !file.startsWith(ORT_DIST)) || !existsSync(file))
          return next();
        // The dev server's own headers (COOP/COEP) too: without COEP, onnxruntime's thread workers, which
        // load /ort/*.mjs, are refused in the cross-origin isolated page and the runtime hangs.
        for (const [k, v] of Object.entries(config.server.headers ?? {}))
          if (v !== undefined) res.setHeader(k, v);
        res.setHeader('Content-Length', String(statSync(file).size));
        res.setHeader(
          'Content-Type',
          file.endsWith('.mjs')
            ? 'text/javascript'
            : file.endsWith('.json')
              ? 'application/json'
              : file.endsWith('.wasm')
                ? 'application/wasm' // lets WebAssembly compile while streaming
                : 'application/octet-stream',
        );
        createReadStream(file).pipe(res);
      });
    },
    closeBundle() {
      if (config.command !== 'build' || config.build.ssr) return;
      const out = resolve(config.root, config.build.outDir);
      // Only the app build, not the Service Worker's own sub-build into the same folder.
      if (!existsSync(join(out, 'index.html'))) return;
      for (const m of spec())
        for (const f of m.files) place(checkedSource(m, f), join(out, 'models', m.id, f.path));
      writeFileSync(join(out, 'models', 'manifest.json'), JSON.stringify(manifest(), null, 2));
      for (const f of ORT_FILES) place(join(ORT_DIST, f), join(out, 'ort', f));
    },
  };
}
