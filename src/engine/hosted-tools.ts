import { basename, extname } from 'node:path';
import type { BlobStore } from '../blobs/blob-store.js';
import { fileBlobKey } from '../services/files.js';
import type { Assistant, Message, OpenAIFile, Run, RunStep, Thread } from '../spec/wire.js';
import type { Store } from '../store/store.js';
import { DATA_DIR, type SandboxFile } from '../tools/code-interpreter/protocol.js';
import { SandboxUnavailable } from '../tools/code-interpreter/interpreters.js';
import type { CodeSession, CodeSessions } from '../tools/code-interpreter/sessions.js';
import {
  CODE_INTERPRETER_TOOL_NAME,
  callLogs,
  type CodeOutput,
  codeInterpreterInstructions,
  codeOf,
  filePathAnnotations,
  hasCodeInterpreter,
  openSandboxLinkStart,
} from '../tools/code-interpreter/tool.js';
import {
  FILE_SEARCH_INSTRUCTIONS,
  FILE_SEARCH_TOOL_NAME,
  type FileSearcher,
  fileCitations,
  type FileSearchResults,
  fileSearchTool,
  openMarkerStart,
  runFileSearch,
  vectorStoreIds,
} from '../tools/file-search/tool.js';
import type { AnswerExtras, HostedTool, StepToolCall, StreamedToolCall, TurnOutput } from './turn-output.js';

export interface HostedToolDeps {
  store: Store;
  blobs: BlobStore;
  fileSearch: FileSearcher;
  codeSessions: CodeSessions;
  /** Stores bytes the code made as a file with purpose `assistants_output`. */
  saveOutputFile(projectId: string, filename: string, bytes: Uint8Array): Promise<OpenAIFile>;
}

const IMAGE_EXTENSIONS = new Set(['.png', '.jpg', '.jpeg', '.gif', '.webp']);

/** What a run's hosted tools see of its assistant and thread. */
interface RunContext {
  projectId: string;
  run: Run;
  assistant: Assistant | undefined;
  thread: Thread | undefined;
}

/** Every file_search call's results in this run, in order: the numbering the model's citations use. */
export function fileSearchResultsOf(steps: RunStep[]): FileSearchResults[] {
  return steps.flatMap((step) =>
    step.step_details.type === 'tool_calls'
      ? step.step_details.tool_calls.flatMap((call) => (call.type === 'file_search' ? [call.file_search.results ?? []] : []))
      : [],
  );
}

/** The files a run's code may open: the assistant's and the thread's, and those attached to messages for it. */
function codeInputFileIds({ assistant, thread }: RunContext, messages: Message[]): string[] {
  const attached = messages.flatMap((message) =>
    (message.attachments ?? []).flatMap((attachment) => (attachment.file_id && attachment.tools?.some((tool) => tool.type === 'code_interpreter') ? [attachment.file_id] : [])),
  );
  return [...new Set([...(assistant?.tool_resources?.code_interpreter?.file_ids ?? []), ...(thread?.tool_resources?.code_interpreter?.file_ids ?? []), ...attached])];
}

/** The tools Stepwise runs itself during a run: file_search and code_interpreter. */
export class HostedTools {
  constructor(readonly deps: HostedToolDeps) {}

  async context(projectId: string, run: Run): Promise<RunContext> {
    const { store } = this.deps;
    // Only the hosted tools read the assistant's and the thread's tool resources.
    if (!fileSearchTool(run) && !hasCodeInterpreter(run)) return { projectId, run, assistant: undefined, thread: undefined };
    return { projectId, run, assistant: await store.assistants.get(projectId, run.assistant_id), thread: await store.threads.get(projectId, run.thread_id) };
  }

  /** Which function names of the model's tool calls are hosted tools, for this run. */
  kindOf(run: Run): (name: string) => HostedTool | undefined {
    const fileSearch = fileSearchTool(run) !== undefined;
    const code = hasCodeInterpreter(run);
    return (name) => (fileSearch && name === FILE_SEARCH_TOOL_NAME ? 'file_search' : code && name === CODE_INTERPRETER_TOOL_NAME ? 'code_interpreter' : undefined);
  }

  /** Instructions the hosted tools add to the system prompt. */
  async instructions(ctx: RunContext, messages: Message[]): Promise<string[]> {
    const lines: string[] = [];
    if (fileSearchTool(ctx.run)) lines.push(FILE_SEARCH_INSTRUCTIONS);
    if (hasCodeInterpreter(ctx.run)) {
      const files: { id: string; filename: string }[] = [];
      for (const fileId of codeInputFileIds(ctx, messages)) {
        const file = await this.deps.store.files.get(ctx.projectId, fileId);
        if (file) files.push({ id: file.id, filename: file.filename });
      }
      lines.push(codeInterpreterInstructions(files));
    }
    return lines;
  }

