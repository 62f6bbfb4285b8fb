import { unixSeconds } from '../clock.js';
import { notFound } from '../errors.js';
import { newId } from '../ids.js';
import type { CreateVectorStoreRequest, UpdateVectorStoreRequest, VectorStore, VectorStoreSearchRequest, VectorStoreSearchResultsPage } from '../spec/wire.js';
import type { Page, PageQuery } from '../store/collection.js';
import type { ServiceContext } from './context.js';
import { checkMetadata } from './validation.js';
import { changeVectorStore, existingVectorStore, expiresAt, presented } from './vector-store-access.js';
import { attachFiles, detachFile, sharedAttachments } from './vector-store-files.js';
import { searchVectorStore } from './vector-store-search.js';
import { noFiles, refreshVectorStore } from './vector-store-tally.js';

/**
 * Detaches a deleted file from every vector store holding it: its rows, its chunks, and the counts
 * of those stores. The Files service calls it when a file is deleted.
 */
export async function removeFileFromAllVectorStores(ctx: ServiceContext, projectId: string, fileId: string): Promise<void> {
  for (const { vector_store_id: vectorStoreId } of await ctx.store.vectorStoreFiles.all(projectId, { id: fileId })) {
    await ctx.store.vectorStoreFiles.deleteWhere(projectId, { vector_store_id: vectorStoreId, id: fileId });
    await detachFile(ctx, projectId, vectorStoreId, fileId);
    await refreshVectorStore(ctx.store, projectId, vectorStoreId);
  }
}

export class VectorStores {
  constructor(readonly ctx: ServiceContext) {}

  async create(projectId: string, params: CreateVectorStoreRequest): Promise<VectorStore> {
    checkMetadata(params.metadata);
    const attachments = await sharedAttachments(this.ctx, projectId, params.file_ids ?? [], params.chunking_strategy, {});
    const now = unixSeconds(this.ctx.clock);
    const vectorStore: VectorStore = {
      id: newId('vectorStore'),
      object: 'vector_store',
      created_at: now,
      name: params.name ?? '',
      usage_bytes: 0,
      file_counts: noFiles(),
      status: 'completed',
      ...(params.expires_after && { expires_after: params.expires_after }),
      expires_at: expiresAt(params.expires_after, now),
      last_active_at: now,
      metadata: params.metadata ?? {},
    };
    await this.ctx.store.vectorStores.insert(projectId, vectorStore);
    if (attachments.length > 0) await attachFiles(this.ctx, projectId, vectorStore.id, attachments);
    return this.retrieve(projectId, vectorStore.id);
  }

  retrieve(projectId: string, vectorStoreId: string): Promise<VectorStore> {
    return existingVectorStore(this.ctx, projectId, vectorStoreId);
  }

  async update(projectId: string, vectorStoreId: string, params: UpdateVectorStoreRequest): Promise<VectorStore> {
    checkMetadata(params.metadata);
    const updated = await changeVectorStore(this.ctx, projectId, vectorStoreId, (vectorStore) => {
      const changed = { ...vectorStore };
      if (params.name !== undefined) changed.name = params.name ?? '';
      if (params.metadata !== undefined) changed.metadata = params.metadata ?? {};
      if (params.expires_after !== undefined) {
        // null removes the expiry policy.
        delete changed.expires_after;
        if (params.expires_after) changed.expires_after = params.expires_after;
        changed.expires_at = expiresAt(params.expires_after, vectorStore.last_active_at ?? vectorStore.created_at);
      }
      return changed;
    });
    return presented(updated, unixSeconds(this.ctx.clock));
  }

  async delete(projectId: string, vectorStoreId: string): Promise<{ id: string; object: 'vector_store.deleted'; deleted: true }> {
    if (!(await this.ctx.store.vectorStores.get(projectId, vectorStoreId))) throw notFound('vector store', vectorStoreId);
    for (const file of await this.ctx.store.vectorStoreFiles.all(projectId, { vector_store_id: vectorStoreId, status: 'in_progress' })) {
      this.ctx.ingestion.abort({ projectId, vectorStoreId, fileId: file.id });
    }
    await this.ctx.store.transaction(async (trx) => {
      // The store's row before its files' rows, the order every count refresh takes them in.
      await trx.vectorStores.getForUpdate(projectId, vectorStoreId);
      await trx.vectorStoreFiles.deleteWhere(projectId, { vector_store_id: vectorStoreId });
      await trx.fileBatches.deleteWhere(projectId, { vector_store_id: vectorStoreId });
      await trx.vectorStores.delete(projectId, vectorStoreId);
    });
    await this.ctx.fileSearch.removeStore(projectId, vectorStoreId);
    return { id: vectorStoreId, object: 'vector_store.deleted', deleted: true };
  }

  async list(projectId: string, page: PageQuery): Promise<Page<VectorStore>> {
    const result = await this.ctx.store.vectorStores.list(projectId, {}, page);
    const now = unixSeconds(this.ctx.clock);
    return { ...result, data: result.data.map((vectorStore) => presented(vectorStore, now)) };
  }

  search(projectId: string, vectorStoreId: string, params: VectorStoreSearchRequest): Promise<VectorStoreSearchResultsPage> {
    return searchVectorStore(this.ctx, projectId, vectorStoreId, params);
  }
}
