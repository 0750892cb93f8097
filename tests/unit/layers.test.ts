// src/lib's layers (scripts/lib/layers.mjs, src/lib/README.md): every import, type-only and dynamic ones
// included, goes to the module's own folder or a lower layer, and no modules import each other in a circle.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CONTRACT_ONLY, folderOf, forbiddenFor, importGraph, LAYERS } from '../../scripts/lib/layers.mjs';

const ROOT = 'src/lib';
const edges = importGraph(ROOT);

/** Strongly connected components of more than one file (or a file importing itself): the cycles. */
function cycles(list: { from: string; to: string }[]): string[][] {
  const next = new Map<string, string[]>();
  for (const { from, to } of list) next.set(from, [...(next.get(from) ?? []), to]);
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const on = new Set<string>();
  const out: string[][] = [];
  let i = 0;
  const visit = (v: string) => {
    index.set(v, i);
    low.set(v, i++);
    stack.push(v);
    on.add(v);
    for (const w of next.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (on.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) === index.get(v)) {
      const scc: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        on.delete(w);
        scc.push(w);
      } while (w !== v);
      if (scc.length > 1 || (next.get(v) ?? []).includes(v)) out.push(scc.sort());
    }
  };
  for (const v of next.keys()) if (!index.has(v)) visit(v);
  return out;
}

describe('src/lib layers', () => {
  it('reads a real graph: hundreds of imports, dynamic and type-only ones among them', () => {
    expect(edges.length).toBeGreaterThan(500);
    // A dynamic import the engine registry makes, and a type-only one, must both be seen.
    expect(edges).toContainEqual(
      expect.objectContaining({ from: 'engine/ops.ts', to: 'clone/operations.ts' }),
    );
    expect(edges).toContainEqual(
      expect.objectContaining({ from: 'storage/db.ts', to: 'storage/records.ts' }),
    );
  });

  it('every relative import names a file inside src/lib', () => {
    const bad = edges.filter((e) => !e.to || e.to.startsWith('..')).map((e) => `${e.from}: ${e.spec}`);
    expect(bad).toEqual([]);
  });

  it('every folder has a layer', () => {
    const folders = new Set(edges.flatMap((e) => [folderOf(e.from), ...(e.to ? [folderOf(e.to)] : [])]));
    const unknown = [...folders].filter((f) => !(f in LAYERS) && !f.includes('.'));
    expect(unknown).toEqual([]);
  });

  it('imports only go down the layers', () => {
    const upward = edges
      .filter((e) => e.to && folderOf(e.from) !== folderOf(e.to))
      .filter((e) => forbiddenFor(folderOf(e.from)).includes(folderOf(e.to!)))
      .map((e) => `${e.from} -> ${e.to}`);
    expect(upward).toEqual([]);
  });

  it('the API reads the engines through their contracts only (the Service Worker takes in no model code)', () => {
    const through = edges
      .filter((e) => e.to && (CONTRACT_ONLY[folderOf(e.from)] ?? []).includes(folderOf(e.to)))
      .filter((e) => !e.to!.endsWith('/contract.ts'))
      .map((e) => `${e.from} -> ${e.to}`);
    expect(through).toEqual([]);
    // The rule bites: the API does read contracts.
    expect(edges.some((e) => folderOf(e.from) === 'api' && e.to === 'asr/contract.ts')).toBe(true);
  });

  it('no modules import each other in a circle', () => {
    const resolved = edges.filter((e): e is typeof e & { to: string } => !!e.to);
    expect(cycles(resolved)).toEqual([]);
  });

  it('the README table says the same layers as the rule', () => {
    const readme = readFileSync(`${ROOT}/README.md`, 'utf8');
    const rows = [...readme.matchAll(/^\|\s*(\d+)\s*\|\s*`([a-z]+)\/`\s*\|/gm)].map((m) => [
      m[2],
      Number(m[1]),
    ]);
    expect(Object.fromEntries(rows)).toEqual(LAYERS);
  });

  it('the checker itself finds an upward import and a cycle', () => {
    expect(forbiddenFor('dsp')).toContain('api');
    expect(forbiddenFor('dsp')).toContain('text');
    expect(forbiddenFor('api')).not.toContain('core');
    expect(
      cycles([
        { from: 'a', to: 'b' },
        { from: 'b', to: 'a' },
        { from: 'b', to: 'c' },
      ]),
    ).toEqual([['a', 'b']]);
  });
});