  /** Runs the hosted calls of one model answer; returns them as their step records them, by call id. */
  async run(ctx: RunContext, output: TurnOutput, messages: Message[], signal: AbortSignal): Promise<Map<string, StepToolCall>> {
    const results = new Map<string, StepToolCall>();
    for (const call of output.toolCalls) {
      if (call.hosted === 'file_search') {
        const fileSearch = await runFileSearch(this.deps.fileSearch, this.deps.store, {
          projectId: ctx.projectId,
          run: ctx.run,
          vectorStoreIds: vectorStoreIds(ctx.assistant, ctx.thread),
          argumentsJson: call.arguments,
          signal,
        });
        results.set(call.id, { id: call.id, type: 'file_search', file_search: fileSearch });
      } else if (call.hosted === 'code_interpreter') {
        const stepCall = await this.#runCode(ctx, call, messages);
        output.publishHostedResult(call.id, stepCall);
        results.set(call.id, stepCall);
      }
    }
    return results;
  }

  async #runCode(ctx: RunContext, call: StreamedToolCall, messages: Message[]): Promise<StepToolCall> {
    const code = codeOf(call.arguments);
    let session: CodeSession;
    try {
      session = await this.deps.codeSessions.get({ projectId: ctx.projectId, threadId: ctx.run.thread_id, runId: ctx.run.id });
    } catch (error) {
      if (!(error instanceof SandboxUnavailable)) throw error;
      return { id: call.id, type: 'code_interpreter', code_interpreter: { input: code, outputs: [{ type: 'logs', logs: error.message }] } };
    }
    const result = await session.run(code, await this.#newInputs(ctx, session, messages));
    const outputs: CodeOutput[] = [];
    for (const [index, png] of result.images.entries()) {
      const saved = await this.deps.saveOutputFile(ctx.projectId, `figure-${index + 1}.png`, png);
      outputs.push({ type: 'image', image: { file_id: saved.id } });
      session.unshownImages.push(saved.id);
    }
    for (const file of result.files) {
      const saved = await this.deps.saveOutputFile(ctx.projectId, basename(file.path), file.bytes);
      session.outputFiles.set(file.path, saved.id);
      if (IMAGE_EXTENSIONS.has(extname(file.path).toLowerCase())) {
        outputs.push({ type: 'image', image: { file_id: saved.id } });
        session.unshownImages.push(saved.id);
      }
    }
    outputs.unshift({ type: 'logs', logs: callLogs(result.logs, result.files.map((file) => file.path)) });
    return { id: call.id, type: 'code_interpreter', code_interpreter: { input: code, outputs } };
  }

  /** Input files not yet copied into this session's sandbox, at `/mnt/data/<file id>`. */
  async #newInputs(ctx: RunContext, session: CodeSession, messages: Message[]): Promise<SandboxFile[]> {
    const inputs: SandboxFile[] = [];
    for (const fileId of codeInputFileIds(ctx, messages)) {
      if (session.writtenInputs.has(fileId) || !(await this.deps.store.files.get(ctx.projectId, fileId))) continue;
      inputs.push({ path: `${DATA_DIR}/${fileId}`, bytes: Buffer.concat(await this.deps.blobs.read(fileBlobKey(fileId)).toArray()) });
      session.writtenInputs.add(fileId);
    }
    return inputs;
  }

  /** What the answer carries: citations of searched passages, links to and images of files the code made. */
  async answerExtras(run: Run, steps: RunStep[]): Promise<AnswerExtras> {
    const searches = fileSearchResultsOf(steps);
    const session = await this.deps.codeSessions.existing(run.thread_id);
    const outputFiles = session?.outputFiles ?? new Map<string, string>();
    // Text is held back only for annotations this run can make, so that other answers stream unhindered.
    const openStarts = [...(searches.length > 0 ? [openMarkerStart] : []), ...(outputFiles.size > 0 ? [openSandboxLinkStart] : [])];
    return {
      annotate: (text) => [...fileCitations(text, searches), ...filePathAnnotations(text, outputFiles)].sort((a, b) => a.start_index - b.start_index),
      openAnnotationStart: (text) => {
        const starts = openStarts.flatMap((openStart) => openStart(text) ?? []);
        return starts.length > 0 ? Math.min(...starts) : undefined;
      },
      takeImageFileIds: () => session?.unshownImages.splice(0) ?? [],
    };
  }
}
