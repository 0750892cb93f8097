// Speech with Kokoro-82M: text → sentences → phonemes → runs of ≤ 510 tokens → the model, one run at a
// time through the runtime's session pool, each run's audio handed out as soon as it exists.
//
// First audio comes early: the first sentence is cut at a natural break (a clause mark, else a word
// boundary after a few words) so the first run is short; later runs are whole sentences (see planUnits).
//
// Audio: every run fades in and out over 5 ms; silence goes between runs (pause_ms after a sentence, 2.5×
// after a paragraph, 0.3× where a sentence was cut at a clause mark, none where it was cut between words;
// at those cuts inside a sentence the model's own edge silence is trimmed on both sides, so the join
// sounds like the uncut sentence); the volume (dB) is applied with a limiter; the silence before the first
// and after the last word is trimmed. The streamed runs, joined, are exactly the result's samples.
import { CancelledError, throwIfAborted, type ProgressFn } from '../core/run';
import { runtimeHost } from '../runtime/host';
import type { OrtSession } from '../runtime/ort-session';
import type { ExecutionProvider } from '../runtime/provider';
import { nonFiniteOutputs } from '../runtime/tensors';
import { splitSentences } from '../text/split';
import { KOKORO_VOICE_IDS } from '../voices/presets';
import { SynthesisError, TtsParamError } from './errors';
import { UnknownVoiceError } from '../voices/errors';
import { applyVolume, MAX_VOLUME_DB, MIN_VOLUME_DB } from './gain';
import {
  concatAudio,
  DEFAULT_PAUSE_MS,
  fadeEdges,
  FADE_MS,
  pauseSamples,
  withLeadingSilence,
  type BreakKind,
} from '../dsp/join';
import { languageOfVoice, parseLanguage, type TtsLanguage } from '../voices/languages';
import { validateLexicon, type LexiconEntry } from '../text/lexicon';
import { normalizePunctuation } from '../text/normalize';
import { phonemizeTexts } from './phonemize';
import { chunk, MAX_TOKENS, PAD_ID, parseVocab, tokenize, type Vocab } from './tokenize';
import { KokoroGraphError, prepareKokoro } from './kokoro-graph';
import { trimSilence } from './trim';
import {
  checkStyleTable,
  isMixFormula,
  mixVoices,
  parseMixFormula,
  parseVoiceFile,
  styleRow,
  type StyleTable,
} from '../voices/mix';
import {
  MAX_PAUSE_MS,
  MAX_SPEED,
  MAX_TEXT_CHARS,
  MIN_SPEED,
  type SynthChunk,
  type SynthesizeParams,
  type SynthesizeResult,
} from './contract';

export const KOKORO_MODEL_ID = 'kokoro-82m-q8';
export const KOKORO_SAMPLE_RATE = 24000;
/** Sentences longer than this are cut at clause marks before phonemisation (runs stay short). */
const SENTENCE_MAX_CHARS = 350;

export interface SynthesizeHooks {
  /** Reads a file of the installed Kokoro model: "model.onnx", "tokenizer.json", "voices/<id>.bin". */
  loadFile: (path: string) => Promise<Uint8Array>;
  signal?: AbortSignal;
  onChunk?: (c: SynthChunk) => void;
  /** 'load' | 'create' | 'warmup' (first use of the model), then 'phonemes' and 'synthesis'. */
  onProgress?: ProgressFn;
}

interface Checked {
  text: string;
  speed: number;
  volumeDb: number;
  pauseMs: number;
  language?: TtsLanguage;
  lexicon: LexiconEntry[];
}

function inRange(field: string, v: unknown, lo: number, hi: number, dflt: number, unit = ''): number {
  if (v === undefined || v === null) return dflt;
  if (typeof v !== 'number' || !Number.isFinite(v) || v < lo || v > hi)
    throw new TtsParamError(
      field,
      `${field} must be a number from ${lo} to ${hi}${unit} (it is ${String(v)}).`,
    );
  return v;
}

