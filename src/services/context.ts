import type { RawBuilder } from 'kysely';
import type { BlobStore } from '../blobs/blob-store.js';
import type { Clock } from '../clock.js';
import type { StepwiseConfig } from '../config.js';
import type { EventBus } from '../events.js';
import type { Message, Run } from '../spec/wire.js';
import type { Store, VectorStoreFileRef } from '../store/store.js';
import type { FileSearchIndex } from '../tools/file-search/index.js';

/** Why a run's execution is stopped from outside; the executor ends the run to match. */
export type AbortReason = 'cancelled' | 'expired' | 'deleted';

/**
 * What the request that created a run holds of it, so an executor in the same process need not read
 * it back: the run as stored and, for a run on a thread created with it, the thread's messages.
 */
export interface CreatedRun {
  run: Run;
  messages?: Message[];
  /** Stored already `in_progress`, into the execution slot `RunScheduler.reserve` held for it. */
  started?: boolean;
}

/** What the run executor offers the services: start a run's next turn, or stop one in flight. */
export interface RunScheduler {
  enqueue(projectId: string, runId: string, created?: CreatedRun): void;
  /**
   * A scheduler whose queue is in the store's database: the SQL that makes the stored run known
   * to its workers, for the statement that stores it (`Store.insertAll`), instead of `enqueue`
   * after it.
   */
  queueing?(runId: string): RawBuilder<unknown>;
  /**
   * A scheduler whose queue is the store's runs table: the columns that keep a new run from its
   * workers until `enqueue`, for a run that must wait before it executes (its attachments added).
   */
  holding?(): Record<string, string | number>;
  /**
   * A scheduler that executes runs in this process: holds one of its execution slots for the run
   * `runId` about to be created, when one is free (an abort of the run already reaches it). The run
   * is then stored already `in_progress`, which spares the write that would start it, and its
   * `enqueue` executes it in the slot; `release` frees the slot when the creation fails instead.
   */
  reserve?(runId: string): boolean;
  release?(runId: string): void;
  /** Aborts the run's execution wherever it runs; false when no live execution holds the run. */
  abort(runId: string, reason: AbortReason): Promise<boolean>;
}

/** What the ingestion queue offers the services: index a vector store file in the background, or stop doing so. */
export interface IngestionScheduler {
  enqueue(file: VectorStoreFileRef): void;
  /** Stops indexing the file in this process, if it is being (or waiting to be) indexed. */
  abort(file: VectorStoreFileRef): void;
}

export interface ServiceContext {
  store: Store;
  clock: Clock;
  bus: EventBus;
  scheduler: RunScheduler;
  blobs: BlobStore;
  config: StepwiseConfig;
  fileSearch: FileSearchIndex;
  ingestion: IngestionScheduler;
}
