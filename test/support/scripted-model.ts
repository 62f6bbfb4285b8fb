import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

export interface ScriptedToolCall {
  name: string;
  arguments: string;
}

/**
 * How a server streams tool calls, as real ones do: `standard` (OpenAI: the id and name first, then
 * argument fragments, by index), `index-zero` (Ollama: every call whole, all at index 0, distinct
 * ids), `no-index` (an id and name first, then fragments with neither id nor index),
 * `repeated-name` (the name again in every fragment), `id-per-piece` (a fresh id on every fragment).
 */
export type ToolCallHabit = 'standard' | 'index-zero' | 'no-index' | 'repeated-name' | 'id-per-piece';

/** One scripted answer to one chat-completions request. */
export type ScriptedReply =
  | {
      /** Text, streamed in these pieces (or one piece). */
      text?: string | string[];
      toolCalls?: ScriptedToolCall[];
      toolCallHabit?: ToolCallHabit;
      /** The calls' ids (default `call_scripted_<n>`); null: the server gives none. */
      toolCallIds?: string[] | null;
      /** Text streamed after the tool calls, in the same answer. */
      textAfterToolCalls?: string;
      /** Answer a streaming request with one plain JSON `chat.completion`, as some servers do. */
      json?: boolean;
      finishReason?: 'stop' | 'length' | 'tool_calls' | 'content_filter';
      /** null: the server reports no usage, as some local servers do. */
      usage?: { prompt_tokens: number; completion_tokens: number } | null;
      /** Wait before answering, and between streamed pieces. */
      delayMs?: number;
      chunkDelayMs?: number;
      /** Cut the connection after this many text pieces, as a crashing server does. */
      dropAfterPieces?: number;
    }
  | { status: number; message?: string }
  /** Accepts the request and never answers until the client goes away. */
  | { hang: true };

export interface RecordedRequest {
  /** Path and query, e.g. Azure's `/openai/deployments/{deployment}/chat/completions?api-version=`. */
  url: string;
  body: {
    model: string;
    messages: { role: string; content: unknown; tool_calls?: unknown; tool_call_id?: string }[];
    stream?: boolean;
    tools?: unknown[];
    tool_choice?: unknown;
    max_tokens?: number;
    temperature?: number;
    response_format?: unknown;
    [key: string]: unknown;
  };
  headers: IncomingMessage['headers'];
}

const DEFAULT_USAGE = { prompt_tokens: 11, completion_tokens: 7 };

type TextReply = Extract<ScriptedReply, { text?: unknown }>;

function idOf(reply: TextReply, index: number): { id?: string } {
  if (reply.toolCallIds === null) return {};
  return { id: reply.toolCallIds?.[index] ?? `call_scripted_${index}` };
}

/** The streamed pieces of one tool call, in the reply's habit. */
function toolCallPieces(reply: TextReply, index: number, call: ScriptedToolCall): object[] {
  const habit = reply.toolCallHabit ?? 'standard';
  const id = idOf(reply, index);
  if (habit === 'index-zero') return [{ index: 0, ...id, type: 'function', function: call }];
  // Arguments arrive in two fragments, as real servers split them.
  const half = Math.ceil(call.arguments.length / 2);
  const fragments = [call.arguments.slice(0, half), call.arguments.slice(half)].filter((fragment) => fragment !== '');
  if (habit === 'no-index') return [{ ...id, type: 'function', function: { name: call.name, arguments: '' } }, ...fragments.map((fragment) => ({ function: { arguments: fragment } }))];
  if (habit === 'repeated-name') return fragments.map((fragment) => ({ index, ...id, type: 'function', function: { name: call.name, arguments: fragment } }));
  if (habit === 'id-per-piece') {
    return [{ index, ...id, type: 'function', function: { name: call.name, arguments: '' } }, ...fragments.map((fragment, piece) => ({ index, id: `call_piece_${index}_${piece}`, function: { arguments: fragment } }))];
  }
  return [{ index, ...id, type: 'function', function: { name: call.name, arguments: '' } }, ...fragments.map((fragment) => ({ index, function: { arguments: fragment } }))];
}