export function checkParams(p: SynthesizeParams): Checked {
  if (typeof p.text !== 'string' || !p.text.trim()) throw new TtsParamError('text', 'text is empty.');
  if (p.text.length > MAX_TEXT_CHARS)
    throw new TtsParamError('text', `text is longer than ${MAX_TEXT_CHARS} characters.`);
  return {
    text: p.text,
    speed: inRange('speed', p.speed, MIN_SPEED, MAX_SPEED, 1),
    volumeDb: inRange('volume_db', p.volume_db, MIN_VOLUME_DB, MAX_VOLUME_DB, 0, ' dB'),
    pauseMs: inRange('pause_ms', p.pause_ms, 0, MAX_PAUSE_MS, DEFAULT_PAUSE_MS, ' ms'),
    language: p.language ? parseLanguage(p.language) : undefined,
    lexicon: validateLexicon(p.lexicon ?? []),
  };
}

interface Unit {
  text: string;
  /** The break before this sentence. */
  kind: BreakKind;
}

/** How a run joins the one before it: BreakKind, or 'word' for a cut between two words of a sentence. */
export type RunBreak = BreakKind | 'word';

export interface FirstCutOptions {
  /** A first sentence up to this long is not cut; a word cut keeps the head within it (characters). */
  maxChars: number;
  /** A cut at a clause mark may make the head up to this long (prosody first, latency second). */
  punctMaxChars: number;
  /** Neither part of a cut sentence is shorter than this (characters). */
  minChars: number;
}

/**
 * The first run's size. Kokoro's cost follows the audio it makes (about 14 phoneme tokens, 12–15
 * characters of English, a second), but a run never makes much less than a second (pads and edges get
 * durations too): a 10-token run costs about 70 % of a 30-token one (npm run bench:tts counts it). So
 * the head keeps three to five words: little more work than the least possible, far less than a whole
 * sentence, and enough words for a natural phrase.
 */
export const FIRST_CUT: Readonly<FirstCutOptions> = { maxChars: 28, punctMaxChars: 48, minChars: 8 };

/** Clause marks a sentence may be cut after (followed by a space, or any CJK comma). */
const CLAUSE_CUT = /(?:[,;:—–](?=\s)|[、，；：])\s*/gu;
/** A head does not end on these: "the", "of", "to"… need the word after them. */
const NO_END_WORD = new Set(
  [
    'a', 'an', 'the', 'of', 'to', 'in', 'on', 'at', 'by', 'for', 'from', 'with', 'into', 'onto', 'and', 'or',
    'but', 'nor', 'if', 'as', 'than', 'that', 'this', 'these', 'those', 'my', 'your', 'his', 'her', 'its',
    'our', 'their', 'is', 'are', 'was', 'were', 'be', 'been', 'has', 'have', 'had', 'do', 'does', 'did',
    'will', 'would', 'can', 'could', 'shall', 'should', 'may', 'might', 'must', 'not', 'no', 'very', 'so',
    'i', 'we', 'you', 'he', 'she', 'it', 'they', 'who', 'which', 'what', 'when', 'where', 'how', 'per',
  ],
); // prettier-ignore
/** A word cut goes before these when it can: phrases tend to start there. */
const PHRASE_START = new Set(
  [
    'and', 'but', 'or', 'so', 'because', 'while', 'when', 'where', 'which', 'who', 'that', 'if', 'as',
    'to', 'of', 'in', 'on', 'at', 'for', 'with', 'from', 'into', 'after', 'before', 'since', 'until',
    'without', 'through', 'about', 'over', 'under',
  ],
); // prettier-ignore

