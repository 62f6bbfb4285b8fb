import Anthropic, { APIConnectionError, APIError, APIUserAbortError } from '@anthropic-ai/sdk';
import type {
  ContentBlockParam,
  ImageBlockParam,
  MessageCreateParamsStreaming,
  MessageParam,
  RawMessageStreamEvent,
  StopReason,
  Tool,
  ToolChoice,
} from '@anthropic-ai/sdk/resources/messages/messages';
import type { AnthropicProviderConfig } from '../config.js';
import { type ChatMessage, type ChatModel, type ChatRequest, modelErrorFor, ModelError, type ModelEvent } from './chat-model.js';
import { ToolCallAssembler } from './tool-call-assembler.js';

// The Messages API requires max_tokens; this is the ceiling when a run sets none.
const DEFAULT_MAX_TOKENS = 8192;

const FINISH_REASON: Record<StopReason, string> = {
  end_turn: 'stop',
  stop_sequence: 'stop',
  pause_turn: 'stop',
  tool_use: 'tool_calls',
  max_tokens: 'length',
  model_context_window_exceeded: 'length',
  refusal: 'content_filter',
};

const IMAGE_TYPES = new Set(['image/jpeg', 'image/png', 'image/gif', 'image/webp']);

function classify(error: unknown): unknown {
  if (error instanceof APIUserAbortError) return error;
  if (error instanceof APIConnectionError) return new ModelError('server', `Could not reach the model server: ${error.message}`, true);
  // 529 (overloaded) is one of the 5xx the retry wrapper waits out.
  if (error instanceof APIError) return modelErrorFor(error.status, error.message);
  return error;
}

function imageBlock(url: string): ImageBlockParam {
  const data = /^data:([^;,]+);base64,(.*)$/s.exec(url);
  if (data && IMAGE_TYPES.has(data[1]!)) {
    return { type: 'image', source: { type: 'base64', media_type: data[1] as 'image/png', data: data[2]! } };
  }
  return { type: 'image', source: { type: 'url', url } };
}

function textBlocks(text: string): ContentBlockParam[] {
  // The API refuses empty text blocks.
  return text === '' ? [] : [{ type: 'text', text }];
}

/** Text and images; the parts the Messages API has no block for (audio, files, refusals) are left out. */
function partBlocks(content: ChatMessage['content']): ContentBlockParam[] {
  if (content == null) return [];
  if (typeof content === 'string') return textBlocks(content);
  return content.flatMap((part): ContentBlockParam[] => {
    if (part.type === 'image_url') return [imageBlock(part.image_url.url)];
    return part.type === 'text' ? textBlocks(part.text) : [];
  });
}

