import { randomUUID } from 'node:crypto';
import pg from 'pg';

// NOTIFY payloads are capped at 8000 bytes; pieces of this many UTF-16 units stay below it.
const PIECE_CHARS = 1900;

interface Envelope {
  /** The process that sent it, so a process skips what it sent itself. */
  o: string;
  /** The message's number at its sender, for putting pieces back together. */
  n: number;
  /** This piece's index and the number of pieces. */
  i: number;
  c: number;
  p: string;
}

export type ChannelListener = (message: unknown) => void;

/**
 * JSON messages between processes over PostgreSQL LISTEN/NOTIFY. One connection sends, one
 * connection listens; a process's messages go out one at a time, so each channel keeps the order a
 * sender sent in. Messages past NOTIFY's size limit travel in pieces.
 */
export class PgChannels {
  readonly origin = randomUUID();
  readonly #listeners = new Map<string, ChannelListener>();
  readonly #partial = new Map<string, string[]>();
  #sent = 0;
  #sending: Promise<unknown> = Promise.resolve();

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
    const text = JSON.stringify(message);
    const count = Math.max(1, Math.ceil(text.length / PIECE_CHARS));
    const number = this.#sent++;
    const sent = this.#sending.then(async () => {
      for (let index = 0; index < count; index++) {
        const envelope: Envelope = { o: this.origin, n: number, i: index, c: count, p: text.slice(index * PIECE_CHARS, (index + 1) * PIECE_CHARS) };
        await this.sender.query('SELECT pg_notify($1, $2)', [channel, JSON.stringify(envelope)]);
      }
    });
    this.#sending = sent.catch((error) => this.log(`sending on ${channel} failed`, error));
    return sent;
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
    try {
      listener(JSON.parse(text));
    } catch (error) {
      this.log(`a listener on ${channel} failed`, error);
    }
  }

  async close(): Promise<void> {
    await this.#sending;
    await Promise.all([this.sender.end(), this.receiver.end()]);
  }
}
