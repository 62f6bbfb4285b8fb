import { appendFileSync } from 'node:fs';
import pg from 'pg';
const file = process.env.SCRATCH_TRACE!;
const name = process.env.SCRATCH_NAME;
const query = pg.Client.prototype.query;
pg.Client.prototype.query = function (this: pg.Client, ...args: unknown[]) {
  const text = typeof args[0] === 'string' ? args[0] : (args[0] as { text?: string })?.text ?? '?';
  appendFileSync(file, `${name} ${(this as any).processID} ${text.replace(/\s+/g, ' ').slice(0, 90)}\n`);
  return (query as (...a: unknown[]) => unknown).apply(this, args);
} as typeof pg.Client.prototype.query;
