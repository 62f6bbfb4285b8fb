/** One ranked chunk, from a vector store search or a file_search step. */
export interface RankedResult {
  fileId: string;
  fileName: string;
  score: number;
  passages: string[];
}

export function SearchResults({ results }: { results: RankedResult[] }) {
  return (
    <ol class="search-results">
      {results.map((result) => (
        <li class="search-result">
          <div class="result-head">
            <strong title={result.fileId}>{result.fileName}</strong>
            <span class="score">score {result.score.toFixed(3)}</span>
          </div>
          {result.passages.map((text) => <blockquote class="passage">{text}</blockquote>)}
        </li>
      ))}
    </ol>
  );
}
