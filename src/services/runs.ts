import { unixSeconds } from '../clock.js';
import { invalidRequest, notFound } from '../errors.js';
import type { RunWithEffort } from '../engine/model-request.js';
import { RunRecorder } from '../engine/recorder.js';
import { newId } from '../ids.js';
import type {
  Assistant,
  CreateRunRequest,
  CreateThreadAndRunRequest,
  ModifyRunRequest,
  Run,
  RunStep,
  SubmitToolOutputsRequest,
  Thread,
} from '../spec/wire.js';
import type { Page, PageQuery, TableRows } from '../store/collection.js';
import type { Store } from '../store/store.js';
import { fileSearchAttachments, indexInThreadVectorStore } from './attachments.js';
import type { CreatedRun, ServiceContext } from './context.js';
import { insertMessages } from './messages.js';
import { activeRun, checkRunCapacity, isTerminal, underRunCapacity } from './run-status.js';
import { newThread } from './threads.js';
import { resolveToolResources } from './tool-resources.js';
import { checkMetadata, checkTextLength, checkTools } from './validation.js';

type RunOptions = Omit<CreateRunRequest, 'assistant_id' | 'additional_messages' | 'stream'>;

function joinInstructions(base: string | null | undefined, additional: string | null | undefined): string {
  return [base, additional].filter((part): part is string => typeof part === 'string' && part !== '').join('\n\n');
}

export class Runs {
  constructor(readonly ctx: ServiceContext) {}

