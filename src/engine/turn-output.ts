import { newId } from '../ids.js';
import type { Message, MessageContent, RunStep, Usage } from '../spec/wire.js';
import { StreamedCodeInput } from '../tools/code-interpreter/tool.js';
import { type RunRecorder, type TurnEnd, ZERO_USAGE } from './recorder.js';
import { type Annotator, StreamedText, type TextRelease } from './streamed-text.js';

/** The tools Stepwise runs itself; the model calls them as functions of the same name. */
export type HostedTool = 'file_search' | 'code_interpreter';

/** A tool call as the model streams it; `hosted` calls are run by Stepwise, not by the client. */
export interface StreamedToolCall {
  /** The model's own id when it gave one (it goes back to the model in later prompts), else ours. */
  id: string;
  name: string;
  arguments: string;
  hosted: HostedTool | undefined;
  /** For code_interpreter: the code, decoded as its JSON streams in. */
  codeInput?: StreamedCodeInput;
}

export type StepToolCall = Extract<RunStep['step_details'], { type: 'tool_calls' }>['tool_calls'][number];
/** What an answer carries besides its text: annotations found in it, images the run's tools made for it. */
export interface AnswerExtras extends Annotator {
  /** The images no message shows yet; the message that takes them shows them before its text. */
  takeImageFileIds(): string[];
}

/** For text no tool result can annotate, such as what a model wrote after its tool calls. */
const NO_EXTRAS: AnswerExtras = { annotate: () => [], openAnnotationStart: () => undefined, takeImageFileIds: () => [] };

function openingDelta(index: number, call: StreamedToolCall): Record<string, unknown> {
  switch (call.hosted) {
    case 'file_search':
      return { index, id: call.id, type: 'file_search', file_search: {} };
    case 'code_interpreter':
      return { index, id: call.id, type: 'code_interpreter', code_interpreter: { input: '', outputs: [] } };
    case undefined:
      return { index, id: call.id, type: 'function', function: { name: call.name, arguments: '', output: null } };
  }
}

/** Records `text` as a complete message with its step, as a model answer streamed in one piece. */
export async function recordTextMessage(recorder: RunRecorder, text: string): Promise<void> {
  const output = new TurnOutput(recorder);
  await output.text(text);
  await output.closeMessage(null, ZERO_USAGE);
}

/**
 * Turns one model stream into the run's records as it arrives: a `message_creation` step and its
 * message for text, a `tool_calls` step for function calls, with the delta events the SDKs expect.
 * One step and one message are open at a time, as the SDK's AssistantStream requires, so text the
 * model streams after its tool calls waits for the tool step and becomes a message of its own.
 * A message's deltas add up to the message it completes with: its images, then its text with the
 * annotations, each part at its index, since SDKs build the message from the deltas alone.
 */
export class TurnOutput {
  #message: Message | undefined;
  #messageStep: RunStep | undefined;
  #images: MessageContent[] = [];
  /** The open message's text. */
  readonly #text: StreamedText;
  #textAfterCalls = '';
  #allText = '';
  #toolStep: RunStep | undefined;
  readonly #calls: StreamedToolCall[] = [];

  constructor(
    readonly recorder: RunRecorder,
    readonly hostedTool: (toolName: string) => HostedTool | undefined = () => undefined,
    readonly extras: AnswerExtras = NO_EXTRAS,
  ) {
    this.#text = new StreamedText(extras);
  }

  get toolCalls(): readonly StreamedToolCall[] {
    return this.#calls;
  }

  get toolStep(): RunStep | undefined {
    return this.#toolStep;
  }

  /** Text the model streamed after its tool calls: it waits for the tool step's end (recordTextMessage). */
  get textAfterToolCalls(): string {
    return this.#textAfterCalls;
  }

  get outputText(): string {
    return this.#allText + this.#calls.map((call) => call.name + call.arguments).join('');
  }

  async text(delta: string): Promise<void> {
    // Servers open with an empty content delta even before tool calls: that opens no message.
    if (delta === '') return;
    this.#allText += delta;
    if (this.#toolStep) this.#textAfterCalls += delta;
    else await this.#appendText(delta);
  }

  async #appendText(delta: string): Promise<void> {
    const message = this.#message ?? (await this.#openMessage());
    const release = this.#text.push(delta);
    if (release.value) this.#publishText(message.id, release);
  }

