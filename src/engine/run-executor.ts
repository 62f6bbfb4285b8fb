import type { BlobStore } from '../blobs/blob-store.js';
import type { Clock } from '../clock.js';
import type { EventBus } from '../events.js';
import { type ChatRequest, ModelError } from '../providers/chat-model.js';
import type { ModelRegistry } from '../providers/registry.js';
import type { CreatedRun } from '../services/context.js';
import type { RunStatus, RunStep, Usage } from '../spec/wire.js';
import type { HostedTools } from './hosted-tools.js';
import type { RunForExecution, RunRef, Store, ThreadHistory } from '../store/store.js';
import { imageDataUrls } from './message-images.js';
import { modelRequest } from './model-request.js';
import { buildPrompt, PromptTooLongError } from './prompt.js';
import { addUsage, RunRecorder, ZERO_USAGE } from './recorder.js';
import { countTokens, messageTokens } from './tokens.js';
import { recordTextMessage, TurnOutput } from './turn-output.js';

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

/** What the caller of `executeFrom` already holds of the run beside its row. */
export interface ExecutionStart {
  history?: ThreadHistory;
  started?: boolean;
}

const LAST_ERROR_CODE = { rate_limit: 'rate_limit_exceeded', server: 'server_error', invalid_prompt: 'invalid_prompt' } as const;

function usedSoFar(steps: RunStep[]): Usage {
  return steps.reduce((sum, step) => (step.usage ? addUsage(sum, step.usage) : sum), ZERO_USAGE);
}

/**
 * Executes one turn of a run: from `queued` to a model call whose output ends the run or pauses it
 * in `requires_action`. Every write is guarded by the run's status, so a cancel or an expiry that
 * lands meanwhile wins.
 */
export class RunExecutor {
  constructor(readonly deps: ExecutorDeps) {}

  /**
   * `created`: the run as its creator stored it, when the creator is in this process. Should anyone
   * have changed the run since, the first write, guarded by the stored run, finds out. A run stored
   * already `in_progress` (`created.started`) starts without a write: a cancel or a deletion since
   * reached the slot its creator held for it (`RunScheduler.reserve`), so it starts aborted.
   * Resolves to the run's status as the execution left it; undefined when the run is gone.
   */
  async execute({ projectId, runId }: RunRef, signal: AbortSignal, created?: CreatedRun): Promise<RunStatus | undefined> {
    const found = created ? { run: created.run, pendingText: null } : await this.deps.store.runForExecution(projectId, runId);
    if (found) return this.executeFrom(projectId, found, signal, { history: created?.messages && { messages: created.messages, steps: [] }, started: created?.started });
    return undefined;
  }

  /**
   * Executes the run as the caller just read it; resolves to its status as this execution last read
   * or wrote it. `history`: the run's thread as the caller read it with the run, when it did (or the
   * messages of a thread created with the run): no message can be added while the run is active.
   * `started`: the run was stored `in_progress` for this execution, by its creation or by the claim of its lease.
   */
  async executeFrom(projectId: string, { run, pendingText }: RunForExecution, signal: AbortSignal, { history, started = false }: ExecutionStart = {}): Promise<RunStatus> {
    const { store, bus, clock } = this.deps;
    const recorder = new RunRecorder(store, bus, clock, projectId, run);
    // Recording the pending text adds a message: the model's first call then reads the thread anew.
    await this.#execute(recorder, pendingText, signal, { history: pendingText ? undefined : history, started });
    return recorder.run.status;
  }

  async #execute(recorder: RunRecorder, pendingText: string | null, signal: AbortSignal, { history, started }: ExecutionStart): Promise<void> {
    const { run } = recorder;
    try {
      signal.throwIfAborted();
      if (run.status === 'cancelling') return await recorder.finish('cancelled');
      if (started) recorder.publish('thread.run.in_progress', run);
      else if (!(await this.#start(recorder))) return;
      if (pendingText) await this.#recordTextAfterToolCalls(recorder, pendingText);
      await this.#callModelUntilDone(recorder, signal, history);
    } catch (error) {
      if (signal.aborted) await this.#stopped(recorder, signal.reason as StopReason);
      else await this.#fail(recorder, error);
    }
  }

  /** Moves the queued run to `in_progress`; false when the run is not this execution's to continue. */
  async #start(recorder: RunRecorder): Promise<boolean> {
    const { run } = recorder;
    if (run.status !== 'queued') return false;
    if (await recorder.transition('queued', { status: 'in_progress', started_at: run.started_at ?? recorder.now() })) return true;
    await this.#afterLostRace(recorder);
    return false;
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

  /**
   * Text the model streamed after the calls the run waited on becomes the next message now that
   * their outputs are in and the run is executing again. Cleared first: a crash loses it rather
   * than recording it twice.
   */
  async #recordTextAfterToolCalls(recorder: RunRecorder, text: string): Promise<void> {
    await this.deps.store.setPendingText(recorder.projectId, recorder.run.id, null);
    await recordTextMessage(recorder, text);
  }

