// Files that reach the installed app from outside: the share target (the Service Worker already put them
// in the inbox) and the file handler (launchQueue). Both end in the inbox listed on the Studio page.
import { addToInbox } from '../lib/storage/inbox';
import type { Studio } from './studio.svelte';

export function receiveSharedFiles(studio: Studio): void {
  const url = new URL(location.href);
  const n = url.searchParams.get('shared');
  if (n === null) return;
  url.searchParams.delete('shared');
  history.replaceState(null, '', url);
  const count = Number(n) || 0;
  studio.toast(
    count
      ? `Received ${count} shared audio file${count === 1 ? '' : 's'}: see the inbox on the Studio page.`
      : 'Nothing usable was shared: only audio files are accepted.',
    { kind: count ? 'success' : 'error' },
  );
  studio.touch();
}

interface LaunchParams {
  files: { getFile(): Promise<File> }[];
}

export function receiveLaunchedFiles(studio: Studio): void {
  const queue = (globalThis as { launchQueue?: { setConsumer(fn: (p: LaunchParams) => void): void } })
    .launchQueue;
  queue?.setConsumer(async (params) => {
    if (!params.files.length) return;
    try {
      const files = await Promise.all(params.files.map((h) => h.getFile()));
      const kept = await addToInbox(caches, files);
      studio.toast(
        `Opened ${kept.length} audio file${kept.length === 1 ? '' : 's'}: see the inbox on the Studio page.`,
        {
          kind: 'success',
        },
      );
      studio.touch();
    } catch (e) {
      studio.fail(e, 'Could not open the files');
    }
  });
}
