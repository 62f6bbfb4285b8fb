import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { changeVectorStoreFiles, noFiles } from '../src/services/vector-store-tally.js';
import type { VectorStore, VectorStoreFile, VectorStoreFileBatch } from '../src/spec/wire.js';
import { Store } from '../src/store/store.js';
import { openTestDatabase, type TestDatabase } from './support/test-database.js';

const PROJECT = 'proj_counts';
const FILES = 30;

let database: TestDatabase;
let store: Store;

before(async () => {
  database = await openTestDatabase();
  store = new Store(database.db);
});

after(() => database.close());

/** A store with a batch of files in progress, as `attachFiles` leaves them. */
async function storeWithBatch(round: number): Promise<{ vectorStoreId: string; batchId: string; files: VectorStoreFile[] }> {
  const vectorStoreId = `vs_${round}`;
  const batchId = `vsfb_${round}`;
  const vectorStore: VectorStore = {
    id: vectorStoreId,
    object: 'vector_store',
    created_at: 1,
    name: '',
    usage_bytes: 0,
    file_counts: noFiles(),
    status: 'in_progress',
    last_active_at: 1,
    metadata: {},
    expires_at: null,
  };
  await store.vectorStores.insert(PROJECT, vectorStore);
  const batch: VectorStoreFileBatch = { id: batchId, object: 'vector_store.files_batch', created_at: 1, vector_store_id: vectorStoreId, status: 'in_progress', file_counts: noFiles() };
  await store.fileBatches.insert(PROJECT, batch);
  const files = Array.from({ length: FILES }, (_, i): VectorStoreFile => ({
    id: `file_${i}`,
    object: 'vector_store.file',
    usage_bytes: 0,
    created_at: 1,
    vector_store_id: vectorStoreId,
    status: 'in_progress',
    last_error: null,
    attributes: {},
  }));
  for (const file of files) {
    await store.vectorStoreFiles.insert(PROJECT, file);
    await store.setVectorStoreFileBatch({ projectId: PROJECT, vectorStoreId, fileId: file.id }, batchId);
  }
  return { vectorStoreId, batchId, files };
}

test('files finishing side by side: whenever the batch reads completed, so does its store, and the final counts are exact', async () => {
  for (let round = 0; round < 20; round++) {
    const { vectorStoreId, batchId, files } = await storeWithBatch(round);
    let finished = false;
    // Reads as a client polling the batch would, then the store, while the files finish.
    const watcher = (async () => {
      while (!finished) {
        const batch = await store.fileBatches.get(PROJECT, batchId);
        if (batch?.status !== 'completed') continue;
        const vectorStore = await store.vectorStores.get(PROJECT, vectorStoreId);
        assert.equal(vectorStore?.status, 'completed', `round ${round}: the batch completed before its store`);
        return;
      }
    })();
    await Promise.all(
      files.map((file) => changeVectorStoreFiles(store, PROJECT, vectorStoreId, (trx) => trx.vectorStoreFiles.update(PROJECT, { ...file, status: 'completed', usage_bytes: 10 }))),
    );
    finished = true;
    await watcher;
    const vectorStore = await store.vectorStores.get(PROJECT, vectorStoreId);
    assert.equal(vectorStore?.status, 'completed');
    assert.deepEqual(vectorStore?.file_counts, { in_progress: 0, completed: FILES, failed: 0, cancelled: 0, total: FILES });
    assert.equal(vectorStore?.usage_bytes, FILES * 10);
    assert.deepEqual((await store.fileBatches.get(PROJECT, batchId))?.file_counts, vectorStore?.file_counts);
  }
});