function parsedArguments(json: string): Record<string, unknown> {
  try {
    const value: unknown = JSON.parse(json);
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

/** One chat message as Messages API content: tool outputs are the user's `tool_result` blocks. */
function turnOf(message: ChatMessage): { role: 'user' | 'assistant'; blocks: ContentBlockParam[] } | undefined {
  switch (message.role) {
    case 'user':
      return { role: 'user', blocks: partBlocks(message.content) };
    case 'assistant': {
      const calls = (message.tool_calls ?? []).flatMap((call): ContentBlockParam[] =>
        call.type === 'function' ? [{ type: 'tool_use', id: call.id, name: call.function.name, input: parsedArguments(call.function.arguments) }] : [],
      );
      return { role: 'assistant', blocks: [...partBlocks(message.content), ...calls] };
    }
    case 'tool':
      return { role: 'user', blocks: [{ type: 'tool_result', tool_use_id: message.tool_call_id, content: typeof message.content === 'string' ? message.content : partBlocks(message.content).filter((block) => block.type === 'text') }] };
    default:
      return undefined;
  }
}

/** The conversation in the Messages API's shape: roles alternate, starting with the user. */
function conversation(messages: ChatMessage[]): MessageParam[] {
  const turns: MessageParam[] = [];
  for (const message of messages) {
    const turn = turnOf(message);
    if (!turn || turn.blocks.length === 0) continue;
    const last = turns.at(-1);
    if (last?.role === turn.role) (last.content as ContentBlockParam[]).push(...turn.blocks);
    else turns.push({ role: turn.role, content: turn.blocks });
  }
  if (turns[0]?.role !== 'user') turns.unshift({ role: 'user', content: [{ type: 'text', text: '(conversation continues)' }] });
  return turns;
}

function systemText(messages: ChatMessage[]): string {
  return messages
    .flatMap((message) => (message.role === 'system' || message.role === 'developer' ? [typeof message.content === 'string' ? message.content : message.content.map((part) => part.text).join('\n')] : []))
    .join('\n\n');
}

function toolsOf(request: ChatRequest): Tool[] {
  return (request.tools ?? []).flatMap((tool): Tool[] =>
    tool.type === 'function'
      ? [{ name: tool.function.name, ...(tool.function.description && { description: tool.function.description }), input_schema: (tool.function.parameters ?? { type: 'object', properties: {} }) as Tool['input_schema'] }]
      : [],
  );
}

function toolChoiceOf(request: ChatRequest): ToolChoice | undefined {
  const choice = request.tool_choice;
  if (choice === undefined) return undefined;
  if (choice === 'none') return { type: 'none' };
  const single = request.parallel_tool_calls === false ? { disable_parallel_tool_use: true } : {};
  if (choice === 'required') return { type: 'any', ...single };
  if (typeof choice === 'object' && choice.type === 'function') return { type: 'tool', name: choice.function.name, ...single };
  return { type: 'auto', ...single };
}

/** A run's chat request as a Messages API request. */
function messagesRequest(request: ChatRequest): MessageCreateParamsStreaming {
  const system = systemText(request.messages);
  const tools = toolsOf(request);
  const toolChoice = tools.length > 0 ? toolChoiceOf(request) : undefined;
  return {
    model: request.model,
    max_tokens: request.max_completion_tokens ?? request.max_tokens ?? DEFAULT_MAX_TOKENS,
    messages: conversation(request.messages),
    stream: true,
    ...(system && { system }),
    ...(request.temperature != null && { temperature: request.temperature }),
    ...(request.top_p != null && { top_p: request.top_p }),
    ...(tools.length > 0 && { tools }),
    ...(toolChoice && { tool_choice: toolChoice }),
  };
}

/** Messages API stream events as model events: text, tool_use blocks as tool calls, stop reason and usage. */
async function* messageEvents(events: AsyncIterable<RawMessageStreamEvent>): AsyncIterable<ModelEvent> {
  const calls = new ToolCallAssembler();
  const toolBlocksWithoutInput = new Set<number>();
  let promptTokens = 0;
  let completionTokens = 0;
  let finishReason: string | null = null;
  for await (const event of events) {
    switch (event.type) {
      case 'message_start': {
        const usage = event.message.usage;
        promptTokens = usage.input_tokens + (usage.cache_creation_input_tokens ?? 0) + (usage.cache_read_input_tokens ?? 0);
        completionTokens = usage.output_tokens;
        break;
      }
      case 'content_block_start':
        if (event.content_block.type === 'text' && event.content_block.text) yield { type: 'text-delta', text: event.content_block.text };
        else if (event.content_block.type === 'tool_use') {
          toolBlocksWithoutInput.add(event.index);
          yield calls.accept({ index: event.index, id: event.content_block.id, name: event.content_block.name });
        }
        break;
      case 'content_block_delta':
        if (event.delta.type === 'text_delta') yield { type: 'text-delta', text: event.delta.text };
        else if (event.delta.type === 'input_json_delta' && event.delta.partial_json) {
          toolBlocksWithoutInput.delete(event.index);
          yield calls.accept({ index: event.index, arguments: event.delta.partial_json });
        }
        break;
      case 'content_block_stop':
        // A call without parameters streams no JSON; its arguments are still an object.
        if (toolBlocksWithoutInput.delete(event.index)) yield calls.accept({ index: event.index, arguments: '{}' });
        break;
      case 'message_delta':
        if (event.delta.stop_reason) finishReason = FINISH_REASON[event.delta.stop_reason] ?? 'stop';
        completionTokens = event.usage.output_tokens;
        if (event.usage.input_tokens != null) promptTokens = Math.max(promptTokens, event.usage.input_tokens);
        break;
      default:
        break;
    }
  }
  yield { type: 'finish', finishReason, usage: { prompt_tokens: promptTokens, completion_tokens: completionTokens } };
}

/** Anthropic's Messages API, natively: system prompt, alternating turns, tool_use and tool_result blocks. */
export class AnthropicModel implements ChatModel {
  readonly #client: Anthropic;

  constructor(provider: AnthropicProviderConfig, timeoutMs: number) {
    // Retries are ours (see retry.ts), so that they are classified and never replay streamed output.
    // The key goes in `x-api-key`, as the Messages API documents it: this SDK would send it as a
    // bearer token, which Anthropic-compatible servers and proxies do not all take.
    this.#client = new Anthropic({ baseURL: provider.baseURL, apiKey: null, authToken: null, defaultHeaders: { 'x-api-key': provider.apiKey }, maxRetries: 0, timeout: timeoutMs });
  }

  async *stream(request: ChatRequest, signal: AbortSignal): AsyncIterable<ModelEvent> {
    try {
      yield* messageEvents(await this.#client.messages.create(messagesRequest(request), { signal }));
    } catch (error) {
      throw classify(error);
    }
  }
}
