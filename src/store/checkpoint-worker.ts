import { parentPort, workerData } from 'node:worker_threads';
import SQLite from 'better-sqlite3';

const { file, intervalMs } = workerData as { file: string; intervalMs: number };

// A connection of its own for the thread, used for nothing but checkpoints. PASSIVE copies what it
// can without holding up the writer, which goes on appending to the WAL meanwhile.
const database = new SQLite(file, { fileMustExist: true });
const timer = setInterval(() => database.pragma('wal_checkpoint(PASSIVE)'), intervalMs);

parentPort!.once('message', () => {
  clearInterval(timer);
  database.close();
  parentPort!.close();
});
