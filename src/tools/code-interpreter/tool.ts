import type { ChatCompletionFunctionTool } from 'openai/resources/chat/completions';
import type { components } from '../../spec/openapi-types.js';
import type { Run, Tool } from '../../spec/wire.js';
import { DATA_DIR } from './protocol.js';

export type CodeInterpreterCall = components['schemas']['RunStepDetailsToolCallsCodeObject'];
export type CodeOutput = CodeInterpreterCall['code_interpreter']['outputs'][number];
export type FilePathAnnotation = components['schemas']['MessageContentTextAnnotationsFilePathObject'];

export const CODE_INTERPRETER_TOOL_NAME = 'code_interpreter';

/** How the model sees the hosted tool: a function that takes Python code. */
export const CODE_INTERPRETER_FUNCTION: ChatCompletionFunctionTool = {
  type: 'function',
  function: {
    name: CODE_INTERPRETER_TOOL_NAME,
    description:
      'Runs Python code in a sandbox, like a notebook cell, and returns what it printed and the value of its last expression. Variables and files persist between calls in this thread.',
    parameters: { type: 'object', properties: { code: { type: 'string', description: 'The Python code to run.' } }, required: ['code'] },
  },
};

export function hasCodeInterpreter(run: Run): boolean {
  return run.tools.some((tool: Tool) => tool.type === 'code_interpreter');
}

/** What the model is told about the sandbox and the files it can open there. */
export function codeInterpreterInstructions(files: { id: string; filename: string }[]): string {
  const listing = files.length === 0 ? 'No files are attached.' : `Attached files: ${files.map((file) => `${DATA_DIR}/${file.id} (uploaded as ${file.filename})`).join(', ')}.`;
  return [
    `The code_interpreter tool runs Python 3 with numpy, pandas, matplotlib, scipy, scikit-learn, openpyxl, python-docx, pillow, sympy, seaborn, tabulate and pypdf (no network), with files in ${DATA_DIR}. ${listing}`,
    'Figures shown with plt.show() or left open at the end of a call come back as images.',
    `Save files you create in ${DATA_DIR}; to offer one for download, write its path as sandbox:${DATA_DIR}/<name> in your answer.`,
  ].join(' ');
}

export function codeOf(argumentsJson: string): string {
  try {
    const parsed = JSON.parse(argumentsJson) as { code?: unknown };
    if (typeof parsed.code === 'string') return parsed.code;
  } catch {
    // Some models send the code itself rather than JSON: run it as sent.
  }
  return argumentsJson;
}

/** The logs of a call, with a line naming the files it wrote, which the model may link to. */
export function callLogs(logs: string, writtenPaths: string[]): string {
  return writtenPaths.length === 0 ? logs : `${logs}${logs && !logs.endsWith('\n') ? '\n' : ''}[files written: ${writtenPaths.join(', ')}]`;
}

/** What the model reads back from a call. */
export function codeOutputForModel(outputs: CodeOutput[]): string {
  return outputs.flatMap((output) => (output.type === 'logs' ? [output.logs] : [])).join('\n') || '(no output)';
}

/**
 * Decodes the `code` string of a `{"code": "..."}` arguments object as its JSON streams in, so
 * that clients see the code as it is generated, not only once the call is complete.
 */
export class StreamedCodeInput {
  #raw = '';
  /** Where decoding resumes; -1 until the opening of the code string has arrived. */
  #decodedUpTo = -1;
  #done = false;

  /** Feeds an arguments fragment; returns the code text it completed (possibly empty). */
  push(fragment: string): string {
    this.#raw += fragment;
    if (this.#done) return '';
    if (this.#decodedUpTo < 0) {
      const opening = /\{\s*"code"\s*:\s*"/.exec(this.#raw);
      if (!opening) return '';
      this.#decodedUpTo = opening.index + opening[0].length;
    }
    let text = '';
    let at = this.#decodedUpTo;
    while (at < this.#raw.length) {
      const char = this.#raw[at]!;
      if (char === '"') {
        this.#done = true;
        break;
      }
      if (char !== '\\') {
        text += char;
        at += 1;
        continue;
      }
      // An escape may be cut by the fragment boundary: wait for the rest of it.
      const escapeLength = this.#raw[at + 1] === 'u' ? 6 : 2;
      if (at + escapeLength > this.#raw.length) break;
      text += JSON.parse(`"${this.#raw.slice(at, at + escapeLength)}"`) as string;
      at += escapeLength;
    }
    this.#decodedUpTo = at;
    return text;
  }
}

const SANDBOX_LINK = /sandbox:(\/mnt\/data\/[^\s)\]"'>]+)/g;
const OPEN_SANDBOX_LINK = /sandbox:\/mnt\/data\/[^\s)\]"'>]*$/;
const SANDBOX_LINK_PREFIX = `sandbox:${DATA_DIR}/`;

/** Where a sandbox link that more text could still extend begins, at the end of `text`; undefined when none does. */
export function openSandboxLinkStart(text: string): number | undefined {
  const link = OPEN_SANDBOX_LINK.exec(text);
  if (link) return link.index;
  for (let length = Math.min(SANDBOX_LINK_PREFIX.length - 1, text.length); length > 0; length--) {
    if (text.endsWith(SANDBOX_LINK_PREFIX.slice(0, length))) return text.length - length;
  }
  return undefined;
}

/** `file_path` annotations for the `sandbox:/mnt/data/...` links the model wrote to files the code made. */
export function filePathAnnotations(text: string, filesByPath: ReadonlyMap<string, string>): FilePathAnnotation[] {
  const annotations: FilePathAnnotation[] = [];
  for (const match of text.matchAll(SANDBOX_LINK)) {
    const fileId = filesByPath.get(match[1]!);
    if (!fileId) continue;
    annotations.push({ type: 'file_path', text: match[0], file_path: { file_id: fileId }, start_index: match.index, end_index: match.index + match[0].length });
  }
  return annotations;
}
