// Vite plugin: the API lives in the studio's Service Worker, so an `/api/…`, `/v1/…` or `/ws` request
// that reaches this server was made outside a studio page (curl, a script, a page before the worker
// controls it). It answers JSON 503 engine_unavailable saying where the API runs, never the app page
// (which made a health check pass with nothing behind it) nor an empty 404. WebSocket upgrades on those
// paths get the same answer as a plain HTTP response.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Plugin, PreviewServer, ViteDevServer } from 'vite';

/** The paths the Service Worker's router serves (Router.isApiPath) plus the documents' `WS /ws`. */
export function isApiPath(pathname: string): boolean {
  return /^\/(api|v1|ws)(\/|$)/.test(pathname);
}

export function outsideBody(method: string, pathname: string, host: string | undefined): string {
  const studio = host ? `http://${host}/` : 'the studio page';
  return JSON.stringify({
    error: {
      code: 'engine_unavailable',
      message: `This API runs in the browser: open the studio (${studio}) and call ${method} ${pathname} with fetch from a page of that origin, where its Service Worker answers. Requests from outside the browser (curl, scripts) reach only the file server.`,
      path: pathname,
    },
  });
}

function pathOf(url: string | undefined): string {
  try {
    return new URL(url ?? '/', 'http://x').pathname;
  } catch {
    return '/';
  }
}

function middleware(req: IncomingMessage, res: ServerResponse, next: () => void): void {
  const pathname = pathOf(req.url);
  if (!isApiPath(pathname)) return next();
  const body = outsideBody(req.method ?? 'GET', pathname, req.headers.host);
  res.writeHead(503, {
    'Content-Type': 'application/json',
    'Content-Length': Buffer.byteLength(body),
    'Cache-Control': 'no-store',
    'Retry-After': '0',
  });
  res.end(req.method === 'HEAD' ? undefined : body);
}

function onUpgrade(req: IncomingMessage, socket: Duplex): void {
  const pathname = pathOf(req.url);
  // Vite's own HMR socket (dev) is left alone.
  if (!isApiPath(pathname) || req.headers['sec-websocket-protocol']?.includes('vite-hmr')) return;
  const body = outsideBody('GET', pathname, req.headers.host);
  socket.end(
    `HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
}

function install(server: ViteDevServer | PreviewServer): void {
  server.middlewares.use(middleware);
  server.httpServer?.on('upgrade', onUpgrade);
}

export function apiOutsidePlugin(): Plugin {
  return {
    name: 'timbre-api-outside',
    // Added before Vite's own middlewares (the SPA fallback would answer the app page).
    configureServer: install,
    configurePreviewServer: install,
  };
}
