// A transcript's segments and words: what transcription returns, the formats write and storage keeps.

export interface Word {
  word: string;
  start: number;
  end: number;
}

export interface Segment {
  id: number;
  /** Seconds in the original file. */
  start: number;
  end: number;
  text: string;
  tokens: number[];
  temperature: number;
  avg_logprob: number;
  compression_ratio: number;
  no_speech_prob: number;
  /** With diarization: the speaker covering most of the segment (SPEAKER_00 …); each word too. */
  speaker?: string;
  words?: (Word & { speaker?: string })[];
}
