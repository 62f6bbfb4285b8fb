import type SQLite from 'better-sqlite3';
import { startWorker } from '../threads/start-worker.js';

/** How often the background thread copies the WAL back into the database file. */
const CHECKPOINT_INTERVAL_MS = 100;

/**
 * Takes most of the WAL checkpoint work off the connection that serves requests. SQLite
 * checkpoints inside whichever commit fills the WAL past 1000 pages: that commit copies the pages
 * back into the database file and syncs it while the event loop and every run in flight wait. A
 * worker thread copies them as they come instead (PASSIVE: never holding the writer up), so that
 * commit finds only the last 100 ms of pages left to copy. The serving connection still makes that
 * last checkpoint itself, after which its next commit starts the WAL over: a PASSIVE checkpoint
 * beside a steady writer never ends with the WAL all copied, which starting over needs.
 * Returns what stops the thread.
 */
export function checkpointInBackground(sqlite: SQLite.Database): () => void {
  const worker = startWorker(import.meta.url, 'checkpoint-worker', { workerData: { file: sqlite.name, intervalMs: CHECKPOINT_INTERVAL_MS } });
  worker.unref();
  let stopped = false;
  // Without the thread the connection's own checkpoints do all the work, as they would anyway. A
  // database closed (and perhaps removed) before the thread got to open it is no failure.
  worker.on('error', (error) => stopped || console.error('[stepwise] the SQLite checkpoint thread failed', error));
  return () => {
    stopped = true;
    worker.postMessage('stop');
  };
}