  #recorder(projectId: string, run: Run): RunRecorder {
    return new RunRecorder(this.ctx.store, this.ctx.bus, this.ctx.clock, projectId, run);
  }

  async #assistant(projectId: string, assistantId: string): Promise<Assistant> {
    const assistant = await this.ctx.store.assistants.get(projectId, assistantId);
    if (!assistant) throw notFound('assistant', assistantId, 'assistant_id');
    return assistant;
  }

  /** The run as it will execute: the assistant's settings with the request's overrides applied. */
  #newRun(id: string, threadId: string, assistant: Assistant, params: RunOptions, createdAt: number): Run {
    checkMetadata(params.metadata);
    checkTools(params.tools);
    checkTextLength(params.instructions, 'instructions');
    checkTextLength(params.additional_instructions, 'additional_instructions');
    // Assistants store it beside the spec's fields (see RunWithEffort).
    const reasoningEffort = params.reasoning_effort ?? (assistant as Assistant & Pick<RunWithEffort, 'reasoning_effort'>).reasoning_effort;
    return {
      id,
      object: 'thread.run',
      created_at: createdAt,
      thread_id: threadId,
      assistant_id: assistant.id,
      status: 'queued',
      required_action: null,
      last_error: null,
      expires_at: createdAt + this.ctx.config.runExpirySeconds,
      started_at: null,
      cancelled_at: null,
      failed_at: null,
      completed_at: null,
      incomplete_details: null,
      model: params.model ?? assistant.model,
      instructions: joinInstructions(params.instructions ?? assistant.instructions, params.additional_instructions),
      tools: params.tools ?? assistant.tools,
      metadata: params.metadata ?? {},
      usage: null,
      temperature: params.temperature ?? assistant.temperature ?? 1,
      top_p: params.top_p ?? assistant.top_p ?? 1,
      max_prompt_tokens: params.max_prompt_tokens ?? null,
      max_completion_tokens: params.max_completion_tokens ?? null,
      truncation_strategy: params.truncation_strategy ?? { type: 'auto', last_messages: null },
      tool_choice: params.tool_choice ?? 'auto',
      parallel_tool_calls: params.parallel_tool_calls ?? true,
      response_format: params.response_format ?? assistant.response_format ?? 'auto',
      ...(reasoningEffort != null && { reasoning_effort: reasoningEffort }),
    };
  }

  /**
   * Stores a new run through `create`, which gets the run as it is to be stored. When this process
   * has an execution slot free for it, the run is stored already `in_progress`, as its execution
   * would at once make it. `eligible`: the run may start as soon as it is stored.
   */
  async #storing<T>(runId: string, eligible: boolean, create: (asStored: (run: Run) => Run) => Promise<T>): Promise<T & { started: boolean }> {
    const { scheduler } = this.ctx;
    const started = eligible && (scheduler.reserve?.(runId) ?? false);
    const asStored = (run: Run): Run => (started ? { ...run, status: 'in_progress', started_at: run.created_at } : run);
    try {
      return { ...(await create(asStored)), started };
    } catch (error) {
      if (started) scheduler.release?.(runId);
      throw error;
    }
  }

  /**
   * The new run's first events and its execution: `run` as the client sees it created, `created` as
   * stored. Only the stream of the request creating the run can be subscribed to it yet: these
   * events stay in this process.
   */
  #announce(projectId: string, run: Run, created: CreatedRun, queued = false): Run {
    this.ctx.bus.publishLocally(run.id, 'thread.run.created', run);
    this.ctx.bus.publishLocally(run.id, 'thread.run.queued', run);
    if (!queued) this.ctx.scheduler.enqueue(projectId, run.id, created);
    return run;
  }

  /**
   * The new run's row; `waits` (for its attachments to be added): held for this process until
   * `enqueue`, when the scheduler's workers would otherwise take it from the table at once.
   */
  #runRows(store: Store, projectId: string, run: Run, waits: boolean): TableRows {
    const rows = store.runs.rows(projectId, [run]);
    const holding = waits ? this.ctx.scheduler.holding?.() : undefined;
    return holding ? { ...rows, rows: rows.rows.map((row) => ({ ...row, ...holding })) } : rows;
  }

  async #thread(projectId: string, threadId: string): Promise<Thread> {
    const thread = await this.ctx.store.threads.get(projectId, threadId);
    if (!thread) throw notFound('thread', threadId);
    return thread;
  }

  /** `runId` may be chosen by the caller, so that a stream can subscribe before the first event. */
  async create(projectId: string, threadId: string, params: CreateRunRequest, runId = newId('run')): Promise<Run> {
    const assistant = await this.#assistant(projectId, params.assistant_id);
    const createdAt = unixSeconds(this.ctx.clock);
    const run = this.#newRun(runId, threadId, assistant, params, createdAt);
    const searchFiles = await fileSearchAttachments(this.ctx, projectId, params.additional_messages ?? [], 'additional_messages');
    const { stored, started } = await this.#storing(runId, searchFiles.length === 0, (asStored) =>
      this.ctx.store.transaction(async (store) => {
        // Holding the thread's row makes "one active run per thread" hold against concurrent creates.
        if (!(await store.threads.getForUpdate(projectId, threadId))) throw notFound('thread', threadId);
        const running = await activeRun(store, projectId, threadId);
        if (running) throw invalidRequest(`Thread ${threadId} already has an active run ${running.id}.`);
        await checkRunCapacity(store, projectId, this.ctx.config.maxActiveRunsPerProject);
        await insertMessages(store, projectId, threadId, params.additional_messages ?? [], createdAt, 'additional_messages');
        const stored = asStored(run);
        await store.insertAll([this.#runRows(store, projectId, stored, searchFiles.length > 0)]);
        return { stored };
      }),
    );
    await indexInThreadVectorStore(this.ctx, projectId, threadId, searchFiles);
    return this.#announce(projectId, run, { run: stored, started });
  }

  async createThreadAndRun(projectId: string, params: CreateThreadAndRunRequest, runId = newId('run')): Promise<{ thread: Thread; run: Run }> {
    const assistant = await this.#assistant(projectId, params.assistant_id);
    const createdAt = unixSeconds(this.ctx.clock);
    const { thread: threadParams = {}, tool_resources: runToolResources, ...runParams } = params;
    // Resources given beside the thread are the thread's, as if given inside it.
    const toolResources = await resolveToolResources(this.ctx, projectId, runToolResources ?? threadParams.tool_resources);
    const searchFiles = await fileSearchAttachments(this.ctx, projectId, threadParams.messages ?? [], 'thread.messages');
    // The run is queued as it is stored, unless its attachments must be indexed into the thread first.
    const queueing = searchFiles.length === 0 ? this.ctx.scheduler.queueing?.(runId) : undefined;
    const { thread, messages, run, stored, started } = await this.#storing(runId, searchFiles.length === 0 && queueing === undefined, (asStored) =>
      underRunCapacity(this.ctx.store, projectId, this.ctx.config.maxActiveRunsPerProject, async (store) => {
        const created = newThread(store, projectId, { ...threadParams, tool_resources: toolResources }, createdAt, 'thread.');
        const newRun = this.#newRun(runId, created.thread.id, assistant, runParams, createdAt);
        const stored = asStored(newRun);
        await store.insertAll([...created.rows, this.#runRows(store, projectId, stored, searchFiles.length > 0)], queueing);
        return { thread: created.thread, messages: created.messages, run: newRun, stored };
      }),
    );
    await indexInThreadVectorStore(this.ctx, projectId, thread.id, searchFiles);
    // Indexing attachments names the thread's new vector store in its tool resources.
    const announced = searchFiles.length > 0 ? ((await this.ctx.store.threads.get(projectId, thread.id)) ?? thread) : thread;
    this.ctx.bus.publishLocally(run.id, 'thread.created', announced);
    return { thread, run: this.#announce(projectId, run, { run: stored, messages, started }, queueing !== undefined) };
  }

  async retrieve(projectId: string, threadId: string, runId: string): Promise<Run> {
    const run = await this.ctx.store.runs.get(projectId, runId, { thread_id: threadId });
    if (!run) throw notFound('run', runId);
    return expireIfDue(this.ctx, projectId, run);
  }

  async list(projectId: string, threadId: string, page: PageQuery): Promise<Page<Run>> {
    await this.#thread(projectId, threadId);
    const listed = await this.ctx.store.runs.list(projectId, { thread_id: threadId }, page);
    return { ...listed, data: await Promise.all(listed.data.map((run) => expireIfDue(this.ctx, projectId, run))) };
  }

  async update(projectId: string, threadId: string, runId: string, params: ModifyRunRequest): Promise<Run> {
    checkMetadata(params.metadata);
    const run = await this.retrieve(projectId, threadId, runId);
    const { metadata } = params;
    if (metadata === undefined) return run;
    const changed = await this.ctx.store.runs.modify(projectId, runId, (current) => ({ ...current, metadata }), { thread_id: threadId });
    if (!changed) throw notFound('run', runId);
    return changed;
  }

  async cancel(projectId: string, threadId: string, runId: string): Promise<Run> {
    const run = await this.retrieve(projectId, threadId, runId);
    if (isTerminal(run.status)) throw invalidRequest(`Cannot cancel run with status '${run.status}'.`);
    const recorder = this.#recorder(projectId, run);
    if (run.status !== 'cancelling' && !(await recorder.transition(run.status, { status: 'cancelling' }))) {
      return this.cancel(projectId, threadId, runId);
    }
    const cancelling = recorder.run;
    const executing = await this.ctx.scheduler.abort(runId, 'cancelled');
    // A paused run has no execution to end it, and a queued one may wait long behind others for its
    // turn: both end at once (an execution that starts meanwhile finds the run cancelling).
    if (!executing || run.status === 'queued') await recorder.finish('cancelled');
    return cancelling;
  }

  async submitToolOutputs(projectId: string, threadId: string, runId: string, params: SubmitToolOutputsRequest): Promise<Run> {
    const run = await this.retrieve(projectId, threadId, runId);
    if (run.status !== 'requires_action' || !run.required_action) {
      throw invalidRequest(`Runs in status "${run.status}" do not accept tool outputs.`, null, 'run_not_requires_action');
    }
    const expected = run.required_action.submit_tool_outputs.tool_calls.map((call) => call.id);
    const outputs = new Map<string, string>();
    params.tool_outputs.forEach((output, index) => {
      const id = output.tool_call_id;
      if (id === undefined || !expected.includes(id)) {
        throw invalidRequest(`Invalid 'tool_outputs[${index}].tool_call_id': no tool call with id '${id ?? ''}' awaits output in this run.`, `tool_outputs[${index}].tool_call_id`);
      }
      if (outputs.has(id)) throw invalidRequest(`Duplicate output for tool call '${id}'.`, `tool_outputs[${index}].tool_call_id`);
      outputs.set(id, output.output ?? '');
    });
    const missing = expected.filter((id) => !outputs.has(id));
    if (missing.length > 0) {
      throw invalidRequest(`Expected tool outputs for call_ids ${JSON.stringify(expected)}, got ${JSON.stringify([...outputs.keys()])}. Missing: ${JSON.stringify(missing)}.`, 'tool_outputs');
    }
    const recorder = this.#recorder(projectId, run);
    const step = await waitingToolStep(this.ctx.store, projectId, threadId, runId);
    // The spec's event order: the tool step is seen completed before the run is seen queued again.
    if (step) {
      const usage = await this.ctx.store.pendingUsage(projectId, runId);
      await this.ctx.store.setPendingUsage(projectId, runId, null);
      const toolCalls = step.step_details.type === 'tool_calls' ? step.step_details.tool_calls : [];
      const answered = toolCalls.map((call) =>
        call.type === 'function' ? { ...call, function: { ...call.function, output: outputs.get(call.id) ?? null } } : call,
      );
      await recorder.closeStep(step, 'completed', { step_details: { type: 'tool_calls', tool_calls: answered }, usage });
    }
    if (!(await recorder.transition('requires_action', { status: 'queued', required_action: null }))) {
      throw invalidRequest(`Run ${runId} changed status while the tool outputs were being submitted; retrieve it and try again.`);
    }
    this.ctx.scheduler.enqueue(projectId, runId);
    return recorder.run;
  }
}

async function waitingToolStep(store: Store, projectId: string, threadId: string, runId: string): Promise<RunStep | undefined> {
  const steps = await store.steps.all(projectId, { thread_id: threadId, run_id: runId });
  return steps.find((step) => step.status === 'in_progress' && step.type === 'tool_calls');
}

/** Expiry is swept in the background; every read also applies it, so no one ever sees a stale run. */
export async function expireIfDue(ctx: ServiceContext, projectId: string, run: Run): Promise<Run> {
  if (isTerminal(run.status) || run.expires_at === null || run.expires_at > unixSeconds(ctx.clock)) return run;
  return expireRun(ctx, projectId, run);
}

/** Ends a run whose `expires_at` has passed, whether it executes here or waits for the client. */
export async function expireRun(ctx: ServiceContext, projectId: string, run: Run): Promise<Run> {
  await ctx.scheduler.abort(run.id, 'expired');
  const recorder = new RunRecorder(ctx.store, ctx.bus, ctx.clock, projectId, run);
  await recorder.finish('expired');
  return (await recorder.reload()) ?? run;
}
