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
}

export interface RunStepRow extends ThreadChildRow {
  run_id: string;
}

export interface Database {
  assistants: DocumentRow;
  threads: DocumentRow;
  messages: MessageRow;
  runs: RunRow;
  run_steps: RunStepRow;
  /** Maintained by the migrator; declared so the type is complete. */
  kysely_migration: { name: string; timestamp: Generated<string> };
}
