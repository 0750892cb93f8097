import { mount } from 'svelte';
import { registerSW } from 'virtual:pwa-register';
import App from './App.svelte';
import { Studio } from './client/studio.svelte';
import { becomeEngineHost } from './client/host';
import './app.css';
import { receiveLaunchedFiles, receiveSharedFiles } from './client/inbox';

const studio = new Studio();

// "Update available" instead of a silent reload that could lose work.
const updateSW = registerSW({
  immediate: true,
  onNeedRefresh() {
    studio.setUpdater(async () => {
      // Reload once the new worker takes control; workbox-window only does so for updates it found itself.
      navigator.serviceWorker.addEventListener('controllerchange', () => location.reload(), { once: true });
      await updateSW(true);
    });
  },
  onOfflineReady() {
    studio.offlineReady = true;
  },
});

await studio.init();
becomeEngineHost(studio.engine);
studio.watchIdle(document);
void studio.installBundledModels();
// A forced execution provider is applied to the engine at start; "auto" needs nothing.
if (studio.providerPreference !== 'auto')
  void studio
    .setProviderPreference(studio.providerPreference)
    .catch((e: unknown) => studio.fail(e, 'Execution provider'));

receiveSharedFiles(studio);
receiveLaunchedFiles(studio);

// Exposed for automation and the browser tests (engine crash recovery).
(globalThis as { __timbre?: Studio }).__timbre = studio;

mount(App, { target: document.getElementById('app')!, props: { studio } });
