import { unixSeconds } from '../clock.js';
import { invalidRequest, notFound } from '../errors.js';
import type {
  ChunkingStrategyRequest,
  CreateVectorStoreFileRequest,
  UpdateVectorStoreFileAttributesRequest,
  VectorStoreFile,
  VectorStoreFileBatch,
  VectorStoreFileContentPage,
} from '../spec/wire.js';
import type { Filter, Page, PageQuery } from '../store/collection.js';
import { AUTO_CHUNKING, chunkingViolation } from '../tools/file-search/chunk.js';
import type { ServiceContext } from './context.js';
import { existingVectorStore, touchVectorStore } from './vector-store-access.js';
import { refreshVectorStore } from './vector-store-tally.js';

export type FileAttributes = NonNullable<VectorStoreFile['attributes']>;
type ChunkingStrategy = NonNullable<VectorStoreFile['chunking_strategy']>;
// The generated request type loses the `type` enums of its branches; this restores them.
export type ChunkingRequest = { type: 'auto' } | Extract<ChunkingStrategy, { type: 'static' }>;

/** A file to attach, checked and resolved. */
export interface Attachment {
  fileId: string;
  chunkingStrategy: ChunkingStrategy;
  attributes: FileAttributes;
}

const VECTOR_STORE_FILE_STATUSES: readonly VectorStoreFile['status'][] = ['in_progress', 'completed', 'failed', 'cancelled'];

/** The strategy a file is indexed with; `auto` is recorded as the static sizes it stands for. */
export function resolveChunking(request: ChunkingStrategyRequest | undefined, param: string): ChunkingStrategy {
  const requested = request as ChunkingRequest | undefined;
  if (requested?.type !== 'static') {
    return { type: 'static', static: { max_chunk_size_tokens: AUTO_CHUNKING.maxChunkSizeTokens, chunk_overlap_tokens: AUTO_CHUNKING.chunkOverlapTokens } };
  }
  const { max_chunk_size_tokens: max, chunk_overlap_tokens: overlap } = requested.static;
  const violation = chunkingViolation({ maxChunkSizeTokens: max, chunkOverlapTokens: overlap });
  if (violation) throw invalidRequest(`Invalid '${param}': ${violation}.`, param, 'invalid_value');
  return { type: 'static', static: { max_chunk_size_tokens: max, chunk_overlap_tokens: overlap } };
}

export async function checkFileExists(ctx: ServiceContext, projectId: string, fileId: string, param: string): Promise<void> {
  if (!(await ctx.store.files.get(projectId, fileId))) throw notFound('file', fileId, param);
}

/** A `file_ids` list, checked, every file with the same strategy and attributes. */
export async function sharedAttachments(
  ctx: ServiceContext,
  projectId: string,
  fileIds: string[],
  chunking: ChunkingStrategyRequest | undefined,
  attributes: FileAttributes,
): Promise<Attachment[]> {
  const chunkingStrategy = resolveChunking(chunking, 'chunking_strategy');
  const unique = [...new Set(fileIds)];
  for (const fileId of unique) await checkFileExists(ctx, projectId, fileId, 'file_ids');
  return unique.map((fileId) => ({ fileId, chunkingStrategy, attributes }));
}

export function checkStatusFilter(filter: string | undefined): VectorStoreFile['status'] | undefined {
  if (filter === undefined || (VECTOR_STORE_FILE_STATUSES as readonly string[]).includes(filter)) return filter as VectorStoreFile['status'] | undefined;
  throw invalidRequest(`Invalid value for 'filter': expected one of ${VECTOR_STORE_FILE_STATUSES.map((s) => `'${s}'`).join(', ')}, got '${filter}'.`, 'filter', 'invalid_value');
}

/**
 * Attaches checked files to a vector store and queues their indexing. A file already in the store
 * keeps its state (it is indexed once), but joins the batch, if one attaches it. The batch is stored
 * with its files, so no count refresh can see it empty and call it completed.
 */
