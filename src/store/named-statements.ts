import type { PostgresPool, PostgresPoolClient } from 'kysely';
import type pg from 'pg';

/**
 * SQL texts sent to PostgreSQL as named (prepared) statements: a connection has the server parse
 * and plan such a text once, and later executions send only its parameters. By pg_stat_statements
 * the server spent almost as long planning Stepwise's small statements as executing them. Only
 * texts from a set the code bounds are named (a query shape's, a claim's), since each connection
 * keeps its named statements, on both ends, until it closes.
 */
const names = new Map<string, string>();

export function nameStatement(text: string): void {
  if (!names.has(text)) names.set(text, `stepwise_${names.size + 1}`);
}

/** The pool as Kysely uses it, with named texts sent by name. */
export function namingPool(pool: pg.Pool): PostgresPool {
  const clients = new WeakMap<pg.PoolClient, PostgresPoolClient>();
  const naming = (client: pg.PoolClient): PostgresPoolClient => ({
    // Kysely calls the cursor overload only to stream, with a cursor class it is not given here.
    query: ((text: string, parameters: readonly unknown[]) => {
      const name = names.get(text);
      const values = [...parameters];
      return client.query(name === undefined ? { text, values } : { name, text, values });
    }) as unknown as PostgresPoolClient['query'],
    release: () => client.release(),
  });
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
