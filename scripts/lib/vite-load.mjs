// Loads TypeScript sources of the app into a Node script through a Vite dev server in middleware mode (no
// port), which, unlike runnerImport, stays open for the modules' own dynamic imports (espeak-ng, onnxruntime).
import { createServer } from 'vite';

/** Returns load(path) → module and close(). */
export async function viteLoader(root) {
  const server = await createServer({
    root,
    configFile: false,
    logLevel: 'silent',
    appType: 'custom',
    server: { middlewareMode: true, hmr: false, ws: false },
    optimizeDeps: { noDiscovery: true, include: [] },
  });
  return { load: (path) => server.ssrLoadModule(path), close: () => server.close() };
}