  /**
   * Calls the model again after each turn that hosted tools answered, up to a bound. `history`: the
   * thread as read with the run, which holds until the first call's answer is recorded.
   */
  async #callModelUntilDone(recorder: RunRecorder, signal: AbortSignal, history?: ThreadHistory): Promise<void> {
    for (let call = 0; call < MAX_MODEL_CALLS_PER_TURN; call++) {
      if ((await this.#turn(recorder, signal, call === 0 ? history : undefined)) === 'ended') return;
    }
    throw new ModelError('server', `The model kept calling tools for ${MAX_MODEL_CALLS_PER_TURN} rounds without answering.`, false);
  }

  async #turn(recorder: RunRecorder, signal: AbortSignal, history?: ThreadHistory): Promise<TurnOutcome> {
    const { store, models } = this.deps;
    const { run, projectId } = recorder;
    const resolved = models.resolve(run.model);
    const { messages, steps: threadSteps } = history ?? (await store.threadHistory(projectId, run.thread_id));
    const steps = threadSteps.filter((step) => step.run_id === run.id);
    const used = usedSoFar(steps);

    const promptBudget = run.max_prompt_tokens != null ? Math.min(resolved.contextWindow, run.max_prompt_tokens - used.prompt_tokens) : resolved.contextWindow;
    const completionBudget = run.max_completion_tokens != null ? run.max_completion_tokens - used.completion_tokens : undefined;
    if (completionBudget !== undefined && completionBudget <= 0) {
      await recorder.finish('incomplete', { incomplete_details: { reason: 'max_completion_tokens' } });
      return 'ended';
    }
    const draft = modelRequest({ run, resolved, messages: [], maxTokens: completionBudget, firstCall: steps.length === 0 });
    const { hostedTools } = this.deps;
    const context = await hostedTools.context(projectId, run);
    let prompt;
    try {
      const images = await imageDataUrls(store, this.deps.blobs, projectId, messages);
      const toolInstructions = await hostedTools.instructions(context, messages);
      prompt = buildPrompt({ run, messages, steps: threadSteps, images, toolInstructions, budget: promptBudget, toolsJson: draft.tools ? JSON.stringify(draft.tools) : '' });
    } catch (error) {
      if (!(error instanceof PromptTooLongError)) throw error;
      if (run.max_prompt_tokens != null) {
        await recorder.finish('incomplete', { incomplete_details: { reason: 'max_prompt_tokens' } });
        return 'ended';
      }
      throw new ModelError('invalid_prompt', `The thread does not fit the model's context window: ${error.message}.`, false);
    }

    const output = new TurnOutput(recorder, hostedTools.kindOf(run), await hostedTools.answerExtras(run, steps));
    let finishReason: string | null = null;
    let reported: Usage | null = null;
    try {
      for await (const event of resolved.model.stream({ ...draft, messages: prompt }, signal)) {
        signal.throwIfAborted();
        if (event.type === 'text-delta') await output.text(event.text);
        else if (event.type === 'tool-call-delta') await output.toolCall(event.index, event.id, event.name, event.argumentsDelta);
        else {
          finishReason = event.finishReason;
          reported = event.usage && { ...event.usage, total_tokens: event.usage.prompt_tokens + event.usage.completion_tokens };
        }
      }
      signal.throwIfAborted();
    } catch (error) {
      await output.keepPartialContent();
      throw error;
    }
    // Servers that do not report usage get an estimate from the tokenizer.
    const usage = reported ?? estimateUsage(prompt, output.outputText);

    if (output.toolCalls.length > 0) {
      const step = await output.recordToolCalls(await hostedTools.run(context, output, messages, signal));
      const clientCalls = output.toolCalls.filter((call) => call.hosted === undefined);
      if (clientCalls.length === 0) {
        await recorder.closeStep(step, 'completed', { usage });
        if (output.textAfterToolCalls) await recordTextMessage(recorder, output.textAfterToolCalls);
        return 'call-again';
      }
      await store.setPendingUsage(projectId, run.id, usage);
      // The SDK's stream allows no second step while the tool step waits: the text waits for the outputs.
      await store.setPendingText(projectId, run.id, output.textAfterToolCalls || null);
      const toolCalls = clientCalls.map((call) => ({ id: call.id, type: 'function' as const, function: { name: call.name, arguments: call.arguments } }));
      const paused = await recorder.transition('in_progress', { status: 'requires_action', required_action: { type: 'submit_tool_outputs', submit_tool_outputs: { tool_calls: toolCalls } } });
      if (!paused) await this.#afterLostRace(recorder);
      return 'ended';
    }
    // As on the hosted API, a cut-off or filtered answer leaves the message incomplete; only the
    // run's own token limit makes the run incomplete too.
    const truncated = finishReason === 'length' && run.max_completion_tokens != null;
    const messageReason = finishReason === 'content_filter' ? 'content_filter' : finishReason === 'length' ? 'max_tokens' : null;
    // The answer's message, its step and the run's end: one commit.
    const runUsage = addUsage(used, usage);
    await output.closeMessage(
      messageReason,
      usage,
      truncated ? { status: 'incomplete', usage: runUsage, patch: { incomplete_details: { reason: 'max_completion_tokens' } } } : { status: 'completed', usage: runUsage },
    );
    return 'ended';
  }

}

function estimateUsage(prompt: ChatRequest['messages'], outputText: string): Usage {
  const promptTokens = prompt.reduce((sum, message) => sum + messageTokens(message), 0);
  const completionTokens = countTokens(outputText);
  return { prompt_tokens: promptTokens, completion_tokens: completionTokens, total_tokens: promptTokens + completionTokens };
}
