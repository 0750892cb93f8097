// Who speaks: a voice as callers name it resolved to what the engine speaks (a preset, a mix formula or a
// cloned voice's base voice and tone embedding), and the engine arguments with the lexicon that applies.
import type { ApiContext } from '../context';
import { notFound } from '../errors';
import { LexiconStore } from '../../storage/lexicon';
import { KOKORO_VOICE_IDS } from '../../voices/presets';
import { baseVoiceFor } from '../../voices/base-voice';
import type { CloneSpeakArgs } from '../../clone/contract';
import type { SynthesizeParams } from '../../tts/contract';
import type { SpeechSpec } from './speech-schemas';

/** OpenAI voice names → the Kokoro presets that sound most alike (documented in the README). */
export const OPENAI_VOICES: Record<string, string> = {
  alloy: 'af_alloy',
  ash: 'am_adam',
  ballad: 'bm_fable',
  coral: 'af_heart',
  echo: 'am_echo',
  fable: 'bm_fable',
  nova: 'af_nova',
  onyx: 'am_onyx',
  sage: 'af_sarah',
  shimmer: 'af_bella',
  verse: 'am_michael',
  marin: 'af_river',
  cedar: 'am_liam',
};

export interface Speaker {
  /** What the engine speaks: a preset id or a mix formula. */
  voice: string;
  /** Whose voice-scoped lexicon entries apply (a preset or library voice id; none for a bare formula). */
  lexiconScope?: string;
  /** A designed voice's own pace, multiplied into the caller's speed. */
  speed?: number;
  /** A cloned voice: spoken by clone.speak (Kokoro in `voice`, its base voice → the converter). */
  cloned?: { embedding: number[]; language: string; gender: string };
}

/**
 * A voice as callers name it: a preset id, an OpenAI voice name, a mix formula, or a library voice whose
 * recipe is a formula (mixed and designed voices), or a cloned voice (spoken by clone.speak).
 */
export async function resolveSpeaker(name: string, ctx: ApiContext): Promise<Speaker> {
  const v = name.trim();
  if ((KOKORO_VOICE_IDS as readonly string[]).includes(v)) return { voice: v, lexiconScope: v };
  const mapped = OPENAI_VOICES[v.toLowerCase()];
  if (mapped) return { voice: mapped, lexiconScope: mapped };
  if (/[*+]/.test(v)) return { voice: v }; // a mix formula; the engine validates each term
  const stored = await ctx.db.get('voices', v);
  if (!stored)
    throw notFound(
      `No voice "${v}": use a preset id (e.g. af_heart), an OpenAI voice name, a mix formula, or a library voice id.`,
    );
  if (stored.recipe?.formula)
    return { voice: stored.recipe.formula, lexiconScope: stored.id, speed: stored.recipe.speed };
  if (stored.kind === 'preset') return { voice: stored.id, lexiconScope: stored.id };
  if (stored.embedding?.length)
    return {
      voice: baseVoiceFor(stored.language, stored.gender),
      lexiconScope: stored.id,
      cloned: { embedding: stored.embedding, language: stored.language, gender: stored.gender },
    };
  throw notFound(`Voice "${stored.name}" has neither a recipe nor a tone embedding to speak with.`);
}

/** The engine arguments: the resolved voice and the stored lexicon entries that apply to it. */
export async function engineArgs(
  spec: SpeechSpec,
  ctx: ApiContext,
  resolved?: Speaker,
): Promise<{ args: SynthesizeParams; speaker: Speaker }> {
  const speaker = resolved ?? (await resolveSpeaker(spec.voice, ctx));
  const lexicon = await new LexiconStore(ctx.db).forVoice(speaker.lexiconScope);
  const args: SynthesizeParams = {
    text: spec.text,
    voice: speaker.voice,
    // Kokoro speaks at 0.5–2×; a designed voice's pace scales the caller's speed within that range.
    speed: Math.min(2, Math.max(0.5, Math.round(spec.speed * (speaker.speed ?? 1) * 100) / 100)),
    volume_db: spec.volume_db,
    pause_ms: spec.pause_ms,
    language: spec.language,
    temperature: spec.temperature,
  };
  if (lexicon.length) args.lexicon = lexicon;
  if (speaker.lexiconScope) args.voice_id = speaker.lexiconScope;
  return { args, speaker };
}

/** clone.speak's arguments for a cloned voice (the converter takes no lexicon, pauses or volume). */
export function clonedArgs(a: SynthesizeParams, c: NonNullable<Speaker['cloned']>): CloneSpeakArgs {
  return {
    text: a.text,
    embedding: c.embedding,
    language: a.language ?? c.language,
    gender: c.gender as CloneSpeakArgs['gender'],
    baseVoice: typeof a.voice === 'string' ? a.voice : undefined,
    speed: a.speed,
  };
}
