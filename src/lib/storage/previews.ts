import type { TimbreDB } from './db';
import { guardQuota } from './errors';
import type { VoicePreview } from './records';

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
