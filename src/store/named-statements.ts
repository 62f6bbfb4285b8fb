import type { CompiledQuery, PostgresPool, PostgresPoolClient } from 'kysely';
import type pg from 'pg';

/**
 * SQL texts sent to PostgreSQL as named (prepared) statements: a connection has the server parse
 * and plan such a text once, and later executions send only its parameters. By pg_stat_statements
 * the server spent almost as long planning Stepwise's small statements as executing them.
 */
const names = new Map<string, string>();

/**
 * Each connection keeps its named statements, on both ends, until it closes, so only texts from a
 * set the code bounds are named: those of few parameters. A multi-row insert's text grows with
 * its rows, which a client chooses (the messages of a new thread).
 */
const MAX_NAMED_PARAMETERS = 64;

/**
 * Errors of a named statement the server no longer has as the client knows it: a migration changed
 * a column it returns, or a pooler dropped it. The client keeps the name, so the connection is
 * closed instead of reused.
 */
const STALE_STATEMENT = new Set(['0A000', '26000']);

/** Sends the query's text by name from now on (when it qualifies); for texts that run often. */
export function nameStatement({ sql, parameters }: Pick<CompiledQuery, 'sql' | 'parameters'>): void {
  if (parameters.length <= MAX_NAMED_PARAMETERS && !names.has(sql)) names.set(sql, `stepwise_${names.size + 1}`);
}

/** The pool as Kysely uses it, with named texts sent by name. */
export function namingPool(pool: pg.Pool): PostgresPool {
  const clients = new WeakMap<pg.PoolClient, PostgresPoolClient>();
  const naming = (client: pg.PoolClient): PostgresPoolClient => {
    let stale = false;
    return {
      // Kysely calls the cursor overload only to stream, with a cursor class it is not given here.
      query: (async (text: string, parameters: readonly unknown[]) => {
        const name = names.get(text);
        const values = [...parameters];
        try {
          return await client.query(name === undefined ? { text, values } : { name, text, values });
        } catch (error) {
          if (name !== undefined && STALE_STATEMENT.has((error as { code?: string }).code ?? '')) stale = true;
          throw error;
        }
      }) as unknown as PostgresPoolClient['query'],
      release: () => client.release(stale),
    };
  };
  return {
    async connect() {
      const client = await pool.connect();
      let named = clients.get(client);
      if (!named) clients.set(client, (named = naming(client)));
      return named;
    },
    end: () => pool.end(),
  };
}