/**
 * A model server for tests that speaks the OpenAI chat-completions wire format over real HTTP
 * (streaming and not). Each request takes the next scripted reply; with none left it answers 500,
 * so an unexpected model call fails the test instead of passing silently.
 */
/**
 * A deterministic embedding: words hashed into buckets, normalised. Texts that share words are
 * close, so retrieval tests can predict what ranks first without a real model.
 */
export function bagOfWordsEmbedding(text: string, dimensions = EMBEDDING_DIMENSIONS): number[] {
  const vector = new Array<number>(dimensions).fill(0);
  for (const word of text.toLowerCase().match(/[a-z0-9]+/g) ?? []) {
    let hash = 0;
    for (const char of word) hash = (hash * 31 + char.charCodeAt(0)) >>> 0;
    vector[hash % dimensions]! += 1;
  }
  const norm = Math.hypot(...vector) || 1;
  return vector.map((value) => value / norm);
}

export const EMBEDDING_DIMENSIONS = 64;

export class ScriptedModel {
  readonly requests: RecordedRequest[] = [];
  /** Every `/embeddings` request: the model and the texts. */
  readonly embeddingRequests: { model: string; input: string[] }[] = [];
  readonly #replies: ScriptedReply[] = [];
  /** Answer 400 to every request that carries `stream_options`, as older Azure and some local servers do. */
  refuseStreamOptions = false;
  /** While set, embedding requests wait here: ingestion can be caught in progress. */
  #heldEmbeddings: (() => void)[] | undefined;
  readonly #server: Server;
  // Ends the scripted pauses when the server closes, so a test process never waits on them.
  readonly #closing = new AbortController();
  #url = '';

  private constructor() {
    this.#server = createServer((request, response) => void this.#handle(request, response));
  }

  static async start(): Promise<ScriptedModel> {
    const model = new ScriptedModel();
    model.#server.listen(0, '127.0.0.1');
    await once(model.#server, 'listening');
    model.#url = `http://127.0.0.1:${(model.#server.address() as AddressInfo).port}/v1`;
    return model;
  }

  /** The base URL to configure as OPENAI_BASE_URL. */
  get url(): string {
    return this.#url;
  }

  get pending(): number {
    return this.#replies.length;
  }

  holdEmbeddings(): void {
    this.#heldEmbeddings ??= [];
  }

  releaseEmbeddings(): void {
    const waiting = this.#heldEmbeddings ?? [];
    this.#heldEmbeddings = undefined;
    for (const release of waiting) release();
  }

  script(...replies: ScriptedReply[]): this {
    this.#replies.push(...replies);
    return this;
  }

  async close(): Promise<void> {
    this.#closing.abort();
    this.releaseEmbeddings();
    this.#server.closeAllConnections();
    this.#server.close();
    await once(this.#server, 'close');
  }

  async #pause(ms: number): Promise<void> {
    await sleep(ms, undefined, { signal: this.#closing.signal }).catch(() => undefined);
  }

  async #handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    let raw = '';
    for await (const chunk of request) raw += chunk;
    const path = new URL(request.url ?? '/', 'http://scripted').pathname;
    if (request.method === 'POST' && path.endsWith('/embeddings')) return this.#embed(JSON.parse(raw), response);
    if (request.method !== 'POST' || !path.endsWith('/chat/completions')) {
      response.writeHead(404).end();
      return;
    }
    const body = JSON.parse(raw) as RecordedRequest['body'];
    this.requests.push({ url: request.url ?? '', body, headers: request.headers });
    if (this.refuseStreamOptions && body.stream_options !== undefined) {
      return this.#error(response, { status: 400, message: 'Unrecognized request argument supplied: stream_options' });
    }
    const reply = this.#replies.shift() ?? { status: 500, message: 'the scripted model has no reply left' };
    if ('hang' in reply) return;
    if ('status' in reply) return this.#error(response, reply);
    if (reply.delayMs) await this.#pause(reply.delayMs);
    if (body.stream && !reply.json) await this.#stream(body, reply, response);
    else this.#complete(body, reply, response);
  }

  #error(response: ServerResponse, reply: { status: number; message?: string }): void {
    response.writeHead(reply.status, { 'content-type': 'application/json' });
    response.end(JSON.stringify({ error: { message: reply.message ?? `scripted ${reply.status}`, type: 'scripted', param: null, code: null } }));
  }

  async #embed(body: { model: string; input: string | string[] }, response: ServerResponse): Promise<void> {
    const input = Array.isArray(body.input) ? body.input : [body.input];
    this.embeddingRequests.push({ model: body.model, input });
    const held = this.#heldEmbeddings;
    if (held) await new Promise<void>((release) => held.push(release));
    if (response.destroyed) return;
    response.writeHead(200, { 'content-type': 'application/json' });
    response.end(JSON.stringify({
      object: 'list',
      model: body.model,
      data: input.map((text, index) => ({ object: 'embedding', index, embedding: bagOfWordsEmbedding(text) })),
      usage: { prompt_tokens: input.length, total_tokens: input.length },
    }));
  }

