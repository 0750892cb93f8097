// Whisper over onnxruntime (the transformers.js export: an encoder and a merged decoder with a KV cache),
// through the runtime's session pool. One 30 s window at a time: log-mel features → encoder → greedy (or,
// on fallback, sampled) decoding with Whisper's timestamp rules, one decoder step per token, checking the
// abort signal between steps.
import onnxProto from 'onnx-proto';
import { CancelledError, throwIfAborted, yieldToEvents, type ProgressFn } from '../core/run';
import { runtimeHost } from '../runtime/host';
import type { OrtModule, OrtSession, OrtTensor } from '../runtime/ort-session';
import { WhisperModelError } from './errors';
import { logMel, N_FRAMES, N_MELS, SAMPLE_RATE } from './mel';
import { WhisperTokenizer } from './tokenizer';

export interface WhisperConfig {
  layers: number;
  heads: number;
  dModel: number;
  vocabSize: number;
  suppress: number[];
  beginSuppress: number[];
  /** [layer, head] pairs whose cross-attention follows the audio (for word timestamps). */
  alignmentHeads: [number, number][];
  multilingual: boolean;
  maxInitialTimestampIndex: number;
}

export interface WhisperFiles {
  config: Record<string, unknown>;
  generation: Record<string, unknown>;
  tokenizer: WhisperTokenizer;
  /** Loads one ONNX file (onnx/encoder_model_quantized.onnx …). */
  loadEncoder: () => Promise<Uint8Array>;
  loadDecoder: () => Promise<Uint8Array>;
}

const { onnx } = onnxProto;

/**
 * The encoder graph without its attention-weight outputs. The export lists every layer's softmax as a
 * graph output (`encoder_attentions.N`), so onnxruntime copies each 6 × 1500 × 1500 tensor out through a
 * Reshape instead of aliasing it, though nothing reads them: about 6 % of the tiny encoder's run (587 →
 * 551 ms, onnxruntime-web WASM in Node, 2 threads, median of 7). Other exports pass unchanged.
 */
export function encoderGraph(bytes: Uint8Array): Uint8Array {
  const m = onnx.ModelProto.decode(bytes);
  const outputs = m.graph?.output ?? [];
  if (outputs.length < 2 || !outputs.some((o) => o.name === 'last_hidden_state')) return bytes;
  m.graph!.output = outputs.filter((o) => o.name === 'last_hidden_state');
  return onnx.ModelProto.encode(m).finish();
}

/** Reads a model's config, generation config and tokenizer files. */
export async function loadWhisperFiles(
  loadFile: (path: string) => Promise<Uint8Array>,
): Promise<WhisperFiles> {
  const text = async (p: string) => new TextDecoder().decode(await loadFile(p));
  const jsonOf = async (p: string) => JSON.parse(await text(p)) as Record<string, unknown>;
  const [config, generation, vocab, merges, added] = await Promise.all([
    jsonOf('config.json'),
    jsonOf('generation_config.json'),
    jsonOf('vocab.json'),
    text('merges.txt'),
    jsonOf('added_tokens.json'),
  ]);
  const tokenizer = new WhisperTokenizer({
    vocab: vocab as Record<string, number>,
    merges,
    added: added as Record<string, number>,
    generation,
  });
  return {
    config,
    generation,
    tokenizer,
    loadEncoder: () => loadFile('onnx/encoder_model_quantized.onnx'),
    loadDecoder: () => loadFile('onnx/decoder_model_merged_quantized.onnx'),
  };
}

export function whisperConfig(f: Pick<WhisperFiles, 'config' | 'generation'>): WhisperConfig {
  const c = f.config;
  const g = f.generation;
  const num = (v: unknown, what: string) => {
    if (typeof v !== 'number') throw new WhisperModelError(`config.json has no ${what}.`);
    return v;
  };
  const heads = (g.alignment_heads ?? []) as [number, number][];
  return {
    layers: num(c.decoder_layers, 'decoder_layers'),
    heads: num(c.decoder_attention_heads, 'decoder_attention_heads'),
    dModel: num(c.d_model, 'd_model'),
    vocabSize: num(c.vocab_size, 'vocab_size'),
    suppress: ((g.suppress_tokens ?? c.suppress_tokens ?? []) as number[]).slice(),
    beginSuppress: ((g.begin_suppress_tokens ?? c.begin_suppress_tokens ?? []) as number[]).slice(),
    alignmentHeads: heads,
    multilingual: g.is_multilingual !== false,
    // transformers.js configs say 1; OpenAI's default max_initial_timestamp is 1.0 s (index 50).
    maxInitialTimestampIndex: 50,
  };
}

