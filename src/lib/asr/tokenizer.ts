// Whisper's tokenizer (GPT-2 byte-level BPE over vocab.json + merges.txt, special tokens from
// added_tokens.json and generation_config.json): decoding of generated ids, encoding of prompts.

/** GPT-2's printable stand-ins for bytes (bytes_to_unicode). */
function byteMaps(): { enc: string[]; dec: Map<string, number> } {
  const bs: number[] = [];
  for (let b = 33; b <= 126; b++) bs.push(b);
  for (let b = 161; b <= 172; b++) bs.push(b);
  for (let b = 174; b <= 255; b++) bs.push(b);
  const cs = bs.slice();
  let n = 0;
  for (let b = 0; b < 256; b++)
    if (!bs.includes(b)) {
      bs.push(b);
      cs.push(256 + n++);
    }
  const enc: string[] = new Array<string>(256);
  const dec = new Map<string, number>();
  bs.forEach((b, i) => {
    const ch = String.fromCharCode(cs[i]!);
    enc[b] = ch;
    dec.set(ch, b);
  });
  return { enc, dec };
}

// GPT-2's pre-tokeniser pattern.
const PRETOKEN = /'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+/gu;

export interface SpecialTokens {
  eot: number;
  sot: number;
  translate: number;
  transcribe: number;
  sotPrev: number;
  noSpeech: number;
  noTimestamps: number;
  timestampBegin: number;
  /** Language code → token id ("en" → 50259), in the model's order. */
  languages: Map<string, number>;
}

export interface TokenizerFiles {
  vocab: Record<string, number>;
  merges: string;
  added: Record<string, number>;
  /** generation_config.json (lang_to_id, task_to_id, no_timestamps_token_id …). */
  generation: Record<string, unknown>;
}

export class WhisperTokenizer {
  readonly special: SpecialTokens;
  private readonly idToToken: string[] = [];
  private readonly vocab: Map<string, number>;
  private readonly ranks = new Map<string, number>();
  private readonly bytes = byteMaps();
  private readonly cache = new Map<string, number[]>();
  private readonly utf8 = new TextDecoder('utf-8', { fatal: false });

  constructor(files: TokenizerFiles) {
    this.vocab = new Map(Object.entries(files.vocab));
    for (const [t, id] of this.vocab) this.idToToken[id] = t;
    for (const [t, id] of Object.entries(files.added)) this.idToToken[id] = t;
    const lines = files.merges.split('\n');
    let r = 0;
    for (const line of lines) {
      if (!line || line.startsWith('#version')) continue;
      this.ranks.set(line, r++);
    }
    const added = files.added;
    const g = files.generation;
    const need = (name: string): number => {
      const id = added[name] ?? files.vocab[name];
      if (typeof id !== 'number') throw new Error(`The Whisper tokenizer has no ${name} token.`);
      return id;
    };
    const langIds = (g.lang_to_id ?? {}) as Record<string, number>;
    const languages = new Map<string, number>();
    for (const [tok, id] of Object.entries(langIds).sort((a, b) => a[1] - b[1]))
      languages.set(tok.replace(/^<\|/, '').replace(/\|>$/, ''), id);
    const noTimestamps =
      typeof g.no_timestamps_token_id === 'number' ? g.no_timestamps_token_id : need('<|notimestamps|>');
    this.special = {
      eot: need('<|endoftext|>'),
      sot: need('<|startoftranscript|>'),
      translate: need('<|translate|>'),
      transcribe: need('<|transcribe|>'),
      sotPrev: need('<|startofprev|>'),
      noSpeech: added['<|nospeech|>'] ?? added['<|nocaptions|>'] ?? noTimestamps - 1,
      noTimestamps,
      timestampBegin: noTimestamps + 1,
      languages,
    };
  }

  /** Text of ordinary (non-special) ids; special ids are skipped. */
  decode(ids: readonly number[]): string {
    const out: number[] = [];
    for (const id of ids) {
      if (id >= this.special.eot) continue;
      const t = this.idToToken[id];
      if (t === undefined) continue;
      for (const ch of t) {
        const b = this.bytes.dec.get(ch);
        if (b !== undefined) out.push(b);
      }
    }
    return this.utf8.decode(new Uint8Array(out));
  }

  /** Ordinary ids of `text` (no special tokens). */
  encode(text: string): number[] {
    const ids: number[] = [];
    for (const m of text.normalize('NFC').matchAll(PRETOKEN)) {
      const word = [...new TextEncoder().encode(m[0])].map((b) => this.bytes.enc[b]!).join('');
      ids.push(...this.bpe(word));
    }
    return ids;
  }

  private bpe(word: string): number[] {
    const hit = this.cache.get(word);
    if (hit) return hit;
    let parts = [...word];
    for (;;) {
      let best = -1;
      let bestRank = Infinity;
      for (let i = 0; i < parts.length - 1; i++) {
        const r = this.ranks.get(`${parts[i]} ${parts[i + 1]}`);
        if (r !== undefined && r < bestRank) {
          bestRank = r;
          best = i;
        }
      }
      if (best < 0) break;
      const a = parts[best]!;
      const b = parts[best + 1]!;
      const merged: string[] = [];
      for (let i = 0; i < parts.length; i++) {
        if (i < parts.length - 1 && parts[i] === a && parts[i + 1] === b) {
          merged.push(a + b);
          i++;
        } else merged.push(parts[i]!);
      }
      parts = merged;
    }
    const ids = parts.map((p) => this.vocab.get(p) ?? 0);
    if (this.cache.size < 10_000) this.cache.set(word, ids);
    return ids;
  }

  isTimestamp(id: number): boolean {
    return id >= this.special.timestampBegin;
  }

  /** Seconds of a timestamp token (0.02 s steps). */
  timeOf(id: number): number {
    return (id - this.special.timestampBegin) * 0.02;
  }

  languageToken(code: string): number | undefined {
    return this.special.languages.get(code);
  }
}
