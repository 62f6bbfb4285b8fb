import { randomUUID } from 'node:crypto';
import pg from 'pg';

// NOTIFY payloads are capped at 8000 bytes; this many UTF-16 units of JSON stay below it.
const PAYLOAD_CHARS = 1900;

interface Envelope {
  /** The process that sent it, so a process skips what it sent itself. */
  o: string;
  /** The batch's number at its sender, for putting pieces back together. */
  n: number;
  /** This piece's index and the number of pieces. */
  i: number;
  c: number;
  /** A piece of the JSON array of messages in the batch. */
  p: string;
}

interface Pending {
  channel: string;
  json: string;
  resolve: () => void;
  reject: (error: unknown) => void;
}

export type ChannelListener = (message: unknown) => void;

/**
 * JSON messages between processes over PostgreSQL LISTEN/NOTIFY. One connection sends, one
 * listens. Messages queued while a NOTIFY is under way go out together in the next one, so a
 * busy process needs few round trips, and each channel keeps the order a sender sent in. A batch
 * past NOTIFY's size limit travels in pieces.
 */
export class PgChannels {
  readonly origin = randomUUID();
  readonly #listeners = new Map<string, ChannelListener>();
  readonly #partial = new Map<string, string[]>();
  #pending: Pending[] = [];
  #batches = 0;
  #flushing: Promise<void> | undefined;

  private constructor(
    readonly sender: pg.Client,
    readonly receiver: pg.Client,
    readonly log: (message: string, error?: unknown) => void,
  ) {
    receiver.on('notification', (notification) => this.#receive(notification.channel, notification.payload));
    for (const client of [sender, receiver]) client.on('error', (error) => log('a LISTEN/NOTIFY connection failed', error));
  }

  static async connect(url: string, log: (message: string, error?: unknown) => void): Promise<PgChannels> {
    const sender = new pg.Client({ connectionString: url });
    const receiver = new pg.Client({ connectionString: url });
    await Promise.all([sender.connect(), receiver.connect()]);
    return new PgChannels(sender, receiver, log);
  }

  async listen(channel: string, listener: ChannelListener): Promise<void> {
    this.#listeners.set(channel, listener);
    await this.receiver.query(`LISTEN ${pg.escapeIdentifier(channel)}`);
  }

  /** Queues the message behind those sent before it; resolves once PostgreSQL has it. */
  send(channel: string, message: unknown): Promise<void> {
    const json = JSON.stringify(message);
    const sent = new Promise<void>((resolve, reject) => this.#pending.push({ channel, json, resolve, reject }));
    this.#flushing ??= this.#flush();
    return sent;
  }

  async #flush(): Promise<void> {
    while (this.#pending.length > 0) {
      const batch = this.#takeBatch();
      const text = `[${batch.map((message) => message.json).join(',')}]`;
      try {
        await this.#notify(batch[0]!.channel, text);
        for (const message of batch) message.resolve();
      } catch (error) {
        this.log(`sending on ${batch[0]!.channel} failed`, error);
        for (const message of batch) message.reject(error);
      }
    }
    this.#flushing = undefined;
  }

  /** The oldest pending messages of one channel that fit one NOTIFY (at least one). */
  #takeBatch(): Pending[] {
    const batch = [this.#pending[0]!];
    let chars = batch[0]!.json.length;
    for (const next of this.#pending.slice(1)) {
      if (next.channel !== batch[0]!.channel || chars + next.json.length + 1 > PAYLOAD_CHARS) break;
      batch.push(next);
      chars += next.json.length + 1;
    }
    this.#pending = this.#pending.slice(batch.length);
    return batch;
  }

  async #notify(channel: string, text: string): Promise<void> {
    const count = Math.max(1, Math.ceil(text.length / PAYLOAD_CHARS));
    const number = this.#batches++;
    for (let index = 0; index < count; index++) {
      const envelope: Envelope = { o: this.origin, n: number, i: index, c: count, p: text.slice(index * PAYLOAD_CHARS, (index + 1) * PAYLOAD_CHARS) };
      await this.sender.query('SELECT pg_notify($1, $2)', [channel, JSON.stringify(envelope)]);
    }
  }

  #receive(channel: string, payload: string | undefined): void {
    const listener = this.#listeners.get(channel);
    if (!listener || payload === undefined) return;
    const envelope = JSON.parse(payload) as Envelope;
    if (envelope.o === this.origin) return;
    let text = envelope.p;
    if (envelope.c > 1) {
      const key = `${envelope.o}/${envelope.n}`;
      const pieces = this.#partial.get(key) ?? [];
      pieces[envelope.i] = envelope.p;
      if (pieces.filter((piece) => piece !== undefined).length < envelope.c) {
        this.#partial.set(key, pieces);
        return;
      }
      this.#partial.delete(key);
      text = pieces.join('');
    }
    for (const message of JSON.parse(text) as unknown[]) {
      try {
        listener(message);
      } catch (error) {
        this.log(`a listener on ${channel} failed`, error);
      }
    }
  }

  async close(): Promise<void> {
    await this.#flushing;
    await Promise.all([this.sender.end(), this.receiver.end()]);
  }
}
