import { parseArgs } from 'node:util';
import { systemClock } from './clock.js';
import type { StepwiseConfig } from './config.js';
import { type ApiKeyInfo, ApiKeys, isValidProjectId } from './services/api-keys.js';
import { migrateToLatest, openDatabase } from './store/database.js';

export const KEYS_USAGE = `  keys create --project <id> [--name <name>]   create an API key of a project; prints its secret once
  keys list [--project <id>]                   list keys (never their secrets)
  keys revoke <key_id>                         revoke a key; requests with it get 401`;

function isoDate(seconds: number): string {
  return new Date(seconds * 1000).toISOString();
}

function describe(key: ApiKeyInfo): string {
  const state = key.revokedAt === null ? 'active' : `revoked ${isoDate(key.revokedAt)}`;
  return [key.id, key.projectId, `${key.prefix}...`, key.name || '-', `created ${isoDate(key.createdAt)}`, state].join('  ');
}

function projectOption(value: string | undefined): string | undefined {
  if (value !== undefined && !isValidProjectId(value)) throw new Error(`invalid project id "${value}": use 1 to 64 letters, digits, '_' or '-'`);
  return value;
}

/** `stepwise keys ...`: works on the database directly, so it runs with the server up or down. */
export async function keysCommand(config: StepwiseConfig, argv: string[]): Promise<void> {
  const { values, positionals } = parseArgs({ args: argv, allowPositionals: true, options: { project: { type: 'string' }, name: { type: 'string' } } });
  const [action, ...rest] = positionals;
  const db = openDatabase(config);
  try {
    await migrateToLatest(db);
    const keys = new ApiKeys(db, systemClock);
    switch (action) {
      case 'create': {
        const project = projectOption(values.project);
        if (project === undefined) throw new Error('keys create needs --project <id>');
        const key = await keys.create(project, values.name);
        console.log(`created ${key.id} for project ${key.projectId}`);
        console.log(`secret (shown only now): ${key.secret}`);
        return;
      }
      case 'list': {
        const list = await keys.list(projectOption(values.project));
        console.log(list.length ? list.map(describe).join('\n') : 'no API keys');
        return;
      }
      case 'revoke': {
        const [keyId] = rest;
        if (keyId === undefined) throw new Error('keys revoke needs a key id');
        const key = await keys.revoke(keyId);
        if (!key) throw new Error(`no API key with id ${keyId}`);
        console.log(`revoked ${key.id} (project ${key.projectId})`);
        return;
      }
      default:
        throw new Error(`usage:\n${KEYS_USAGE}`);
    }
  } finally {
    await db.destroy();
  }
}
