// Voice design over the API: `POST /api/design/create` saves a voice designed from a description (kind
// 'designed', recipe {formula, attributes, speed}); `POST /api/generate/design` speaks text in a voice
// designed on the spot from a description, or in a stored designed or mixed voice, at its recipe's speed.
// Both answer with the explanation: the attributes found, the presets chosen and their distances.
import { z } from 'zod';
import type { ApiContext } from '../context';
import { badRequest } from '../errors';
import { json } from '../http';
import { MAX_CHARS, type SpeechSpec } from './speech-schemas';
import { encodeAudio, speak, speechJson } from './speak';
import { storage, voiceJson } from './voices';
import type { ApiKeyRecord } from '../../auth/keys';
import { designVoice, type DesignResult } from '../../voices/design';
import { DesignError, MAX_DESCRIPTION } from '../../voices/design-words';
import type { Voice } from '../../voices/types';
import { newId } from '../../core/ids';

const description = z
  .string()
  .max(MAX_DESCRIPTION, `longer than the limit of ${MAX_DESCRIPTION} characters`)
  .refine(
    (s) => s.trim().length > 0,
    'empty: describe the voice, e.g. "a calm older British man, slow and deep"',
  );
const designGender = z.enum(['female', 'male', 'neutral']);

export const designCreateBody = z
  .object({
    description,
    name: z.string().trim().min(1).max(200).optional(),
    /** Overrides the language the description names (a code: en-gb, fr, ja…). */
    language: z.string().min(2).max(10).optional(),
    gender: designGender.optional(),
    tags: z.array(z.string().trim().min(1).max(50)).max(50).optional(),
  })
  .strict();

export const designSpeechBody = z
  .object({
    text: z
      .string()
      .max(MAX_CHARS, `longer than the limit of ${MAX_CHARS} characters`)
      .refine((s) => s.trim().length > 0, `empty: send 1 to ${MAX_CHARS} characters of text`),
    description: description.optional(),
    /** A stored designed (or mixed) voice instead of a description. */
    voice_id: z.string().trim().min(1).max(200).optional(),
    language: z.string().min(2).max(10).optional(),
    gender: designGender.optional(),
    /** Multiplies the design's own speed (the result is kept within 0.5–2). */
    speed: z.number().min(0.5).max(2).default(1),
    volume: z.number().min(-20).max(20).default(0),
    pause_ms: z.number().int().min(0).max(5000).optional(),
    temperature: z.number().min(0.1).max(1.5).optional(),
    format: z.enum(['wav', 'pcm']).default('wav'),
  })
  .strict()
  .superRefine((b, ctx) => {
    if ((b.description === undefined) === (b.voice_id === undefined))
      ctx.addIssue({
        code: 'custom',
        path: ['description'],
        message: 'send either description (a voice designed now) or voice_id (a designed voice), not both',
      });
  });

/** Design, with a DesignError as a 400 that names the description. */
function design(
  desc: string,
  language: string | undefined,
  gender: z.infer<typeof designGender> | undefined,
) {
  try {
    return designVoice(desc, { language, gender });
  } catch (e) {
    if (e instanceof DesignError) throw badRequest(e.message, { field: 'description' });
    throw e;
  }
}

/** What the caller sees of a design: why the voice sounds as it does. */
export function designJson(d: DesignResult) {
  return {
    description: d.description,
    attributes: d.attributes,
    formula: d.formula,
    speed: d.speed,
    language: d.language,
    gender: d.gender,
    targets: d.targets,
    chosen: d.chosen,
    explanation: d.explanation,
    ignored: d.ignored,
    traits_commit: d.traits_commit,
  };
}

/** A name from the description: its first words, capitalised (the name of a design saved without one). */
export function defaultDesignName(desc: string): string {
  const words = desc.trim().replace(/\s+/g, ' ').split(' ').slice(0, 6).join(' ');
  const short = words.length > 48 ? `${words.slice(0, 47)}…` : words;
  return short.charAt(0).toUpperCase() + short.slice(1);
}

/** The voice record of a design: the recipe holds the formula, the attributes (with their words) and the speed. */
export function designedVoice(d: DesignResult, opts: { name?: string; tags?: string[] }, now: number): Voice {
  const words: Record<string, string> = {};
  for (const [k, a] of Object.entries(d.attributes)) if (a) words[`${k}_words`] = a.words.join(', ');
  return {
    id: newId('design'),
    name: opts.name ?? defaultDesignName(d.description),
    description: d.description,
    tags: [...new Set(['designed', ...(opts.tags ?? [])])],
    language: d.language,
    accent: String(d.recipe_attributes.accent),
    gender: d.gender,
    kind: 'designed',
    model: 'kokoro',
    samples: [],
    recipe: {
      formula: d.formula,
      attributes: { ...d.recipe_attributes, ...words },
      speed: d.speed,
      base_voice: d.terms[0]?.voice,
    },
    // the full explanation travels with the voice (and its export)
    checks: { design: designJson(d) },
    favorite: false,
    created_at: now,
    updated_at: now,
  };
}

export async function createDesign(
  body: z.infer<typeof designCreateBody>,
  ctx: ApiContext,
): Promise<Response> {
  const d = design(body.description, body.language, body.gender);
  const voice = await storage(() => ctx.voices.put(designedVoice(d, body, ctx.now())));
  return json({ success: true, voice_id: voice.id, voice: voiceJson(voice), design: designJson(d) }, 201);
}

const clampSpeed = (s: number) => Math.round(Math.min(2, Math.max(0.5, s)) * 100) / 100;

export async function designSpeech(
  body: z.infer<typeof designSpeechBody>,
  key: ApiKeyRecord,
  ctx: ApiContext,
): Promise<Response> {
  let voice: string;
  let recipeSpeed: number;
  let about: Record<string, unknown>;
  if (body.voice_id !== undefined) {
    const v = await storage(() => ctx.voices.get(body.voice_id!));
    if (!v.recipe?.formula)
      throw badRequest(
        `Voice "${v.name}" is a ${v.kind} voice with no recipe: speak in it with POST /api/generate/preset.`,
        { field: 'voice_id' },
      );
    // the stored voice by id: its voice-scoped lexicon entries apply
    voice = v.id;
    recipeSpeed = v.recipe.speed ?? 1;
    about = { voice_id: v.id, formula: v.recipe.formula, attributes: v.recipe.attributes ?? {} };
  } else {
    const d = design(body.description!, body.language, body.gender);
    voice = d.formula;
    recipeSpeed = d.speed;
    about = { design: designJson(d) };
  }
  const speed = clampSpeed(recipeSpeed * body.speed);
  const spec: SpeechSpec = {
    text: body.text,
    voice,
    format: body.format,
    // A stored voice's recipe speed is applied where every route resolves it (speaker.ts engineArgs).
    speed: body.voice_id !== undefined ? body.speed : speed,
    volume_db: body.volume,
    pause_ms: body.pause_ms,
    language: body.voice_id !== undefined ? body.language : undefined,
    temperature: body.temperature,
    route: 'POST /api/generate/design',
  };
  const s = await speak(spec, key, ctx);
  const { bytes, type } = await encodeAudio(s.result, body.format, ctx);
  return speechJson(s, { bytes, type }, body, {
    ...about,
    voice: s.speaker.voice,
    speed,
    recipe_speed: recipeSpeed,
  });
}
