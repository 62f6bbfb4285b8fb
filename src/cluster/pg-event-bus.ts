import { EventBus, type StreamEventName } from '../events.js';
import type { PgChannels } from './pg-channel.js';

const CHANNEL = 'stepwise_run_events';

interface RemoteEvent {
  runId: string;
  event: StreamEventName;
  data: unknown;
}

/**
 * Run events across processes: each event reaches this process's subscribers at once and every
 * other process's through LISTEN/NOTIFY, so a stream served by one API process sees a run that a
 * worker process executes.
 */
export class PgEventBus extends EventBus {
  private constructor(readonly channels: PgChannels) {
    super();
  }

  /** `receive`: whether this process hears other processes' events; only one that serves streams needs them. */
  static async start(channels: PgChannels, receive: boolean): Promise<PgEventBus> {
    const bus = new PgEventBus(channels);
    if (!receive) return bus;
    await channels.listen(CHANNEL, (message) => {
      const { runId, event, data } = message as RemoteEvent;
      bus.deliver(runId, event, data);
    });
    return bus;
  }

  override publish(runId: string, event: StreamEventName, data: unknown): void {
    this.publishLocally(runId, event, data);
    // A failed send is logged by the channel; the event is already stored, so polling clients see it.
    void this.channels.send(CHANNEL, { runId, event, data } satisfies RemoteEvent).catch(() => undefined);
  }

  private deliver(runId: string, event: StreamEventName, data: unknown): void {
    this.publishLocally(runId, event, data);
  }
}
