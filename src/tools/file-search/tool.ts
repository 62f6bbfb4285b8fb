import { setTimeout as sleep } from 'node:timers/promises';
import type { ChatCompletionFunctionTool } from 'openai/resources/chat/completions';
import type { Assistant, FileCitation, FileSearchToolCall, Run, Thread, Tool } from '../../spec/wire.js';
import type { Store } from '../../store/store.js';

/** The slice of the retrieval index the file_search tool needs. */
export interface FileSearcher {
  search(input: {
    projectId: string;
    vectorStoreIds: string[];
    query: string;
    maxResults: number;
    scoreThreshold: number;
  }): Promise<{ fileId: string; text: string; score: number }[]>;
}

export type FileSearchResults = NonNullable<FileSearchToolCall['file_search']['results']>;

export const FILE_SEARCH_TOOL_NAME = 'file_search';
const DEFAULT_MAX_RESULTS = 20;
const RANKER = 'default_2024_08_21';

/** How the model sees the hosted tool: a function it calls with a query. */
export const FILE_SEARCH_FUNCTION: ChatCompletionFunctionTool = {
  type: 'function',
  function: {
    name: FILE_SEARCH_TOOL_NAME,
    description: "Searches the files attached to this assistant and conversation. Returns the passages most relevant to the query, each under a citation marker.",
    parameters: { type: 'object', properties: { query: { type: 'string', description: 'What to look for, in a few words.' } }, required: ['query'] },
  },
};

export const FILE_SEARCH_INSTRUCTIONS =
  'When your answer uses a passage returned by file_search, cite it by copying the marker printed above the passage (like 【0:1†notes.txt】) right after the statement it supports.';

export function fileSearchTool(run: Run): Extract<Tool, { type: 'file_search' }> | undefined {
  return run.tools.find((tool): tool is Extract<Tool, { type: 'file_search' }> => tool.type === 'file_search');
}

/** The vector stores a run searches: the assistant's and the thread's. */
export function vectorStoreIds(assistant: Assistant | undefined, thread: Thread | undefined): string[] {
  const ids = [...(assistant?.tool_resources?.file_search?.vector_store_ids ?? []), ...(thread?.tool_resources?.file_search?.vector_store_ids ?? [])];
  return [...new Set(ids)];
}

function queryOf(argumentsJson: string): string {
  try {
    const parsed = JSON.parse(argumentsJson) as { query?: unknown; queries?: unknown };
    if (typeof parsed.query === 'string') return parsed.query;
    if (Array.isArray(parsed.queries)) return parsed.queries.filter((query) => typeof query === 'string').join(' ');
  } catch {
    // A model that sends plain text instead of JSON still gets a search for that text.
  }
  return argumentsJson;
}

const INGESTION_WAIT_MS = 60_000;
const INGESTION_POLL_MS = 50;

/**
 * Files attached just before a run (message attachments, a new store) may still be indexing; the
 * search waits for them, for a bounded time, so that the answer does not miss them.
 */
async function indexingDone(store: Store, projectId: string, vectorStoreIds: string[], signal: AbortSignal): Promise<void> {
  const deadline = Date.now() + INGESTION_WAIT_MS;
  for (const vectorStoreId of vectorStoreIds) {
    while (Date.now() < deadline && (await store.vectorStoreFiles.all(projectId, { vector_store_id: vectorStoreId, status: 'in_progress' })).length > 0) {
      await sleep(INGESTION_POLL_MS, undefined, { signal });
    }
  }
}

/** Runs one file_search call of the model and returns it as the step records it. */
export async function runFileSearch(
  searcher: FileSearcher,
  store: Store,
  input: { projectId: string; run: Run; vectorStoreIds: string[]; argumentsJson: string; signal: AbortSignal },
): Promise<FileSearchToolCall['file_search']> {
  await indexingDone(store, input.projectId, input.vectorStoreIds, input.signal);
  const tool = fileSearchTool(input.run);
  const scoreThreshold = tool?.file_search?.ranking_options?.score_threshold ?? 0;
  const hits = input.vectorStoreIds.length === 0
    ? []
    : await searcher.search({
        projectId: input.projectId,
        vectorStoreIds: input.vectorStoreIds,
        query: queryOf(input.argumentsJson),
        maxResults: tool?.file_search?.max_num_results ?? DEFAULT_MAX_RESULTS,
        scoreThreshold,
      });
  const results: FileSearchResults = [];
  for (const hit of hits) {
    const file = await store.files.get(input.projectId, hit.fileId);
    results.push({ file_id: hit.fileId, file_name: file?.filename ?? hit.fileId, score: hit.score, content: [{ type: 'text', text: hit.text }] });
  }
  return { ranking_options: { ranker: RANKER, score_threshold: scoreThreshold }, results };
}

function marker(callIndex: number, resultIndex: number, fileName: string): string {
  return `【${callIndex}:${resultIndex}†${fileName}】`;
}

/** The tool output the model reads: every passage under the marker it cites it with. */
export function resultsForModel(callIndex: number, results: FileSearchResults): string {
  if (results.length === 0) return 'No passages in the attached files match this query.';
  return results
    .map((result, index) => `${marker(callIndex, index, result.file_name)}\n${result.content?.map((part) => part.text).join('\n') ?? ''}`)
    .join('\n\n');
}

// File names hold no control characters, so a marker never spans lines: a stray 【 holds back at most its line.
const MARKER = /【(\d+):(\d+)†[^】\n]*】/g;
const OPEN_MARKER = /【\d*(?::\d*(?:†[^】\n]*)?)?$/;

/** Where a marker that more text could still complete begins, at the end of `text`; undefined when none does. */
export function openMarkerStart(text: string): number | undefined {
  return OPEN_MARKER.exec(text)?.index;
}

/** `file_citation` annotations for the markers the model copied into its answer. */
export function fileCitations(text: string, calls: FileSearchResults[]): FileCitation[] {
  const citations: FileCitation[] = [];
  for (const match of text.matchAll(MARKER)) {
    const result = calls[Number(match[1])]?.[Number(match[2])];
    if (!result) continue;
    citations.push({
      type: 'file_citation',
      text: match[0],
      file_citation: { file_id: result.file_id },
      start_index: match.index,
      end_index: match.index + match[0].length,
    });
  }
  return citations;
}

/** Result passages go out only when `include[]` asks for them, as on the hosted API. */
export function withoutResultContent<T extends { step_details: unknown }>(step: T): T {
  const details = step.step_details as { type: string; tool_calls?: { type: string; file_search?: { results?: FileSearchResults } }[] };
  if (details.type !== 'tool_calls' || !details.tool_calls?.some((call) => call.type === 'file_search')) return step;
  const toolCalls = details.tool_calls.map((call) =>
    call.type === 'file_search' && call.file_search?.results
      ? { ...call, file_search: { ...call.file_search, results: call.file_search.results.map(({ content: _content, ...rest }) => rest) } }
      : call,
  );
  return { ...step, step_details: { ...details, tool_calls: toolCalls } };
}
