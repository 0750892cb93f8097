// clone.tune: the converter's int8 variant made, or timed again, when the studio is idle (the page runs it
// then, and cancels it the moment a person's job starts), so no conversion waits for it.
import type { RunOptions } from '../core/run';
import type { CloneDeps } from './deps';
import { tuneConverter } from './converter';
import type { CloneTuneResult } from './contract';

export async function runCloneTune(
  _args: Record<string, never>,
  opts: RunOptions = {},
  d: CloneDeps,
): Promise<CloneTuneResult> {
  return tuneConverter(d, opts);
}
