// The speech pipeline for the Node scripts (bench:tts, eval:tts), loaded through Vite's runner so one
// module graph holds both the runtime host and the synthesiser that uses it.
import { installRuntime } from '../../src/lib/runtime/host';
import type { OrtModule } from '../../src/lib/runtime/ort-session';
import { languageOfVoice } from '../../src/lib/voices/languages';
import { planRuns, planUnits, synthesize, type SynthesizeHooks } from '../../src/lib/tts/kokoro';
import { type SynthesizeParams } from '../../src/lib/tts/contract';
import { normalizeText } from '../../src/lib/text/normalize';
import { phonemizeTexts } from '../../src/lib/tts/phonemize';
import { PAD_ID, parseVocab, tokenize } from '../../src/lib/tts/tokenize';
import { parseVoiceFile, styleRow } from '../../src/lib/voices/mix';

export { normalizeText, planUnits, synthesize };
export type { SynthesizeHooks, SynthesizeParams };

/** Installs the engine runtime over the given onnxruntime module (web's WASM, or a shim over node). */
export function useRuntime(ort: OrtModule, cores: number): void {
  installRuntime({ loadOrt: async () => ort, isolated: true, cores });
}

export interface PlannedRun {
  text: string;
  /** input_ids as the model gets them: pad, the run's tokens, pad. */
  input_ids: number[];
  /** The style row for this run's token count. */
  style: Float32Array;
}

/** The model inputs synthesize() makes for `text` with a preset voice, run by run (same planner). */
export async function plannedRuns(
  text: string,
  voice: string,
  loadFile: (path: string) => Promise<Uint8Array>,
): Promise<PlannedRun[]> {
  const vocab = parseVocab(await loadFile('tokenizer.json'));
  const table = parseVoiceFile(await loadFile(`voices/${voice}.bin`), `voices/${voice}.bin`);
  const units = planUnits(text);
  const language = languageOfVoice(voice) ?? 'en-us';
  const ph = await phonemizeTexts(
    units.map((u) => u.text),
    language,
  );
  const runs = planRuns(
    units,
    ph.map((p) => tokenize(p.phonemes, vocab).ids),
    vocab,
  );
  return runs.map((r) => ({
    text: units[r.unit]!.text,
    input_ids: [PAD_ID, ...r.ids, PAD_ID],
    style: Float32Array.from(styleRow(table, r.ids.length)),
  }));
}
