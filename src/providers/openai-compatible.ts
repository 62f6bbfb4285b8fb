import OpenAI, { APIConnectionError, APIError, APIUserAbortError } from 'openai';
import type { ProviderConfig } from '../config.js';
import { type ChatModel, type ChatRequest, ModelError, type ModelEvent } from './chat-model.js';

function classify(error: unknown): unknown {
  if (error instanceof APIUserAbortError) return error;
  if (error instanceof APIConnectionError) return new ModelError('server', `Could not reach the model server: ${error.message}`, true);
  if (error instanceof APIError) {
    const detail = `The model server answered ${error.status ?? 'with an error'}: ${error.message}`;
    if (error.status === 429) return new ModelError('rate_limit', detail, true);
    if (error.status === undefined || error.status >= 500 || error.status === 408) return new ModelError('server', detail, true);
    if (error.status === 400 || error.status === 422) return new ModelError('invalid_prompt', detail, false);
    return new ModelError('server', detail, false);
  }
  return error;
}

/** Any server that speaks OpenAI's streaming chat completions: OpenAI, Azure, vLLM, Ollama, llama.cpp... */
export class OpenAICompatibleModel implements ChatModel {
  readonly #client: OpenAI;

  constructor(provider: ProviderConfig, timeoutMs: number) {
    // Retries are ours (see retry.ts), so that they are classified and never replay streamed output.
    this.#client = new OpenAI({ baseURL: provider.baseURL, apiKey: provider.apiKey, maxRetries: 0, timeout: timeoutMs });
  }

  async *stream(request: ChatRequest, signal: AbortSignal): AsyncIterable<ModelEvent> {
    try {
      const stream = await this.#client.chat.completions.create(
        { ...request, stream: true, stream_options: { include_usage: true } },
        { signal },
      );
      let finishReason: string | null = null;
      let usage: { prompt_tokens: number; completion_tokens: number } | null = null;
      for await (const chunk of stream) {
        if (chunk.usage) usage = { prompt_tokens: chunk.usage.prompt_tokens, completion_tokens: chunk.usage.completion_tokens };
        const choice = chunk.choices[0];
        if (!choice) continue;
        if (choice.delta.content) yield { type: 'text-delta', text: choice.delta.content };
        for (const call of choice.delta.tool_calls ?? []) {
          yield {
            type: 'tool-call-delta',
            index: call.index,
            ...(call.function?.name && { name: call.function.name }),
            ...(call.function?.arguments && { argumentsDelta: call.function.arguments }),
          };
        }
        if (choice.finish_reason) finishReason = choice.finish_reason;
      }
      yield { type: 'finish', finishReason, usage };
    } catch (error) {
      throw classify(error);
    }
  }
}
