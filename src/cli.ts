#!/usr/bin/env node
import './require-node.js';
import { existsSync } from 'node:fs';
import { UI_DIR } from './api/ui.js';
import type { Role } from './cluster/cluster-runtime.js';
import { loadConfig } from './config.js';
import { KEYS_USAGE, keysCommand } from './keys-command.js';
import { startStepwise } from './server.js';
import { migrateToLatest, openDatabase } from './store/database.js';

const USAGE = `usage: stepwise <command>

  serve [--role api|worker|all]
            start the API server (PORT, default 8080; data in STEPWISE_DATA_DIR, default ./data);
            with DATABASE_URL=postgres://… a process may only serve the API (api) or only
            execute runs and ingestion (worker); the default, all, does both
  migrate   bring the database schema up to date and exit
${KEYS_USAGE}`;

function roleFrom(args: string[]): Role {
  if (args.length === 0) return 'all';
  const role = args[0] === '--role' ? args[1] : args[0]?.startsWith('--role=') ? args[0].slice('--role='.length) : undefined;
  if (role === 'api' || role === 'worker' || role === 'all') return role;
  throw new Error(`serve takes --role api|worker|all, got: ${args.join(' ')}`);
}

async function main(argv: string[]): Promise<void> {
  const config = loadConfig();
  switch (argv[0]) {
    case 'serve': {
      const role = roleFrom(argv.slice(1));
      const stepwise = await startStepwise({ config, role, logger: process.env.STEPWISE_LOG !== 'off' });
      const stop = () =>
        void stepwise.close().then(
          () => process.exit(0),
          (error: unknown) => {
            console.error('Stepwise could not shut down cleanly:', error);
            process.exit(1);
          },
        );
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
      if (role === 'worker') {
        console.log('Stepwise is executing runs and ingestion as a worker');
        console.log(await stepwise.codeInterpreterStatus());
        return;
      }
      const auth = (await stepwise.authRequired()) ? 'auth is on: requests need an API key' : 'auth is off: no API keys exist; listening on loopback only';
      const store = config.databaseUrl ? `PostgreSQL, files in ${config.dataDir}` : config.dataDir;
      console.log(`Stepwise is serving the Assistants API at ${stepwise.url} (data: ${store}, role: ${role})\n${auth}`);
      console.log(existsSync(UI_DIR) ? `web console: ${stepwise.url.replace(/\/v1$/, '/ui/')}` : 'web console: not built (run `npm run build`)');
      console.log(await stepwise.codeInterpreterStatus());
      return;
    }
    case 'migrate': {
      const db = openDatabase(config);
      const applied = await migrateToLatest(db);
      await db.destroy();
      console.log(applied.length ? `applied: ${applied.join(', ')}` : 'the database is up to date');
      return;
    }
    case 'keys':
      return keysCommand(config, argv.slice(1));
    default:
      console.error(USAGE);
      process.exitCode = argv[0] === undefined || argv[0] === 'help' ? 0 : 2;
  }
}

main(process.argv.slice(2)).catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
