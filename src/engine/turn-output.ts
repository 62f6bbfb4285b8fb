import { newId } from '../ids.js';
import type { FileCitation, FileSearchToolCall, Message, RunStep, Usage } from '../spec/wire.js';
import { type RunRecorder, ZERO_USAGE } from './recorder.js';

/** A tool call as the model streams it; `serverSide` calls are run by Stepwise (file_search). */
export interface StreamedToolCall {
  id: string;
  name: string;
  arguments: string;
  serverSide: boolean;
}

type StepToolCall = Extract<RunStep['step_details'], { type: 'tool_calls' }>['tool_calls'][number];

/**
 * Turns one model stream into the run's records as it arrives: a `message_creation` step and its
 * message for text, a `tool_calls` step for function calls, with the delta events the SDKs expect.
 * One step and one message are open at a time, as the SDK's AssistantStream requires.
 */
export class TurnOutput {
  #message: Message | undefined;
  #messageStep: RunStep | undefined;
  #text = '';
  #toolStep: RunStep | undefined;
  readonly #calls: StreamedToolCall[] = [];
  readonly #callPosition = new Map<number, number>();

  constructor(
    readonly recorder: RunRecorder,
    readonly isServerSide: (toolName: string) => boolean = () => false,
  ) {}

  get toolCalls(): readonly StreamedToolCall[] {
    return this.#calls;
  }

  get toolStep(): RunStep | undefined {
    return this.#toolStep;
  }

  get outputText(): string {
    return this.#text + this.#calls.map((call) => call.name + call.arguments).join('');
  }

  async text(delta: string): Promise<void> {
    // Servers open with an empty content delta even before tool calls: that opens no message.
    // Text after the tool calls began cannot open a second message while the tool step is open.
    if (delta === '' || this.#toolStep) return;
    const message = this.#message ?? (await this.#openMessage());
    this.#text += delta;
    this.recorder.publish('thread.message.delta', {
      id: message.id,
      object: 'thread.message.delta',
      delta: { content: [{ index: 0, type: 'text', text: { value: delta, annotations: [] } }] },
    });
  }

  async #openMessage(): Promise<Message> {
    const messageId = newId('message');
    this.#messageStep = await this.recorder.openStep('message_creation', { type: 'message_creation', message_creation: { message_id: messageId } });
    this.#message = await this.recorder.openMessage(messageId);
    return this.#message;
  }

  async toolCall(modelIndex: number, name: string | undefined, argumentsDelta: string | undefined): Promise<void> {
    if (this.#message) await this.closeMessage(null, ZERO_USAGE);
    this.#toolStep ??= await this.recorder.openStep('tool_calls', { type: 'tool_calls', tool_calls: [] });
    let index = this.#callPosition.get(modelIndex);
    if (index === undefined) {
      index = this.#calls.length;
      this.#callPosition.set(modelIndex, index);
      const call: StreamedToolCall = { id: newId('toolCall'), name: name ?? '', arguments: '', serverSide: this.isServerSide(name ?? '') };
      this.#calls.push(call);
      this.#publishToolDelta(
        call.serverSide
          ? { index, id: call.id, type: 'file_search', file_search: {} }
          : { index, id: call.id, type: 'function', function: { name: call.name, arguments: '', output: null } },
      );
    } else if (name) {
      this.#calls[index]!.name += name;
    }
    const call = this.#calls[index]!;
    if (argumentsDelta) {
      call.arguments += argumentsDelta;
      // A hosted tool's query is the server's business; clients see its results when the step completes.
      if (!call.serverSide) this.#publishToolDelta({ index, type: 'function', function: { arguments: argumentsDelta } });
    }
  }

  #publishToolDelta(toolCall: Record<string, unknown>): void {
    this.recorder.publish('thread.run.step.delta', {
      id: this.#toolStep!.id,
      object: 'thread.run.step.delta',
      delta: { step_details: { type: 'tool_calls', tool_calls: [toolCall] } },
    });
  }

  /** Completes the open message (or an empty one, so that every finished turn answers) and its step. */
  async closeMessage(incompleteReason: 'max_tokens' | null, usage: Usage, citations: (text: string) => FileCitation[] = () => []): Promise<void> {
    const open = this.#message ?? (await this.#openMessage());
    await this.recorder.closeMessage(this.#withText(open, citations(this.#text)), incompleteReason);
    await this.recorder.closeStep(this.#messageStep!, 'completed', { usage });
    this.#message = undefined;
    this.#messageStep = undefined;
  }

  /**
   * Stores the text streamed so far on the open message, for a turn cut short (cancel, failure,
   * shutdown): clients have shown it already, and the run's end closes the message with it.
   */
  async keepPartialText(): Promise<void> {
    if (!this.#message) return;
    const { store, projectId } = this.recorder;
    // An expiry may have closed the message meanwhile: its status stays, the text is added.
    const stored = await store.messages.get(projectId, this.#message.id);
    if (stored) await store.messages.update(projectId, this.#withText(stored));
  }

  #withText(message: Message, annotations: FileCitation[] = []): Message {
    return { ...message, content: [{ type: 'text', text: { value: this.#text, annotations } }] };
  }

  /**
   * Stores the complete tool calls on their step, server-side ones with their results; the step
   * stays open until the client's outputs arrive, or until the executor completes it.
   */
  async recordToolCalls(serverResults: Map<string, FileSearchToolCall['file_search']>): Promise<RunStep> {
    const toolCalls = this.#calls.map((call): StepToolCall => {
      const results = serverResults.get(call.id);
      return results
        ? { id: call.id, type: 'file_search', file_search: results }
        : { id: call.id, type: 'function', function: { name: call.name, arguments: call.arguments, output: null } };
    });
    const step = { ...this.#toolStep!, step_details: { type: 'tool_calls' as const, tool_calls: toolCalls } };
    await this.recorder.store.steps.update(this.recorder.projectId, step);
    this.#toolStep = step;
    return step;
  }
}
