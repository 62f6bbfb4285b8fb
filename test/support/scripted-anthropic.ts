import { once } from 'node:events';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One scripted answer to one Messages API request, streamed as Anthropic streams it. */
export type ScriptedAnthropicReply =
  | {
      /** Text, streamed in these pieces; it is the answer's first content block. */
      text?: string[];
      toolUses?: { name: string; input: Record<string, unknown> }[];
      /** Default: tool_use when there are tool uses, else end_turn. */
      stopReason?: 'end_turn' | 'tool_use' | 'max_tokens';
      usage?: { input_tokens: number; output_tokens: number };
    }
  | { status: number; type: string; message: string };

export interface RecordedAnthropicRequest {
  body: {
    model: string;
    max_tokens: number;
    system?: string;
    messages: { role: 'user' | 'assistant'; content: string | Record<string, unknown>[] }[];
    tools?: { name: string; description?: string; input_schema: unknown }[];
    tool_choice?: Record<string, unknown>;
    stream?: boolean;
    [key: string]: unknown;
  };
  headers: IncomingMessage['headers'];
}

const DEFAULT_USAGE = { input_tokens: 21, output_tokens: 9 };

/**
 * A model server for tests that speaks Anthropic's Messages API over real HTTP (`POST /v1/messages`,
 * streamed as named SSE events). Each request takes the next scripted reply; with none left it
 * answers 500.
 */
export class ScriptedAnthropic {
  readonly requests: RecordedAnthropicRequest[] = [];
  readonly #replies: ScriptedAnthropicReply[] = [];
  readonly #server = createServer((request, response) => void this.#handle(request, response));
  #url = '';

  static async start(): Promise<ScriptedAnthropic> {
    const model = new ScriptedAnthropic();
    model.#server.listen(0, '127.0.0.1');
    await once(model.#server, 'listening');
    model.#url = `http://127.0.0.1:${(model.#server.address() as AddressInfo).port}`;
    return model;
  }

  /** The base URL to configure as the provider's `baseURL` (the SDK adds `/v1/messages`). */
  get url(): string {
    return this.#url;
  }

  script(...replies: ScriptedAnthropicReply[]): this {
    this.#replies.push(...replies);
    return this;
  }

  async close(): Promise<void> {
    this.#server.closeAllConnections();
    this.#server.close();
    await once(this.#server, 'close');
  }

  async #handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    let raw = '';
    for await (const chunk of request) raw += chunk;
    if (request.method !== 'POST' || new URL(request.url ?? '/', 'http://scripted').pathname !== '/v1/messages') {
      response.writeHead(404).end();
      return;
    }
    const body = JSON.parse(raw) as RecordedAnthropicRequest['body'];
    this.requests.push({ body, headers: request.headers });
    const reply = this.#replies.shift() ?? { status: 500, type: 'api_error', message: 'the scripted model has no reply left' };
    if ('status' in reply) {
      response.writeHead(reply.status, { 'content-type': 'application/json' });
      response.end(JSON.stringify({ type: 'error', error: { type: reply.type, message: reply.message } }));
      return;
    }
    response.writeHead(200, { 'content-type': 'text/event-stream' });
    const send = (event: string, data: object) => response.write(`event: ${event}\ndata: ${JSON.stringify({ type: event, ...data })}\n\n`);
    const usage = reply.usage ?? DEFAULT_USAGE;
    send('message_start', {
      message: { id: 'msg_scripted', type: 'message', role: 'assistant', model: body.model, content: [], stop_reason: null, stop_sequence: null, usage: { input_tokens: usage.input_tokens, output_tokens: 1 } },
    });
    send('ping', {});
    let index = 0;
    if (reply.text) {
      send('content_block_start', { index, content_block: { type: 'text', text: '' } });
      for (const piece of reply.text) send('content_block_delta', { index, delta: { type: 'text_delta', text: piece } });
      send('content_block_stop', { index: index++ });
    }
    for (const [position, toolUse] of (reply.toolUses ?? []).entries()) {
      send('content_block_start', { index, content_block: { type: 'tool_use', id: `toolu_scripted_${position}`, name: toolUse.name, input: {} } });
      // The input arrives as JSON in fragments, as Anthropic splits it.
      const json = JSON.stringify(toolUse.input);
      const half = Math.ceil(json.length / 2);
      for (const fragment of [json.slice(0, half), json.slice(half)]) send('content_block_delta', { index, delta: { type: 'input_json_delta', partial_json: fragment } });
      send('content_block_stop', { index: index++ });
    }
    const stopReason = reply.stopReason ?? (reply.toolUses?.length ? 'tool_use' : 'end_turn');
    send('message_delta', { delta: { stop_reason: stopReason, stop_sequence: null }, usage: { output_tokens: usage.output_tokens } });
    send('message_stop', {});
    response.end();
  }
}
