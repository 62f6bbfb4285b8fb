import type { FastifyReply } from 'fastify';
import { endsStream, type EventBus, type StreamEvent } from '../events.js';
import type { RunStep } from '../spec/wire.js';
import { withoutResultContent } from '../tools/file-search/tool.js';

function frame(event: string, data: string): string {
  return `event: ${event}\ndata: ${data}\n\n`;
}

/**
 * Answers with the run's events as server-sent events. It subscribes before `start` runs, so the
 * stream holds every event from the first; `start` failing (a bad request) still answers with a
 * plain JSON error, since nothing has been written yet. The stream ends with `done` after the run
 * pauses for tool outputs or ends. A client that goes away only unsubscribes: the run goes on.
 */
export async function streamRunEvents(
  reply: FastifyReply,
  bus: EventBus,
  runId: string,
  start: () => Promise<unknown>,
  includeResultContent = false,
): Promise<void> {
  const pending: StreamEvent[] = [];
  let write: ((event: StreamEvent) => void) | undefined;
  const unsubscribe = bus.subscribe(runId, (event) => (write ? write(event) : pending.push(event)));
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
  let ended = false;
  const end = () => {
    if (ended) return;
    ended = true;
    unsubscribe();
    raw.end(frame('done', '[DONE]'));
  };
  write = (event) => {
    if (ended) return;
    const stepObject = event.event.startsWith('thread.run.step.') && event.event !== 'thread.run.step.delta';
    const data = stepObject && !includeResultContent ? withoutResultContent(event.data as RunStep) : event.data;
    raw.write(frame(event.event, JSON.stringify(data)));
    if (endsStream(event.event)) end();
  };
  raw.on('close', () => {
    ended = true;
    unsubscribe();
  });
  for (const event of pending.splice(0)) write(event);
}
