/// <reference lib="webworker" />
// The Service Worker: serves the app shell offline and routes /api and /v1 to the local API.
// It only routes; handlers live in src/lib/api and compute runs in an engine host.
import { cleanupOutdatedCaches, matchPrecache, precacheAndRoute } from 'workbox-precaching';
import { Router } from '../lib/api/router';
import { createRouter } from '../lib/api/routes';
import { createApiContext, type ApiContext } from '../lib/api/context';
import { openTimbreDB } from '../lib/storage/db';
import { ClientEngineGateway } from '../lib/api/sw-gateway';
import { gatherSystemFacts } from '../lib/system/info';
import { errorBody } from '../lib/api/errors';
import { addToInbox } from '../lib/storage/inbox';
import { InstallBoard } from '../lib/models/installing';

declare const self: ServiceWorkerGlobalScope;
declare const __APP_VERSION__: string;

const ISOLATION = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
};

const gateway = new ClientEngineGateway(self.clients as never, () => new MessageChannel());
const router = createRouter();
// The installs the models worker announces, so a compute route can say how far its model is (#21).
const installs = new InstallBoard();
let ctxPromise: Promise<ApiContext> | null = null;

function context(): Promise<ApiContext> {
  ctxPromise ??= openTimbreDB().then((db) =>
    createApiContext({
      db,
      engine: gateway,
      version: __APP_VERSION__,
      installs: () => installs.status(),
      system: async () => {
        // The engine host knows more (WebGPU, isolation); fall back to what this worker sees.
        try {
          if ((await gateway.hostCount()) > 0)
            return await gateway.run('system.facts', {}, { signal: AbortSignal.timeout(3000) });
        } catch {
          // fall through
        }
        return gatherSystemFacts(self);
      },
    }),
  );
  return ctxPromise;
}

// Registered before Workbox's listener so API paths never reach the precache.
self.addEventListener('fetch', (event) => {
  const url = new URL(event.request.url);
  if (url.origin !== self.location.origin) return;
  if (Router.isApiPath(url.pathname)) {
    event.respondWith(
      context()
        .then((ctx) => router.handle(event.request, ctx))
        .catch(() => jsonError(500, 'internal_error', 'The local API could not open its database.')),
    );
    return;
  }
  if (url.pathname === '/share-target' && event.request.method === 'POST') {
    event.respondWith(shareTarget(event.request));
    return;
  }
  if (
    event.request.mode === 'navigate' &&
    url.pathname !== '/embed.html' &&
    !url.pathname.startsWith('/examples/')
  ) {
    event.respondWith(navigation(event.request));
  }
});

/** App navigations: network first (fresh when online), the precached shell when offline. */
async function navigation(request: Request): Promise<Response> {
  try {
    const res = await fetch(request);
    if (res.ok || res.status === 304) return res;
  } catch {
    // offline
  }
  const shell = await matchPrecache('index.html');
  if (!shell) return new Response('Offline and the app shell is not cached yet.', { status: 503 });
  // Keep the page cross-origin isolated when served from the cache.
  const headers = new Headers(shell.headers);
  for (const [k, v] of Object.entries(ISOLATION)) headers.set(k, v);
  return new Response(shell.body, { status: 200, headers });
}

/** The PWA share target: keeps shared audio in the inbox, then opens the studio, which lists it. */
async function shareTarget(request: Request): Promise<Response> {
  let kept = 0;
  try {
    const form = await request.formData();
    const files = form.getAll('audio').filter((f): f is File => typeof f !== 'string');
    kept = (await addToInbox(caches, files)).length;
  } catch {
    // An unreadable share still opens the studio, which then says nothing arrived.
  }
  return Response.redirect(`/?shared=${kept}`, 303);
}

function jsonError(status: number, code: string, message: string): Response {
  return new Response(JSON.stringify(errorBody(code, message)), {
    status,
    headers: { 'Content-Type': 'application/json' },
  });
}

self.addEventListener('message', (event) => {
  const data = event.data as { type?: string } | null;
  const source = event.source as Client | null;
  if (data?.type === 'SKIP_WAITING') void self.skipWaiting();
  else if (data?.type === 'timbre:engine-host' && source) gateway.register(source.id);
  else if (data?.type === 'timbre:engine-host-gone' && source) gateway.gone(source.id);
});

self.addEventListener('activate', (event) => {
  event.waitUntil(self.clients.claim());
});

cleanupOutdatedCaches();
precacheAndRoute(self.__WB_MANIFEST);
