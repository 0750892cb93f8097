// The one seeded generator (mulberry32) and what is drawn from it: uniform floats, int8 values and
// standard normals. Seeded so test models, noise and sampling reproduce bit for bit from their seed.

/** mulberry32: uniform values in [0, 1) from a 32-bit seed. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** `n` values in [-scale, scale). */
export function seededFloats(n: number, seed: number, scale = 1): Float32Array {
  const next = mulberry32(seed);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = (next() * 2 - 1) * scale;
  return out;
}

/** Reproducible int8 values over the whole range. */
export function seededInt8(n: number, seed: number): Int8Array {
  const f = seededFloats(n, seed);
  const out = new Int8Array(n);
  for (let i = 0; i < n; i++) out[i] = Math.max(-127, Math.min(127, Math.round(f[i]! * 127)));
  return out;
}

/** `count` standard normals (Box–Muller, two per pair of uniforms); seed 0 counts as 0x9e3779b9. */
export function seededNormals(count: number, seed: number): Float32Array {
  const next = mulberry32(seed >>> 0 || 0x9e3779b9);
  const out = new Float32Array(count);
  for (let i = 0; i < count; i += 2) {
    const u = 1 - next();
    const v = next();
    const r = Math.sqrt(-2 * Math.log(u));
    out[i] = r * Math.cos(2 * Math.PI * v);
    if (i + 1 < count) out[i + 1] = r * Math.sin(2 * Math.PI * v);
  }
  return out;
}
