import { type IncomingMessage, request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { createParser, type EventSourceMessage } from 'eventsource-parser';
import { ModelError } from './chat-model.js';

// In the openai SDK's words ("Request timed out.", "Connection error."), which run errors have carried so far.
const unreachable = (why: string) => new ModelError('server', `Could not reach the model server: ${why}`, true);
const connectionLost = () => new ModelError('server', 'The model server closed the connection before its answer ended.', true);

/** What a stopped call throws: the run's own signal says why it stopped. */
function stopped(signal: AbortSignal): Error {
  return Object.assign(new Error('The model call was stopped.'), { name: 'AbortError', cause: signal.reason });
}

/**
 * POSTs JSON to one model server with node's own HTTP client: a streamed call costs about a third
 * of the client CPU it took through the openai SDK. Its global agents keep connections alive (and
 * take a proxy from the environment under NODE_USE_ENV_PROXY, as fetch does). `timeoutMs` bounds
 * the wait for the response's headers, as the SDK's timeout did; the body then streams for as
 * long as the model writes. Aborting `signal` ends the call at once, wherever it is.
 */
export class ModelHttpClient {
  readonly #request: typeof httpRequest;

  constructor(
    secure: boolean,
    readonly timeoutMs: number,
  ) {
    this.#request = secure ? httpsRequest : httpRequest;
  }

  post(url: URL, headers: Record<string, string>, body: unknown, signal: AbortSignal): Promise<IncomingMessage> {
    if (signal.aborted) return Promise.reject(stopped(signal));
    const payload = JSON.stringify(body);
    return new Promise((resolve, reject) => {
      const request = this.#request(url, {
        method: 'POST',
        headers: { ...headers, accept: 'application/json', 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) },
      });
      let response: IncomingMessage | undefined;
      const abort = () => (response ?? request).destroy(stopped(signal));
      signal.addEventListener('abort', abort, { once: true });
      const timer = setTimeout(() => request.destroy(unreachable('Request timed out.')), this.timeoutMs);
      request.on('response', (answer) => {
        clearTimeout(timer);
        response = answer;
        answer.on('close', () => signal.removeEventListener('abort', abort));
        // A reader sees the errors; this one keeps an error nobody reads any more (a connection
        // reset while draining after `[DONE]`) from being an uncaught exception.
        answer.on('error', () => undefined);
        answer.setEncoding('utf8');
        resolve(answer);
      });
      // Errors after the response arrived surface where its body is read.
      request.on('error', (error) => {
        clearTimeout(timer);
        signal.removeEventListener('abort', abort);
        reject(signal.aborted ? stopped(signal) : error instanceof ModelError ? error : unreachable('Connection error.'));
      });
      request.end(payload);
    });
  }
}

async function* chunksOf(response: IncomingMessage, signal: AbortSignal): AsyncIterable<string> {
  try {
    // Kept on an early return, so that the caller decides between draining and dropping the socket.
    for await (const chunk of response.iterator({ destroyOnReturn: false })) yield chunk as string;
  } catch {
    throw signal.aborted ? stopped(signal) : connectionLost();
  }
}

export async function textOf(response: IncomingMessage, signal: AbortSignal): Promise<string> {
  let text = '';
  for await (const chunk of chunksOf(response, signal)) text += chunk;
  return text;
}

/**
 * The server-sent events of a response up to `data: [DONE]` or its end. A connection lost on the
 * way is a retryable `ModelError`; a consumer that stops early drops the connection, and one that
 * reads to the end leaves it to the next call.
 */
export async function* serverSentEvents(response: IncomingMessage, signal: AbortSignal): AsyncIterable<EventSourceMessage> {
  const parsed: EventSourceMessage[] = [];
  const parser = createParser({ onEvent: (event) => parsed.push(event) });
  let finished = false;
  try {
    for await (const chunk of chunksOf(response, signal)) {
      if (finished) continue;
      parser.feed(chunk);
      for (const event of parsed.splice(0)) {
        finished ||= event.data === '[DONE]';
        if (!finished) yield event;
      }
      // The connection goes back to the pool at the response's end: read on when it is already here.
      if (finished && !response.complete) return;
    }
    finished = true;
  } finally {
    if (finished) response.resume();
    else response.destroy();
  }
}
