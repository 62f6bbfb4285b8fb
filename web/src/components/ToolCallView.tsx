import type OpenAI from 'openai';
import { prettyJson } from '../format';
import { Code } from './Code';
import { FileImage } from './FileContent';
import { SearchResults } from './SearchResults';

type ToolCall = OpenAI.Beta.Threads.Runs.ToolCall;

function FileSearchResults({ call }: { call: OpenAI.Beta.Threads.Runs.FileSearchToolCall }) {
  const results = call.file_search.results ?? [];
  const query = (call.file_search as { query?: string }).query;
  return (
    <>
      {query && <p>Query: <q>{query}</q></p>}
      {results.length === 0 ? (
        <p><small>No results.</small></p>
      ) : (
        <SearchResults results={results.map((result) => ({ fileId: result.file_id, fileName: result.file_name, score: result.score, passages: (result.content ?? []).map((piece) => piece.text ?? '') }))} />
      )}
    </>
  );
}

export function ToolCallView({ call }: { call: ToolCall }) {
  switch (call.type) {
    case 'function':
      return (
        <div class="tool-call" data-tool="function">
          <p><strong>function</strong> <code class="function-name">{call.function.name}</code></p>
          <div class="grid-2">
            <div>
              <small>arguments</small>
              <Code code={prettyJson(call.function.arguments)} language="json" />
            </div>
            <div>
              <small>output</small>
              {call.function.output === null ? <p><small>waiting for output</small></p> : <pre class="tool-output">{call.function.output}</pre>}
            </div>
          </div>
        </div>
      );
    case 'file_search':
      return (
        <div class="tool-call" data-tool="file_search">
          <p><strong>file_search</strong></p>
          <FileSearchResults call={call} />
        </div>
      );
    case 'code_interpreter':
      return (
        <div class="tool-call" data-tool="code_interpreter">
          <p><strong>code_interpreter</strong></p>
          <Code code={call.code_interpreter.input} language="python" />
          {call.code_interpreter.outputs.map((output) =>
            output.type === 'logs' ? <pre class="tool-output logs">{output.logs}</pre> : <FileImage fileId={output.image.file_id} />,
          )}
        </div>
      );
  }
}
