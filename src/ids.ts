import { monotonicFactory } from 'ulid';

/** The OpenAI id prefixes; the ULID suffix sorts by creation time, so pagination is a range scan on id. */
export const ID_PREFIX = {
  assistant: 'asst_',
  thread: 'thread_',
  message: 'msg_',
  run: 'run_',
  step: 'step_',
  toolCall: 'call_',
  file: 'file-',
  upload: 'upload_',
  uploadPart: 'part_',
  vectorStore: 'vs_',
  fileBatch: 'vsfb_',
  apiKey: 'key_',
} as const;

export type IdKind = keyof typeof ID_PREFIX;

const nextUlid = monotonicFactory();

export function newId(kind: IdKind): string {
  return ID_PREFIX[kind] + nextUlid().toLowerCase();
}