export async function attachFiles(ctx: ServiceContext, projectId: string, vectorStoreId: string, attachments: Attachment[], batch?: VectorStoreFileBatch): Promise<void> {
  const createdAt = unixSeconds(ctx.clock);
  const queued: string[] = [];
  await ctx.store.transaction(async (trx) => {
    if (batch) await trx.fileBatches.insert(projectId, batch);
    for (const { fileId, chunkingStrategy, attributes } of attachments) {
      if (!(await trx.vectorStoreFiles.get(projectId, fileId, { vector_store_id: vectorStoreId }))) {
        await trx.vectorStoreFiles.insert(projectId, {
          id: fileId,
          object: 'vector_store.file',
          usage_bytes: 0,
          created_at: createdAt,
          vector_store_id: vectorStoreId,
          status: 'in_progress',
          last_error: null,
          chunking_strategy: chunkingStrategy,
          attributes,
        });
        queued.push(fileId);
      }
      if (batch) await trx.setVectorStoreFileBatch({ projectId, vectorStoreId, fileId }, batch.id);
    }
  });
  for (const fileId of queued) ctx.ingestion.enqueue({ projectId, vectorStoreId, fileId });
  await touchVectorStore(ctx, projectId, vectorStoreId);
  await refreshVectorStore(ctx.store, projectId, vectorStoreId);
}

/** Stops indexing a file in a store and removes what it indexed; its row is the caller's to change. */
export async function detachFile(ctx: ServiceContext, projectId: string, vectorStoreId: string, fileId: string): Promise<void> {
  ctx.ingestion.abort({ projectId, vectorStoreId, fileId });
  await ctx.fileSearch.removeFile(projectId, vectorStoreId, fileId);
}

export class VectorStoreFiles {
  constructor(readonly ctx: ServiceContext) {}

  async create(projectId: string, vectorStoreId: string, params: CreateVectorStoreFileRequest): Promise<VectorStoreFile> {
    await existingVectorStore(this.ctx, projectId, vectorStoreId);
    const chunkingStrategy = resolveChunking(params.chunking_strategy, 'chunking_strategy');
    await checkFileExists(this.ctx, projectId, params.file_id, 'file_id');
    await attachFiles(this.ctx, projectId, vectorStoreId, [{ fileId: params.file_id, chunkingStrategy, attributes: params.attributes ?? {} }]);
    // Read back: a small file may already be indexed.
    return this.retrieve(projectId, vectorStoreId, params.file_id);
  }

  async retrieve(projectId: string, vectorStoreId: string, fileId: string): Promise<VectorStoreFile> {
    const file = await this.ctx.store.vectorStoreFiles.get(projectId, fileId, { vector_store_id: vectorStoreId });
    if (!file) throw notFound('vector store file', fileId);
    return file;
  }

  async update(projectId: string, vectorStoreId: string, fileId: string, params: UpdateVectorStoreFileAttributesRequest): Promise<VectorStoreFile> {
    const changed = await this.ctx.store.vectorStoreFiles.modify(projectId, fileId, (file) => ({ ...file, attributes: params.attributes ?? {} }), { vector_store_id: vectorStoreId });
    if (!changed) throw notFound('vector store file', fileId);
    return changed;
  }

  async delete(projectId: string, vectorStoreId: string, fileId: string): Promise<{ id: string; object: 'vector_store.file.deleted'; deleted: true }> {
    await this.retrieve(projectId, vectorStoreId, fileId);
    await this.ctx.store.vectorStoreFiles.deleteWhere(projectId, { vector_store_id: vectorStoreId, id: fileId });
    await detachFile(this.ctx, projectId, vectorStoreId, fileId);
    await refreshVectorStore(this.ctx.store, projectId, vectorStoreId);
    return { id: fileId, object: 'vector_store.file.deleted', deleted: true };
  }

  async list(projectId: string, vectorStoreId: string, page: PageQuery, status?: string): Promise<Page<VectorStoreFile>> {
    await existingVectorStore(this.ctx, projectId, vectorStoreId);
    const filter: Filter = { vector_store_id: vectorStoreId };
    const wanted = checkStatusFilter(status);
    if (wanted) filter.status = wanted;
    return this.ctx.store.vectorStoreFiles.list(projectId, filter, page);
  }

  async content(projectId: string, vectorStoreId: string, fileId: string): Promise<VectorStoreFileContentPage> {
    await this.retrieve(projectId, vectorStoreId, fileId);
    const chunks = await this.ctx.fileSearch.fileChunks(projectId, vectorStoreId, fileId);
    return { object: 'vector_store.file_content.page', data: chunks.map((text) => ({ type: 'text', text })), has_more: false, next_page: null };
  }
}
