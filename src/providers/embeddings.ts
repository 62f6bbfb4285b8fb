import { setTimeout as sleep } from 'node:timers/promises';
import OpenAI, { APIConnectionError, APIError, APIUserAbortError, AzureOpenAI } from 'openai';
import type { AzureProviderConfig, OpenAIProviderConfig, RetryConfig, StepwiseConfig } from '../config.js';

/** Turns texts into vectors, one per text, in the order given. */
export interface Embedder {
  embed(texts: string[], signal?: AbortSignal): Promise<number[][]>;
}

// OpenAI accepts up to 2048 inputs a request; smaller batches keep each request well under its token cap.
const BATCH_SIZE = 64;

function isRetryable(error: unknown): boolean {
  if (error instanceof APIUserAbortError) return false;
  if (error instanceof APIConnectionError) return true;
  if (error instanceof APIError) return error.status === undefined || error.status === 408 || error.status === 429 || error.status >= 500;
  return false;
}

/** A client of an OpenAI-compatible server, or of Azure OpenAI (deployment paths, `api-key` header). */
function openAIClient(provider: OpenAIProviderConfig | AzureProviderConfig, timeoutMs: number): OpenAI {
  // Retries are ours, so that they wait as chat calls do.
  const options = { apiKey: provider.apiKey, maxRetries: 0, timeout: timeoutMs };
  if (provider.type === 'azure') return new AzureOpenAI({ ...options, endpoint: provider.endpoint, apiVersion: provider.apiVersion });
  return new OpenAI({ ...options, baseURL: provider.baseURL });
}

/** `/embeddings` of any OpenAI-compatible server (or Azure deployment), with the same backoff as chat calls (retry.ts). */
export class OpenAICompatibleEmbedder implements Embedder {
  readonly #client: OpenAI;

  constructor(
    provider: OpenAIProviderConfig | AzureProviderConfig,
    readonly model: string,
    readonly retry: RetryConfig,
  ) {
    this.#client = openAIClient(provider, retry.requestTimeoutMs);
  }

  async embed(texts: string[], signal?: AbortSignal): Promise<number[][]> {
    const vectors: number[][] = [];
    for (let start = 0; start < texts.length; start += BATCH_SIZE) {
      vectors.push(...(await this.#embedBatch(texts.slice(start, start + BATCH_SIZE), signal)));
    }
    return vectors;
  }

  async #embedBatch(input: string[], signal: AbortSignal | undefined): Promise<number[][]> {
    for (let attempt = 0; ; attempt++) {
      try {
        const response = await this.#client.embeddings.create({ model: this.model, input, encoding_format: 'float' }, { signal });
        if (response.data.length !== input.length) {
          throw new Error(`the embedding server returned ${response.data.length} vectors for ${input.length} texts`);
        }
        return [...response.data].sort((a, b) => a.index - b.index).map((item) => item.embedding);
      } catch (error) {
        if (!isRetryable(error) || attempt >= this.retry.maxRetries) throw error;
        const backoff = Math.min(this.retry.maxDelayMs, this.retry.initialDelayMs * 2 ** attempt);
        await sleep(backoff / 2 + Math.random() * (backoff / 2), undefined, { signal });
      }
    }
  }
}

/** The configured embedding model on the default provider; undefined when none is set (keyword-only search). */
export function createEmbedder(config: StepwiseConfig): Embedder | undefined {
  if (!config.embeddingModel) return undefined;
  const provider = config.providers[config.defaultProvider];
  if (!provider) throw new Error(`defaultProvider "${config.defaultProvider}" is not a configured provider`);
  if (provider.type === 'anthropic') throw new Error(`STEPWISE_EMBEDDING_MODEL needs an OpenAI-compatible default provider; "${config.defaultProvider}" speaks Anthropic's Messages API, which has no embeddings`);
  return new OpenAICompatibleEmbedder(provider, config.embeddingModel, config.retry);
}
