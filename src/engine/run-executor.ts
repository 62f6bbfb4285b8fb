import type { Clock } from '../clock.js';
import type { EventBus } from '../events.js';
import { type ChatRequest, ModelError } from '../providers/chat-model.js';
import type { ModelRegistry } from '../providers/registry.js';
import type { Run, RunStep, Usage } from '../spec/wire.js';
import type { RunRef, Store } from '../store/store.js';
import { buildPrompt, PromptTooLongError } from './prompt.js';
import { addUsage, RunRecorder, ZERO_USAGE } from './recorder.js';
import { countMessageTokens, countTokens } from './tokens.js';
import { TurnOutput } from './turn-output.js';

export type StopReason = 'cancelled' | 'expired' | 'deleted' | 'shutdown';

export interface ExecutorDeps {
  store: Store;
  bus: EventBus;
  clock: Clock;
  models: ModelRegistry;
  log: (message: string, error?: unknown) => void;
}

const LAST_ERROR_CODE = { rate_limit: 'rate_limit_exceeded', server: 'server_error', invalid_prompt: 'invalid_prompt' } as const;

function usedSoFar(steps: RunStep[]): Usage {
  return steps.reduce((sum, step) => (step.usage ? addUsage(sum, step.usage) : sum), ZERO_USAGE);
}

function modelRequest(run: Run, upstreamName: string, prompt: ChatRequest['messages'], maxTokens: number | undefined): ChatRequest {
  const tools = run.tools.flatMap((tool) => (tool.type === 'function' ? [{ type: 'function' as const, function: tool.function }] : []));
  const toolChoice = run.tool_choice;
  const namedFunction = typeof toolChoice === 'object' && toolChoice?.type === 'function' && toolChoice.function;
  const format = run.response_format;
  return {
    model: upstreamName,
    messages: prompt,
    ...(run.temperature != null && { temperature: run.temperature }),
    ...(run.top_p != null && { top_p: run.top_p }),
    ...(maxTokens !== undefined && { max_tokens: maxTokens }),
    ...(tools.length > 0 && {
      tools,
      parallel_tool_calls: run.parallel_tool_calls,
      tool_choice: namedFunction ? { type: 'function', function: { name: namedFunction.name } } : typeof toolChoice === 'string' ? toolChoice : 'auto',
    }),
    ...(typeof format === 'object' && format !== null && format.type !== 'text' && { response_format: format as ChatRequest['response_format'] }),
  };
}

/**
 * Executes one turn of a run: from `queued` to a model call whose output ends the run or pauses it
 * in `requires_action`. Every write is guarded by the run's status, so a cancel or an expiry that
 * lands meanwhile wins.
 */
export class RunExecutor {
  constructor(readonly deps: ExecutorDeps) {}

  async execute({ projectId, runId }: RunRef, signal: AbortSignal): Promise<void> {
    const { store, bus, clock } = this.deps;
    const run = await store.runs.get(projectId, runId);
    if (!run) return;
    const recorder = new RunRecorder(store, bus, clock, projectId, run);
    try {
      signal.throwIfAborted();
      if (run.status === 'cancelling') return await recorder.finish('cancelled');
      if (run.status !== 'queued') return;
      if (!(await recorder.transition('queued', { status: 'in_progress', started_at: run.started_at ?? recorder.now() }))) {
        return await this.#afterLostRace(recorder);
      }
      await this.#turn(recorder, signal);
    } catch (error) {
      if (signal.aborted) await this.#stopped(recorder, signal.reason as StopReason);
      else await this.#fail(recorder, error);
    }
  }

