import type { BlobStore } from '../blobs/blob-store.js';
import type { Clock } from '../clock.js';
import type { EventBus } from '../events.js';
import { type ChatRequest, ModelError } from '../providers/chat-model.js';
import type { ModelRegistry } from '../providers/registry.js';
import type { Run, RunStep, Usage } from '../spec/wire.js';
import { CODE_INTERPRETER_FUNCTION } from '../tools/code-interpreter/tool.js';
import { FILE_SEARCH_FUNCTION } from '../tools/file-search/tool.js';
import type { HostedTools } from './hosted-tools.js';
import type { RunRef, Store } from '../store/store.js';
import { imageDataUrls } from './message-images.js';
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
  hostedTools: HostedTools;
  blobs: BlobStore;
  log: (message: string, error?: unknown) => void;
}

/** Model calls one execution may make while only hosted tools (file_search) answer in between. */
const MAX_MODEL_CALLS_PER_TURN = 8;

type TurnOutcome = 'ended' | 'call-again';

const LAST_ERROR_CODE = { rate_limit: 'rate_limit_exceeded', server: 'server_error', invalid_prompt: 'invalid_prompt' } as const;

function usedSoFar(steps: RunStep[]): Usage {
  return steps.reduce((sum, step) => (step.usage ? addUsage(sum, step.usage) : sum), ZERO_USAGE);
}

function modelRequest(run: Run, upstreamName: string, prompt: ChatRequest['messages'], maxTokens: number | undefined): ChatRequest {
  const tools = run.tools.flatMap((tool) => {
    if (tool.type === 'function') return [{ type: 'function' as const, function: tool.function }];
    return [tool.type === 'file_search' ? FILE_SEARCH_FUNCTION : CODE_INTERPRETER_FUNCTION];
  });
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
      await this.#callModelUntilDone(recorder, signal);
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

  /** Calls the model again after each turn that hosted tools answered, up to a bound. */
  async #callModelUntilDone(recorder: RunRecorder, signal: AbortSignal): Promise<void> {
    for (let call = 0; call < MAX_MODEL_CALLS_PER_TURN; call++) {
      if ((await this.#turn(recorder, signal)) === 'ended') return;
    }
    throw new ModelError('server', `The model kept calling tools for ${MAX_MODEL_CALLS_PER_TURN} rounds without answering.`, false);
  }

  async #turn(recorder: RunRecorder, signal: AbortSignal): Promise<TurnOutcome> {
    const { store, models } = this.deps;
    const { run, projectId } = recorder;
    const resolved = models.resolve(run.model);
    const steps = await store.steps.all(projectId, { run_id: run.id });
    const messages = await store.messages.all(projectId, { thread_id: run.thread_id });
    const used = usedSoFar(steps);

    const promptBudget = run.max_prompt_tokens != null ? Math.min(resolved.contextWindow, run.max_prompt_tokens - used.prompt_tokens) : resolved.contextWindow;
    const completionBudget = run.max_completion_tokens != null ? run.max_completion_tokens - used.completion_tokens : undefined;
    if (completionBudget !== undefined && completionBudget <= 0) {
      await recorder.finish('incomplete', { incomplete_details: { reason: 'max_completion_tokens' } });
      return 'ended';
    }
    const draft = modelRequest(run, resolved.upstreamName, [], completionBudget);
    const { hostedTools } = this.deps;
    const context = await hostedTools.context(projectId, run);
    let prompt;
    try {
      const images = await imageDataUrls(store, this.deps.blobs, projectId, messages);
      const toolInstructions = await hostedTools.instructions(context, messages);
      prompt = buildPrompt({ run, messages, steps, images, toolInstructions, budget: promptBudget, toolsJson: draft.tools ? JSON.stringify(draft.tools) : '' });
    } catch (error) {
      if (!(error instanceof PromptTooLongError)) throw error;
      if (run.max_prompt_tokens != null) {
        await recorder.finish('incomplete', { incomplete_details: { reason: 'max_prompt_tokens' } });
        return 'ended';
      }
      throw new ModelError('invalid_prompt', `The thread does not fit the model's context window: ${error.message}.`, false);
    }

    const output = new TurnOutput(recorder, hostedTools.kindOf(run));
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
      const step = await output.recordToolCalls(await hostedTools.run(context, output, messages, signal));
      const clientCalls = output.toolCalls.filter((call) => call.hosted === undefined);
      if (clientCalls.length === 0) {
        await recorder.closeStep(step, 'completed', { usage });
        return 'call-again';
      }
      await store.setPendingUsage(projectId, run.id, usage);
      const toolCalls = clientCalls.map((call) => ({ id: call.id, type: 'function' as const, function: { name: call.name, arguments: call.arguments } }));
      const paused = await recorder.transition('in_progress', { status: 'requires_action', required_action: { type: 'submit_tool_outputs', submit_tool_outputs: { tool_calls: toolCalls } } });
      if (!paused) await this.#afterLostRace(recorder);
      return 'ended';
    }
    const truncated = finishReason === 'length' && run.max_completion_tokens != null;
    await output.closeMessage(truncated ? 'max_tokens' : null, usage, await hostedTools.answerExtras(run, steps));
    if (truncated) await recorder.finish('incomplete', { incomplete_details: { reason: 'max_completion_tokens' } });
    else await recorder.finish('completed');
    return 'ended';
  }

}

function estimateUsage(prompt: ChatRequest['messages'], outputText: string): Usage {
  const promptTokens = prompt.reduce((sum, message) => sum + countMessageTokens(message), 0);
  const completionTokens = countTokens(outputText);
  return { prompt_tokens: promptTokens, completion_tokens: completionTokens, total_tokens: promptTokens + completionTokens };
}
