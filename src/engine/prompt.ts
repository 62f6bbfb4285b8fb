import type { ChatCompletionContentPart, ChatCompletionMessageToolCall } from 'openai/resources/chat/completions';
import type { ChatMessage } from '../providers/chat-model.js';
import type { Message, Run, RunStep } from '../spec/wire.js';
import { CODE_INTERPRETER_TOOL_NAME, codeOutputForModel } from '../tools/code-interpreter/tool.js';
import { FILE_SEARCH_TOOL_NAME, resultsForModel } from '../tools/file-search/tool.js';
import { countTokens, messageTokens, tokenBound } from './tokens.js';

export class PromptTooLongError extends Error {}

export interface PromptInput {
  run: Run;
  /** The thread's messages in creation order, this run's own included. */
  messages: Message[];
  /** The thread's steps in creation order: earlier runs' and this run's. */
  steps: RunStep[];
  /** Most prompt tokens this call may use: what is left of `max_prompt_tokens`, or the context window. */
  budget: number;
  /** What the hosted tools tell the model, after the run's instructions. */
  toolInstructions: string[];
  /** `image_file` parts' files as data URLs, by file id. */
  images: ReadonlyMap<string, string>;
  /** The tools as the model sees them, counted against the budget. */
  toolsJson: string;
}

function userContent(message: Message, images: ReadonlyMap<string, string>): string | ChatCompletionContentPart[] {
  const parts: ChatCompletionContentPart[] = [];
  for (const part of message.content) {
    if (part.type === 'text') parts.push({ type: 'text', text: part.text.value });
    else if (part.type === 'image_url') parts.push({ type: 'image_url', image_url: { url: part.image_url.url, ...(part.image_url.detail && { detail: part.image_url.detail }) } });
    else if (part.type === 'image_file') {
      const url = images.get(part.image_file.file_id);
      // A deleted image file leaves a note: the model should know something was shown.
      if (url) parts.push({ type: 'image_url', image_url: { url, ...(part.image_file.detail && { detail: part.image_file.detail }) } });
      else parts.push({ type: 'text', text: `[image ${part.image_file.file_id} is no longer available]` });
    }
  }
  if (parts.every((part) => part.type === 'text')) return parts.map((part) => (part.type === 'text' ? part.text : '')).join('\n');
  return parts;
}

function assistantText(message: Message): string {
  return message.content.map((part) => (part.type === 'text' ? part.text.value : '')).join('\n');
}

function threadMessage(message: Message, images: ReadonlyMap<string, string>): ChatMessage {
  if (message.role === 'assistant') return { role: 'assistant', content: assistantText(message) };
  return { role: 'user', content: userContent(message, images) };
}

type ToolCallsDetails = Extract<RunStep['step_details'], { type: 'tool_calls' }>;

/** One tool_calls step as the model made it: the assistant's calls, then each call's output. */
function toolCallTurns(details: ToolCallsDetails, searches: { next: number }): ChatMessage[] {
  const toolCalls: ChatCompletionMessageToolCall[] = [];
  const outputs: ChatMessage[] = [];
  for (const call of details.tool_calls) {
    if (call.type === 'function') {
      toolCalls.push({ id: call.id, type: 'function', function: { name: call.function.name, arguments: call.function.arguments } });
      outputs.push({ role: 'tool', tool_call_id: call.id, content: call.function.output ?? '' });
    } else if (call.type === 'code_interpreter') {
      toolCalls.push({ id: call.id, type: 'function', function: { name: CODE_INTERPRETER_TOOL_NAME, arguments: JSON.stringify({ code: call.code_interpreter.input }) } });
      outputs.push({ role: 'tool', tool_call_id: call.id, content: codeOutputForModel(call.code_interpreter.outputs) });
    } else {
      // The step keeps the results, not the query: the call is replayed with its results alone.
      toolCalls.push({ id: call.id, type: 'function', function: { name: FILE_SEARCH_TOOL_NAME, arguments: '{}' } });
      outputs.push({ role: 'tool', tool_call_id: call.id, content: resultsForModel(searches.next++, call.file_search.results ?? []) });
    }
  }
  return toolCalls.length === 0 ? [] : [{ role: 'assistant', content: null, tool_calls: toolCalls }, ...outputs];
}