  /** Someone else changed the run's status first; only a pending cancel is ours to complete. */
  async #afterLostRace(recorder: RunRecorder): Promise<void> {
    const current = await recorder.reload();
    if (current?.status === 'cancelling') await recorder.finish('cancelled');
  }

  async #stopped(recorder: RunRecorder, reason: StopReason): Promise<void> {
    if (reason === 'cancelled') await recorder.finish('cancelled');
    // 'expired': expireRun ends the run itself, and a second actor closing the same open work would
    // publish its events twice. 'deleted': the rows are gone. 'shutdown': recovery settles the run.
  }

  async #fail(recorder: RunRecorder, error: unknown): Promise<void> {
    if (!(error instanceof ModelError)) this.deps.log(`run ${recorder.run.id} failed`, error);
    const lastError = error instanceof ModelError
      ? { code: LAST_ERROR_CODE[error.kind], message: error.message }
      : { code: 'server_error' as const, message: 'The server had an error while processing this run.' };
    await recorder.finish('failed', { last_error: lastError });
  }

  async #turn(recorder: RunRecorder, signal: AbortSignal): Promise<void> {
    const { store, models } = this.deps;
    const { run, projectId } = recorder;
    const resolved = models.resolve(run.model);
    const steps = await store.steps.all(projectId, { run_id: run.id });
    const messages = await store.messages.all(projectId, { thread_id: run.thread_id });
    const used = usedSoFar(steps);

    const promptBudget = run.max_prompt_tokens != null ? Math.min(resolved.contextWindow, run.max_prompt_tokens - used.prompt_tokens) : resolved.contextWindow;
    const completionBudget = run.max_completion_tokens != null ? run.max_completion_tokens - used.completion_tokens : undefined;
    if (completionBudget !== undefined && completionBudget <= 0) {
      return recorder.finish('incomplete', { incomplete_details: { reason: 'max_completion_tokens' } });
    }
    const draft = modelRequest(run, resolved.upstreamName, [], completionBudget);
    let prompt;
    try {
      prompt = buildPrompt({ run, messages, steps, budget: promptBudget, toolsJson: draft.tools ? JSON.stringify(draft.tools) : '' });
    } catch (error) {
      if (!(error instanceof PromptTooLongError)) throw error;
      if (run.max_prompt_tokens != null) return recorder.finish('incomplete', { incomplete_details: { reason: 'max_prompt_tokens' } });
      throw new ModelError('invalid_prompt', `The thread does not fit the model's context window: ${error.message}.`, false);
    }

    const output = new TurnOutput(recorder);
    let finishReason: string | null = null;
    let reported: Usage | null = null;
    try {
      for await (const event of resolved.model.stream({ ...draft, messages: prompt }, signal)) {
        signal.throwIfAborted();
        if (event.type === 'text-delta') await output.text(event.text);
        else if (event.type === 'tool-call-delta') await output.toolCall(event.index, event.name, event.argumentsDelta);
        else {
          finishReason = event.finishReason;
          reported = event.usage && { ...event.usage, total_tokens: event.usage.prompt_tokens + event.usage.completion_tokens };
        }
      }
      signal.throwIfAborted();
    } catch (error) {
      await output.keepPartialText();
      throw error;
    }
    // Servers that do not report usage get an estimate from the tokenizer.
    const usage = reported ?? estimateUsage(prompt, output.outputText);

    if (output.toolCalls.length > 0) {
      await output.recordToolCalls();
      await store.setPendingUsage(projectId, run.id, usage);
      const toolCalls = output.toolCalls.map((call) => ({ id: call.id, type: 'function' as const, function: { name: call.function.name, arguments: call.function.arguments } }));
      const paused = await recorder.transition('in_progress', { status: 'requires_action', required_action: { type: 'submit_tool_outputs', submit_tool_outputs: { tool_calls: toolCalls } } });
      if (!paused) await this.#afterLostRace(recorder);
      return;
    }
    const truncated = finishReason === 'length' && run.max_completion_tokens != null;
    await output.closeMessage(truncated ? 'max_tokens' : null, usage);
    if (truncated) await recorder.finish('incomplete', { incomplete_details: { reason: 'max_completion_tokens' } });
    else await recorder.finish('completed');
  }
}

function estimateUsage(prompt: ChatRequest['messages'], outputText: string): Usage {
  const promptTokens = prompt.reduce((sum, message) => sum + countMessageTokens(message), 0);
  const completionTokens = countTokens(outputText);
  return { prompt_tokens: promptTokens, completion_tokens: completionTokens, total_tokens: promptTokens + completionTokens };
}
