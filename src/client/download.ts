// Saves audio as a file in one of the download formats: WAV and PCM written in the page, the compressed
// formats encoded by ffmpeg.wasm (the formats worker). Shared by every view with a DownloadMenu; saveBytes is
// the one way any view hands a file to the browser.
import type { FormatsBridge } from './formats';
import { encodeLocally, type DownloadChoice } from '../lib/ui/speak-download';
import type { MonoAudio } from '../lib/dsp/audio';

/** What a DownloadMenu drives: the choice being prepared, and the download itself. */
export interface DownloadTarget {
  downloading: string | null;
  download(choice: DownloadChoice, audio: () => Promise<MonoAudio>, stem: string): Promise<void>;
}

export async function saveAudioFile(
  formats: FormatsBridge,
  choice: DownloadChoice,
  audio: () => Promise<MonoAudio>,
  stem: string,
): Promise<void> {
  const { samples, sampleRate } = await audio();
  const local = encodeLocally(choice.id, samples, sampleRate);
  const file = local ?? (await formats.encode(samples, sampleRate, choice.encode ?? { format: 'wav' }));
  saveBytes(file.bytes, file.mime, `${stem}.${file.extension}`);
}

/** Hands bytes to the browser as a downloaded file. */
export function saveBytes(bytes: Uint8Array, type: string, name: string): void {
  const url = URL.createObjectURL(new Blob([bytes as Uint8Array<ArrayBuffer>], { type }));
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  a.style.display = 'none';
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

/**
 * A DownloadTarget's download: marks the choice as being prepared (one at a time), saves the file, and
 * shows a failure as a notice instead of throwing.
 */
export async function runDownload(
  target: { downloading: string | null },
  studio: { formats: FormatsBridge; fail(e: unknown, what: string): void },
  choice: DownloadChoice,
  audio: () => Promise<MonoAudio>,
  stem: string,
): Promise<void> {
  if (target.downloading) return;
  target.downloading = choice.id;
  try {
    await saveAudioFile(studio.formats, choice, audio, stem);
  } catch (e) {
    studio.fail(e, `Could not make the ${choice.label} file`);
  } finally {
    target.downloading = null;
  }
}
