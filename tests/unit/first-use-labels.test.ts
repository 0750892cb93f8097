// What the studio says during the first use: what a preview waits for, and the install's speed line and
// what the bundled models already make usable.
import { describe, expect, it } from 'vitest';
import { waitingFor } from '../../src/lib/ui/engine-jobs';
import { modelOfProgress, speedLine, usableWith } from '../../src/lib/ui/install-status';
import type { InstallProgress } from '../../src/lib/models/types';

describe('waitingFor', () => {
  it('names the oldest job of the same queue worth naming; null when nothing holds it up', () => {
    expect(waitingFor([], 'tts.generate')).toBeNull();
    expect(waitingFor(['system.facts', 'clone.status'], 'tts.generate')).toBeNull();
    // A transcription runs on its own queue: it does not hold a preview up.
    expect(waitingFor(['asr.transcribe'], 'tts.generate')).toBeNull();
    expect(waitingFor(['asr.transcribe', 'tts.generate', 'tts.ahead'], 'tts.generate')).toBe(
      'Waiting for a speech generation to finish…',
    );
    expect(waitingFor(['system.facts', 'asr.transcribe'], 'asr.transcribe')).toBe(
      'Waiting for a transcription to finish…',
    );
    // Behind the model being made, the wait is the model loading.
    expect(waitingFor(['tts.prepare'], 'tts.generate')).toBe('Loading the voice model…');
  });
});

describe('install status', () => {
  const p = (o: Partial<InstallProgress>): InstallProgress => ({
    stage: 'import',
    file: 'kokoro-82m-q8/model.onnx',
    fileDone: 0,
    fileTotal: 0,
    bytesPerSecond: 0,
    etaSeconds: null,
    done: 0,
    total: 0,
    ...o,
  });

  it('says the speed and the time left only once they are known', () => {
    expect(speedLine(p({}))).toBe('');
    expect(speedLine(p({ bytesPerSecond: 12_500_000 }))).toBe('12.5 MB/s');
    expect(speedLine(p({ bytesPerSecond: 12_500_000, etaSeconds: 7.2 }))).toBe('12.5 MB/s · 8 s left');
  });

  it('reads the model of a set install from its file, and says what installed models make usable', () => {
    expect(modelOfProgress(p({ file: 'whisper-tiny-q8/encoder.onnx' }))).toBe('whisper-tiny-q8');
    expect(modelOfProgress(p({ file: 'silero-vad-v5' }))).toBe('silero-vad-v5');
    expect(usableWith(['kokoro-82m-q8', 'whisper-tiny-q8'])).toEqual([
      'Speak (speech from text) and the speech API',
      'Transcribe (fast)',
    ]);
  });
});
