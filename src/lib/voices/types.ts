export const VOICE_KINDS = ['preset', 'cloned', 'designed', 'mixed'] as const;
export type VoiceKind = (typeof VOICE_KINDS)[number];
export const GENDERS = ['female', 'male', 'neutral', 'unknown'] as const;
export type Gender = (typeof GENDERS)[number];

/** A recording a voice was made from; kept only when the user chooses to keep samples. */
export interface VoiceSample {
  id: string;
  name: string;
  mime: string;
  duration: number;
  /** Raw file bytes. */
  data: ArrayBuffer;
}

/** How a voice sounds the way it does: a mix formula, a designed blend, or a cloned embedding. */
export interface VoiceRecipe {
  formula?: string;
  attributes?: Record<string, string | number>;
  speed?: number;
  base_voice?: string;
}

export interface Voice {
  id: string;
  name: string;
  description: string;
  tags: string[];
  language: string;
  accent?: string;
  gender: Gender;
  kind: VoiceKind;
  model: string;
  samples: VoiceSample[];
  /** Tone-colour embedding (256 floats) for cloned voices. */
  embedding?: number[];
  recipe?: VoiceRecipe;
  /** Quality checks recorded when a voice was cloned. */
  checks?: Record<string, unknown>;
  favorite: boolean;
  created_at: number;
  updated_at: number;
}
