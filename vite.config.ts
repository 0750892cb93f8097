import { defaultClientConditions, defineConfig, type Plugin } from 'vite';
import { svelte } from '@sveltejs/vite-plugin-svelte';
import { VitePWA } from 'vite-plugin-pwa';
import { readFileSync } from 'node:fs';
import { modelsPlugin } from './scripts/vite-models.ts';
import { ffmpegPlugin } from './scripts/vite-ffmpeg.ts';
import { apiOutsidePlugin } from './scripts/vite-api-outside.ts';

const pkg = JSON.parse(readFileSync(new URL('./package.json', import.meta.url), 'utf8')) as {
  version: string;
};

/** Cross-origin isolation: SharedArrayBuffer and so WASM threads need both headers. */
export const ISOLATION_HEADERS = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
};

const port = Number(process.env.PORT ?? 4173);

/**
 * The Service Worker's build only: music-metadata (the API's audio info) logs through `debug`, which
 * switches on from localStorage or process.env, and a Service Worker has neither, so there it can never
 * print. A no-op in its place keeps 5.8 kB of `debug` and `ms` out of sw.js.
 */
function swSilentDebug(): Plugin {
  const id = '\0sw-silent-debug';
  return {
    name: 'timbre:sw-silent-debug',
    enforce: 'pre',
    resolveId: (source) => (source === 'debug' ? id : null),
    load: (source) =>
      source === id
        ? 'const off = () => {}; off.enabled = false; off.extend = () => off; export default () => off;'
        : null,
  };
}

export default defineConfig({
  define: { __APP_VERSION__: JSON.stringify(pkg.version) },
  resolve: {
    // onnxruntime-web's build that loads its wasm glue and binary from env.wasm.wasmPaths (/ort/, see
    // scripts/vite-models.ts) instead of embedding the glue and emitting a second 28 MB .wasm into assets/.
    conditions: ['onnxruntime-web-use-extern-wasm', ...defaultClientConditions],
  },
  plugins: [
    svelte(),
    modelsPlugin(),
    ffmpegPlugin(),
    apiOutsidePlugin(),
    VitePWA({
      strategies: 'injectManifest',
      srcDir: 'src/sw',
      filename: 'sw.ts',
      registerType: 'prompt',
      injectRegister: false,
      injectManifest: {
        globPatterns: ['**/*.{js,mjs,css,html,svg,png,ico,webmanifest,json,wasm}'],
        // Models are large and cached by the model manager, not precached with the app shell.
        // Model files are large and installed by the model manager; the two catalogue files are precached,
        // and so is the onnxruntime-web runtime (/ort/), without which no model runs offline.
        // The single-thread ffmpeg core (/ffmpeg/, 32 MB) is precached, so audio formats work offline; the
        // multi-threaded one (/ffmpeg-mt/, 33 MB more) is not: it loads from the network (or the HTTP
        // cache) when the app is online and cross-origin isolated, and the audio worker falls back to the
        // single-thread core when it cannot.
        globIgnores: ['models/*/**', 'examples/**', 'ffmpeg-mt/**'],
        rollupFormat: 'iife',
        buildPlugins: { vite: [swSilentDebug()] },
        maximumFileSizeToCacheInBytes: 40 * 1024 * 1024,
      },
      devOptions: { enabled: true, type: 'module' },
      includeAssets: ['icons/*.svg', 'icons/*.png'],
      manifest: {
        id: '/',
        name: 'Timbre voice studio',
        short_name: 'Timbre',
        description:
          'An offline voice studio: speech, cloning, conversion and transcription, all on this device.',
        start_url: '/',
        scope: '/',
        display: 'standalone',
        background_color: '#0f1115',
        theme_color: '#6d5dfc',
        icons: [
          { src: '/icons/icon-192.png', sizes: '192x192', type: 'image/png' },
          { src: '/icons/icon-512.png', sizes: '512x512', type: 'image/png' },
          { src: '/icons/icon-512.png', sizes: '512x512', type: 'image/png', purpose: 'maskable' },
          { src: '/icons/icon.svg', sizes: 'any', type: 'image/svg+xml' },
        ],
        // Chromium extensions to the manifest, not in vite-plugin-pwa's types.
        ...({
          file_handlers: [
            {
              action: '/?open-file',
              accept: {
                'audio/wav': ['.wav'],
                'audio/mpeg': ['.mp3'],
                'audio/flac': ['.flac'],
                'audio/ogg': ['.ogg', '.opus'],
                'audio/mp4': ['.m4a', '.aac'],
                'audio/webm': ['.webm'],
              },
            },
          ],
          share_target: {
            action: '/share-target',
            method: 'POST',
            enctype: 'multipart/form-data',
            params: { title: 'title', text: 'text', files: [{ name: 'audio', accept: ['audio/*'] }] },
          },
        } as Record<string, unknown>),
      },
    }),
  ],
  build: {
    target: 'es2022',
    rollupOptions: {
      input: { main: 'index.html', embed: 'embed.html' },
    },
  },
  worker: { format: 'es' },
  server: { host: '127.0.0.1', port, strictPort: true, headers: ISOLATION_HEADERS },
  preview: { host: '127.0.0.1', port, strictPort: true, headers: ISOLATION_HEADERS },
});
