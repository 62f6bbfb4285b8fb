import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, beforeEach, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ChatModel, ModelEvent } from '../src/providers/chat-model.js';
import { ModelError } from '../src/providers/chat-model.js';
import { OpenAICompatibleModel } from '../src/providers/openai-compatible.js';
import { RetryingModel } from '../src/providers/retry.js';

/**
 * The OpenAI-compatible client against a raw HTTP server that writes the wire exactly as a test
 * wants it: events split across TCP packets, CRLF lines, connections cut, headers late.
 */
type Reply = (response: ServerResponse) => Promise<void>;

const replies: Reply[] = [];
const paths: string[] = [];
let connections = 0;
let baseURL = '';
const server = createServer((request: IncomingMessage, response: ServerResponse) => {
  paths.push(request.url ?? '');
  request.resume();
  const reply = replies.shift();
  if (!reply) return void response.writeHead(500).end('{"error":{"message":"no reply scripted"}}');
  void reply(response);
});
server.on('connection', (socket) => {
  connections++;
  socket.setNoDelay(true);
});

before(async () => {
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  baseURL = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/`;
});
beforeEach(() => {
  replies.length = 0;
});
after(() => {
  server.closeAllConnections();
  server.close();
});

const REQUEST = { model: 'm', messages: [{ role: 'user' as const, content: 'Hi' }] };

function modelWith(timeoutMs = 30_000): ChatModel {
  return new RetryingModel(new OpenAICompatibleModel({ type: 'openai', baseURL, apiKey: 'k' }, timeoutMs), { maxRetries: 2, initialDelayMs: 1, maxDelayMs: 1, requestTimeoutMs: timeoutMs });
}

async function streamed(model: ChatModel, signal = new AbortController().signal): Promise<{ events: ModelEvent[]; error?: unknown }> {
  const events: ModelEvent[] = [];
  try {
    for await (const event of model.stream(REQUEST, signal)) events.push(event);
    return { events };
  } catch (error) {
    return { events, error };
  }
}

const textOf = (events: ModelEvent[]) => events.map((event) => (event.type === 'text-delta' ? event.text : '')).join('');
const chunk = (content: string, finish: string | null = null) => `data: ${JSON.stringify({ object: 'chat.completion.chunk', choices: [{ index: 0, delta: { content }, finish_reason: finish }] })}`;

/** Writes each piece in its own TCP packet, the last one with the response's end. */
function inPieces(...pieces: (string | Buffer)[]): Reply {
  return async (response) => {
    response.writeHead(200, { 'content-type': 'text/event-stream' });
    for (const piece of pieces.slice(0, -1)) {
      response.write(piece);
      await sleep(15);
    }
    response.end(pieces.at(-1));
  };
}

/** Writes these pieces, then cuts the connection. */
function cutAfter(...pieces: string[]): Reply {
  return async (response) => {
    response.writeHead(200, { 'content-type': 'text/event-stream' });
    for (const piece of pieces) response.write(piece);
    await sleep(30);
    response.socket?.destroy();
  };
}

test('events split across packets, CRLF lines and a character split between packets are read whole', async () => {
  const euro = Buffer.from(chunk('5 €\u00e9') + '\r\n\r\n');
  const cut = euro.indexOf(0xe2) + 1;
  replies.push(inPieces('da', `ta: ${chunk('Hel').slice(6, 30)}`, `${chunk('Hel').slice(30)}\n`, `\n${chunk('lo ')}\r\n\r\n`, euro.subarray(0, cut), euro.subarray(cut), `${chunk('', 'stop')}\r\n\r\ndata: [DONE]\r\n\r\n`));
  const { events, error } = await streamed(modelWith());
  assert.equal(error, undefined);
  assert.equal(textOf(events), 'Hello 5 €\u00e9');
  assert.deepEqual(events.at(-1), { type: 'finish', finishReason: 'stop', usage: null });
  assert.equal(paths.at(-1), '/v1/chat/completions', 'the base URL path is kept, one slash between it and the route');
});

test('a connection cut before any output is retried; one cut after output fails without a retry', async () => {
  const before = paths.length;
  replies.push(cutAfter(`data: ${JSON.stringify({ choices: [{ index: 0, delta: { role: 'assistant', content: '' } }] })}\n\n`), inPieces(`${chunk('again')}\n\ndata: [DONE]\n\n`));
  const retried = await streamed(modelWith());
  assert.equal(retried.error, undefined);
  assert.equal(textOf(retried.events), 'again');
  assert.equal(paths.length - before, 2);

  replies.push(cutAfter(`${chunk('Half')}\n\n`), inPieces(`${chunk('never asked for')}\n\n`));
  const failed = await streamed(modelWith());
  assert.equal(textOf(failed.events), 'Half');
  assert.ok(failed.error instanceof ModelError, String(failed.error));
  assert.equal(failed.error.kind, 'server');
  assert.equal(paths.length - before, 3, 'streamed output is never replayed');
});

test('an error event in the stream is a retryable server error carrying the server\'s message', async () => {
  replies.push(inPieces('data: {"error":{"message":"overloaded, try later"}}\n\n'), inPieces('data: {"error":{"message":"still overloaded"}}\n\n'), inPieces('event: error\ndata: {"error":{"message":"gave up"}}\n\n'));
  const { events, error } = await streamed(modelWith());
  assert.deepEqual(events, []);
  assert.ok(error instanceof ModelError, String(error));
  assert.equal(error.kind, 'server');
  assert.match(error.message, /gave up/);
});

test('late headers time out and are retried; a body slower than the timeout is not cut', async () => {
  const hung: ServerResponse[] = [];
  replies.push(async (response) => void hung.push(response), async (response) => {
    response.writeHead(200, { 'content-type': 'text/event-stream' });
    response.write(`${chunk('slow ')}\n\n`);
    await sleep(900);
    response.end(`${chunk('body')}\n\ndata: [DONE]\n\n`);
  });
  const { events, error } = await streamed(modelWith(300));
  assert.equal(error, undefined);
  assert.equal(textOf(events), 'slow body');
  assert.equal(hung.length, 1, 'one try timed out, its retry answered');
});

test('calls that read to the end share one kept-alive connection', async () => {
  const opened = connections;
  const model = modelWith();
  for (const text of ['one', 'two', 'three']) {
    replies.push(inPieces(`${chunk(text)}\n\n`, `${chunk('', 'stop')}\n\ndata: [DONE]\n\n`));
    assert.equal(textOf((await streamed(model)).events), text);
  }
  assert.ok(connections - opened <= 1, `${connections - opened} connections for three calls`);
});

test('an abort ends a stream at once', { timeout: 20_000 }, async () => {
  const model = modelWith();
  const stop = new AbortController();
  replies.push(async (response) => {
    response.writeHead(200, { 'content-type': 'text/event-stream' });
    response.write(`${chunk('Once ')}\n\n`);
    await once(response, 'close');
  });
  const events: ModelEvent[] = [];
  await assert.rejects(async () => {
    for await (const event of model.stream(REQUEST, stop.signal)) {
      events.push(event);
      stop.abort('cancelled');
    }
  }, { name: 'AbortError' });
  assert.equal(textOf(events), 'Once ');
});
