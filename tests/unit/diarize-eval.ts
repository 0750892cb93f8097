// Diarization on real speech, shared by tests/unit/asr-diarize-real.test.ts and `npm run eval:diarize`:
// the LibriSpeech readers in ../shared/audio (one utterance each, not committed here) cut into parts and
// put together as conversations with known turns (seeded), Silero VAD on each conversation as the studio
// runs it, the diarizer, and the diarization error rate against the known turns.
//
// The speakers are split once: CALIBRATION speakers choose the acoustic embedder's constants, HELD_OUT
// speakers only measure them (never tuned on).
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Transcoder } from '../../src/lib/codec/transcoder';
import {
  ACOUSTIC_DIMENSION,
  acousticVector,
  cutPieces,
  diarize,
  type PieceEmbedder,
  type SpeakerTurn,
} from '../../src/lib/asr/diarize';
import { sileroProbabilities, speechRegions, type SpeechRegion } from '../../src/lib/vad/vad';
import { NodeCoreProvider } from './ffmpeg-node';
import { mulberry32 } from '../../src/lib/core/random';

export const SR = 16000;

export class EvalSetupError extends Error {
  override name = 'EvalSetupError';
}

/**
 * LibriSpeech speaker ids. The split was made before any diarization was run, by median F0 and length only,
 * so that both halves hold low and high voices and short and long utterances: held out are 3005 (F0 114 Hz,
 * 8.4 s), 2414 (125 Hz, 2.9 s), 1998 (190 Hz, 13.3 s) and 533 (231 Hz, 2.6 s).
 */
export const HELD_OUT = ['3005', '2414', '1998', '533'] as const;
export const CALIBRATION = ['1688', '2033', '2609', '3080', '3331', '367'] as const;
/**
 * The OpenVoice demo recordings in ../shared/audio (44.1 kHz mp3, decoded to 16 kHz): more speech for the
 * standardisation constants only (never in a conversation). Six LibriSpeech readers alone place the
 * population mean badly: chosen by leave-three-speakers-out cross-validation inside CALIBRATION.
 */
export const EXTRA_CALIBRATION = ['demo_speaker0', 'demo_speaker1', 'demo_speaker2', 'example_reference'];

/** The conversations scored: every held-out pair, triple and the quadruple in two orders (22) … */
export const HELD_OUT_MIXES = { orders: 2, seed: 1, heldOut: true };
/** … and every calibration pair, triple and quadruple in two orders (100). */
export const CALIBRATION_MIXES = { orders: 2, seed: 2, heldOut: false };

export interface Utterance {
  speaker: string;
  samples: Float32Array;
}

let transcoder: Transcoder | null = null;
const tc = () => (transcoder ??= new Transcoder(new NodeCoreProvider()));

/** Decodes a file with the app's ffmpeg.wasm transcoder to 16 kHz mono. */
export async function decode16k(path: string): Promise<Float32Array> {
  return (await tc().decode(new Uint8Array(readFileSync(path)), { mono: true, sampleRate: SR })).samples;
}

/** Decodes every `<speaker>-….flac` in `dir` (16 kHz mono). */
export async function loadUtterances(dir: string): Promise<Map<string, Utterance>> {
  const out = new Map<string, Utterance>();
  for (const f of readdirSync(dir).sort()) {
    if (!f.endsWith('.flac')) continue;
    const speaker = f.split('-')[0]!;
    out.set(speaker, { speaker, samples: await decode16k(join(dir, f)) });
  }
  return out;
}

// ---- conversations ----------------------------------------------------------------------------------

/** 10 ms frame levels in dB. */
function levels(x: Float32Array): Float64Array {
  const hop = SR / 100;
  const n = Math.floor(x.length / hop);
  const db = new Float64Array(n);
  for (let f = 0; f < n; f++) {
    let s = 0;
    for (let i = f * hop; i < (f + 1) * hop; i++) s += x[i]! * x[i]!;
    db[f] = 10 * Math.log10(s / hop + 1e-12);
  }
  return db;
}

/**
 * Cuts an utterance into `n` parts of about equal length, each cut at the quietest 0.2 s near the equal
 * division (a pause between words, not the middle of one; within a quarter of a part's length or 1.5 s, so
 * no part is much shorter than the others). Returns sample offsets [0, …, length].
 */
