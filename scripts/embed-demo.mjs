// Serves the embedding example on another site: http://localhost:4174 against the studio on
// http://127.0.0.1:4173 (localhost and 127.0.0.1 are different sites to a browser), so the example shows
// what a real embedder sees: partitioned storage and the frame's "Use Timbre on this site" step. The client is transpiled from
// src/lib/embed/client.ts on request, so the example always uses the real client.
import { createServer } from 'node:http';
import { readFileSync } from 'node:fs';
import ts from 'typescript';

const root = new URL('..', import.meta.url);
const port = Number(process.env.EMBED_DEMO_PORT ?? 4174);

export function createDemoServer() {
  return createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    if (url.pathname === '/' || url.pathname === '/index.html') {
      res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' });
      res.end(readFileSync(new URL('examples/embed-demo.html', root)));
    } else if (url.pathname === '/embed-client.js') {
      const src = readFileSync(new URL('src/lib/embed/client.ts', root), 'utf8');
      const out = ts.transpileModule(src, {
        compilerOptions: {
          target: ts.ScriptTarget.ES2022,
          module: ts.ModuleKind.ES2022,
          verbatimModuleSyntax: true,
        },
      });
      res.writeHead(200, { 'Content-Type': 'text/javascript; charset=utf-8' });
      res.end(out.outputText);
    } else {
      res.writeHead(404, { 'Content-Type': 'text/plain' });
      res.end('not found');
    }
  });
}

if (import.meta.url === `file://${process.argv[1]}`) {
  createDemoServer().listen(port, '127.0.0.1', () =>
    console.log(
      `Embedding example (another site than the studio): http://localhost:${port}/?timbre=${process.env.TIMBRE_URL ?? 'http://127.0.0.1:4173'}`,
    ),
  );
}
