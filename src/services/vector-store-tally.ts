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
export function tallyBatch(tally: StatusTally[], batch: VectorStoreFileBatch): VectorStoreFileBatch {
  const fileCounts = countsOf(tally.filter(({ batchId }) => batchId === batch.id));
  const status = batch.status === 'in_progress' && fileCounts.in_progress === 0 ? 'completed' : batch.status;
  return { ...batch, status, file_counts: fileCounts };
}

/**
 * Applies `change` to a vector store's files, then brings the store's file counts, usage and status,
 * and those of its unfinished batches, in line with them; all in one transaction that holds the
 * store's row from the start. So changes and counts commit together, and concurrent refreshes run
 * one after another, each counting every change committed before it. To avoid deadlocks, every
 * transaction that holds a store's row and its files' rows takes the store's first.
 */
export function changeVectorStoreFiles<T>(store: Store, projectId: string, vectorStoreId: string, change: (trx: Store) => Promise<T>): Promise<T> {
  return store.transaction(async (trx) => {
    const vectorStore = await trx.vectorStores.getForUpdate(projectId, vectorStoreId);
    const result = await change(trx);
    if (!vectorStore) return result;
    const tally = await trx.vectorStoreFileTally(projectId, vectorStoreId);
    const fileCounts = countsOf(tally);
    await trx.vectorStores.update(projectId, {
      ...vectorStore,
      file_counts: fileCounts,
      usage_bytes: tally.reduce((sum, { usageBytes }) => sum + usageBytes, 0),
      status: fileCounts.in_progress > 0 ? 'in_progress' : 'completed',
    });
    for (const batch of await trx.fileBatches.all(projectId, { vector_store_id: vectorStoreId, status: 'in_progress' })) {
      await trx.fileBatches.update(projectId, tallyBatch(tally, batch));
    }
    return result;
  });
}

/** Brings a vector store's counts in line with its files after they changed elsewhere. */
export function refreshVectorStore(store: Store, projectId: string, vectorStoreId: string): Promise<void> {
  return changeVectorStoreFiles(store, projectId, vectorStoreId, async () => undefined);
}
