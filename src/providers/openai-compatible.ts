import type { IncomingMessage } from 'node:http';
import type { EventSourceMessage } from 'eventsource-parser';
import type { ChatCompletion, ChatCompletionChunk } from 'openai/resources/chat/completions';
import type { AzureProviderConfig, OpenAIProviderConfig } from '../config.js';
import { type ChatModel, type ChatRequest, modelErrorFor, type ModelEvent, type TokenUsage } from './chat-model.js';
import { ModelHttpClient, serverSentEvents, textOf } from './model-http.js';
import { ToolCallAssembler } from './tool-call-assembler.js';

/** A server's error in the words OpenAI's SDK gave it ("429 Rate limit reached..."), as run errors have always carried it. */
function errorMessage(status: number | undefined, error: unknown, fallback?: string): string {
  const detail = (error as { message?: unknown } | undefined)?.message;
  const text = detail ? (typeof detail === 'string' ? detail : JSON.stringify(detail)) : error ? JSON.stringify(error) : fallback;
  if (status && text) return `${status} ${text}`;
  if (status) return `${status} status code (no body)`;
  return text || '(no status code or body)';
}

function parsedOrUndefined(text: string): { error?: unknown } | undefined {
  try {
    return JSON.parse(text) as { error?: unknown };
  } catch {
    return undefined;
  }
}

async function statusErrorMessage(response: IncomingMessage, signal: AbortSignal): Promise<string> {
  const text = await textOf(response, signal).catch(() => '');
  const json = parsedOrUndefined(text);
  return errorMessage(response.statusCode, json?.error, json ? undefined : text);
}

/** Where one provider takes chat completions, and the header its key goes in. */
interface Endpoint {
  secure: boolean;
  url(model: string): URL;
  headers: Record<string, string>;
}

function withPath(base: string, path: string): URL {
  const url = new URL(base);
  url.pathname = url.pathname.replace(/\/+$/, '') + path;
  return url;
}

function endpointOf(provider: OpenAIProviderConfig | AzureProviderConfig): Endpoint {
  if (provider.type === 'openai') {
    const url = withPath(provider.baseURL, '/chat/completions');
    return { secure: url.protocol === 'https:', url: () => url, headers: { authorization: `Bearer ${provider.apiKey}` } };
  }
  return {
    secure: new URL(provider.endpoint).protocol === 'https:',
    url: (deployment) => {
      const url = withPath(provider.endpoint, `/openai/deployments/${encodeURIComponent(deployment)}/chat/completions`);
      url.searchParams.set('api-version', provider.apiVersion);
      return url;
    },
    headers: { 'api-key': provider.apiKey },
  };
}

function usageOf(usage: { prompt_tokens: number; completion_tokens: number } | null | undefined): TokenUsage | null {
  return usage ? { prompt_tokens: usage.prompt_tokens, completion_tokens: usage.completion_tokens } : null;
}

/** Some servers answer a streaming request with one plain `chat.completion`: it is the whole answer. */
function* completionEvents(completion: ChatCompletion): Iterable<ModelEvent> {
  const choice = completion.choices[0];
  if (choice?.message.content) yield { type: 'text-delta', text: choice.message.content };
  const calls = new ToolCallAssembler();
  for (const [index, call] of (choice?.message.tool_calls ?? []).entries()) {
    if (call.type === 'function') yield calls.accept({ index, id: call.id, name: call.function.name, arguments: call.function.arguments });
  }
  yield { type: 'finish', finishReason: choice?.finish_reason ?? null, usage: usageOf(completion.usage) };
}

/** The chunks of a stream; an error the server reports inside it is a retryable server error. */
async function* chunksOf(events: AsyncIterable<EventSourceMessage>): AsyncIterable<ChatCompletionChunk> {
  for await (const event of events) {
    let data: (ChatCompletionChunk & { error?: unknown }) | undefined;
    try {
      data = JSON.parse(event.data) as ChatCompletionChunk & { error?: unknown };
    } catch {
      throw new SyntaxError('Error reading response: malformed server-sent event JSON.');
    }
    if (event.event === 'error') throw modelErrorFor(undefined, errorMessage(undefined, data?.error ?? data));
    if (data?.error) throw modelErrorFor(undefined, errorMessage(undefined, data.error));
    yield data;
  }
}

async function* chunkEvents(chunks: AsyncIterable<ChatCompletionChunk>): AsyncIterable<ModelEvent> {
  const calls = new ToolCallAssembler();
  let finishReason: string | null = null;
  let usage: TokenUsage | null = null;
  for await (const chunk of chunks) {
    usage = usageOf(chunk.usage) ?? usage;
    const choice = chunk.choices?.[0];
    if (!choice) continue;
    if (choice.delta.content) yield { type: 'text-delta', text: choice.delta.content };
    for (const call of choice.delta.tool_calls ?? []) {
      yield calls.accept({ index: call.index ?? undefined, id: call.id, name: call.function?.name, arguments: call.function?.arguments });
    }
    if (choice.finish_reason) finishReason = choice.finish_reason;
  }
  yield { type: 'finish', finishReason, usage };
}

/** Whether the server takes `stream_options` (older Azure API versions and some local servers refuse it). */
type StreamOptionsSupport = 'unknown' | 'accepted' | 'refused';

/** Any server that speaks OpenAI's streaming chat completions: OpenAI, Azure, vLLM, Ollama, llama.cpp... */
export class OpenAICompatibleModel implements ChatModel {
  #streamOptions: StreamOptionsSupport = 'unknown';
  readonly #endpoint: Endpoint;
  readonly #http: ModelHttpClient;

  constructor(provider: OpenAIProviderConfig | AzureProviderConfig, timeoutMs: number) {
    this.#endpoint = endpointOf(provider);
    this.#http = new ModelHttpClient(this.#endpoint.secure, timeoutMs);
  }

  async *stream(request: ChatRequest, signal: AbortSignal): AsyncIterable<ModelEvent> {
    yield* await this.#call(request, signal);
  }

  async #call(request: ChatRequest, signal: AbortSignal): Promise<AsyncIterable<ModelEvent> | Iterable<ModelEvent>> {
    const withOptions = this.#streamOptions !== 'refused';
    const body = { ...request, stream: true, ...(withOptions && { stream_options: { include_usage: true } }) };
    const response = await this.#http.post(this.#endpoint.url(request.model), this.#endpoint.headers, body, signal);
    const status = response.statusCode ?? 0;
    if (status < 200 || status >= 300) {
      const message = await statusErrorMessage(response, signal);
      const refusesOptions = withOptions && this.#streamOptions === 'unknown' && /stream_options/i.test(message);
      if (!refusesOptions) throw modelErrorFor(status, message);
      this.#streamOptions = 'refused';
      return this.#call(request, signal);
    }
    if (withOptions) this.#streamOptions = 'accepted';
    if (response.headers['content-type']?.includes('application/json')) return completionEvents(JSON.parse(await textOf(response, signal)) as ChatCompletion);
    return chunkEvents(chunksOf(serverSentEvents(response, signal)));
  }
}
