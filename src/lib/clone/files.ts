// The converter's files in the model store: their names, reading and writing them, and the int8 variant's
// pair (graph and record), which install, loading and status all read or write.
import type { ModelFileStore } from '../models/store';
import type { InstalledFile, InstalledModel } from '../storage/records';
import { sha256Hex } from '../core/hash';
import { FAST_FILES } from './fast';
import type { CloneDeps } from './deps';
import type { FastConverterInfo } from './contract';

export const FILES = { config: 'config.json', extractor: 'extractor.onnx', converter: 'converter.onnx' };

export const text = (b: string | Uint8Array) => (typeof b === 'string' ? b : new TextDecoder().decode(b));

export async function writeFile(
  store: ModelFileStore,
  id: string,
  path: string,
  bytes: Uint8Array,
): Promise<InstalledFile> {
  await store.removePartial(id, path);
  await store.append(id, path, bytes, 0);
  await store.flush(id, path);
  await store.commit(id, path);
  return {
    path,
    bytes: bytes.byteLength,
    sha256: await sha256Hex(bytes),
    verified_at: Date.now(),
    pinned: false,
  };
}

export const readAll = async (store: ModelFileStore, id: string, path: string) =>
  new Uint8Array(await (await store.read(id, path)).arrayBuffer());

/** The record with `extra` files added (replacing any of the same path). */
export const withFiles = (rec: InstalledModel, extra: InstalledFile[]): InstalledModel => ({
  ...rec,
  files: [...rec.files.filter((f) => !extra.some((e) => e.path === f.path)), ...extra],
});

export const fastFiles = async (
  d: CloneDeps,
  id: string,
  fast: { graph: Uint8Array; info: FastConverterInfo },
) => [
  await writeFile(d.store, id, FAST_FILES.graph, fast.graph),
  await writeFile(d.store, id, FAST_FILES.info, new TextEncoder().encode(JSON.stringify(fast.info))),
];

/** The stored variant's record, when the model record lists both of its files. */
export async function readFastInfo(
  d: Pick<CloneDeps, 'store'>,
  rec: InstalledModel,
): Promise<FastConverterInfo | undefined> {
  const has = (p: string) => rec.files.some((f) => f.path === p);
  if (!has(FAST_FILES.graph) || !has(FAST_FILES.info)) return undefined;
  try {
    return JSON.parse(text(await readAll(d.store, rec.id, FAST_FILES.info))) as FastConverterInfo;
  } catch {
    return undefined;
  }
}
