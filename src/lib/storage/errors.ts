import { errorKind } from '../core/errors';

/** The browser refused to store more (quota). The transaction was aborted, so nothing was half-written. */
export class StorageFullError extends Error {
  override name = 'StorageFullError';
}

export class NotFoundError extends Error {
  override name = 'NotFoundError';
}

/** A voice file that is not one of ours, or not whole; nothing was imported. */
export class ImportError extends Error {
  override name = 'ImportError';
}

/** The browser's own quota error: storage-full by the table, but not yet our StorageFullError. */
export function isQuotaError(e: unknown): boolean {
  return errorKind(e) === 'storage_full' && (e as { name: unknown }).name !== 'StorageFullError';
}

/** Runs a storage write; quota errors become StorageFullError with a message a person can act on. */
export async function guardQuota<T>(what: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    if (isQuotaError(e))
      throw new StorageFullError(
        `Not enough browser storage to save ${what}. Free space by deleting voices, history or models; nothing was saved.`,
      );
    throw e;
  }
}