export function cutPoints(x: Float32Array, n: number): number[] {
  const db = levels(x);
  const cuts = [0];
  const reach = Math.min(150, Math.floor(db.length / n / 4));
  for (let k = 1; k < n; k++) {
    const target = Math.round((db.length * k) / n);
    let best = target;
    let bestE = Infinity;
    for (let c = Math.max(10, target - reach); c <= Math.min(db.length - 10, target + reach); c++) {
      let e = 0;
      for (let i = c - 10; i < c + 10; i++) e += 10 ** (db[i]! / 10);
      if (e < bestE) {
        bestE = e;
        best = c;
      }
    }
    cuts.push(best * (SR / 100));
  }
  cuts.push(x.length);
  return cuts;
}

/** The first and last 10 ms frames within 35 dB of the utterance's loudest (seconds into `x`). */
function speechSpan(x: Float32Array, loudest: number): { start: number; end: number } {
  const db = levels(x);
  let a = 0;
  while (a < db.length && db[a]! < loudest - 35) a++;
  let b = db.length - 1;
  while (b > a && db[b]! < loudest - 35) b--;
  return { start: a / 100, end: (b + 1) / 100 };
}

export interface Mix {
  name: string;
  speakers: string[];
  held_out: boolean;
  samples: Float32Array;
  /** The reference: where each part is spoken (its leading and trailing quiet left out) and by whom. */
  turns: SpeakerTurn[];
}

/**
 * A conversation of the given speakers: each utterance cut into 2 or 3 parts (seeded; always 2 below 6 s,
 * since the shortest utterances are 2.4 s), the parts in an
 * order where no speaker follows itself and each speaker's parts keep their order (A B A C B …), 0.3–0.8 s
 * of silence between turns and 0.5 s at both ends.
 */
export function buildMix(
  utts: ReadonlyMap<string, Utterance>,
  speakers: readonly string[],
  seed: number,
): Mix {
  const rnd = mulberry32(seed);
  const queues = speakers.map((s) => {
    const u = utts.get(s);
    if (!u) throw new EvalSetupError(`no utterance of speaker ${s}`);
    const cuts = cutPoints(u.samples, u.samples.length < 6 * SR || rnd() < 0.5 ? 2 : 3);
    const loudest = levels(u.samples).reduce((m, v) => Math.max(m, v), -Infinity);
    return {
      speaker: s,
      parts: cuts.slice(1).map((e, i) => u.samples.subarray(cuts[i]!, e)),
      loudest,
    };
  });
  const silence = (s: number) => new Float32Array(Math.round(s * SR));
  const chunks: Float32Array[] = [silence(0.5)];
  const turns: SpeakerTurn[] = [];
  let at = 0.5;
  let last = -1;
  for (;;) {
    const left = queues.map((q, i) => ({ i, n: q.parts.length })).filter((q) => q.n > 0);
    if (!left.length) break;
    // Never the same speaker twice running; the speaker with most parts left goes first when only it can
    // avoid a dead end (two of one speaker's parts left and nobody else).
    const can = left.filter((q) => q.i !== last);
    if (!can.length) {
      // Only the last speaker has parts left: append its remainder to its turn (rare: 3 parts vs 2).
      const q = queues[last]!;
      const rest = q.parts.splice(0);
      for (const p of rest) {
        chunks.push(p);
        const span = speechSpan(p, q.loudest);
        turns[turns.length - 1]!.end = at + span.end;
        at += p.length / SR;
      }
      break;
    }
    const most = Math.max(...can.map((q) => q.n));
    const pool = can.filter((q) => q.n === most || rnd() < 0.5);
    const pick = (pool.length ? pool : can)[Math.floor(rnd() * (pool.length || can.length))]!;
    const q = queues[pick.i]!;
    const p = q.parts.shift()!;
    const span = speechSpan(p, q.loudest);
    if (last >= 0) {
      const gap = 0.3 + 0.5 * rnd();
      chunks.push(silence(gap));
      at += gap;
    }
    chunks.push(p);
    turns.push({ start: at + span.start, end: at + span.end, speaker: q.speaker });
    at += p.length / SR;
    last = pick.i;
  }
  chunks.push(silence(0.5));
  const total = chunks.reduce((s, c) => s + c.length, 0);
  const samples = new Float32Array(total);
  let o = 0;
  for (const c of chunks) {
    samples.set(c, o);
    o += c.length;
  }
  return { name: `${speakers.join('+')}#${seed}`, speakers: [...speakers], held_out: false, samples, turns };
}

/** Every k-subset of `xs`, in order. */
export function subsets<T>(xs: readonly T[], k: number): T[][] {
  if (k === 0) return [[]];
  if (xs.length < k) return [];
  const [h, ...t] = xs;
  return [...subsets(t, k - 1).map((s) => [h!, ...s]), ...subsets(t, k)];
}

/**
 * The conversations of a speaker set: every pair, triple and quadruple of `speakers` (at most `perSize` of
 * each size, seeded pick), each in `orders` seeded orders (speakers shuffled, parts drawn anew).
 */
