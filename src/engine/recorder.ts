import { type Clock, unixSeconds } from '../clock.js';
import type { EventBus, StreamEvent, StreamEventName } from '../events.js';
import { newId } from '../ids.js';
import { isTerminal } from '../services/run-status.js';
import type { Message, Run, RunStatus, RunStep, Usage } from '../spec/wire.js';
import type { Store } from '../store/store.js';

type TerminalRunStatus = Extract<RunStatus, 'completed' | 'incomplete' | 'failed' | 'cancelled' | 'expired'>;
type StepDetails = RunStep['step_details'];
/** Why a message ends incomplete; null when it completes. */
type MessageEnd = NonNullable<Message['incomplete_details']>['reason'] | null;

/** How a finished turn ends its run. */
export interface TurnEnd {
  status: 'completed' | 'incomplete';
  /** The run's usage over all its steps. */
  usage: Usage;
  patch?: Partial<Run>;
}

/** A finished turn's last writes: its message with its final content, the message's step, the run's end. */
export interface TurnClose {
  messageId: string;
  incompleteReason: MessageEnd;
  content: Message['content'];
  step: RunStep;
  stepUsage: Usage;
  end: TurnEnd;
}

/** How a run's end leaves the steps and messages that were still open. */
const OPEN_WORK_ON_END = {
  completed: { step: 'completed', messageReason: null },
  incomplete: { step: 'completed', messageReason: 'max_tokens' },
  failed: { step: 'failed', messageReason: 'run_failed' },
  cancelled: { step: 'cancelled', messageReason: 'run_cancelled' },
  expired: { step: 'expired', messageReason: 'run_expired' },
} as const;

const STEP_TIMESTAMP = { completed: 'completed_at', failed: 'failed_at', cancelled: 'cancelled_at', expired: 'expired_at' } as const;
const RUN_TIMESTAMP = { completed: 'completed_at', failed: 'failed_at', cancelled: 'cancelled_at', expired: null, incomplete: null } as const;

export function addUsage(total: Usage, more: Usage): Usage {
  return {
    prompt_tokens: total.prompt_tokens + more.prompt_tokens,
    completion_tokens: total.completion_tokens + more.completion_tokens,
    total_tokens: total.total_tokens + more.total_tokens,
  };
}

/** A step's `last_error` has no `invalid_prompt` code; such a failure is the server's to the step. */
function stepError(runError: Run['last_error'] | undefined): RunStep['last_error'] {
  if (!runError) return null;
  return { code: runError.code === 'rate_limit_exceeded' ? 'rate_limit_exceeded' : 'server_error', message: runError.message };
}

export const ZERO_USAGE: Usage = { prompt_tokens: 0, completion_tokens: 0, total_tokens: 0 };

/**
 * Writes a run's state changes, always store first, then the matching stream event. Shared by the
 * engine (which executes runs) and the services (cancel, submit, expiry of idle runs).
 */
export class RunRecorder {
  /** Inside `atomically`: the events its writes will publish once they commit. */
  #unpublished: StreamEvent[] | undefined;
  /** The messages this recorder opened, as stored, so that closing one needs no read. */
  readonly #opened = new Map<string, Message>();

  constructor(
    public store: Store,
    readonly bus: EventBus,
    readonly clock: Clock,
    readonly projectId: string,
    /** The run as this recorder last read or wrote it. */
    public run: Run,
  ) {}

  now(): number {
    return unixSeconds(this.clock);
  }

