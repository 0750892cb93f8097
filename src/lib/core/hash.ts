// Incremental SHA-256 (@noble/hashes): files are hashed as their bytes stream by, never held whole.
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex } from '@noble/hashes/utils.js';

export class StreamingSha256 {
  private h = sha256.create();
  /** Bytes hashed so far. */
  bytes = 0;

  update(chunk: Uint8Array): this {
    this.h.update(chunk);
    this.bytes += chunk.byteLength;
    return this;
  }

  /** The lowercase hex digest. Ends the hash: call once. */
  hex(): string {
    return bytesToHex(this.h.digest());
  }
}

/** Hashes a stream of chunks from the start. */
export async function hashChunks(chunks: AsyncIterable<Uint8Array>): Promise<StreamingSha256> {
  const h = new StreamingSha256();
  for await (const c of chunks) h.update(c);
  return h;
}

/**
 * The hash state of a resumed download: the bytes already stored are hashed again first, so the digest at
 * the end is the digest of the whole file, not only of what this session fetched.
 */
export function resumeHash(stored: AsyncIterable<Uint8Array>): Promise<StreamingSha256> {
  return hashChunks(stored);
}

/**
 * The lowercase hex SHA-256 of bytes, or of a string's UTF-8 encoding (API key hashes rely on that). Web
 * Crypto, not the streaming hasher: the Service Worker checks keys with it and stays free of @noble/hashes.
 */
export async function sha256Hex(input: Uint8Array | string): Promise<string> {
  const bytes = typeof input === 'string' ? new TextEncoder().encode(input) : input;
  const digest = await crypto.subtle.digest('SHA-256', bytes as Uint8Array<ArrayBuffer>);
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, '0')).join('');
}

/** Reads a web ReadableStream as an async iterable (Safari has no async iteration on streams). */
export async function* streamChunks(stream: ReadableStream<Uint8Array>): AsyncGenerator<Uint8Array> {
  const reader = stream.getReader();
  let finished = false;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) {
        finished = true;
        return;
      }
      if (value && value.byteLength > 0) yield value;
    }
  } finally {
    // The consumer stopped early (or failed): let the source go.
    if (!finished) await reader.cancel().catch(() => undefined);
    reader.releaseLock();
  }
}