  async #openMessage(): Promise<Message> {
    const { step, message } = await this.recorder.openMessageWithStep(newId('message'));
    this.#messageStep = step;
    this.#message = message;
    this.#images = this.extras.takeImageFileIds().map((fileId) => ({ type: 'image_file', image_file: { file_id: fileId, detail: 'auto' } }));
    this.#images.forEach((image, index) => this.#publishContent(message.id, { index, ...image }));
    return message;
  }

  #publishText(messageId: string, { value, annotations }: TextRelease): void {
    this.#publishContent(messageId, { index: this.#images.length, type: 'text', text: { value, annotations } });
  }

  #publishContent(messageId: string, part: Record<string, unknown>): void {
    this.recorder.publish('thread.message.delta', { id: messageId, object: 'thread.message.delta', delta: { content: [part] } });
  }

  /** A piece of the call at `index` (its position in the answer, as the provider assembled it). */
  async toolCall(index: number, modelId: string | undefined, name: string | undefined, argumentsDelta: string | undefined): Promise<void> {
    if (this.#message) await this.closeMessage(null, ZERO_USAGE);
    this.#toolStep ??= await this.recorder.openStep('tool_calls', { type: 'tool_calls', tool_calls: [] });
    let call = this.#calls[index];
    if (!call) {
      const hosted = this.hostedTool(name ?? '');
      call = { id: modelId ?? newId('toolCall'), name: name ?? '', arguments: '', hosted, ...(hosted === 'code_interpreter' && { codeInput: new StreamedCodeInput() }) };
      this.#calls.push(call);
      this.#publishToolDelta(openingDelta(index, call));
    } else if (name && !call.name) {
      call.name = name;
    }
    if (!argumentsDelta) return;
    call.arguments += argumentsDelta;
    if (call.hosted === undefined) this.#publishToolDelta({ index, type: 'function', function: { arguments: argumentsDelta } });
    // Code streams to clients as it is written; a search query is the server's business.
    const code = call.codeInput?.push(argumentsDelta);
    if (code) this.#publishToolDelta({ index, type: 'code_interpreter', code_interpreter: { input: code } });
  }

  /** Tells clients what a hosted call produced, before its step completes. */
  publishHostedResult(callId: string, stepCall: StepToolCall): void {
    const index = this.#calls.findIndex((call) => call.id === callId);
    if (stepCall.type !== 'code_interpreter') return;
    // Delta arrays address their entries by index, as the SDK's stream accumulator requires.
    const outputs = stepCall.code_interpreter.outputs.map((output, position) => ({ index: position, ...output }));
    this.#publishToolDelta({ index, type: 'code_interpreter', code_interpreter: { outputs } });
  }

  #publishToolDelta(toolCall: Record<string, unknown>): void {
    this.recorder.publish('thread.run.step.delta', {
      id: this.#toolStep!.id,
      object: 'thread.run.step.delta',
      delta: { step_details: { type: 'tool_calls', tool_calls: [toolCall] } },
    });
  }

  /**
   * Completes the open message (or an empty one, so that every finished turn answers) and its step,
   * and with `end`, the run too, in the same write.
   */
  async closeMessage(incompleteReason: 'max_tokens' | 'content_filter' | null, usage: Usage, end?: TurnEnd): Promise<void> {
    const open = this.#message ?? (await this.#openMessage());
    const rest = this.#text.end();
    // An empty answer still streams its (empty) text part, which the completed message holds.
    if (rest.value || !this.#text.released.value) this.#publishText(open.id, rest);
    if (end) {
      await this.recorder.closeTurn({ messageId: open.id, incompleteReason, content: this.#content(), step: this.#messageStep!, stepUsage: usage, end });
    } else {
      await this.recorder.closeMessage(open.id, incompleteReason, this.#content());
      await this.recorder.closeStep(this.#messageStep!, 'completed', { usage });
    }
    this.#message = undefined;
    this.#messageStep = undefined;
  }

  /**
   * Stores the content streamed so far on the open message, for a turn cut short (cancel, failure,
   * shutdown): clients have shown it already, and the run's end closes the message with it.
   */
  async keepPartialContent(): Promise<void> {
    if (!this.#message) return;
    const { store, projectId } = this.recorder;
    // An expiry (from any process) may close the message meanwhile: its status stays, the text is added.
    await store.messages.modify(projectId, this.#message.id, (stored) => ({ ...stored, content: this.#content() }));
  }

  #content(): MessageContent[] {
    return [...this.#images, { type: 'text', text: this.#text.released }];
  }

  /**
   * Stores the complete tool calls on their step, server-side ones with their results; the step
   * stays open until the client's outputs arrive, or until the executor completes it.
   */
  async recordToolCalls(hostedCalls: ReadonlyMap<string, StepToolCall>): Promise<RunStep> {
    const toolCalls = this.#calls.map(
      (call): StepToolCall => hostedCalls.get(call.id) ?? { id: call.id, type: 'function', function: { name: call.name, arguments: call.arguments, output: null } },
    );
    const step = { ...this.#toolStep!, step_details: { type: 'tool_calls' as const, tool_calls: toolCalls } };
    await this.recorder.store.steps.update(this.recorder.projectId, step);
    this.#toolStep = step;
    return step;
  }
}
