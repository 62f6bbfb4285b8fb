import type { FastifyReply } from 'fastify';
import { endsStream, type EventBus, type StreamEvent } from '../events.js';
import type { RunStep } from '../spec/wire.js';
import { withoutResultContent } from '../tools/file-search/tool.js';

function isDelta(event: string): boolean {
  return event === 'thread.message.delta' || event === 'thread.run.step.delta';
}

function frame(event: string, data: string): string {
  return `event: ${event}\ndata: ${data}\n\n`;
}

/**
 * Answers requests with a run's events as server-sent events. A stream subscribes before `start`
 * runs, so it holds every event from the first; `start` failing (a bad request) still answers with
 * a plain JSON error, since nothing has been written yet. The stream ends with `done` after the run
 * pauses for tool outputs or ends. A client that goes away only unsubscribes: the run goes on.
 */
export class RunEventStreams {
  constructor(
    readonly bus: EventBus,
    /** Comment lines while a model is slow to answer, so that proxies keep the connection open. */
    readonly keepaliveMs: number,
  ) {}

  async answer(reply: FastifyReply, runId: string, start: () => Promise<unknown>, includeResultContent = false): Promise<void> {
    const pending: StreamEvent[] = [];
    let write: ((event: StreamEvent) => void) | undefined;
    const unsubscribe = this.bus.subscribe(runId, (event) => (write ? write(event) : pending.push(event)));
    try {
      await start();
    } catch (error) {
      unsubscribe();
      throw error;
    }
    const raw = reply.raw;
    reply.hijack();
    raw.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache',
      connection: 'keep-alive',
      'x-request-id': String(reply.request.id),
    });
    const keepalive = setInterval(() => raw.write(': keepalive\n\n'), this.keepaliveMs);
    let ended = false;
    const stop = () => {
      ended = true;
      clearInterval(keepalive);
      unsubscribe();
    };
    // Events come in bursts (a run's creation, a step closing and the next opening): the frames of
    // one turn of the event loop go out in one socket write. The first delta is what the reader
    // waits for, so it goes out at once, with the frames before it, rather than after the rest of
    // its turn (which, when the model's whole answer came in one read, is the run's last commit).
    let unsent = '';
    let firstDeltaSent = false;
    const flush = () => {
      if (!ended && unsent) raw.write(unsent);
      unsent = '';
    };
    write = (event) => {
      if (ended) return;
      const stepObject = event.event.startsWith('thread.run.step.') && event.event !== 'thread.run.step.delta';
      const data = stepObject && !includeResultContent ? withoutResultContent(event.data as RunStep) : event.data;
      if (!unsent) setImmediate(flush);
      unsent += frame(event.event, JSON.stringify(data));
      if (!firstDeltaSent && isDelta(event.event)) {
        firstDeltaSent = true;
        flush();
      } else if (endsStream(event.event)) {
        stop();
        raw.end(unsent + frame('done', '[DONE]'));
        unsent = '';
      }
    };
    raw.on('close', stop);
    for (const event of pending.splice(0)) write(event);
  }
}
