import type { StepwiseConfig } from '../config.js';
import type { ChatModel } from './chat-model.js';
import { OpenAICompatibleModel } from './openai-compatible.js';
import { RetryingModel } from './retry.js';

export interface ResolvedModel {
  model: ChatModel;
  /** The model id sent upstream, after the config's renaming. */
  upstreamName: string;
  contextWindow: number;
}

/** Maps the `model` of an assistant or run to a provider, as the config file says; else the default provider. */
export class ModelRegistry {
  readonly #clients = new Map<string, ChatModel>();

  constructor(readonly config: StepwiseConfig) {}

  resolve(modelName: string): ResolvedModel {
    const route = this.config.models[modelName] ?? {};
    const providerName = route.provider ?? this.config.defaultProvider;
    let model = this.#clients.get(providerName);
    if (!model) {
      const provider = this.config.providers[providerName];
      if (!provider) throw new Error(`model ${modelName} routes to unknown provider ${providerName}`);
      model = new RetryingModel(new OpenAICompatibleModel(provider, this.config.retry.requestTimeoutMs), this.config.retry);
      this.#clients.set(providerName, model);
    }
    return { model, upstreamName: route.model ?? modelName, contextWindow: route.contextWindow ?? this.config.defaultContextWindow };
  }
}
