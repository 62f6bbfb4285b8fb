import type { VectorStoreFile } from '../spec/wire.js';
import type { VectorStoreFileRef } from '../store/store.js';
import { IngestionError } from '../tools/file-search/extract.js';
import { AUTO_CHUNKING } from '../tools/file-search/chunk.js';
import type { ServiceContext } from './context.js';
import { changeVectorStoreFiles } from './vector-store-tally.js';
import { MAX_TAKEOVERS } from '../store/leases.js';
import { fileBlobKey } from './files.js';

/** Why an ingestion job is stopped from outside; on shutdown the file stays in progress for the next start. */
export type IngestionStopReason = 'shutdown' | 'detached';

export type IngestionDeps = Pick<ServiceContext, 'store' | 'blobs' | 'fileSearch'>;

function failure(error: unknown): NonNullable<VectorStoreFile['last_error']> {
  if (error instanceof IngestionError) return { code: error.code, message: error.message };
  return { code: 'server_error', message: `The file could not be indexed: ${error instanceof Error ? error.message : String(error)}` };
}

type Outcome = Pick<VectorStoreFile, 'status' | 'usage_bytes' | 'last_error'>;

async function indexed(deps: IngestionDeps, file: VectorStoreFile, ref: VectorStoreFileRef, signal: AbortSignal): Promise<Outcome> {
  const meta = await deps.store.files.get(ref.projectId, ref.fileId);
  if (!meta) throw new IngestionError('invalid_file', `The file ${ref.fileId} no longer exists.`);
  const bytes = Buffer.concat(await deps.blobs.read(fileBlobKey(ref.fileId)).toArray());
  const strategy = file.chunking_strategy?.type === 'static' ? file.chunking_strategy.static : undefined;
  const { usageBytes } = await deps.fileSearch.indexFile({
    projectId: ref.projectId,
    vectorStoreId: ref.vectorStoreId,
    fileId: ref.fileId,
    filename: meta.filename,
    bytes,
    chunking: strategy ? { maxChunkSizeTokens: strategy.max_chunk_size_tokens, chunkOverlapTokens: strategy.chunk_overlap_tokens } : AUTO_CHUNKING,
    signal,
  });
  return { status: 'completed', usage_bytes: usageBytes, last_error: null };
}

/**
 * Records the outcome on the file as it is now (its attributes may have changed meanwhile), with the
 * counts of its store and batch; false when the file is no longer in progress.
 */
function record(deps: IngestionDeps, ref: VectorStoreFileRef, outcome: Outcome): Promise<boolean> {
  return changeVectorStoreFiles(deps.store, ref.projectId, ref.vectorStoreId, async (trx) => {
    const recorded = await trx.vectorStoreFiles.modify(ref.projectId, ref.fileId, (file) => (file.status === 'in_progress' ? { ...file, ...outcome } : undefined), {
      vector_store_id: ref.vectorStoreId,
    });
    return recorded !== undefined;
  });
}

/**
 * Indexes one vector store file and records the outcome on it and on its store and batch. A file
 * cancelled or detached meanwhile keeps that state, and whatever was indexed for it is removed.
 * `takeovers` counts the workers that died indexing it: past `MAX_TAKEOVERS` it fails instead,
 * so a file that kills its worker does not take every worker down in turn.
 */
export async function ingestFile(deps: IngestionDeps, ref: VectorStoreFileRef, signal: AbortSignal, takeovers = 0): Promise<void> {
  const file = await deps.store.vectorStoreFiles.get(ref.projectId, ref.fileId, { vector_store_id: ref.vectorStoreId });
  if (file?.status !== 'in_progress') return;
  let outcome: Outcome;
  try {
    if (takeovers > MAX_TAKEOVERS) throw new Error(`the process indexing it stopped ${takeovers} times, so it was given up`);
    outcome = await indexed(deps, file, ref, signal);
  } catch (error) {
    outcome = { status: 'failed', usage_bytes: 0, last_error: failure(error) };
  }
  if (signal.reason === 'shutdown') return;
  if (signal.aborted || !(await record(deps, ref, outcome))) {
    await deps.fileSearch.removeFile(ref.projectId, ref.vectorStoreId, ref.fileId);
  }
}

/** Identifies an ingestion job across processes. */
export function ingestionKey({ projectId, vectorStoreId, fileId }: VectorStoreFileRef): string {
  return `${projectId}/${vectorStoreId}/${fileId}`;
}

/** Queues again every file a previous process left in progress, so ingestion survives a restart. */
export async function recoverIngestion(ctx: Pick<ServiceContext, 'store' | 'ingestion'>): Promise<void> {
  for (const ref of await ctx.store.vectorStoreFilesInProgress()) ctx.ingestion.enqueue(ref);
}