export function mixesOf(
  utts: ReadonlyMap<string, Utterance>,
  speakers: readonly string[],
  o: { orders: number; perSize?: number; seed: number; heldOut: boolean },
): Mix[] {
  const rnd = mulberry32(o.seed);
  const out: Mix[] = [];
  for (const k of [2, 3, 4]) {
    let sets = subsets(speakers, k);
    if (o.perSize !== undefined && sets.length > o.perSize)
      sets = sets
        .map((s) => ({ s, r: rnd() }))
        .sort((a, b) => a.r - b.r)
        .slice(0, o.perSize)
        .map((x) => x.s);
    for (const set of sets)
      for (let r = 0; r < o.orders; r++) {
        const order = set.map((s) => ({ s, r: rnd() })).sort((a, b) => a.r - b.r);
        const seed = Math.floor(rnd() * 2 ** 31);
        out.push({
          ...buildMix(
            utts,
            order.map((x) => x.s),
            seed,
          ),
          held_out: o.heldOut,
        });
      }
  }
  return out;
}

// ---- scoring ----------------------------------------------------------------------------------------

export interface DerResult {
  /** (missed + false alarm + confusion) / scored reference speech. */
  der: number;
  missed: number;
  false_alarm: number;
  confusion: number;
  /** Seconds of reference speech scored (outside the collars). */
  scored: number;
}

/**
 * Diarization error rate on 10 ms frames, hypothesis speakers mapped one-to-one onto reference speakers so
 * that the matched time is greatest (exact, by dynamic programming over subsets of reference speakers).
 * `collar` seconds either side of each reference turn's start and end are not scored (NIST md-eval's
 * collar). Neither side overlaps itself here, so each frame has at most one speaker on each side.
 */
export function diarizationError(
  ref: readonly SpeakerTurn[],
  hyp: readonly SpeakerTurn[],
  collar = 0.25,
): DerResult {
  const end = Math.max(0, ...ref.map((t) => t.end), ...hyp.map((t) => t.end));
  const n = Math.ceil(end * 100) + 1;
  const refIds = [...new Set(ref.map((t) => t.speaker))];
  const hypIds = [...new Set(hyp.map((t) => t.speaker))];
  const paint = (turns: readonly SpeakerTurn[], ids: string[]) => {
    const a = new Int32Array(n).fill(-1);
    for (const t of turns) {
      const id = ids.indexOf(t.speaker);
      for (let f = Math.round(t.start * 100); f < Math.round(t.end * 100) && f < n; f++) a[f] = id;
    }
    return a;
  };
  const r = paint(ref, refIds);
  const h = paint(hyp, hypIds);
  const scored = new Uint8Array(n).fill(1);
  for (const t of ref)
    for (const edge of [t.start, t.end])
      for (let f = Math.round((edge - collar) * 100); f < Math.round((edge + collar) * 100); f++)
        if (f >= 0 && f < n) scored[f] = 0;
  const overlap = hypIds.map(() => new Float64Array(refIds.length));
  let refFrames = 0;
  let missed = 0;
  let falseAlarm = 0;
  let both = 0;
  for (let f = 0; f < n; f++) {
    if (!scored[f]) continue;
    if (r[f]! >= 0) refFrames++;
    if (r[f]! >= 0 && h[f]! < 0) missed++;
    if (r[f]! < 0 && h[f]! >= 0) falseAlarm++;
    if (r[f]! >= 0 && h[f]! >= 0) {
      both++;
      overlap[h[f]!]![r[f]!]!++;
    }
  }
  // best[mask]: greatest matched frames with the reference speakers in `mask` already taken.
  const R = refIds.length;
  let best = new Float64Array(1 << R).fill(-Infinity);
  best[0] = 0;
  for (const row of overlap) {
    const next = Float64Array.from(best);
    for (let m = 0; m < 1 << R; m++) {
      if (best[m] === -Infinity) continue;
      for (let j = 0; j < R; j++)
        if (!(m & (1 << j))) next[m | (1 << j)] = Math.max(next[m | (1 << j)]!, best[m]! + row[j]!);
    }
    best = next;
  }
  const matched = Math.max(...best);
  const confusion = both - matched;
  const s = (frames: number) => frames / 100;
  return {
    der: refFrames ? (missed + falseAlarm + confusion) / refFrames : 0,
    missed: s(missed),
    false_alarm: s(falseAlarm),
    confusion: s(confusion),
    scored: s(refFrames),
  };
}

// ---- running --------------------------------------------------------------------------------------------

