import type { CreateVectorStoreRequest } from '../spec/wire.js';
import type { ServiceContext } from './context.js';
import { type ChunkingRequest, checkFileExists } from './vector-store-files.js';
import { VectorStores } from './vector-stores.js';

interface VectorStoreHelper {
  file_ids?: string[];
  chunking_strategy?: ChunkingRequest;
  metadata?: CreateVectorStoreRequest['metadata'];
}

interface ToolResourcesRequest {
  code_interpreter?: { file_ids?: string[] };
  file_search?: { vector_store_ids?: string[]; vector_stores?: VectorStoreHelper[] };
}

/**
 * Turns the `file_search.vector_stores` helper into real vector stores (created and filled with
 * those files) and lists them with the `vector_store_ids`, as stored tool resources only name ids.
 * Call it before any transaction: creating a store takes the database itself.
 */
export async function resolveToolResources<T extends ToolResourcesRequest | null | undefined>(ctx: ServiceContext, projectId: string, toolResources: T): Promise<T> {
  const helpers = toolResources?.file_search?.vector_stores;
  if (!toolResources?.file_search || !helpers) return toolResources;
  const { vector_stores: _helpers, ...fileSearch } = toolResources.file_search;
  for (const [index, helper] of helpers.entries()) {
    for (const fileId of helper.file_ids ?? []) await checkFileExists(ctx, projectId, fileId, `tool_resources.file_search.vector_stores[${index}].file_ids`);
  }
  const created: string[] = [];
  for (const helper of helpers) {
    const vectorStore = await new VectorStores(ctx).create(projectId, {
      file_ids: helper.file_ids ?? [],
      // The generated request type garbles this union's discriminator; the shape is the same.
      ...(helper.chunking_strategy && { chunking_strategy: helper.chunking_strategy as unknown as CreateVectorStoreRequest['chunking_strategy'] }),
      ...(helper.metadata && { metadata: helper.metadata }),
    });
    created.push(vectorStore.id);
  }
  return { ...toolResources, file_search: { ...fileSearch, vector_store_ids: [...(fileSearch.vector_store_ids ?? []), ...created] } };
}
