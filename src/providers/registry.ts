import type { ProviderConfig, StepwiseConfig } from '../config.js';
import { AnthropicModel } from './anthropic.js';
import type { ChatModel } from './chat-model.js';
import { OpenAICompatibleModel } from './openai-compatible.js';
import { RetryingModel } from './retry.js';

/** What a model can take, from the config's capability fields or, for reasoning, its name. */
export interface ModelCapabilities {
  reasoning: boolean;
  tools: boolean;
  parallelToolCalls: boolean;
}

export interface ResolvedModel {
  model: ChatModel;
  /** The model id sent upstream, after the config's renaming (on Azure, the deployment). */
  upstreamName: string;
  contextWindow: number;
  capabilities: ModelCapabilities;
}

// OpenAI's reasoning models: o1, o3, o4-mini..., and the gpt-5 family (gpt-5-chat is not one).
const REASONING_MODEL_NAME = /^(o\d+(-|$)|gpt-5(?!-chat))/;

function isReasoningModelName(name: string): boolean {
  return REASONING_MODEL_NAME.test(name.slice(name.lastIndexOf('/') + 1));
}

function chatModelFor(provider: ProviderConfig, timeoutMs: number): ChatModel {
  if (provider.type === 'anthropic') return new AnthropicModel(provider, timeoutMs);
  return new OpenAICompatibleModel(provider, timeoutMs);
}

/** Maps the `model` of an assistant or run to a provider, as the config file says; else the default provider. */
export class ModelRegistry {
  readonly #clients = new Map<string, ChatModel>();

  constructor(readonly config: StepwiseConfig) {}

  resolve(modelName: string): ResolvedModel {
    const route = this.config.models[modelName] ?? {};
    const providerName = route.provider ?? this.config.defaultProvider;
    const provider = this.config.providers[providerName];
    if (!provider) throw new Error(`model ${modelName} routes to unknown provider ${providerName}`);
    let model = this.#clients.get(providerName);
    if (!model) {
      model = new RetryingModel(chatModelFor(provider, this.config.retry.requestTimeoutMs), this.config.retry);
      this.#clients.set(providerName, model);
    }
    const upstreamModel = route.model ?? modelName;
    return {
      model,
      upstreamName: provider.type === 'azure' ? (route.deployment ?? upstreamModel) : upstreamModel,
      contextWindow: route.contextWindow ?? this.config.defaultContextWindow,
      capabilities: {
        reasoning: route.reasoning ?? isReasoningModelName(upstreamModel),
        tools: route.tools ?? true,
        parallelToolCalls: route.parallelToolCalls ?? true,
      },
    };
  }
}
