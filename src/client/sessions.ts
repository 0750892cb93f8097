// One view session per studio and class, so a view's state (and a job it runs) survives switching views.
import type { Studio } from './studio.svelte';

const registry = new WeakMap<Studio, Map<abstract new (studio: Studio) => unknown, unknown>>();

export function sessionFor<T>(studio: Studio, Session: new (studio: Studio) => T): T {
  let mine = registry.get(studio);
  if (!mine) registry.set(studio, (mine = new Map()));
  let s = mine.get(Session) as T | undefined;
  if (!s) mine.set(Session, (s = new Session(studio)));
  return s;
}
