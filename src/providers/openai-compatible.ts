import OpenAI, { APIConnectionError, APIError, APIUserAbortError, AzureOpenAI } from 'openai';
import type { ChatCompletion, ChatCompletionChunk } from 'openai/resources/chat/completions';
import { Stream } from 'openai/streaming';
import type { AzureProviderConfig, OpenAIProviderConfig } from '../config.js';
import { type ChatModel, type ChatRequest, modelErrorFor, ModelError, type ModelEvent, type TokenUsage } from './chat-model.js';
import { ToolCallAssembler } from './tool-call-assembler.js';

function classify(error: unknown): unknown {
  if (error instanceof APIUserAbortError) return error;
  if (error instanceof APIConnectionError) return new ModelError('server', `Could not reach the model server: ${error.message}`, true);
  if (error instanceof APIError) return modelErrorFor(error.status, error.message);
  return error;
}

/** A client of an OpenAI-compatible server, or of Azure OpenAI (deployment paths, `api-key` header). */
export function openAIClient(provider: OpenAIProviderConfig | AzureProviderConfig, timeoutMs: number): OpenAI {
  // Retries are ours (see retry.ts), so that they are classified and never replay streamed output.
  const options = { apiKey: provider.apiKey, maxRetries: 0, timeout: timeoutMs };
  if (provider.type === 'azure') return new AzureOpenAI({ ...options, endpoint: provider.endpoint, apiVersion: provider.apiVersion });
  return new OpenAI({ ...options, baseURL: provider.baseURL });
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

async function* chunkEvents(chunks: AsyncIterable<ChatCompletionChunk>): AsyncIterable<ModelEvent> {
  const calls = new ToolCallAssembler();
  let finishReason: string | null = null;
  let usage: TokenUsage | null = null;
  for await (const chunk of chunks) {
    usage = usageOf(chunk.usage) ?? usage;
    const choice = chunk.choices[0];
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

  constructor(readonly client: OpenAI) {}

  async *stream(request: ChatRequest, signal: AbortSignal): AsyncIterable<ModelEvent> {
    try {
      yield* await this.#call(request, signal);
    } catch (error) {
      throw classify(error);
    }
  }

  async #call(request: ChatRequest, signal: AbortSignal): Promise<AsyncIterable<ModelEvent> | Iterable<ModelEvent>> {
    const withOptions = this.#streamOptions !== 'refused';
    let response: Response;
    try {
      response = await this.client.chat.completions
        .create({ ...request, stream: true, ...(withOptions && { stream_options: { include_usage: true } }) }, { signal })
        .asResponse();
    } catch (error) {
      const refusesOptions = withOptions && this.#streamOptions === 'unknown' && error instanceof APIError && /stream_options/i.test(error.message);
      if (!refusesOptions) throw error;
      this.#streamOptions = 'refused';
      return this.#call(request, signal);
    }
    if (withOptions) this.#streamOptions = 'accepted';
    if (response.headers.get('content-type')?.includes('application/json')) return completionEvents((await response.json()) as ChatCompletion);
    return chunkEvents(Stream.fromSSEResponse<ChatCompletionChunk>(response, new AbortController()));
  }
}
