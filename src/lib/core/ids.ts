// Record ids: a prefix naming what it is, then 16 random hex digits (64 bits: no collision in one device's
// lifetime of records). Opaque to callers; only the prefix is meant to be read.
export function newId(prefix: string): string {
  const bytes = crypto.getRandomValues(new Uint8Array(8));
  return `${prefix}_${Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('')}`;
}
