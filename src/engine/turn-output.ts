import { newId } from '../ids.js';
import type { FunctionToolCall, Message, RunStep, Usage } from '../spec/wire.js';
import { type RunRecorder, ZERO_USAGE } from './recorder.js';

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
  readonly #calls: FunctionToolCall[] = [];
  readonly #callPosition = new Map<number, number>();

  constructor(readonly recorder: RunRecorder) {}

  get toolCalls(): readonly FunctionToolCall[] {
    return this.#calls;
  }

  get toolStep(): RunStep | undefined {
    return this.#toolStep;
  }

  get outputText(): string {
    return this.#text + this.#calls.map((call) => call.function.name + call.function.arguments).join('');
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
      const call: FunctionToolCall = { id: newId('toolCall'), type: 'function', function: { name: name ?? '', arguments: '', output: null } };
      this.#calls.push(call);
      this.#publishToolDelta({ index, id: call.id, type: 'function', function: { ...call.function } });
    } else if (name) {
      this.#calls[index]!.function.name += name;
    }
    if (argumentsDelta) {
      this.#calls[index]!.function.arguments += argumentsDelta;
      this.#publishToolDelta({ index, type: 'function', function: { arguments: argumentsDelta } });
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
  async closeMessage(incompleteReason: 'max_tokens' | null, usage: Usage): Promise<void> {
    const open = this.#message ?? (await this.#openMessage());
    await this.recorder.closeMessage(this.#withText(open), incompleteReason);
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

  #withText(message: Message): Message {
    return { ...message, content: [{ type: 'text', text: { value: this.#text, annotations: [] } }] };
  }

  /** Stores the complete tool calls on their step, which stays open until the outputs arrive. */
  async recordToolCalls(): Promise<void> {
    const step = { ...this.#toolStep!, step_details: { type: 'tool_calls' as const, tool_calls: [...this.#calls] } };
    await this.recorder.store.steps.update(this.recorder.projectId, step);
    this.#toolStep = step;
  }
}