export interface DecodeOptions {
  language: string;
  task: 'transcribe' | 'translate';
  timestamps: boolean;
  /** Prompt ids (already encoded), put after <|startofprev|>. */
  prompt?: number[];
  temperature: number;
  /** Window length in seconds (timestamps beyond it are not allowed). */
  windowSeconds: number;
  maxTokens?: number;
  /** Keep the cross-attention of the alignment heads per token (word timestamps). */
  attention?: boolean;
  random?: () => number;
  signal?: AbortSignal;
  /** The tokens generated so far, after each step (for text shown while the window decodes). */
  onToken?: (tokens: readonly number[]) => void;
}

export interface DecodeResult {
  /** Generated ids, without the prefix and without the end token. */
  tokens: number[];
  sumLogprob: number;
  avgLogprob: number;
  noSpeechProb: number;
  /** The decode stopped on a repetition loop (its repeated tail kept). */
  looped: boolean;
  /** Per generated token: the alignment heads' attention over the 1500 encoder frames (heads × 1500). */
  attention?: Float32Array[];
  temperature: number;
}

/** Seconds an ORT run keeps going after a cancel: the next run waits for it (one run per session). */
const inflight = new WeakMap<object, Promise<unknown>>();

/** Runs a session; an abort rejects at once, the run finishes in the background before the next starts. */
async function run(
  session: OrtSession,
  feeds: Record<string, OrtTensor>,
  fetches: string[],
  signal?: AbortSignal,
): Promise<Record<string, OrtTensor>> {
  const prev = inflight.get(session);
  if (prev) await prev.catch(() => undefined);
  throwIfAborted(signal);
  const p = session.run(feeds, fetches);
  inflight.set(
    session,
    p.catch(() => undefined),
  );
  if (!signal) return p;
  return new Promise((resolve, reject) => {
    const onAbort = () => reject(new CancelledError());
    if (signal.aborted) return onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    p.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

function logSoftmax(x: Float32Array): Float32Array {
  let max = -Infinity;
  for (let i = 0; i < x.length; i++) if (x[i]! > max) max = x[i]!;
  let sum = 0;
  for (let i = 0; i < x.length; i++) sum += Math.exp(x[i]! - max);
  const lse = max + Math.log(sum);
  const out = new Float32Array(x.length);
  for (let i = 0; i < x.length; i++) out[i] = x[i]! - lse;
  return out;
}

/** The shortest period p whose repetition makes up the tail of `seq` (≥ 3 times and ≥ 24 tokens), or 0. */
export function repeatingTail(seq: readonly number[], maxPeriod = 48): { period: number; times: number } {
  const n = seq.length;
  for (let p = 1; p <= maxPeriod && p * 3 <= n; p++) {
    let times = 1;
    while ((times + 1) * p <= n) {
      let same = true;
      for (let i = 0; i < p; i++)
        if (seq[n - 1 - i] !== seq[n - 1 - i - times * p]) {
          same = false;
          break;
        }
      if (!same) break;
      times++;
    }
    if (times >= 3 && times * p >= Math.max(24, p * 3) && !(p === 1 && times < 24))
      return { period: p, times };
  }
  return { period: 0, times: 0 };
}

export class WhisperRunner {
  readonly cfg: WhisperConfig;
  readonly tokenizer: WhisperTokenizer;
  private ort!: OrtModule;
  private encoder!: OrtSession;
  private decoder!: OrtSession;
  private headDim: number;
  private hasCross = false;
  private warmed: OrtSession | null = null;

  constructor(
    readonly modelId: string,
    private readonly files: WhisperFiles,
  ) {
    this.cfg = whisperConfig(files);
    this.tokenizer = files.tokenizer;
    this.headDim = this.cfg.dModel / this.cfg.heads;
  }

  /** Word timestamps need the decoder's cross-attention outputs and the alignment heads. */
  get canAlignWords(): boolean {
    return this.hasCross && this.cfg.alignmentHeads.length > 0;
  }

  /** Runs `fn` with both sessions held (created on first use, warmed up, kept by the pool). */
  async use<T>(opts: { signal?: AbortSignal; onProgress?: ProgressFn }, fn: () => Promise<T>): Promise<T> {
    const rt = await runtimeHost();
    this.ort = rt.ort;
    const { signal, onProgress } = opts;
    const encOpts = { signal, onProgress, prepare: encoderGraph };
    return rt.pool.use(`${this.modelId}/encoder`, this.files.loadEncoder, encOpts, (enc) =>
      rt.pool.use(`${this.modelId}/decoder`, this.files.loadDecoder, { signal, onProgress }, async (dec) => {
        this.encoder = enc.session;
        this.decoder = dec.session;
        this.hasCross = dec.session.outputNames.some((n) => n.startsWith('cross_attentions.'));
        return fn();
      }),
    );
  }

  /** Encoder output `[1, 1500, d]` of up to 30 s of 16 kHz audio. */
  async encode(audio: Float32Array, signal?: AbortSignal): Promise<OrtTensor> {
    const mel = logMel(audio);
    await yieldToEvents();
    return this.encodeFeatures(mel, signal);
  }

  /**
   * Encoder output of log-mel features `[80, 3000]` (mel-major). Apart from `encode` so that the
   * reference comparison (eval:asr) can give both decoders the same features: the int8 encoder turns
   * float-rounding differences between two log-mel implementations into different marginal tokens.
   */
  async encodeFeatures(mel: Float32Array, signal?: AbortSignal): Promise<OrtTensor> {
    throwIfAborted(signal);
    const out = await run(
      this.encoder,
      { input_features: new this.ort.Tensor('float32', mel, [1, N_MELS, N_FRAMES]) },
      ['last_hidden_state'],
      signal,
    );
    const h = out.last_hidden_state;
    if (!h) throw new WhisperModelError('The Whisper encoder gave no last_hidden_state.');
    return h;
  }

  private emptyPast(): Record<string, OrtTensor> {
    const feeds: Record<string, OrtTensor> = {};
    const dims = [1, this.cfg.heads, 0, this.headDim];
    for (let i = 0; i < this.cfg.layers; i++)
      for (const a of ['decoder', 'encoder'])
        for (const b of ['key', 'value'])
          feeds[`past_key_values.${i}.${a}.${b}`] = new this.ort.Tensor('float32', new Float32Array(0), dims);
    return feeds;
  }

  /** Outputs to copy out of the runtime: the encoder keys and values only on the first step (they do not change). */
  private fetchNames(attention: boolean, first: boolean): string[] {
    const names = ['logits'];
    for (let i = 0; i < this.cfg.layers; i++)
      for (const a of first ? ['decoder', 'encoder'] : ['decoder'])
        for (const b of ['key', 'value']) names.push(`present.${i}.${a}.${b}`);
    if (attention) {
      const layers = new Set(this.cfg.alignmentHeads.map(([l]) => l));
      for (const l of layers) names.push(`cross_attentions.${l}`);
    }
    return names;
  }

  /** One decoder call; returns the logits rows and the cache for the next call. */
  private async step(
    ids: number[],
    hidden: OrtTensor,
    past: Record<string, OrtTensor> | null,
    attention: boolean,
    signal?: AbortSignal,
  ) {
    const feeds: Record<string, OrtTensor> = {
      input_ids: new this.ort.Tensor('int64', BigInt64Array.from(ids.map(BigInt)), [1, ids.length]),
      encoder_hidden_states: hidden,
      use_cache_branch: new this.ort.Tensor('bool', new Uint8Array([past ? 1 : 0]), [1]),
      ...(past ?? this.emptyPast()),
    };
    const out = await run(this.decoder, feeds, this.fetchNames(attention, !past), signal);
    const logits = out.logits;
    if (!logits) throw new WhisperModelError('The Whisper decoder gave no logits.');
    const next: Record<string, OrtTensor> = {};
    for (let i = 0; i < this.cfg.layers; i++)
      for (const a of ['decoder', 'encoder'])
        for (const b of ['key', 'value']) {
          // On the cached branch the encoder keys and values pass through unchanged: keep the first ones.
          const keep = past && a === 'encoder' ? past[`past_key_values.${i}.${a}.${b}`] : undefined;
          next[`past_key_values.${i}.${a}.${b}`] = keep ?? out[`present.${i}.${a}.${b}`]!;
        }
    return { logits, next, out };
  }

  /**
   * One encoder run and two decoder steps (both branches of the merged decoder) on silence, inside `use`:
   * onnxruntime's first run of a session is a few times slower than the next (allocations, first-use
   * kernel set-up), so a view that warms the model before a drop shows its first text sooner.
   */
  async warm(signal?: AbortSignal): Promise<void> {
    if (this.warmed === this.encoder) return; // these sessions ran already (the pool may have made new ones)
    const hidden = await this.encode(new Float32Array(SAMPLE_RATE), signal);
    const { special } = this.tokenizer;
    const first = await this.step([special.sot], hidden, null, false, signal);
    await this.step([special.sot], hidden, first.next, false, signal);
    this.warmed = this.encoder;
  }

  /** Language probabilities from the logits after <|startoftranscript|>, most likely first. */
  async detectLanguage(hidden: OrtTensor, signal?: AbortSignal): Promise<{ code: string; prob: number }[]> {
    const { logits } = await this.step([this.tokenizer.special.sot], hidden, null, false, signal);
    const v = this.cfg.vocabSize;
    const row = (logits.data as Float32Array).subarray(0, v);
    const langs = [...this.tokenizer.special.languages];
    let max = -Infinity;
    for (const [, id] of langs) max = Math.max(max, row[id]!);
    let sum = 0;
    const ps = langs.map(([code, id]) => {
      const e = Math.exp(row[id]! - max);
      sum += e;
      return { code, prob: e };
    });
    return ps.map((p) => ({ code: p.code, prob: p.prob / sum })).sort((a, b) => b.prob - a.prob);
  }

  /** The prefix ids: [<|startofprev|> prompt…] <|sot|> <|lang|> <|task|> [<|notimestamps|>]. */
  prefix(o: Pick<DecodeOptions, 'language' | 'task' | 'timestamps' | 'prompt'>): {
    ids: number[];
    sotIndex: number;
  } {
    const s = this.tokenizer.special;
    const ids: number[] = [];
    if (o.prompt?.length) ids.push(s.sotPrev, ...o.prompt.slice(-223));
    const sotIndex = ids.length;
    ids.push(s.sot);
    if (this.cfg.multilingual) {
      const lang = this.tokenizer.languageToken(o.language);
      if (lang === undefined) throw new WhisperModelError(`Whisper has no language "${o.language}".`);
      ids.push(lang, o.task === 'translate' ? s.translate : s.transcribe);
    }
    if (!o.timestamps) ids.push(s.noTimestamps);
    return { ids, sotIndex };
  }

  /** Decodes one window (its encoder output) into tokens. */
  async decode(hidden: OrtTensor, o: DecodeOptions): Promise<DecodeResult> {
    const s = this.tokenizer.special;
    const v = this.cfg.vocabSize;
    const tb = s.timestampBegin;
    const { ids: prefix, sotIndex } = this.prefix(o);
    const maxTokens = Math.min(o.maxTokens ?? 224, 440 - prefix.length);
    const maxTsIndex = Math.min(1500, Math.floor(o.windowSeconds / 0.02 + 1e-6));
    const suppress = new Set<number>(this.cfg.suppress);
    // Every special token but the end (languages, tasks, start tokens, no-speech).
    for (let id = s.eot + 1; id < tb; id++) suppress.add(id);
    const attention = Boolean(o.attention && this.canAlignWords);
    const heads = this.cfg.alignmentHeads;

    const tokens: number[] = [];
    const textTokens: number[] = [];
    const att: Float32Array[] = [];
    let sumLogprob = 0;
    let noSpeechProb = 0;
    let looped = false;
    let past: Record<string, OrtTensor> | null = null;
    let input = prefix;
    for (let n = 0; n < maxTokens; n++) {
      await yieldToEvents();
      throwIfAborted(o.signal);
      const { logits, next, out } = await this.step(input, hidden, past, attention, o.signal);
      past = next;
      const rows = logits.dims[1]!;
      const data = logits.data as Float32Array;
      if (n === 0) {
        const sotRow = data.subarray(sotIndex * v, (sotIndex + 1) * v);
        noSpeechProb = Math.exp(logSoftmax(sotRow)[s.noSpeech]!);
      }
      if (attention) att.push(this.alignmentRow(out, heads, rows));
      const l = Float32Array.from(data.subarray((rows - 1) * v, rows * v));
      this.applyRules(l, tokens, o.timestamps, suppress, maxTsIndex);
      const lp = logSoftmax(l);
      let tok: number;
      if (o.temperature > 0) {
        const r = (o.random ?? Math.random)();
        let acc = 0;
        const scaled = new Float64Array(v);
        let total = 0;
        let max = -Infinity;
        for (let i = 0; i < v; i++) if (l[i]! > max) max = l[i]!;
        for (let i = 0; i < v; i++) total += scaled[i] = Math.exp((l[i]! - max) / o.temperature);
        tok = v - 1;
        for (let i = 0; i < v; i++) {
          acc += scaled[i]! / total;
          if (acc >= r) {
            tok = i;
            break;
          }
        }
      } else {
        tok = 0;
        for (let i = 1; i < v; i++) if (l[i]! > l[tok]!) tok = i;
      }
      if (tok === s.eot) break;
      sumLogprob += lp[tok]!;
      tokens.push(tok);
      o.onToken?.(tokens);
      input = [tok];
      if (tok < s.eot) {
        textTokens.push(tok);
        const rep = repeatingTail(textTokens);
        if (rep.period) {
          looped = true;
          // Keep one copy of the repeated part.
          let drop = rep.period * (rep.times - 1);
          while (drop > 0 && tokens.length) {
            if (tokens.pop()! < s.eot) drop--;
            if (attention) att.pop();
          }
          break;
        }
      }
    }
    if (attention) att.length = tokens.length;
    return {
      tokens,
      sumLogprob,
      avgLogprob: sumLogprob / Math.max(1, tokens.length),
      noSpeechProb,
      looped,
      attention: attention ? att : undefined,
      temperature: o.temperature,
    };
  }

  /** The alignment heads' cross-attention of the last row, concatenated (heads × 1500). */
  private alignmentRow(
    out: Record<string, OrtTensor>,
    heads: [number, number][],
    rows: number,
  ): Float32Array {
    const frames = 1500;
    const row = new Float32Array(heads.length * frames);
    heads.forEach(([layer, head], k) => {
      const t = out[`cross_attentions.${layer}`];
      if (!t) return;
      const d = t.data as Float32Array;
      const [, h, s, f] = t.dims as number[];
      const base = (head * s! + (rows - 1)) * f!;
      if (head < h!) row.set(d.subarray(base, base + Math.min(f!, frames)), k * frames);
    });
    return row;
  }

  /** Whisper's logit filters: suppressed tokens and the timestamp rules (openai/whisper ApplyTimestampRules). */
  private applyRules(
    l: Float32Array,
    seq: readonly number[],
    timestamps: boolean,
    suppress: Set<number>,
    maxTsIndex: number,
  ): void {
    const s = this.tokenizer.special;
    const tb = s.timestampBegin;
    const v = l.length;
    for (const id of suppress) if (id < v) l[id] = -Infinity;
    if (seq.length === 0) for (const id of this.cfg.beginSuppress) if (id < v) l[id] = -Infinity;
    l[s.noTimestamps] = -Infinity;
    if (!timestamps) {
      for (let i = tb; i < v; i++) l[i] = -Infinity;
      return;
    }
    for (let i = tb + maxTsIndex + 1; i < v; i++) l[i] = -Infinity;
    const n = seq.length;
    const lastTs = n >= 1 && seq[n - 1]! >= tb;
    const penultTs = n < 2 || seq[n - 2]! >= tb;
    if (lastTs) {
      if (penultTs) for (let i = tb; i < v; i++) l[i] = -Infinity;
      else for (let i = 0; i < s.eot; i++) l[i] = -Infinity;
    }
    let last = -1;
    for (let i = n - 1; i >= 0; i--)
      if (seq[i]! >= tb) {
        last = seq[i]!;
        break;
      }
    if (last >= 0) {
      // Timestamps never go back; a new segment's start comes after the previous end.
      const lowest = lastTs && !penultTs ? last : last + 1;
      for (let i = tb; i < Math.min(lowest, v); i++) l[i] = -Infinity;
    }
    if (n === 0) {
      for (let i = 0; i < tb; i++) l[i] = -Infinity;
      for (let i = tb + this.cfg.maxInitialTimestampIndex + 1; i < v; i++) l[i] = -Infinity;
    }
    // If the timestamps together are likelier than any single text token, a timestamp comes next.
    const lp = logSoftmax(l);
    let tsMax = -Infinity;
    for (let i = tb; i < v; i++) if (lp[i]! > tsMax) tsMax = lp[i]!;
    let tsSum = 0;
    if (tsMax > -Infinity) for (let i = tb; i < v; i++) tsSum += Math.exp(lp[i]! - tsMax);
    const tsLogprob = tsMax + Math.log(tsSum);
    let textMax = -Infinity;
    for (let i = 0; i < tb; i++) if (lp[i]! > textMax) textMax = lp[i]!;
    if (tsLogprob > textMax) for (let i = 0; i < tb; i++) l[i] = -Infinity;
  }
}
