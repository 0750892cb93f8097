import type { TimbreDB } from './db';
import { guardQuota } from './errors';

/** A short sample of a voice, generated the first time someone asks to hear it. */
export interface VoicePreview {
  voice_id: string;
  text: string;
  sample_rate: number;
  /** 16-bit mono WAV bytes. */
  audio: ArrayBuffer;
  created_at: number;
}

export class PreviewStore {
  constructor(private readonly db: TimbreDB) {}

  get(voiceId: string): Promise<VoicePreview | undefined> {
    return this.db.get('previews', voiceId);
  }

  async put(p: VoicePreview): Promise<void> {
    await guardQuota('the voice preview', () => this.db.put('previews', p));
  }

  /** A voice's recipe changed or it was deleted: its preview no longer says how it sounds. */
  async forget(voiceId: string): Promise<void> {
    await this.db.delete('previews', voiceId);
  }
}