  publish(event: StreamEventName, data: unknown): void {
    if (this.#unpublished) this.#unpublished.push({ event, data });
    else this.bus.publish(this.run.id, event, data);
  }

  /**
   * Makes the writes `work` does through this recorder one transaction, and publishes their events
   * after it commits (none if it fails): how `closeTurn` settles a turn that someone else changed.
   */
  async atomically<T>(work: () => Promise<T>): Promise<T> {
    if (this.#unpublished) return work();
    const { store, run } = this;
    const unpublished: StreamEvent[] = [];
    try {
      const result = await store.transaction((inTransaction) => {
        this.store = inTransaction;
        this.#unpublished = unpublished;
        return work();
      });
      this.#unpublished = undefined;
      for (const { event, data } of unpublished) this.publish(event, data);
      return result;
    } catch (error) {
      this.run = run;
      throw error;
    } finally {
      this.store = store;
      this.#unpublished = undefined;
    }
  }

  /**
   * Moves the run from `from` to a new state; false (and nothing written) when another actor changed
   * its status first, e.g. a cancel that landed while the model was streaming.
   */
  async transition(from: RunStatus, patch: Partial<Run>): Promise<boolean> {
    const next = await this.#writeRun(from, patch);
    if (!next) return false;
    this.run = next;
    if (patch.status && patch.status !== from) this.publish(`thread.run.${patch.status}`, next);
    return true;
  }

  /**
   * The run as held, changed, in one write while nobody changed it since; otherwise applied to the
   * stored run, which may have new metadata from a client (or a new status: then nothing is written).
   */
  async #writeRun(from: RunStatus, patch: Partial<Run>): Promise<Run | undefined> {
    const held = this.run;
    const next = { ...held, ...patch };
    if (held.status === from && (await this.store.runs.replace(this.projectId, held, next))) return next;
    return this.store.runs.modify(this.projectId, held.id, (stored) => (stored.status === from ? { ...stored, ...patch } : undefined));
  }

  async reload(): Promise<Run | undefined> {
    const run = await this.store.runs.get(this.projectId, this.run.id);
    if (run) this.run = run;
    return run;
  }

  async openStep(type: RunStep['type'], details: StepDetails): Promise<RunStep> {
    const step = this.#newStep(type, details);
    await this.store.steps.insert(this.projectId, step);
    this.#publishOpened(step);
    return step;
  }

  #newStep(type: RunStep['type'], details: StepDetails): RunStep {
    return {
      id: newId('step'),
      object: 'thread.run.step',
      created_at: this.now(),
      assistant_id: this.run.assistant_id,
      thread_id: this.run.thread_id,
      run_id: this.run.id,
      type,
      status: 'in_progress',
      step_details: details,
      last_error: null,
      expired_at: null,
      cancelled_at: null,
      failed_at: null,
      completed_at: null,
      metadata: {},
      usage: null,
    };
  }

