import type { IngestionScheduler } from '../services/context.js';
import { type IngestionDeps, type IngestionStopReason, ingestFile, ingestionKey } from '../services/ingestion.js';
import type { VectorStoreFileRef } from '../store/store.js';
import { AbortableQueue } from './abortable-queue.js';

/** Indexes vector store files in the background, a few at a time (extraction and embedding are heavy). */
export class IngestionQueue implements IngestionScheduler {
  readonly #jobs: AbortableQueue<IngestionStopReason>;

  constructor(
    readonly deps: IngestionDeps,
    concurrency: number,
    log: (message: string, error?: unknown) => void,
  ) {
    this.#jobs = new AbortableQueue(concurrency, log);
  }

  enqueue(ref: VectorStoreFileRef): void {
    this.#jobs.add(ingestionKey(ref), async (signal) => {
      if (!signal.aborted) await ingestFile(this.deps, ref, signal);
    });
  }

  abort(ref: VectorStoreFileRef): void {
    this.#jobs.abort(ingestionKey(ref), 'detached');
  }

  /** Stops every job; files left in progress are queued again at the next start. */
  close(): Promise<void> {
    return this.#jobs.close('shutdown');
  }
}
