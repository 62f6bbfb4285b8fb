import type {
  ChatCompletionCreateParamsStreaming,
  ChatCompletionMessageParam,
} from 'openai/resources/chat/completions';

/** The request a run sends to a model, in the chat-completions vocabulary every provider speaks. */
export type ChatRequest = Omit<ChatCompletionCreateParamsStreaming, 'stream' | 'stream_options'>;
export type ChatMessage = ChatCompletionMessageParam;

export interface TokenUsage {
  prompt_tokens: number;
  completion_tokens: number;
}

/**
 * What a model stream yields, provider-neutral. A tool call's `index` is its position in the
 * answer (0, 1, ...), already assembled by the provider; its first event carries the model's own
 * `id` (when the model gave one) and its `name`.
 */
export type ModelEvent =
  | { type: 'text-delta'; text: string }
  | { type: 'tool-call-delta'; index: number; id?: string; name?: string; argumentsDelta?: string }
  /** `finishReason` in the chat-completions vocabulary: stop, length, tool_calls, content_filter. */
  | { type: 'finish'; finishReason: string | null; usage: TokenUsage | null };

export interface ChatModel {
  stream(request: ChatRequest, signal: AbortSignal): AsyncIterable<ModelEvent>;
}

export type ModelErrorKind = 'rate_limit' | 'server' | 'invalid_prompt';

/** A failed model call, classified the way a run's `last_error.code` needs. */
export class ModelError extends Error {
  constructor(
    readonly kind: ModelErrorKind,
    message: string,
    readonly retryable: boolean,
  ) {
    super(message);
    this.name = 'ModelError';
  }
}

/** An HTTP error of any model server, classified by its status. */
export function modelErrorFor(status: number | undefined, message: string): ModelError {
  const detail = `The model server answered ${status ?? 'with an error'}: ${message}`;
  if (status === 429) return new ModelError('rate_limit', detail, true);
  if (status === undefined || status >= 500 || status === 408) return new ModelError('server', detail, true);
  if (status === 400 || status === 422) return new ModelError('invalid_prompt', detail, false);
  return new ModelError('server', detail, false);
}