  #publishOpened(step: RunStep): void {
    this.publish('thread.run.step.created', step);
    this.publish('thread.run.step.in_progress', step);
  }

  async closeStep(step: RunStep, status: Exclude<RunStep['status'], 'in_progress'>, patch: Partial<RunStep> = {}): Promise<RunStep> {
    const closed = this.#closedStep(step, status, patch);
    await this.store.steps.update(this.projectId, closed);
    this.publish(`thread.run.step.${status}`, closed);
    return closed;
  }

  #closedStep(step: RunStep, status: Exclude<RunStep['status'], 'in_progress'>, patch: Partial<RunStep>): RunStep {
    return { ...step, ...patch, status, [STEP_TIMESTAMP[status]]: this.now() };
  }

  /** A `message_creation` step and its message, written as one unit (one statement on PostgreSQL). */
  async openMessageWithStep(messageId: string): Promise<{ step: RunStep; message: Message }> {
    const step = this.#newStep('message_creation', { type: 'message_creation', message_creation: { message_id: messageId } });
    const message: Message = {
      id: messageId,
      object: 'thread.message',
      created_at: this.now(),
      thread_id: this.run.thread_id,
      status: 'in_progress',
      incomplete_details: null,
      completed_at: null,
      incomplete_at: null,
      role: 'assistant',
      content: [],
      assistant_id: this.run.assistant_id,
      run_id: this.run.id,
      attachments: [],
      metadata: {},
    };
    const { store, projectId } = this;
    await store.insertAll([store.steps.rows(projectId, [step]), store.messages.rows(projectId, [message])]);
    this.#opened.set(messageId, message);
    this.#publishOpened(step);
    this.publish('thread.message.created', message);
    this.publish('thread.message.in_progress', message);
    return { step, message };
  }

  /**
   * Ends a message still in progress; `content`, when given, is its final content. Written to the
   * message as stored now, so a client's metadata stays, and so does text that a cut-off turn
   * stored when the run's end closes the message. A message already closed keeps its status.
   */
  async closeMessage(messageId: string, incompleteReason: MessageEnd, content?: Message['content']): Promise<void> {
    let closing = false;
    const close = (stored: Message): Message => {
      closing = stored.status === 'in_progress';
      return this.#closedMessage(stored, incompleteReason, content);
    };
    const opened = this.#opened.get(messageId);
    this.#opened.delete(messageId);
    const next = opened && close(opened);
    const closed = next && (await this.store.messages.replace(this.projectId, opened, next)) ? next : await this.store.messages.modify(this.projectId, messageId, close);
    if (closed && closing) this.#publishClosed(closed);
  }

  /** The message with `content` (when given), and ended unless it was ended already. */
  #closedMessage(stored: Message, incompleteReason: MessageEnd, content: Message['content'] | undefined): Message {
    const closed = { ...stored, ...(content && { content }) };
    if (stored.status !== 'in_progress') return closed;
    const now = this.now();
    return incompleteReason
      ? { ...closed, status: 'incomplete', incomplete_details: { reason: incompleteReason }, incomplete_at: now }
      : { ...closed, status: 'completed', completed_at: now };
  }

  #publishClosed(closed: Message): void {
    this.publish(closed.status === 'completed' ? 'thread.message.completed' : 'thread.message.incomplete', closed);
  }

  /**
   * Ends the run: open steps and messages are closed to match, usage is summed over the steps,
   * `expires_at` is cleared. A run that is already terminal is left as it is.
   */
  async finish(status: TerminalRunStatus, patch: Partial<Run> = {}): Promise<void> {
    const current = await this.reload();
    if (!current || isTerminal(current.status)) return;
    const { step: stepStatus, messageReason } = OPEN_WORK_ON_END[status];
    const pendingUsage = await this.store.pendingUsage(this.projectId, this.run.id);
    // Messages first: a message ends before the step that creates it, as in a completed turn.
    for (const message of await this.store.messages.all(this.projectId, { thread_id: this.run.thread_id, run_id: this.run.id })) {
      if (message.status === 'in_progress') await this.closeMessage(message.id, messageReason);
    }
    let usage = ZERO_USAGE;
    for (const step of await this.store.steps.all(this.projectId, { thread_id: this.run.thread_id, run_id: this.run.id })) {
      let closed = step;
      if (step.status === 'in_progress') {
        closed = await this.closeStep(step, stepStatus, { usage: step.usage ?? pendingUsage, last_error: stepError(patch.last_error) });
      }
      if (closed.usage) usage = addUsage(usage, closed.usage);
    }
    await this.store.setPendingUsage(this.projectId, this.run.id, null);
    if (!(await this.transition(current.status, this.#ended(status, usage, patch)))) await this.finish(status, patch);
  }

  /**
   * Ends the run after a turn that closed all its work itself, with the usage of all its steps; no
   * read first. When another actor changed the run meanwhile (a cancel), `finish` settles it.
   */
  async #finishTurn({ status, usage, patch = {} }: TurnEnd): Promise<void> {
    if (!(await this.transition('in_progress', this.#ended(status, usage, patch)))) await this.finish(status, patch);
  }

  /**
   * Closes a finished turn's message and its step, and ends the run, as one unit. While nobody
   * changed the message or the run since this recorder wrote them, that is one write with no read
   * first (one statement on PostgreSQL); otherwise one transaction that settles them as stored (a
   * client's metadata stays, a cancel wins).
   */
  async closeTurn(close: TurnClose): Promise<void> {
    if (await this.#closeTurnAsHeld(close)) return;
    const { messageId, incompleteReason, content, step, stepUsage, end } = close;
    await this.atomically(async () => {
      await this.closeMessage(messageId, incompleteReason, content);
      await this.closeStep(step, 'completed', { usage: stepUsage });
      await this.#finishTurn(end);
    });
  }

  async #closeTurnAsHeld({ messageId, incompleteReason, content, step, stepUsage, end }: TurnClose): Promise<boolean> {
    const opened = this.#opened.get(messageId);
    const held = this.run;
    if (!opened || held.status !== 'in_progress') return false;
    const message = this.#closedMessage(opened, incompleteReason, content);
    const closedStep = this.#closedStep(step, 'completed', { usage: stepUsage });
    const run: Run = { ...held, ...this.#ended(end.status, end.usage, end.patch ?? {}) };
    const { store, projectId } = this;
    const replacements = [store.messages.replacement(projectId, opened, message), store.steps.replacement(projectId, undefined, closedStep), store.runs.replacement(projectId, held, run)];
    if (!(await store.replaceAll(replacements))) return false;
    this.#opened.delete(messageId);
    this.run = run;
    this.#publishClosed(message);
    this.publish('thread.run.step.completed', closedStep);
    this.publish(`thread.run.${end.status}`, run);
    return true;
  }

  #ended(status: TerminalRunStatus, usage: Usage, patch: Partial<Run>): Partial<Run> {
    const timestamp = RUN_TIMESTAMP[status];
    return { status, required_action: null, expires_at: null, usage, ...(timestamp && { [timestamp]: this.now() }), ...patch };
  }
}
