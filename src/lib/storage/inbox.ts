// The inbox: audio files shared to the installed app (share target) or opened with it (file handler),
// kept in Cache Storage (reachable from the Service Worker and the page) until a tool takes them.
export const INBOX_CACHE = 'timbre-inbox';
const PREFIX = '/inbox/';

export interface InboxItem {
  url: string;
  name: string;
  type: string;
  size: number;
  received_at: number;
}

interface CachesLike {
  open(name: string): Promise<Cache>;
}

export class InboxError extends Error {
  override name = 'InboxError';
}

/** Keeps the files; only audio (and video, which carries audio) is accepted. Returns what was kept. */
export async function addToInbox(caches: CachesLike, files: File[], now = Date.now()): Promise<InboxItem[]> {
  const cache = await caches.open(INBOX_CACHE);
  const kept: InboxItem[] = [];
  for (const [i, f] of files.entries()) {
    if (f.type && !/^(audio|video)\//.test(f.type)) continue;
    const url = `${PREFIX}${now}-${i}/${encodeURIComponent(f.name || 'audio')}`;
    await cache.put(
      new Request(new URL(url, 'https://inbox.invalid').pathname),
      new Response(f, {
        headers: {
          'Content-Type': f.type || 'application/octet-stream',
          'X-Received-At': String(now),
          'Content-Length': String(f.size),
        },
      }),
    );
    kept.push({ url, name: f.name || 'audio', type: f.type, size: f.size, received_at: now });
  }
  return kept;
}

export async function listInbox(caches: CachesLike): Promise<InboxItem[]> {
  const cache = await caches.open(INBOX_CACHE);
  const out: InboxItem[] = [];
  for (const req of await cache.keys()) {
    const res = await cache.match(req);
    if (!res) continue;
    const path = new URL(req.url).pathname;
    out.push({
      url: path,
      name: decodeURIComponent(path.split('/').pop() ?? 'audio'),
      type: res.headers.get('Content-Type') ?? '',
      size: Number(res.headers.get('Content-Length') ?? 0),
      received_at: Number(res.headers.get('X-Received-At') ?? 0),
    });
  }
  return out.sort((a, b) => b.received_at - a.received_at);
}

export async function readInbox(caches: CachesLike, url: string): Promise<Blob> {
  const res = await (await caches.open(INBOX_CACHE)).match(url);
  if (!res) throw new InboxError(`"${url}" is no longer in the inbox.`);
  return res.blob();
}

export async function removeFromInbox(caches: CachesLike, url: string): Promise<void> {
  await (await caches.open(INBOX_CACHE)).delete(url);
}
