// The layers of src/lib, lowest first (src/lib/README.md explains each). A module imports only its own
// folder or a folder of a lower layer: type-only and dynamic imports included. eslint.config.js turns
// this into no-restricted-imports rules; tests/unit/layers.test.ts checks the whole import graph.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';
import ts from 'typescript';

/** Folder → layer. Folders of one layer do not import each other. */
export const LAYERS = {
  core: 0,
  dsp: 1,
  text: 2,
  voices: 1,
  documents: 1,
  runtime: 2,
  codec: 2,
  auth: 2,
  system: 2,
  storage: 3,
  models: 4,
  vad: 5,
  tts: 6,
  asr: 6,
  openvoice: 6,
  audio: 6,
  clone: 7,
  projects: 7,
  engine: 8,
  api: 9,
  embed: 9,
  ui: 10,
};

/**
 * The engines and flows whose implementation the API must not import: it reads their `contract.ts` only, so
 * the Service Worker bundle never takes in model code (rule, not comment).
 */
export const CONTRACT_ONLY = { api: ['tts', 'asr', 'openvoice', 'audio', 'vad', 'clone'] };

/** The folders a module in `folder` must not import (its own layer's other folders and every higher one). */
export function forbiddenFor(folder) {
  const rank = LAYERS[folder];
  return Object.keys(LAYERS).filter((f) => f !== folder && LAYERS[f] >= rank);
}

function filesUnder(dir) {
  const out = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...filesUnder(p));
    else if (/\.(ts|mts|js|mjs)$/.test(name) && !name.endsWith('.d.ts')) out.push(p);
  }
  return out;
}

function resolveSpec(from, spec) {
  const base = normalize(join(dirname(from), spec.replace(/\?.*$/, '')));
  for (const c of [base, `${base}.ts`, base.replace(/\.js$/, '.ts'), join(base, 'index.ts')]) {
    try {
      if (statSync(c).isFile()) return c;
    } catch {
      // not this candidate
    }
  }
  return undefined;
}

/**
 * Every relative import of every module under `root` (static, type-only, re-exports and `import()`),
 * as [from, to] paths relative to `root`; `to` is undefined when the specifier resolves to no file.
 */
export function importGraph(root) {
  const edges = [];
  for (const file of filesUnder(root)) {
    const info = ts.preProcessFile(readFileSync(file, 'utf8'), true, true);
    for (const { fileName } of info.importedFiles) {
      if (!fileName.startsWith('.')) continue;
      const to = resolveSpec(file, fileName);
      edges.push({ from: relative(root, file), to: to && relative(root, to), spec: fileName });
    }
  }
  return edges;
}

/** Folder (first path part) of a path relative to src/lib. */
export const folderOf = (p) => p.split(/[\\/]/)[0];
