import assert from 'node:assert/strict';
import { test } from 'node:test';
import Fastify from 'fastify';
import { RunEventStreams } from '../src/api/sse.js';
import { EventBus, type StreamEventName } from '../src/events.js';

/**
 * A real server answering with one run's events, published by `publishAll` once the stream is
 * open, each inner list in one turn of the event loop; resolves to the payloads of the socket
 * writes the stream made (`end`'s last) and the body the client read.
 */
async function streamed(bursts: StreamEventName[][]): Promise<{ writes: string[]; body: string }> {
  const bus = new EventBus();
  const streams = new RunEventStreams(bus, 60_000);
  const writes: string[] = [];
  const app = Fastify();
  app.post('/stream', async (_request, reply) => {
    const raw = reply.raw;
    const write = raw.write.bind(raw) as (chunk: string) => boolean;
    const end = raw.end.bind(raw) as (chunk: string) => typeof raw;
    raw.write = ((chunk: string) => (writes.push(chunk), write(chunk))) as typeof raw.write;
    raw.end = ((chunk: string) => (writes.push(chunk), end(chunk))) as typeof raw.end;
    const publishAll = (remaining: StreamEventName[][]) => {
      const [burst, ...rest] = remaining;
      for (const event of burst ?? []) bus.publish('run_1', event, { event });
      if (rest.length > 0) setImmediate(() => publishAll(rest));
    };
    return streams.answer(reply, 'run_1', async () => setImmediate(() => publishAll(bursts)));
  });
  const url = await app.listen({ port: 0, host: '127.0.0.1' });
  try {
    const response = await fetch(`${url}/stream`, { method: 'POST' });
    return { writes, body: await response.text() };
  } finally {
    await app.close();
  }
}

const eventsIn = (payload: string) => [...payload.matchAll(/^event: (\S+)$/gm)].map((match) => match[1]);

test("a turn's events go out in one socket write", async () => {
  const { writes, body } = await streamed([['thread.run.created', 'thread.run.queued', 'thread.run.in_progress'], ['thread.run.completed']]);
  assert.deepEqual(writes.map(eventsIn), [['thread.run.created', 'thread.run.queued', 'thread.run.in_progress'], ['thread.run.completed', 'done']]);
  assert.deepEqual(eventsIn(body), ['thread.run.created', 'thread.run.queued', 'thread.run.in_progress', 'thread.run.completed', 'done']);
});

test('the first delta goes out at once, with the events before it, not after the rest of its turn', async () => {
  // As when a model's whole answer arrives in one read: its deltas and the run's end in one turn.
  const burst: StreamEventName[] = ['thread.message.created', 'thread.message.delta', 'thread.message.delta', 'thread.message.completed', 'thread.run.completed'];
  const { writes, body } = await streamed([burst]);
  assert.deepEqual(writes.map(eventsIn), [['thread.message.created', 'thread.message.delta'], ['thread.message.delta', 'thread.message.completed', 'thread.run.completed', 'done']]);
  assert.deepEqual(eventsIn(body), [...burst, 'done']);
});

test('later deltas wait for the end of their turn, as other events do', async () => {
  const { writes } = await streamed([['thread.run.step.delta'], ['thread.message.delta', 'thread.message.delta'], ['thread.run.completed']]);
  assert.deepEqual(writes.map(eventsIn), [['thread.run.step.delta'], ['thread.message.delta', 'thread.message.delta'], ['thread.run.completed', 'done']]);
});
