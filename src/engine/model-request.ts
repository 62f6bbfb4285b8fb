import { type ChatRequest, ModelError } from '../providers/chat-model.js';
import type { ResolvedModel } from '../providers/registry.js';
import type { CreateRunRequest, Run, ToolChoice } from '../spec/wire.js';
import { CODE_INTERPRETER_FUNCTION, CODE_INTERPRETER_TOOL_NAME } from '../tools/code-interpreter/tool.js';
import { FILE_SEARCH_FUNCTION, FILE_SEARCH_TOOL_NAME } from '../tools/file-search/tool.js';

/**
 * The run's `reasoning_effort` (its own, else its assistant's). The hosted API shows it on runs;
 * the spec's run object does not list it, so it is stored beside the spec's fields.
 */
export type RunWithEffort = Run & { reasoning_effort?: CreateRunRequest['reasoning_effort'] };

// The API's default for both; an upstream server left to its own default may use another.
const DEFAULT_SAMPLING = 1;

/**
 * The hosted API forces a tool (`required`, a named function, a hosted tool) on the first model
 * call of a run only; every later call is `auto`, so a run that obeys can finish.
 */
function toolChoiceFor(choice: ToolChoice, firstCall: boolean): ChatRequest['tool_choice'] {
  if (choice === 'none' || choice === 'auto') return choice;
  if (!firstCall) return 'auto';
  if (choice === 'required') return 'required';
  const name = choice.type === 'function' ? choice.function?.name : choice.type === 'file_search' ? FILE_SEARCH_TOOL_NAME : CODE_INTERPRETER_TOOL_NAME;
  return name ? { type: 'function', function: { name } } : 'required';
}

function sampling(value: number | null | undefined): number | undefined {
  return value != null && value !== DEFAULT_SAMPLING ? value : undefined;
}

export interface ModelRequestInput {
  run: RunWithEffort;
  resolved: ResolvedModel;
  messages: ChatRequest['messages'];
  /** What is left of `max_completion_tokens`, if the run sets it. */
  maxTokens: number | undefined;
  /** No model call of this run has been made before this one. */
  firstCall: boolean;
}

/** A run's next model call in the chat-completions vocabulary, shaped by what the model can take. */
export function modelRequest({ run, resolved, messages, maxTokens, firstCall }: ModelRequestInput): ChatRequest {
  const { reasoning, tools: takesTools, parallelToolCalls } = resolved.capabilities;
  if (!takesTools && run.tools.length > 0) {
    throw new ModelError('invalid_prompt', `The model ${run.model} takes no tools (its config entry says "tools": false), but this run has ${run.tools.length}; remove them from the assistant or the run, or pick another model.`, false);
  }
  const tools = run.tools.flatMap((tool) => {
    if (tool.type === 'function') return [{ type: 'function' as const, function: tool.function }];
    return [tool.type === 'file_search' ? FILE_SEARCH_FUNCTION : CODE_INTERPRETER_FUNCTION];
  });
  const temperature = sampling(run.temperature);
  const topP = sampling(run.top_p);
  const format = run.response_format;
  return {
    model: resolved.upstreamName,
    messages,
    // Reasoning models refuse sampling parameters and max_tokens.
    ...(!reasoning && temperature !== undefined && { temperature }),
    ...(!reasoning && topP !== undefined && { top_p: topP }),
    ...(maxTokens !== undefined && (reasoning ? { max_completion_tokens: maxTokens } : { max_tokens: maxTokens })),
    ...(reasoning && run.reasoning_effort != null && { reasoning_effort: run.reasoning_effort as ChatRequest['reasoning_effort'] }),
    ...(tools.length > 0 && {
      tools,
      ...(parallelToolCalls && { parallel_tool_calls: run.parallel_tool_calls }),
      tool_choice: toolChoiceFor(run.tool_choice, firstCall),
    }),
    ...(typeof format === 'object' && format !== null && format.type !== 'text' && { response_format: format as ChatRequest['response_format'] }),
  };
}
