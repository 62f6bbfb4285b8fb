import type { Chunk, ChunkingOptions } from './chunk.js';
import type { IngestionErrorCode } from './extract.js';

/** Main thread to a prepare worker: one file to turn into chunks. */
export interface PrepareRequest {
  filename: string;
  bytes: Uint8Array;
  chunking: ChunkingOptions;
}

/** A prepare worker's answer: the file's chunks, or why it has none (`code` only for an `IngestionError`). */
export type PrepareReply = { chunks: Chunk[] } | { error: { code?: IngestionErrorCode; message: string } };
