// Streamed speech: raw audio or OpenAI's SSE events, sent sentence by sentence as the engine makes them
// (wav, pcm, and mp3 where the route asks) or whole once encoded (the other compressed formats, cloned
// voices); kept in the history at the end.
import type { ApiContext } from '../context';
import { toApiError } from '../errors';
import type { ApiKeyRecord } from '../../auth/keys';
import type { Progress } from '../../core/run';
import { encodePcm16, streamingWavHeader } from '../../dsp/wav';
import { encodeBase64 } from '../../core/base64';
import type { SynthesizeResult } from '../../tts/contract';
import { CONTENT_TYPES, type SpeechSpec } from './speech-schemas';
import { Mp3Joiner } from '../../codec/mp3';
import { engineArgs, resolveSpeaker } from './speaker';
import {
  audioAnswer,
  encodeAudio,
  keepInHistory,
  seconds,
  speak,
  speechJobError,
  tooSlow,
  type Kept,
} from './speak';

/** A streamed answer keeps sending audio, so it may run longer than a whole-file one. */
export const STREAM_WAIT_MS = 30 * 60_000;
/**
 * How long a stream waits for its first audio before the response (headers) goes out anyway: errors that
 * come that early (unknown voice, model not installed) keep their status; a model that is still loading
 * must not keep the response back past the Service Worker's fetch limit (about five minutes).
 */
export const streamTiming = { holdMs: 15_000 };
/** Kokoro's output rate (kokoro.ts is not imported here: it would pull the engine into the SW). */
const KOKORO_RATE = 24000;

interface Chunk {
  samples: Float32Array;
  sampleRate: number;
}

/** The audio of a tts.generate 'chunk' progress event (checked here: the SW must not import the engine). */
function chunkOf(p: Progress): Chunk | null {
  if (p.stage !== 'chunk' || !p.data || typeof p.data !== 'object') return null;
  const d = p.data as Partial<Chunk>;
  return d.samples instanceof Float32Array && typeof d.sampleRate === 'number' ? (d as Chunk) : null;
}

/** OpenAI's usage object; Kokoro has no billing tokens: characters in, 20 ms audio frames out. */
function usage(spec: SpeechSpec, r: SynthesizeResult) {
  const input = spec.text.length;
  const output = Math.round((r.samples.length / r.sampleRate) * 50);
  return { input_tokens: input, output_tokens: output, total_tokens: input + output };
}

const sse = (event: unknown) => new TextEncoder().encode(`data: ${JSON.stringify(event)}\n\n`);

/** Base64 deltas of at most this many bytes when a whole file goes out as SSE. */
const SSE_PIECE = 48 * 1024;

/**
 * Streams speech. wav and pcm go out sentence by sentence as the engine makes them (a WAV header with
 * streaming sizes first); the compressed formats are encoded whole at the end (separately encoded mp3 or
 * Ogg pieces do not join into one clean file). `mode` 'sse' sends OpenAI's events
 * `{"type":"speech.audio.delta","audio":base64}` … `{"type":"speech.audio.done","usage":…}`; 'audio' the raw
 * bytes. Errors before the first audio (within streamTiming.holdMs) answer with their own status; later
 * ones end an 'audio' stream with an error (the client sees an aborted body, never a short file) and an
 * 'sse' stream with an `{"type":"error"}` event and no done event. Cancelling the job (POST /api/generation/cancel with the
 * X-Job-Id of the response) or dropping the connection stops the generation.
 */
