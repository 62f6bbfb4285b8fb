#!/usr/bin/env node
import { loadConfig } from './config.js';
import { startStepwise } from './server.js';
import { migrateToLatest, openDatabase } from './store/database.js';

const USAGE = `usage: stepwise <command>

  serve     start the API server (PORT, default 8080; data in STEPWISE_DATA_DIR, default ./data)
  migrate   bring the database schema up to date and exit`;

async function main(argv: string[]): Promise<void> {
  const config = loadConfig();
  switch (argv[0]) {
    case 'serve': {
      const stepwise = await startStepwise({ config, logger: process.env.STEPWISE_LOG !== 'off' });
      console.log(`Stepwise is serving the Assistants API at ${stepwise.url} (data: ${config.dataDir})`);
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
    default:
      console.error(USAGE);
      process.exitCode = argv[0] === undefined || argv[0] === 'help' ? 0 : 2;
  }
}

main(process.argv.slice(2)).catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
