import { invalidRequest } from '../errors.js';
import type { VectorStoreSearchRequest, VectorStoreSearchResultsPage } from '../spec/wire.js';
import { attributeFilter, matchesFilter } from './attribute-filter.js';
import type { ServiceContext } from './context.js';
import { existingVectorStore, touchVectorStore } from './vector-store-access.js';
import type { FileAttributes } from './vector-store-files.js';

const DEFAULT_MAX_RESULTS = 10;

/** Searches one vector store; with `filters`, only its completed files whose attributes pass them. */
export async function searchVectorStore(
  ctx: ServiceContext,
  projectId: string,
  vectorStoreId: string,
  params: Partial<VectorStoreSearchRequest> & Pick<VectorStoreSearchRequest, 'query'>,
): Promise<VectorStoreSearchResultsPage> {
  const vectorStore = await existingVectorStore(ctx, projectId, vectorStoreId);
  if (vectorStore.status === 'expired') throw invalidRequest(`Vector store ${vectorStoreId} has expired and can no longer be searched.`, null, 'vector_store_expired');
  const queries = typeof params.query === 'string' ? [params.query] : params.query;

  const filter = params.filters && attributeFilter(params.filters);
  const fileIds = filter && (await ctx.store.vectorStoreFiles.all(projectId, { vector_store_id: vectorStoreId, status: 'completed' }))
    .filter((file) => matchesFilter(file.attributes ?? {}, filter))
    .map((file) => file.id);
  const hits = await ctx.fileSearch.search({
    projectId,
    vectorStoreIds: [vectorStoreId],
    query: queries.join('\n'),
    maxResults: params.max_num_results ?? DEFAULT_MAX_RESULTS,
    scoreThreshold: params.ranking_options?.score_threshold ?? 0,
    ...(fileIds && { fileIds }),
  });
  await touchVectorStore(ctx, projectId, vectorStoreId);

  const described = new Map<string, { filename: string; attributes: FileAttributes }>();
  for (const fileId of new Set(hits.map((hit) => hit.fileId))) {
    const file = await ctx.store.vectorStoreFiles.get(projectId, fileId, { vector_store_id: vectorStoreId });
    const meta = await ctx.store.files.get(projectId, fileId);
    described.set(fileId, { filename: meta?.filename ?? fileId, attributes: file?.attributes ?? {} });
  }
  return {
    object: 'vector_store.search_results.page',
    search_query: queries,
    data: hits.map((hit) => ({
      file_id: hit.fileId,
      filename: described.get(hit.fileId)?.filename ?? hit.fileId,
      score: hit.score,
      attributes: described.get(hit.fileId)?.attributes ?? {},
      content: [{ type: 'text', text: hit.text }],
    })),
    has_more: false,
    next_page: null,
  };
}
