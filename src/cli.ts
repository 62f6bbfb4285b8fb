#!/usr/bin/env node
import { loadConfig } from './config.js';
import { KEYS_USAGE, keysCommand } from './keys-command.js';
import { startStepwise } from './server.js';
import { migrateToLatest, openDatabase } from './store/database.js';

const USAGE = `usage: stepwise <command>

  serve     start the API server (PORT, default 8080; data in STEPWISE_DATA_DIR, default ./data)
  migrate   bring the database schema up to date and exit
${KEYS_USAGE}`;

async function main(argv: string[]): Promise<void> {
  const config = loadConfig();
  switch (argv[0]) {
    case 'serve': {
      const stepwise = await startStepwise({ config, logger: process.env.STEPWISE_LOG !== 'off' });
      const auth = (await stepwise.authRequired()) ? 'auth is on: requests need an API key' : 'auth is off: no API keys exist; listening on loopback only';
      console.log(`Stepwise is serving the Assistants API at ${stepwise.url} (data: ${config.dataDir})\n${auth}`);
      const stop = () => void stepwise.close().then(() => process.exit(0));
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
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
