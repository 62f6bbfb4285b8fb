import PQueue from 'p-queue';
import type { IngestionScheduler } from '../services/context.js';
import { type IngestionDeps, type IngestionStopReason, ingestFile } from '../services/ingestion.js';
import type { VectorStoreFileRef } from '../store/store.js';

function keyOf({ projectId, vectorStoreId, fileId }: VectorStoreFileRef): string {
  return `${projectId}/${vectorStoreId}/${fileId}`;
}

/** Indexes vector store files in the background, a few at a time (extraction and embedding are heavy). */
export class IngestionQueue implements IngestionScheduler {
  readonly #queue: PQueue;
  readonly #controllers = new Map<string, AbortController>();

  constructor(
    readonly deps: IngestionDeps,
    concurrency: number,
    readonly log: (message: string, error?: unknown) => void,
  ) {
    this.#queue = new PQueue({ concurrency });
  }

  enqueue(ref: VectorStoreFileRef): void {
    const key = keyOf(ref);
    const controller = new AbortController();
    this.#controllers.set(key, controller);
    void this.#queue.add(async () => {
      try {
        if (!controller.signal.aborted) await ingestFile(this.deps, ref, controller.signal);
      } catch (error) {
        this.log(`vector store file ${key}: ingestion error`, error);
      } finally {
        if (this.#controllers.get(key) === controller) this.#controllers.delete(key);
      }
    });
  }

  abort(ref: VectorStoreFileRef): void {
    this.#stop(keyOf(ref), 'detached');
  }

  #stop(key: string, reason: IngestionStopReason): void {
    this.#controllers.get(key)?.abort(reason);
  }

  /** Stops every job; files left in progress are queued again at the next start. */
  async close(): Promise<void> {
    for (const key of [...this.#controllers.keys()]) this.#stop(key, 'shutdown');
    this.#queue.clear();
    await this.#queue.onIdle();
  }
}
