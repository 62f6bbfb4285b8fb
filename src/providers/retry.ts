import { setTimeout as sleep } from 'node:timers/promises';
import type { RetryConfig } from '../config.js';
import { type ChatModel, type ChatRequest, ModelError, type ModelEvent } from './chat-model.js';

/**
 * Retries a model call with exponential backoff and jitter on retryable errors (429, 5xx,
 * timeouts, connection failures), but only while nothing has been streamed yet: once output has
 * reached the client, replaying it would duplicate text.
 */
export class RetryingModel implements ChatModel {
  constructor(
    readonly inner: ChatModel,
    readonly retry: RetryConfig,
  ) {}

  async *stream(request: ChatRequest, signal: AbortSignal): AsyncIterable<ModelEvent> {
    for (let attempt = 0; ; attempt++) {
      let yielded = false;
      try {
        for await (const event of this.inner.stream(request, signal)) {
          yielded = true;
          yield event;
        }
        return;
      } catch (error) {
        if (!(error instanceof ModelError) || !error.retryable || yielded || attempt >= this.retry.maxRetries) throw error;
        const backoff = Math.min(this.retry.maxDelayMs, this.retry.initialDelayMs * 2 ** attempt);
        await sleep(backoff / 2 + Math.random() * (backoff / 2), undefined, { signal });
      }
    }
  }
}
