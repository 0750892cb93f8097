// The clip library: recordings, imported files and edits, kept as WAV bytes so every view and the
// timeline can decode them without ffmpeg. DOM-free (page, workers, Node tests).

export type ClipSource = 'recording' | 'import' | 'generated' | 'converted' | 'edit';

export interface ClipRecord {
  id: string;
  name: string;
  created_at: number;
  updated_at: number;
  source: ClipSource;
  /** Seconds. */
  duration: number;
  sample_rate: number;
  channels: number;
  /** A WAV file (16-bit or float). */
  audio: ArrayBuffer;
}
