// Serves the embedding example on a second origin (default http://127.0.0.1:4174), so the studio
// (http://127.0.0.1:4173) is really cross-origin to it. The client is transpiled from
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
    console.log(`Embedding example: http://127.0.0.1:${port}/?timbre=http://127.0.0.1:4173`),
  );
}