  #complete(body: RecordedRequest['body'], reply: TextReply, response: ServerResponse): void {
    const text = Array.isArray(reply.text) ? reply.text.join('') : reply.text;
    const toolCalls = reply.toolCalls?.map((call, index) => ({ ...idOf(reply, index), type: 'function', function: call }));
    const usage = reply.usage === undefined ? DEFAULT_USAGE : reply.usage;
    response.writeHead(200, { 'content-type': 'application/json' });
    response.end(JSON.stringify({
      id: 'chatcmpl-scripted',
      object: 'chat.completion',
      created: Math.floor(Date.now() / 1000),
      model: body.model,
      choices: [{ index: 0, message: { role: 'assistant', content: text ?? null, ...(toolCalls && { tool_calls: toolCalls }) }, finish_reason: reply.finishReason ?? (toolCalls ? 'tool_calls' : 'stop') }],
      ...(usage && { usage: { ...usage, total_tokens: usage.prompt_tokens + usage.completion_tokens } }),
    }));
  }

  async #stream(body: RecordedRequest['body'], reply: TextReply, response: ServerResponse): Promise<void> {
    response.writeHead(200, { 'content-type': 'text/event-stream' });
    const base = { id: 'chatcmpl-scripted', object: 'chat.completion.chunk', created: Math.floor(Date.now() / 1000), model: body.model };
    let sent = 0;
    // The pause comes between content pieces, so the first piece arrives at once.
    const send = async (choices: unknown[], extra: object = {}) => {
      if (sent++ > 1 && reply.chunkDelayMs) await this.#pause(reply.chunkDelayMs);
      if (!response.destroyed) response.write(`data: ${JSON.stringify({ ...base, choices, ...extra })}\n\n`);
    };
    const pieces = reply.text === undefined ? [] : Array.isArray(reply.text) ? reply.text : [reply.text];
    await send([{ index: 0, delta: { role: 'assistant', content: '' }, finish_reason: null }]);
    for (const [index, piece] of pieces.entries()) {
      if (index === reply.dropAfterPieces) {
        // Pause first, so the pieces already written reach the client before the connection dies.
        await this.#pause(reply.chunkDelayMs ?? 20);
        response.destroy();
        return;
      }
      await send([{ index: 0, delta: { content: piece }, finish_reason: null }]);
    }
    for (const [index, call] of (reply.toolCalls ?? []).entries()) {
      for (const piece of toolCallPieces(reply, index, call)) await send([{ index: 0, delta: { tool_calls: [piece] }, finish_reason: null }]);
    }
    if (reply.textAfterToolCalls) await send([{ index: 0, delta: { content: reply.textAfterToolCalls }, finish_reason: null }]);
    await send([{ index: 0, delta: {}, finish_reason: reply.finishReason ?? (reply.toolCalls?.length ? 'tool_calls' : 'stop') }]);
    const usage = reply.usage === undefined ? DEFAULT_USAGE : reply.usage;
    const wantsUsage = (body.stream_options as { include_usage?: boolean } | undefined)?.include_usage;
    if (usage && wantsUsage) await send([], { usage: { ...usage, total_tokens: usage.prompt_tokens + usage.completion_tokens } });
    if (!response.destroyed) response.end('data: [DONE]\n\n');
  }
}
