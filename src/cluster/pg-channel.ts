import { randomUUID } from 'node:crypto';
import { type RawBuilder, sql } from 'kysely';
import pg from 'pg';

// A NOTIFY's payload must be shorter than 8000 bytes: a header line (under 80 bytes) and a piece
// of at most this many bytes of UTF-8 stay below it.
const PIECE_BYTES = 7900;

/**
 * A NOTIFY's payload is a header line, `origin batch index count`, then a piece of the JSON array
 * of the batch's messages: `origin` names the sending process (a process skips what it sent
 * itself), `batch` numbers the batch at its sender and `index` of `count` places the piece in it.
 * The JSON is sent as it is, not inside more JSON, so neither side escapes it again.
 */
function payload(origin: string, batch: number, index: number, count: number, piece: string): string {
  return `${origin} ${batch} ${index} ${count}\n${piece}`;
}

/** The JSON in pieces of at most PIECE_BYTES of UTF-8 each; a piece never ends inside a surrogate pair. */
function pieces(text: string): string[] {
  if (Buffer.byteLength(text) <= PIECE_BYTES) return [text];
  const result: string[] = [];
  let start = 0;
  let bytes = 0;
  for (let at = 0; at < text.length; ) {
    const code = text.charCodeAt(at);
    const units = code >= 0xd800 && code <= 0xdbff ? 2 : 1;
    const size = units === 2 ? 4 : code < 0x80 ? 1 : code < 0x800 ? 2 : 3;
    if (bytes + size > PIECE_BYTES) {
      result.push(text.slice(start, at));
      start = at;
      bytes = 0;
    }
    bytes += size;
    at += units;
  }
  result.push(text.slice(start));
  return result;
}

interface Pending {
  channel: string;
  json: string;
  bytes: number;
  resolve: () => void;
  reject: (error: unknown) => void;
}

export type ChannelListener = (message: unknown) => void;

/**
 * JSON messages between processes over PostgreSQL LISTEN/NOTIFY. One connection sends, one
 * listens. Messages sent in one turn of the event loop (the events of a commit, of several runs)
 * go out together, and so do those queued while a NOTIFY is under way, so a busy process needs
 * few round trips; each channel keeps the order a sender sent in. A batch past NOTIFY's size
 * limit travels in pieces.
 */
export class PgChannels {
  readonly origin = randomUUID();
  readonly #listeners = new Map<string, ChannelListener>();
  readonly #signals = new Map<string, (payload: string) => void>();
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

  /**
   * Hears a channel whose notifications carry only what changed (an id, in `payload`), sent by
   * SQL statements (`signalling`) with the change they announce, and from this process too.
   */
  async listenForSignal(channel: string, onSignal: (payload: string) => void): Promise<void> {
    this.#signals.set(channel, onSignal);
    await this.receiver.query(`LISTEN ${pg.escapeIdentifier(channel)}`);
  }

  /** The SQL expression that signals `channel`, with `payload`, when the statement evaluating it commits. */
  static signalling(channel: string, payload: string): RawBuilder<unknown> {
    return sql`pg_notify(${channel}, ${payload})`;
  }

  /** Queues the message behind those sent before it; resolves once PostgreSQL has it. */
  send(channel: string, message: unknown): Promise<void> {
    const json = JSON.stringify(message);
    const sent = new Promise<void>((resolve, reject) => this.#pending.push({ channel, json, bytes: Buffer.byteLength(json), resolve, reject }));
    this.#flushing ??= new Promise((resolve) => setImmediate(resolve)).then(() => this.#flush());
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
    let bytes = batch[0]!.bytes + 2;
    for (const next of this.#pending.slice(1)) {
      if (next.channel !== batch[0]!.channel || bytes + next.bytes + 1 > PIECE_BYTES) break;
      batch.push(next);
      bytes += next.bytes + 1;
    }
    this.#pending = this.#pending.slice(batch.length);
    return batch;
  }

  async #notify(channel: string, text: string): Promise<void> {
    const batch = this.#batches++;
    const split = pieces(text);
    for (const [index, piece] of split.entries()) {
      await this.sender.query('SELECT pg_notify($1, $2)', [channel, payload(this.origin, batch, index, split.length, piece)]);
    }
  }

  #receive(channel: string, text: string | undefined): void {
    const signal = this.#signals.get(channel);
    if (signal) {
      try {
        signal(text ?? '');
      } catch (error) {
        this.log(`a listener on ${channel} failed`, error);
      }
      return;
    }
    const listener = this.#listeners.get(channel);
    const newline = text?.indexOf('\n') ?? -1;
    if (!listener || newline < 0) return;
    const [origin, batch, index, count] = text!.slice(0, newline).split(' ');
    if (origin === this.origin) return;
    let json = text!.slice(newline + 1);
    if (count !== '1') {
      const key = `${origin}/${batch}`;
      const parts = this.#partial.get(key) ?? [];
      parts[Number(index)] = json;
      if (parts.filter((part) => part !== undefined).length < Number(count)) {
        this.#partial.set(key, parts);
        return;
      }
      this.#partial.delete(key);
      json = parts.join('');
    }
    for (const message of JSON.parse(json) as unknown[]) {
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
