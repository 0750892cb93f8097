// clone.status: which converter is installed, read from the registry and the store alone (no runtime, no
// sessions), so a host without onnxruntime still answers.
import { parseConfig } from '../openvoice';
import type { CloneDeps } from './deps';
import { FILES, readAll, readFastInfo, text } from './files';
import { CONVERTER_MODEL_IDS, RELEASE_PATHS, type CloneStatusResult } from './contract';

export async function runCloneStatus(d: Pick<CloneDeps, 'registry' | 'store'>): Promise<CloneStatusResult> {
  for (const version of ['v2', 'v1'] as const) {
    const id = CONVERTER_MODEL_IDS[version];
    const rec = await d.registry.get(id);
    if (!rec) continue;
    const p = rec.files.some((f) => f.path === FILES.config) ? FILES.config : RELEASE_PATHS[version].config;
    try {
      const cfg = parseConfig(text(await readAll(d.store, id, p)));
      const fast = await readFastInfo(d, rec);
      return {
        installed: true,
        id,
        version,
        sampleRate: cfg.samplingRate,
        toneDimension: cfg.ginChannels,
        filterLength: cfg.filterLength,
        ...(fast ? { fast } : {}),
      };
    } catch {
      continue;
    }
  }
  return { installed: false };
}
