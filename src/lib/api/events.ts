import type { JobRecord } from '../storage/records';
import { Emitter } from '../core/emitter';

export type StudioEvent = { type: 'job'; job: Omit<JobRecord, 'result'> };

/** In-process publish/subscribe for job progress; the event stream route subscribes per client. */
export class EventBus extends Emitter<StudioEvent> {}