/**
 * Silero VAD v5 regions of 16 kHz samples (default region options): what the constants were calibrated on.
 * The studio's speech finder gives the same on these readers, whom Silero hears (it joins the energy
 * detector only where Silero is deaf).
 */
export async function vadRegions(x: Float32Array, model: Uint8Array): Promise<SpeechRegion[]> {
  return speechRegions(await sileroProbabilities(x, async () => model), x.length / SR);
}

/**
 * The embedder with each piece's vector kept (keyed by where the piece is), so one conversation can be
 * clustered at many thresholds for the cost of one embedding pass.
 */
export function cachingEmbedder(
  e: PieceEmbedder,
): PieceEmbedder & { withThreshold(t: number): PieceEmbedder } {
  const cache = new Map<string, Promise<Float32Array>>();
  const embed = (x: Float32Array) => {
    const key = `${x.byteOffset}:${x.length}:${x.buffer.byteLength}`;
    let v = cache.get(key);
    if (!v) cache.set(key, (v = e.embed(x)));
    return v;
  };
  const make = (threshold: number): PieceEmbedder => ({ ...e, threshold, embed });
  return { ...make(e.threshold), withThreshold: make };
}

export interface MixScore {
  mix: string;
  speakers: string[];
  held_out: boolean;
  seconds: number;
  reference_speakers: number;
  hypothesis_speakers: number;
  der: number;
  der_no_collar: number;
  missed: number;
  false_alarm: number;
  confusion: number;
}

/** Diarizes one conversation (regions given) and scores it. */
export async function scoreMix(
  mix: Mix,
  regions: readonly SpeechRegion[],
  e: PieceEmbedder,
): Promise<MixScore> {
  const d = await diarize(mix.samples, regions, e);
  const r = diarizationError(mix.turns, d.turns, 0.25);
  const r0 = diarizationError(mix.turns, d.turns, 0);
  const round = (x: number) => Math.round(x * 1000) / 1000;
  return {
    mix: mix.name,
    speakers: mix.speakers,
    held_out: mix.held_out,
    seconds: round(mix.samples.length / SR),
    reference_speakers: new Set(mix.turns.map((t) => t.speaker)).size,
    hypothesis_speakers: d.speakers,
    der: round(r.der),
    der_no_collar: round(r0.der),
    missed: round(r.missed),
    false_alarm: round(r.false_alarm),
    confusion: round(r.confusion),
  };
}

export interface Summary {
  mixes: number;
  count_accuracy: number;
  mean_der: number;
  max_der: number;
  mean_der_no_collar: number;
}

export function summarise(xs: readonly MixScore[]): Summary {
  const round = (x: number) => Math.round(x * 1000) / 1000;
  return {
    mixes: xs.length,
    count_accuracy: round(
      xs.filter((x) => x.hypothesis_speakers === x.reference_speakers).length / xs.length,
    ),
    mean_der: round(xs.reduce((s, x) => s + x.der, 0) / xs.length),
    max_der: round(Math.max(...xs.map((x) => x.der))),
    mean_der_no_collar: round(xs.reduce((s, x) => s + x.der_no_collar, 0) / xs.length),
  };
}

// ---- calibration ------------------------------------------------------------------------------------

/** The acoustic vectors of one speaker's speech, in the diarizer's own pieces (VAD regions, ~2 s). */
export async function speakerVectors(x: Float32Array, model: Uint8Array): Promise<Float32Array[]> {
  const pieces = cutPieces(await vadRegions(x, model)).filter((p) => p.end - p.start >= 0.8);
  return pieces.map((p) => acousticVector(x.subarray(Math.floor(p.start * SR), Math.ceil(p.end * SR))));
}

/**
 * The standardisation constants from speakers' vectors: per feature, the mean of the speakers' means (each
 * speaker counts once, however long) and the pooled within-speaker standard deviation (missing values, such
 * as the pitch of an unvoiced piece, left out).
 */
export function standardisation(speakers: readonly Float32Array[][]): { mean: number[]; scale: number[] } {
  const mean: number[] = [];
  const scale: number[] = [];
  for (let k = 0; k < ACOUSTIC_DIMENSION; k++) {
    const means: number[] = [];
    let ss = 0;
    let df = 0;
    for (const vs of speakers) {
      const v = vs.map((x) => x[k]!).filter(Number.isFinite);
      if (!v.length) continue;
      const m = v.reduce((a, b) => a + b, 0) / v.length;
      means.push(m);
      for (const y of v) ss += (y - m) ** 2;
      df += v.length - 1;
    }
    mean.push(means.reduce((a, b) => a + b, 0) / Math.max(1, means.length));
    scale.push(df > 0 ? Math.sqrt(ss / df) : 1);
  }
  return { mean, scale };
}
