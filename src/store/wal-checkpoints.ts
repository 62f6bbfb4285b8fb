import { Worker } from 'node:worker_threads';
import type SQLite from 'better-sqlite3';

/** How often the background thread copies the WAL back into the database file. */
const CHECKPOINT_INTERVAL_MS = 200;
/** SQLite's own default: a checkpoint by the committing connection once the WAL has this many pages. */
const AUTOCHECKPOINT_PAGES = 1000;

const workerFile = new URL(`./checkpoint-worker${import.meta.url.endsWith('.ts') ? '.ts' : '.js'}`, import.meta.url);

/**
 * Moves WAL checkpoints off the connection that serves requests. SQLite otherwise checkpoints inside
 * whichever commit fills the WAL past its limit: that commit then copies every page back into the
 * database file and syncs it, holding up the event loop for milliseconds while the runs in flight
 * wait. A worker thread checkpoints instead, every 200 ms; a page that many runs touched in between
 * is copied once. Should the thread fail, the connection checkpoints for itself again.
 * Returns what stops the thread.
 */
export function checkpointInBackground(sqlite: SQLite.Database): () => void {
  sqlite.pragma('wal_autocheckpoint = 0');
  const worker = new Worker(workerFile, { workerData: { file: sqlite.name, intervalMs: CHECKPOINT_INTERVAL_MS } });
  worker.unref();
  let stopping = false;
  const fallBack = () => {
    if (!stopping && sqlite.open) sqlite.pragma(`wal_autocheckpoint = ${AUTOCHECKPOINT_PAGES}`);
  };
  worker.on('error', (error) => {
    console.error('[stepwise] the SQLite checkpoint thread failed; checkpoints run on commit again', error);
    fallBack();
  });
  worker.on('exit', fallBack);
  return () => {
    stopping = true;
    worker.postMessage('stop');
  };
}