/** A word the normaliser reads with its neighbours (numbers, dates, money, units, symbols, initials). */
const bound = (word: string) => /[\p{N}$€£¥%&@#+=/*^~<>|\\]/u.test(word) || /^\p{Lu}\.?$/u.test(word);
const bare = (word: string) => word.toLowerCase().replace(/^[\p{P}\p{S}]+|[\p{P}\p{S}]+$/gu, '');

/**
 * Where to cut the first sentence (an index into it: head = s.slice(0, at), tail = s.slice(at)), or null
 * to keep it whole. A clause mark wins when there is one: the last that keeps the head within maxChars,
 * else the first within punctMaxChars; otherwise a space, within maxChars, never next to a number, symbol
 * or initial (the normaliser reads "12 March 2024" as one), never after a word such as "the", preferably
 * before a word that starts a phrase. Either part keeps at least minChars.
 */
export function firstCut(
  sentence: string,
  o: Readonly<FirstCutOptions> = FIRST_CUT,
): { at: number; kind: 'clause' | 'word' } | null {
  const s = sentence;
  if (s.length <= o.maxChars) return null;
  const fits = (at: number, max: number) => {
    const head = s.slice(0, at).trimEnd().length;
    return head >= o.minChars && head <= max && s.slice(at).trim().length >= o.minChars;
  };
  const clauses = [...s.matchAll(CLAUSE_CUT)]
    .map((m) => (m.index ?? 0) + m[0].length)
    .filter((at) => at < s.length && !insideQuotes(s, at));
  const clause =
    clauses.filter((at) => fits(at, o.maxChars)).at(-1) ?? clauses.find((at) => fits(at, o.punctMaxChars));
  if (clause !== undefined) return { at: clause, kind: 'clause' };

  const words = [...s.matchAll(/\S+/g)].map((m) => ({ word: m[0], start: m.index ?? 0 }));
  let best: { at: number; score: number } | null = null;
  for (let k = 1; k < words.length; k++) {
    const prev = words[k - 1]!;
    const next = words[k]!;
    if (!fits(next.start, o.maxChars)) continue;
    if (bound(prev.word) || bound(next.word) || NO_END_WORD.has(bare(prev.word))) continue;
    if (/[\p{Pi}\p{Ps}"'“‘«(]$/u.test(prev.word) || insideQuotes(s, next.start)) continue;
    // Later is better (a longer head says more per run), before a phrase start better still.
    const score = next.start + (PHRASE_START.has(bare(next.word)) ? o.maxChars : 0);
    if (!best || score >= best.score) best = { at: next.start, score };
  }
  return best ? { at: best.at, kind: 'word' } : null;
}

/** True when `at` falls inside an open quotation (a cut there would split what a voice says). */
function insideQuotes(s: string, at: number): boolean {
  const before = s.slice(0, at);
  const straight = (before.match(/"/g) ?? []).length;
  const open = (before.match(/[“«「『]/g) ?? []).length - (before.match(/[”»」』]/g) ?? []).length;
  return straight % 2 === 1 || open > 0;
}

export interface PlannedUnit {
  /** What this run says: a sentence, or part of the first one. */
  text: string;
  /** The break before it. */
  kind: RunBreak;
  /** Index of its sentence in sentenceUnits(text). */
  sentence: number;
}

/**
 * The texts to synthesise, in order: sentenceUnits(text) with the first sentence cut by firstCut. Every
 * character of the sentences lands in exactly one unit: the parts of a sentence, joined by a space (none
 * after a CJK comma), are that sentence.
 */
export function planUnits(text: string, o: Readonly<FirstCutOptions> = FIRST_CUT): PlannedUnit[] {
  const out: PlannedUnit[] = [];
  sentenceUnits(text).forEach((u, i) => {
    const cut = i === 0 ? firstCut(u.text, o) : null;
    if (!cut) {
      out.push({ text: u.text, kind: u.kind, sentence: i });
      return;
    }
    out.push({ text: u.text.slice(0, cut.at).trimEnd(), kind: u.kind, sentence: i });
    out.push({ text: u.text.slice(cut.at).trimStart(), kind: cut.kind, sentence: i });
  });
  return out;
}

/** Paragraphs (blank lines) → sentences, by the splitter POST /api/text/split uses. */
export function sentenceUnits(text: string): Unit[] {
  const out: Unit[] = [];
  text.split(/\n\s*\n/).forEach((para) => {
    const sentences = splitSentences(normalizePunctuation(para), { maxChars: SENTENCE_MAX_CHARS });
    sentences.forEach((s, i) =>
      out.push({ text: s, kind: i === 0 && out.length ? 'paragraph' : 'sentence' }),
    );
  });
  return out;
}

const PRESETS = new Set<string>(KOKORO_VOICE_IDS);

interface ResolvedVoice {
  table: StyleTable;
  language: TtsLanguage;
  voiceId?: string;
}

async function loadPreset(id: string, load: (p: string) => Promise<Uint8Array>): Promise<StyleTable> {
  if (!PRESETS.has(id)) throw new UnknownVoiceError(id);
  return parseVoiceFile(await load(`voices/${id}.bin`), `voices/${id}.bin`);
}

async function resolveVoice(
  voice: SynthesizeParams['voice'],
  language: TtsLanguage | undefined,
  load: (p: string) => Promise<Uint8Array>,
): Promise<ResolvedVoice> {
  if (voice instanceof Float32Array) return { table: checkStyleTable(voice), language: language ?? 'en-us' };
  if (typeof voice !== 'string' || !voice.trim()) throw new TtsParamError('voice', 'voice is empty.');
  const v = voice.trim();
  if (isMixFormula(v)) {
    const terms = parseMixFormula(v);
    const parts = [];
    for (const t of terms) parts.push({ table: await loadPreset(t.voice, load), weight: t.weight });
    const heaviest = [...terms].sort((a, b) => b.weight - a.weight)[0]!.voice;
    return { table: mixVoices(parts), language: language ?? languageOfVoice(heaviest)! };
  }
  return { table: await loadPreset(v, load), language: language ?? languageOfVoice(v)!, voiceId: v };
}

export interface Run {
  /** Index into the planned units. */
  unit: number;
  ids: number[];
  kind: RunBreak;
}

/**
 * Token runs of the planned units: each unit's tokens cut to runs of at most MAX_TOKENS by `chunk` (the
 * second and later runs of a unit join it with a 'clause' break). Never drops a token.
 */
export function planRuns(
  units: readonly { kind: RunBreak }[],
  ids: readonly number[][],
  vocab: Vocab,
): Run[] {
  const runs: Run[] = [];
  ids.forEach((unitIds, u) =>
    chunk(unitIds, vocab, MAX_TOKENS).forEach((r, k) =>
      runs.push({ unit: u, ids: r, kind: k === 0 ? units[u]!.kind : 'clause' }),
    ),
  );
  return runs;
}

/** Silence before a run: the sentence/paragraph/clause pause of join.ts, none at a cut between words. */
const gapBefore = (kind: RunBreak, pauseMs: number, sr: number) =>
  kind === 'word' ? 0 : pauseSamples(kind, pauseMs, sr);
/** Joins inside a sentence: the model's edge silence goes on both sides. */
const inside = (kind: RunBreak | undefined) => kind === 'clause' || kind === 'word';

/**
 * Raw model output of runs spoken ahead (speakAhead: the Speak view speaks the first sentence while the
 * text is typed), per session (another session, e.g. another provider, may sound different) and keyed by
 * all the model hears (voice, speed, tokens). A generation that reaches such a run takes it instead of
 * running the model; everything after the model (volume, trims, fades, pauses) is the same code, so its
 * audio is the audio of a generation with nothing ahead.
 */
const spokenAhead = new WeakMap<object, Map<string, Float32Array>>();
/** Runs kept ahead per session (oldest dropped first): a few sentences' heads of a few seconds each. */
const AHEAD_KEEP = 8;

/** A run's key in spokenAhead; none for a bare style table (it has no name to key by). */
const aheadKey = (voice: SynthesizeParams['voice'], speed: number, ids: readonly number[]) =>
  typeof voice === 'string' ? `${voice.trim()}|${speed}|${ids.join(',')}` : null;

/** The text planned, phonemised and cut to token runs; `firstSentence`: only the first sentence's runs. */
async function planSynthesis(params: SynthesizeParams, hooks: SynthesizeHooks, firstSentence = false) {
  const { signal, onProgress, loadFile } = hooks;
  const p = checkParams(params);
  throwIfAborted(signal);
  const voice = await resolveVoice(params.voice, p.language, loadFile);
  const vocab = parseVocab(await loadFile('tokenizer.json'));
  throwIfAborted(signal);

  const planned = planUnits(p.text);
  const units = firstSentence ? planned.filter((u) => u.sentence === 0) : planned;
  onProgress?.({ stage: 'phonemes', done: 0, total: units.length, message: 'Phonemising' });
  const phonemized = await phonemizeTexts(
    units.map((u) => u.text),
    voice.language,
    { lexicon: p.lexicon, voiceId: params.voice_id ?? voice.voiceId },
  );
  onProgress?.({ stage: 'phonemes', done: units.length, total: units.length, message: 'Phonemised' });
  throwIfAborted(signal);

  let dropped = 0;
  const ids = phonemized.map((ph) => {
    const tok = tokenize(ph.phonemes, vocab);
    dropped += tok.dropped + ph.skipped;
    return tok.ids;
  });
  const runs = planRuns(units, ids, vocab);
  if (!runs.length) throw new TtsParamError('text', 'The text has nothing Kokoro can say.');
  return { p, voice, vocab, units, runs, dropped };
}

/** One model run: its raw waveform, checked. */
async function runModel(
  session: OrtSession,
  feeds: ReturnType<typeof feedsOf>,
  ids: readonly number[],
  table: StyleTable,
): Promise<Float32Array> {
  const out = await session.run(feeds(ids, styleRow(table, ids.length)));
  const wave = out.waveform ?? Object.values(out)[0];
  if (!wave || !(wave.data instanceof Float32Array))
    throw new SynthesisError('Kokoro gave no waveform output.');
  if (nonFiniteOutputs({ waveform: wave }).length)
    throw new SynthesisError('Kokoro gave NaN or infinite samples.');
  const audio = Float32Array.from(wave.data);
  for (const t of Object.values(out)) t.dispose?.();
  return audio;
}

export interface AheadResult {
  /** Runs the first sentence is spoken in. */
  runs: number;
  /** The model ran for this run (false: it was kept already, or there is no such run). */
  made: boolean;
}

/**
 * Speaks run `run` of the first sentence of `params.text` into spokenAhead, so a generation of that text
 * with these settings starts with audio already made. One run per call, so a caller can stop between runs
 * without interrupting the model (see speak-ahead.ts).
 */
export async function speakAhead(
  params: SynthesizeParams,
  hooks: SynthesizeHooks,
  run = 0,
): Promise<AheadResult> {
  const { p, voice, vocab, runs } = await planSynthesis(params, { ...hooks, onProgress: undefined }, true);
  const target = runs[run];
  const key = target && aheadKey(params.voice, p.speed, target.ids);
  if (!target || !key) return { runs: runs.length, made: false };
  const rt = await runtimeHost();
  return rt.pool.use(
    KOKORO_MODEL_ID,
    () => hooks.loadFile('model.onnx'),
    sessionOptions(rt.ort, vocab, voice.table, hooks),
    async (ps) => {
      let kept = spokenAhead.get(ps.session);
      if (!kept) spokenAhead.set(ps.session, (kept = new Map()));
      if (kept.has(key)) return { runs: runs.length, made: false };
      throwIfAborted(hooks.signal);
      const audio = await runModel(ps.session, feedsOf(rt.ort, p.speed), target.ids, voice.table);
      kept.set(key, audio);
      for (const old of kept.keys()) if (kept.size > AHEAD_KEEP) kept.delete(old);
      return { runs: runs.length, made: true };
    },
  );
}

/** Speaks `params.text`; see the top of this file. Rejects with CancelledError when `signal` aborts. */
export async function synthesize(
  params: SynthesizeParams,
  hooks: SynthesizeHooks,
): Promise<SynthesizeResult> {
  const { signal, onChunk, onProgress, loadFile } = hooks;
  const { p, voice, vocab, units, runs, dropped } = await planSynthesis(params, hooks);
  const sentences = sentenceUnits(p.text).map((u) => u.text);

  const sr = KOKORO_SAMPLE_RATE;
  const rt = await runtimeHost();
  const feeds = feedsOf(rt.ort, p.speed);

  return rt.pool.use(
    KOKORO_MODEL_ID,
    () => loadFile('model.onnx'),
    sessionOptions(rt.ort, vocab, voice.table, hooks),
    async (ps) => {
      const parts: Float32Array[] = [];
      const spans = new Map<number, { start: number; end: number }>();
      const kept = spokenAhead.get(ps.session);
      let at = 0;
      let started = false;
      for (const [i, run] of runs.entries()) {
        throwIfAborted(signal);
        onProgress?.({ stage: 'synthesis', done: i, total: runs.length, message: units[run.unit]!.text });
        const key = aheadKey(params.voice, p.speed, run.ids);
        const ahead = key ? kept?.get(key) : undefined;
        let audio = ahead ? ahead.slice() : await runModel(ps.session, feeds, run.ids, voice.table);
        if (signal?.aborted) throw new CancelledError();

        applyVolume(audio, p.volumeDb, sr);
        const last = i === runs.length - 1;
        audio = trimSilence(audio, sr, {
          leading: !started || inside(run.kind),
          trailing: last || inside(runs[i + 1]?.kind),
        }).slice();
        fadeEdges(audio, Math.round((FADE_MS * sr) / 1000));
        const gap = started && audio.length ? gapBefore(run.kind, p.pauseMs, sr) : 0;
        if (audio.length) started = true;
        const samples = withLeadingSilence(audio, gap);
        const sentence = units[run.unit]!.sentence;
        const span = spans.get(sentence);
        spans.set(sentence, { start: span?.start ?? at + gap, end: at + samples.length });
        at += samples.length;
        parts.push(samples);
        onChunk?.({
          index: i,
          total: runs.length,
          samples,
          sampleRate: sr,
          text: units[run.unit]!.text,
          ...(ahead ? { ahead: true } : {}),
        });
      }
      onProgress?.({ stage: 'synthesis', done: runs.length, total: runs.length, message: 'Done' });
      return {
        samples: concatAudio(parts),
        sampleRate: sr,
        chunks: [...spans].map(([n, s]) => ({ text: sentences[n]!, start: s.start / sr, end: s.end / sr })),
        dropped_chars: dropped,
      };
    },
  );
}

type Ort = Awaited<ReturnType<typeof runtimeHost>>['ort'];

/** A run's inputs: the tokens between pads, the style row for their count, the speed. */
const feedsOf = (ort: Ort, speed: number) => (ids: readonly number[], style: Float32Array) => ({
  input_ids: new ort.Tensor('int64', BigInt64Array.from([PAD_ID, ...ids, PAD_ID], BigInt), [
    1,
    ids.length + 2,
  ]),
  style: new ort.Tensor('float32', Float32Array.from(style), [1, style.length]),
  speed: new ort.Tensor('float32', new Float32Array([speed]), [1]),
});

/** How the pool makes Kokoro's session: the graph rewrite, then a one-token run to warm it up. */
function sessionOptions(
  ort: Ort,
  vocab: Vocab,
  table: Float32Array,
  hooks: Pick<SynthesizeHooks, 'signal' | 'onProgress'>,
) {
  const warmIds = [...'ə'].map((c) => vocab.ids.get(c) ?? PAD_ID);
  const feeds = feedsOf(ort, 1);
  return {
    signal: hooks.signal,
    onProgress: hooks.onProgress,
    warmup: (s: OrtSession) => s.run(feeds(warmIds, styleRow(table, warmIds.length))),
    prepare: kokoroGraphFor,
  };
}

/**
 * Makes what the first synthesis would otherwise wait for, and says nothing: Kokoro's session (the graph
 * rewrite, the warm-up run) and espeak-ng (its wasm loads on first use). The Speak view runs it when it
 * opens, so its first Generate starts at the text.
 */
export async function prepareSynthesis(
  hooks: Pick<SynthesizeHooks, 'loadFile' | 'signal' | 'onProgress'>,
  voiceName = 'af_heart',
): Promise<void> {
  const voice = await resolveVoice(voiceName, undefined, hooks.loadFile);
  const vocab = parseVocab(await hooks.loadFile('tokenizer.json'));
  throwIfAborted(hooks.signal);
  await phonemizeTexts(['Ready.'], voice.language, {});
  const rt = await runtimeHost();
  await rt.pool.use(
    KOKORO_MODEL_ID,
    () => hooks.loadFile('model.onnx'),
    sessionOptions(rt.ort, vocab, voice.table, hooks),
    async () => undefined,
  );
}

/**
 * The graph the session is made from (kokoro-graph.ts: float convs, int8 generator convs on WASM). A
 * model this rewrite does not recognise is used as shipped: slower, but it speaks.
 */
function kokoroGraphFor(bytes: Uint8Array, ep: ExecutionProvider): Uint8Array {
  try {
    return prepareKokoro(bytes, ep).model;
  } catch (e) {
    if (!(e instanceof KokoroGraphError)) throw e;
    console.warn(`Kokoro runs its graph as shipped: ${e.message}`);
    return bytes;
  }
}