/** This run's own work so far, in order: its messages, and its tool calls with their outputs. */
function runTurns(steps: RunStep[], messagesById: Map<string, Message>): ChatMessage[] {
  const turns: ChatMessage[] = [];
  const searches = { next: 0 };
  for (const step of steps) {
    if (step.step_details.type === 'tool_calls') {
      turns.push(...toolCallTurns(step.step_details, searches));
      continue;
    }
    const message = messagesById.get(step.step_details.message_creation.message_id);
    if (message) turns.push({ role: 'assistant', content: assistantText(message) });
  }
  return turns;
}

/**
 * Earlier runs' completed tool calls with their outputs, by the answer that followed them: the
 * history keeps them in front of that message, as the hosted API did, and drops them with it.
 */
function toolTurnsByAnswer(earlierSteps: RunStep[]): Map<string, ChatMessage[]> {
  const byAnswer = new Map<string, ChatMessage[]>();
  const waiting = new Map<string, ChatMessage[]>();
  const searches = new Map<string, { next: number }>();
  for (const step of earlierSteps) {
    if (step.status !== 'completed') continue;
    const pending = waiting.get(step.run_id) ?? [];
    if (step.step_details.type === 'message_creation') {
      if (pending.length > 0) byAnswer.set(step.step_details.message_creation.message_id, pending);
      waiting.delete(step.run_id);
      continue;
    }
    const numbering = searches.get(step.run_id) ?? { next: 0 };
    searches.set(step.run_id, numbering);
    waiting.set(step.run_id, [...pending, ...toolCallTurns(step.step_details, numbering)]);
  }
  return byAnswer;
}

function systemPrompt(run: Run, toolInstructions: string[]): ChatMessage[] {
  const parts = [run.instructions, ...toolInstructions].filter((part) => part !== '');
  return parts.length > 0 ? [{ role: 'system', content: parts.join('\n\n') }] : [];
}

/** A prompt's tokens in all, and those of each history entry, oldest first. */
interface PromptTokens {
  total: number;
  historyTokens: number[];
}

/** How many of the oldest history entries must go for the prompt to fit `budget`. */
function oldestToDrop({ total, historyTokens }: PromptTokens, budget: number): number {
  let dropped = 0;
  // Keep at least the newest message: a prompt without it cannot be a faithful answer.
  while (total > budget && dropped < historyTokens.length - 1) total -= historyTokens[dropped++]!;
  if (total > budget) throw new PromptTooLongError(`the prompt needs ${total} tokens, over the budget of ${budget}`);
  return dropped;
}

/**
 * The chat prompt of a run's next model call: instructions, the thread's history (cut by the
 * truncation strategy, then oldest first until it fits the token budget), then this run's own turns.
 */
export function buildPrompt(input: PromptInput): ChatMessage[] {
  const { run, messages, steps } = input;
  const system = systemPrompt(run, input.toolInstructions);
  const messagesById = new Map(messages.map((message) => [message.id, message]));
  const toolTurns = toolTurnsByAnswer(steps.filter((step) => step.run_id !== run.id));
  // Each history entry is a thread message with the tool calls that led to it.
  let history = messages
    .filter((message) => message.run_id !== run.id)
    .map((message) => [...(toolTurns.get(message.id) ?? []), threadMessage(message, input.images)]);
  const strategy = run.truncation_strategy;
  if (strategy?.type === 'last_messages' && strategy.last_messages != null) history = history.slice(-strategy.last_messages);
  const turns = runTurns(steps.filter((step) => step.run_id === run.id), messagesById);

  const tokens = (count: (text: string) => number): PromptTokens => {
    const fixed = [...system, ...turns].reduce((sum, message) => sum + messageTokens(message, count), 0) + count(input.toolsJson);
    const historyTokens = history.map((entry) => entry.reduce((sum, message) => sum + messageTokens(message, count), 0));
    return { historyTokens, total: fixed + historyTokens.reduce((sum, entry) => sum + entry, 0) };
  };
  // Encoding a long thread takes milliseconds; a prompt whose bound fits needs no count.
  const dropped = tokens(tokenBound).total <= input.budget ? 0 : oldestToDrop(tokens(countTokens), input.budget);
  return [...system, ...history.slice(dropped).flat(), ...turns];
}
