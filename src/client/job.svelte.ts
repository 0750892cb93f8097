// The page's job state: the plain Job over a `$state` object, so views re-render as a run moves on.
import { idleJob, Job } from './job';

export function viewJob<K extends string>(onFinish?: () => void): Job<K> {
  const state = $state(idleJob<K>());
  return new Job<K>(state, onFinish);
}

export type { Job, JobRun, JobOutcome, JobProgress } from './job';
