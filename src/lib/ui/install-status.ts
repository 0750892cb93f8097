// What the studio says about an install under way: speed and time left, and during the first-start install,
// what can already be used (a model is usable as soon as its own files are in, before the rest).
import { formatBytes, type InstallProgress } from '../models/types';

/** "12.5 MB/s · 8 s left" (either part left out while unknown). */
export function speedLine(p: InstallProgress): string {
  const speed = p.bytesPerSecond > 0 ? `${formatBytes(p.bytesPerSecond)}/s` : '';
  const left = p.etaSeconds !== null ? `${Math.ceil(p.etaSeconds)} s left` : '';
  return [speed, left].filter(Boolean).join(' · ');
}

/** The model a progress event of a set install is about: its file is "model-id/path" (installMany). */
export const modelOfProgress = (p: InstallProgress): string => p.file.split('/')[0] ?? '';

/** What each bundled model makes usable, in the words of the views. */
const USES: Record<string, string> = {
  'kokoro-82m-q8': 'Speak (speech from text) and the speech API',
  'whisper-tiny-q8': 'Transcribe (fast)',
  'whisper-base-q8': 'Transcribe (accurate)',
  'silero-vad-v5': 'finding speech in recordings',
};

/** What the installed models of `ids` make usable, in install order. */
export function usableWith(ids: readonly string[]): string[] {
  return ids.map((id) => USES[id] ?? id);
}
