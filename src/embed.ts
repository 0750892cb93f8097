// /embed.html: hosts an engine and answers a parent page's RPC over a MessageChannel, through the same
// router as the Service Worker, with the key's origin allow-list enforced.
import { openTimbreDB } from './lib/storage/db';
import { createApiContext } from './lib/api/context';
import { createRouter } from './lib/api/routes';
import { EventBus } from './lib/api/events';
import { gatherSystemFacts } from './lib/system/info';
import { KeyStore } from './lib/storage/keys';
import type { ConnectMessage, EmbedReply, RpcRequest, RpcResponse } from './lib/embed/protocol';
import { EngineBridge } from './client/engine';
import { becomeEngineHost } from './client/host';

const status = document.getElementById('status')!;
const engine = new EngineBridge();
const router = createRouter();
const bus = new EventBus();
const db = await openTimbreDB();
const keys = new KeyStore(db);

if ('serviceWorker' in navigator) {
  void navigator.serviceWorker.register('/sw.js', { scope: '/' }).catch(() => undefined);
  becomeEngineHost(engine);
}

async function respond(req: RpcRequest, origin: string): Promise<RpcResponse> {
  const ctx = createApiContext({
    db,
    engine,
    bus,
    version: __APP_VERSION__,
    callerOrigin: origin,
    system: () => gatherSystemFacts(),
  });
  const headers = new Headers(req.headers ?? {});
  let body: BodyInit | undefined;
  if (req.body instanceof ArrayBuffer || ArrayBuffer.isView(req.body)) body = req.body as BodyInit;
  else if (req.body !== undefined) {
    body = JSON.stringify(req.body);
    if (!headers.has('Content-Type')) headers.set('Content-Type', 'application/json');
  }
  const res = await router.handle(
    new Request(new URL(req.path, location.origin), { method: req.method, headers, body }),
    ctx,
  );
  const out: Record<string, string> = {};
  res.headers.forEach((v, k) => (out[k] = v));
  const isJson = (res.headers.get('Content-Type') ?? '').includes('json');
  return {
    id: req.id,
    status: res.status,
    headers: out,
    body: isJson ? await res.json() : await res.arrayBuffer(),
  };
}

addEventListener('message', async (ev: MessageEvent) => {
  const msg = ev.data as ConnectMessage | null;
  const port = ev.ports[0];
  if (msg?.type !== 'timbre:connect' || !port || ev.source !== parent) return;
  const origin = ev.origin;
  const key = typeof msg.key === 'string' ? await keys.verify(msg.key) : undefined;
  const refuse = (code: string, message: string) => {
    port.postMessage({ type: 'timbre:refused', error: { code, message } } satisfies EmbedReply);
    port.close();
  };
  if (!key) return refuse('unauthorized', 'The API key is not valid (unknown or revoked).');
  if (!key.allowed_origins.includes(origin))
    return refuse(
      'forbidden',
      `This key does not allow embedding from ${origin}. Add the origin to the key in Timbre's "API keys" view.`,
    );
  port.onmessage = async (e: MessageEvent<RpcRequest>) => {
    const req = e.data;
    // Every call carries the key, so the router checks scopes and limits exactly as for fetch.
    const withKey = { ...req, headers: { ...(req.headers ?? {}), 'X-API-Key': msg.key } };
    port.postMessage(await respond(withKey, origin));
  };
  port.postMessage({ type: 'timbre:ready', version: __APP_VERSION__ } satisfies EmbedReply);
  status.textContent = `Timbre engine connected to ${origin}`;
});

status.textContent = 'Timbre engine ready';
// Tell the parent we are listening (it may have loaded us before adding its message listener).
parent.postMessage({ type: 'timbre:loaded' }, '*');
