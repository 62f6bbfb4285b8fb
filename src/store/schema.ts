import type { Generated } from 'kysely';

/**
 * Every API object is stored as its wire representation (`data`, JSON text) plus the columns that
 * queries filter on. Every row belongs to a project.
 */
interface DocumentRow {
  id: string;
  project_id: string;
  created_at: number;
  data: string;
}

export interface ThreadChildRow extends DocumentRow {
  thread_id: string;
}

export interface MessageRow extends ThreadChildRow {
  run_id: string | null;
}

export interface RunRow extends ThreadChildRow {
  status: string;
  expires_at: number | null;
  pending_usage: string | null;
  /** Text the model streamed after the tool calls the run waits on; it becomes a message once their outputs arrive. */
  pending_text: string | null;
  /** The worker process executing the run (PostgreSQL deployments), and until when (epoch ms). */
  lease_owner: string | null;
  lease_expires_at: number | null;
  lease_takeovers: Generated<number>;
}

export interface RunStepRow extends ThreadChildRow {
  run_id: string;
}

export interface FileRow extends DocumentRow {
  purpose: string;
  expires_at: number | null;
}

export interface StatusRow extends DocumentRow {
  status: string;
}

export interface UploadPartRow extends DocumentRow {
  upload_id: string;
}

export interface VectorStoreRow extends StatusRow {
  expires_at: number | null;
}

export interface VectorStoreChildRow extends StatusRow {
  vector_store_id: string;
}

export interface VectorStoreFileRow extends VectorStoreChildRow {
  /** The batch that attached the file, if one did. */
  batch_id: string | null;
  /** The worker process indexing the file (PostgreSQL deployments), until when (epoch ms), how often taken over. */
  lease_owner: string | null;
  lease_expires_at: number | null;
  lease_takeovers: Generated<number>;
}

/** One piece of a file's text in one vector store, as file_search retrieves it. */
export interface ChunkRow {
  id: Generated<number>;
  project_id: string;
  vector_store_id: string;
  file_id: string;
  chunk_index: number;
  text: string;
  token_count: number;
  /** float32 vector; null when the file was indexed without an embedding model. */
  embedding: Buffer | null;
}

/** A key of one project; only the SHA-256 of its secret is kept. */
export interface ApiKeyRow {
  id: string;
  project_id: string;
  name: string;
  hash: string;
  /** The secret's first characters, to tell keys apart in listings. */
  prefix: string;
  created_at: number;
  revoked_at: number | null;
}

export interface Database {
  assistants: DocumentRow;
  threads: DocumentRow;
  messages: MessageRow;
  runs: RunRow;
  run_steps: RunStepRow;
  files: FileRow;
  uploads: StatusRow;
  upload_parts: UploadPartRow;
  vector_stores: VectorStoreRow;
  vector_store_files: VectorStoreFileRow;
  file_batches: VectorStoreChildRow;
  chunks: ChunkRow;
  api_keys: ApiKeyRow;
  /** Maintained by the migrator; declared so the type is complete. */
  kysely_migration: { name: string; timestamp: Generated<string> };
}
