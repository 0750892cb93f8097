// The studio reaches the components through Svelte context: App provides it once, any component under it
// reads it, so no component passes it down as a prop.
import { getContext, setContext } from 'svelte';
import type { Studio } from './studio.svelte';

const KEY = Symbol('timbre:studio');

export class NoStudioError extends Error {
  override name = 'NoStudioError';
  constructor() {
    super(
      'useStudio() was called outside the app: mount the component under App.svelte, which provides the studio.',
    );
  }
}

/** Provides the studio to every component under the caller; call during App's initialisation. */
export function provideStudio(studio: Studio): Studio {
  return setContext(KEY, studio);
}

/** The studio App provided; call during a component's initialisation. */
export function useStudio(): Studio {
  const studio = getContext<Studio | undefined>(KEY);
  if (!studio) throw new NoStudioError();
  return studio;
}
