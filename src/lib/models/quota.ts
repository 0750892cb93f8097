// Space for models: the origin's usage and quota, and the check made before bytes are written.
import { ModelQuotaError } from './types';

export interface QuotaInfo {
  usage: number;
  quota: number;
}
/** Usage and quota of the origin, or null when the browser does not tell. */
export type QuotaFn = () => Promise<QuotaInfo | null>;

/** navigator.storage.estimate() of this global scope, or null. */
export async function browserQuota(g: object = globalThis): Promise<QuotaInfo | null> {
  try {
    const nav = (g as { navigator?: { storage?: { estimate?: () => Promise<StorageEstimate> } } }).navigator;
    const est = await nav?.storage?.estimate?.();
    if (!est || typeof est.quota !== 'number') return null;
    return { usage: est.usage ?? 0, quota: est.quota };
  } catch {
    return null;
  }
}

/** Throws ModelQuotaError when `needed` bytes do not fit in what the origin has left (unknown: no check). */
export async function checkQuota(name: string, needed: number, quota: QuotaFn): Promise<void> {
  if (needed <= 0) return;
  const q = await quota();
  if (!q) return;
  const free = q.quota - q.usage;
  if (needed > free) throw ModelQuotaError.forModel(name, needed, free);
}
