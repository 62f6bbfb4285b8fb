import { unixSeconds } from '../clock.js';
import { invalidRequest, notFound } from '../errors.js';
import { newId } from '../ids.js';
import type { ChunkingStrategyRequest, CreateVectorStoreFileBatchRequest, CreateVectorStoreFileRequest, VectorStoreFile, VectorStoreFileBatch } from '../spec/wire.js';
import type { Filter, Page, PageQuery } from '../store/collection.js';
import type { ServiceContext } from './context.js';
import { existingVectorStore } from './vector-store-access.js';
import { type Attachment, attachFiles, checkFileExists, checkStatusFilter, detachFile, resolveChunking, sharedAttachments } from './vector-store-files.js';
import { changeVectorStoreFiles, noFiles, tallyBatch } from './vector-store-tally.js';

// The generated request type collapses to `unknown` (its `anyOf` has `unknown` branches); this is its object branch.
interface BatchRequest {
  file_ids?: string[];
  files?: CreateVectorStoreFileRequest[];
  chunking_strategy?: ChunkingStrategyRequest;
  attributes?: CreateVectorStoreFileRequest['attributes'];
}

/** The files a batch request names, checked: `file_ids` share one strategy and attributes, `files` carry their own. */
async function batchAttachments(ctx: ServiceContext, projectId: string, params: BatchRequest): Promise<Attachment[]> {
  if (params.file_ids && params.files) throw invalidRequest("Provide either 'file_ids' or 'files', not both.", 'files', 'invalid_value');
  if (params.file_ids) return sharedAttachments(ctx, projectId, params.file_ids, params.chunking_strategy, params.attributes ?? {});
  const attachments = new Map<string, Attachment>();
  for (const [index, file] of (params.files ?? []).entries()) {
    const chunkingStrategy = resolveChunking(file.chunking_strategy, `files[${index}].chunking_strategy`);
    await checkFileExists(ctx, projectId, file.file_id, `files[${index}].file_id`);
    attachments.set(file.file_id, { fileId: file.file_id, chunkingStrategy, attributes: file.attributes ?? {} });
  }
  return [...attachments.values()];
}

export class FileBatches {
  constructor(readonly ctx: ServiceContext) {}

  async create(projectId: string, vectorStoreId: string, params: CreateVectorStoreFileBatchRequest): Promise<VectorStoreFileBatch> {
    await existingVectorStore(this.ctx, projectId, vectorStoreId);
    const attachments = await batchAttachments(this.ctx, projectId, params as BatchRequest);
    const batch: VectorStoreFileBatch = {
      id: newId('fileBatch'),
      object: 'vector_store.files_batch',
      created_at: unixSeconds(this.ctx.clock),
      vector_store_id: vectorStoreId,
      status: 'in_progress',
      file_counts: noFiles(),
    };
    await attachFiles(this.ctx, projectId, vectorStoreId, attachments, batch);
    return this.retrieve(projectId, vectorStoreId, batch.id);
  }

  async retrieve(projectId: string, vectorStoreId: string, batchId: string): Promise<VectorStoreFileBatch> {
    const batch = await this.ctx.store.fileBatches.get(projectId, batchId, { vector_store_id: vectorStoreId });
    if (!batch) throw notFound('vector store file batch', batchId);
    return batch;
  }

  /** Cancels the batch's files still in progress; those already indexed stay. */
  async cancel(projectId: string, vectorStoreId: string, batchId: string): Promise<VectorStoreFileBatch> {
    const batch = await this.retrieve(projectId, vectorStoreId, batchId);
    if (batch.status !== 'in_progress') throw invalidRequest(`Cannot cancel a vector store file batch that is ${batch.status}.`, null, 'invalid_state');
    const pending = await this.ctx.store.vectorStoreFiles.all(projectId, { vector_store_id: vectorStoreId, batch_id: batchId, status: 'in_progress' });
    for (const file of pending) {
      if (await this.ctx.store.vectorStoreFiles.updateIf(projectId, { ...file, status: 'cancelled' }, 'in_progress')) {
        await detachFile(this.ctx, projectId, vectorStoreId, file.id);
      }
    }
    return changeVectorStoreFiles(this.ctx.store, projectId, vectorStoreId, async (trx) => {
      const tally = await trx.vectorStoreFileTally(projectId, vectorStoreId);
      return trx.fileBatches.update(projectId, tallyBatch(tally, { ...batch, status: 'cancelled' }));
    });
  }

  async listFiles(projectId: string, vectorStoreId: string, batchId: string, page: PageQuery, status?: string): Promise<Page<VectorStoreFile>> {
    await this.retrieve(projectId, vectorStoreId, batchId);
    const filter: Filter = { vector_store_id: vectorStoreId, batch_id: batchId };
    const wanted = checkStatusFilter(status);
    if (wanted) filter.status = wanted;
    return this.ctx.store.vectorStoreFiles.list(projectId, filter, page);
  }
}
