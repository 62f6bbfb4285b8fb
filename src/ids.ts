import { randomFillSync } from 'node:crypto';
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

// ulid's own generator asks the system for one random byte per character of every id; this one
// draws them from a buffer filled by the same cryptographic source a few thousand at a time.
const randomBytes = Buffer.alloc(4096);
let nextByte = randomBytes.length;

/** A fraction in [0, 1) in steps of 1/256, which ulid maps onto its 32 characters evenly. */
function pooledRandom(): number {
  if (nextByte === randomBytes.length) {
    randomFillSync(randomBytes);
    nextByte = 0;
  }
  return randomBytes[nextByte++]! / 256;
}

const nextUlid = monotonicFactory(pooledRandom);

export function newId(kind: IdKind): string {
  return ID_PREFIX[kind] + nextUlid().toLowerCase();
}
