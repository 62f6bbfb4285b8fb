import type { VectorStore, VectorStoreFileBatch } from '../spec/wire.js';
import type { StatusTally, Store } from '../store/store.js';

type FileCounts = VectorStore['file_counts'];

export function noFiles(): FileCounts {
  return { in_progress: 0, completed: 0, failed: 0, cancelled: 0, total: 0 };
}

function countsOf(tally: StatusTally[]): FileCounts {
  const counts = noFiles();
  for (const { status, files } of tally) {
    counts[status] += files;
    counts.total += files;
  }
  return counts;
}

/** A batch ends when none of its files is left in progress; only a cancel makes it `cancelled`. */
export async function tallyBatch(store: Store, projectId: string, batch: VectorStoreFileBatch): Promise<VectorStoreFileBatch> {
  const fileCounts = countsOf(await store.vectorStoreFileTally(projectId, batch.vector_store_id, batch.id));
  const status = batch.status === 'in_progress' && fileCounts.in_progress === 0 ? 'completed' : batch.status;
  return { ...batch, status, file_counts: fileCounts };
}

/**
 * Brings a vector store's file counts, usage and status, and those of its unfinished batches, in line
 * with its files. In one transaction, so concurrent ingestion jobs cannot write stale counts over newer ones.
 */
export function refreshVectorStore(store: Store, projectId: string, vectorStoreId: string): Promise<void> {
  return store.transaction(async (trx) => {
    const vectorStore = await trx.vectorStores.get(projectId, vectorStoreId);
    if (!vectorStore) return;
    const tally = await trx.vectorStoreFileTally(projectId, vectorStoreId);
    const fileCounts = countsOf(tally);
    await trx.vectorStores.update(projectId, {
      ...vectorStore,
      file_counts: fileCounts,
      usage_bytes: tally.reduce((sum, { usageBytes }) => sum + usageBytes, 0),
      status: fileCounts.in_progress > 0 ? 'in_progress' : 'completed',
    });
    for (const batch of await trx.fileBatches.all(projectId, { vector_store_id: vectorStoreId, status: 'in_progress' })) {
      await trx.fileBatches.update(projectId, await tallyBatch(trx, projectId, batch));
    }
  });
}
