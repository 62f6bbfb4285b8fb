import pg from 'pg';
import { ulid } from 'ulid';

/**
 * Where the suite runs on PostgreSQL: STEPWISE_TEST_DATABASE_URL names a server (any database on
 * it); each harness gets a throwaway database there. Unset: the suite runs on SQLite.
 */
export const TEST_DATABASE_URL = process.env.STEPWISE_TEST_DATABASE_URL || undefined;

export interface ThrowawayDatabase {
  url: string;
  drop(): Promise<void>;
}

async function onServer<T>(serverUrl: string, work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: serverUrl });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

export async function createThrowawayDatabase(serverUrl: string): Promise<ThrowawayDatabase> {
  const name = `stepwise_test_${ulid().toLowerCase()}`;
  await onServer(serverUrl, (client) => client.query(`CREATE DATABASE ${name}`));
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: () => onServer(serverUrl, (client) => client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)).then(() => undefined),
  };
}
