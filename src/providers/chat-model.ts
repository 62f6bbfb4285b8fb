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

/** What a model stream yields, provider-neutral. */
export type ModelEvent =
  | { type: 'text-delta'; text: string }
  | { type: 'tool-call-delta'; index: number; name?: string; argumentsDelta?: string }
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