export async function streamSpeech(
  spec: SpeechSpec,
  mode: 'sse' | 'audio',
  key: ApiKeyRecord,
  ctx: ApiContext,
  request?: Request,
  opts: { streamMp3?: boolean } = {},
): Promise<Response> {
  // mp3 (where the route asks) goes out a sentence at a time too: each sentence is encoded on its own and
  // its frames sent without the file-level header and tags (codec/mp3.ts), which joins as one stream whose
  // length stays the speech's (Mp3Joiner).
  const mp3 = spec.format === 'mp3' && opts.streamMp3 === true;
  // Cloned voices are spoken whole (clone.speak), then sent the same way as compressed formats.
  if (
    (spec.format !== 'wav' && spec.format !== 'pcm' && !mp3) ||
    (await resolveSpeaker(spec.voice, ctx)).cloned
  ) {
    const s = await speak(spec, key, ctx);
    const { bytes, type } = await encodeAudio(s.result, spec.format, ctx);
    if (mode === 'audio') return audioAnswer(s, bytes, type);
    const events: Uint8Array[] = [];
    for (let at = 0; at < bytes.length; at += SSE_PIECE)
      events.push(
        sse({ type: 'speech.audio.delta', audio: encodeBase64(bytes.subarray(at, at + SSE_PIECE)) }),
      );
    events.push(sse(doneEvent(spec, s.result, s.jobId, s.kept)));
    return sseResponse(new Blob(events as BlobPart[]).stream(), s.jobId);
  }

  const { args, speaker } = await engineArgs(spec, ctx);
  const t0 = ctx.now();
  const pending: Chunk[] = [];
  let push: ((c: Chunk) => void) | null = null;
  let sawFirst = () => {};
  const first = new Promise<'first'>((r) => (sawFirst = () => r('first')));
  const job = await ctx.jobs.start('tts.generate', args, key.id, {
    onProgress: (p) => {
      const c = chunkOf(p);
      if (!c) return;
      if (push) push(c);
      else pending.push(c);
      sawFirst();
    },
  });
  const done = ctx.jobs.wait(job.id, STREAM_WAIT_MS);
  // Errors before any audio (unknown voice term, model not installed, …) answer with their own status.
  let timer: ReturnType<typeof setTimeout> | undefined;
  const hold = new Promise<'hold'>((r) => (timer = setTimeout(() => r('hold'), streamTiming.holdMs)));
  const early = await Promise.race([first, done, hold]);
  clearTimeout(timer);
  if (early !== 'first' && early !== 'hold') {
    if (!early) {
      await ctx.jobs.cancel({ id: job.id });
      throw tooSlow();
    }
    if (early.status !== 'succeeded') throw speechJobError(early);
  }

  const format = spec.format;
  const sampleRate = pending[0]?.sampleRate ?? KOKORO_RATE;
  let header = format === 'wav';
  let sentAudio = false;
  const bytesOf = (c: Chunk): Uint8Array => {
    const pcm = encodePcm16(c.samples);
    sentAudio = true;
    if (!header) return pcm;
    header = false;
    const out = new Uint8Array(44 + pcm.length);
    out.set(streamingWavHeader(c.sampleRate));
    out.set(pcm, 44);
    return out;
  };
  const frame = (b: Uint8Array) =>
    mode === 'sse' ? sse({ type: 'speech.audio.delta', audio: encodeBase64(b) }) : b;
  // The encodes run in the page's encoder worker, beside Kokoro's runs in the engine worker.
  const joiner = mp3 ? new Mp3Joiner() : null;
  const piece = async (c: Chunk): Promise<Uint8Array> => {
    if (!joiner) return bytesOf(c);
    const samples = joiner.next(c.samples, c.sampleRate);
    const e = await ctx.engine.run('audio.encode', {
      samples,
      sampleRate: c.sampleRate,
      options: { format: 'mp3' },
    });
    sentAudio = true;
    return joiner.frames(e.bytes, samples.length / c.sampleRate);
  };
  /** Pieces go out in order; an mp3 piece is encoded while the next sentence is spoken. */
  let tail: Promise<void> = Promise.resolve();
  let pieceError: unknown = null;

  let finished = false;
  const stop = () => {
    if (finished) return;
    finished = true;
    void ctx.jobs.cancel({ id: job.id });
  };
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      const send = (b: Uint8Array) => {
        if (finished) return;
        try {
          controller.enqueue(b);
        } catch {
          stop();
        }
      };
      const emit = (c: Chunk) => {
        tail = tail.then(async () => {
          if (finished || pieceError) return;
          try {
            send(frame(await piece(c)));
          } catch (e) {
            pieceError = e;
          }
        });
      };
      for (const c of pending.splice(0)) emit(c);
      push = emit;
      void done
        .then(async (rec) => {
          push = null;
          await tail;
          if (finished) return;
          if (pieceError && rec?.status === 'succeeded') {
            finished = true;
            controller.error(new Error(toApiError(pieceError).message));
            return;
          }
          if (rec?.status === 'succeeded') {
            const result = rec.result as SynthesizeResult;
            // An engine that sent no chunks (none of ours) still gives its audio, whole.
            if (!sentAudio) send(frame(await piece(result)));
            const kept = await keepInHistory(spec, speaker, result, ctx.now() - t0, key, ctx).catch(
              (e: unknown) => ({ error: toApiError(e) }) as Kept,
            );
            if (mode === 'sse') send(sse(doneEvent(spec, result, job.id, kept)));
            finished = true;
            controller.close();
            return;
          }
          if (!rec) await ctx.jobs.cancel({ id: job.id });
          const err = rec ? speechJobError(rec) : tooSlow();
          if (mode === 'sse') {
            send(sse({ type: 'error', error: { code: err.code, message: err.message, job_id: job.id } }));
            finished = true;
            controller.close();
          } else {
            finished = true;
            // An errored body: the client's read fails, so partial audio is never taken for a whole file.
            controller.error(new Error(err.message));
          }
        })
        .catch((e: unknown) => {
          // Encoding the last piece failed: an errored body, never a short file taken for a whole one.
          if (finished) return;
          finished = true;
          controller.error(new Error(toApiError(e).message));
        });
    },
    cancel() {
      stop();
    },
  });
  request?.signal?.addEventListener('abort', stop, { once: true });
  if (mode === 'sse') return sseResponse(body, job.id);
  return new Response(body, {
    headers: {
      'Content-Type': CONTENT_TYPES[format],
      'X-Sample-Rate': String(sampleRate),
      'X-Job-Id': job.id,
    },
  });
}

function doneEvent(spec: SpeechSpec, r: SynthesizeResult, jobId: string, kept: Kept) {
  return {
    type: 'speech.audio.done',
    usage: usage(spec, r),
    duration: seconds(r),
    job_id: jobId,
    ...(kept.error
      ? { history_error: { code: kept.error.code, message: kept.error.message } }
      : { history_id: kept.id }),
  };
}

function sseResponse(body: ReadableStream<Uint8Array>, jobId: string): Response {
  return new Response(body, {
    headers: {
      'Content-Type': 'text/event-stream',
      'Cache-Control': 'no-store',
      'X-Job-Id': jobId,
    },
  });
}
