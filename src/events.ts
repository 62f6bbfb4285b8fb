import { EventEmitter } from 'node:events';

/** The names of the spec's `AssistantStreamEvent`s, as they go out on the wire. */
export type StreamEventName =
  | 'thread.created'
  | `thread.run.${'created' | 'queued' | 'in_progress' | 'requires_action' | 'completed' | 'incomplete' | 'failed' | 'cancelling' | 'cancelled' | 'expired'}`
  | `thread.run.step.${'created' | 'in_progress' | 'delta' | 'completed' | 'failed' | 'cancelled' | 'expired'}`
  | `thread.message.${'created' | 'in_progress' | 'delta' | 'completed' | 'incomplete'}`;

export interface StreamEvent {
  event: StreamEventName;
  data: unknown;
}

export type StreamListener = (event: StreamEvent) => void;

/** After these a stream has nothing more to say until the client acts (or ever). */
const STREAM_END_EVENTS = new Set<StreamEventName>([
  'thread.run.requires_action',
  'thread.run.completed',
  'thread.run.incomplete',
  'thread.run.failed',
  'thread.run.cancelled',
  'thread.run.expired',
]);

export function endsStream(event: StreamEventName): boolean {
  return STREAM_END_EVENTS.has(event);
}

/**
 * Run events inside one process, keyed by run id. Every state change is written to the store
 * first and published here after, so a subscriber never sees an event the database does not hold.
 */
export class EventBus {
  readonly #emitter = new EventEmitter().setMaxListeners(0);

  publish(runId: string, event: StreamEventName, data: unknown): void {
    this.publishLocally(runId, event, data);
  }

  /** For events only this process's subscribers can want; the same as `publish` in one process. */
  publishLocally(runId: string, event: StreamEventName, data: unknown): void {
    this.#emitter.emit(runId, { event, data } satisfies StreamEvent);
  }

  /** A listener that throws is the subscriber's failure (a broken stream), never the run's. */
  subscribe(runId: string, listener: StreamListener): () => void {
    const isolated: StreamListener = (event) => {
      try {
        listener(event);
      } catch (error) {
        console.error(`[stepwise] a subscriber of run ${runId} failed on ${event.event}`, error);
      }
    };
    this.#emitter.on(runId, isolated);
    return () => this.#emitter.off(runId, isolated);
  }
}
