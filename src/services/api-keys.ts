import { createHash, randomBytes } from 'node:crypto';
import type { Kysely } from 'kysely';
import { type Clock, unixSeconds } from '../clock.js';
import { newId } from '../ids.js';
import type { ApiKeyRow, Database } from '../store/schema.js';
import { ApiKeyCache, type ChangeCounter, type KeyLookup } from './api-key-cache.js';

const SECRET_PREFIX = 'sk-proj-';
const SECRET_LENGTH = 40;
const BASE62 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
/** Shown in listings: the fixed prefix and four random characters. */
const DISPLAY_PREFIX_LENGTH = SECRET_PREFIX.length + 4;

const PROJECT_ID = /^[A-Za-z0-9_-]{1,64}$/;

export function isValidProjectId(projectId: string): boolean {
  return PROJECT_ID.test(projectId);
}

/** What a listing shows of a key: never the secret. */
export interface ApiKeyInfo {
  id: string;
  projectId: string;
  name: string;
  prefix: string;
  createdAt: number;
  revokedAt: number | null;
}

export interface CreatedApiKey extends ApiKeyInfo {
  /** Returned once, at creation; only its hash is stored. */
  secret: string;
}

function randomBase62(length: number): string {
  let out = '';
  while (out.length < length) {
    for (const byte of randomBytes(length)) {
      // 248 = 4 * 62: dropping the bytes above keeps every character equally likely.
      if (byte < 248 && out.length < length) out += BASE62[byte % 62];
    }
  }
  return out;
}

function hashOf(secret: string): string {
  return createHash('sha256').update(secret).digest('hex');
}

function infoOf(row: ApiKeyRow): ApiKeyInfo {
  return { id: row.id, projectId: row.project_id, name: row.name, prefix: row.prefix, createdAt: row.created_at, revokedAt: row.revoked_at };
}

/** API keys: each selects one project. Managed by the admin CLI, resolved on every request. */
export class ApiKeys {
  readonly #cache: ApiKeyCache | undefined;

  /** Without `changes` (PostgreSQL, the CLI) every lookup reads the database. */
  constructor(
    private readonly db: Kysely<Database>,
    private readonly clock: Clock,
    changes?: ChangeCounter,
  ) {
    this.#cache = changes && new ApiKeyCache(changes, clock);
  }

  async create(projectId: string, name = ''): Promise<CreatedApiKey> {
    if (!isValidProjectId(projectId)) throw new Error(`invalid project id "${projectId}": use 1 to 64 letters, digits, '_' or '-'`);
    const secret = SECRET_PREFIX + randomBase62(SECRET_LENGTH);
    const row: ApiKeyRow = {
      id: newId('apiKey'),
      project_id: projectId,
      name,
      hash: hashOf(secret),
      prefix: secret.slice(0, DISPLAY_PREFIX_LENGTH),
      created_at: unixSeconds(this.clock),
      revoked_at: null,
    };
    await this.db.insertInto('api_keys').values(row).execute();
    this.#cache?.forget();
    return { ...infoOf(row), secret };
  }

  async list(projectId?: string): Promise<ApiKeyInfo[]> {
    let query = this.db.selectFrom('api_keys').selectAll();
    if (projectId !== undefined) query = query.where('project_id', '=', projectId);
    const rows = await query.orderBy('created_at').orderBy('id').execute();
    return rows.map(infoOf);
  }

  /** The revoked key, or undefined when no key has that id. Revoking twice keeps the first time. */
  async revoke(keyId: string): Promise<ApiKeyInfo | undefined> {
    await this.db.updateTable('api_keys').set({ revoked_at: unixSeconds(this.clock) }).where('id', '=', keyId).where('revoked_at', 'is', null).execute();
    this.#cache?.forget();
    const row = await this.db.selectFrom('api_keys').selectAll().where('id', '=', keyId).executeTakeFirst();
    return row && infoOf(row);
  }

  /**
   * As every request asks: the project of an active key with this secret (none without a secret),
   * and whether any key is active. From the cache while the change counter has not moved, so a key
   * revoked by the CLI, from another process, is refused by the next request all the same.
   */
  async lookup(secret: string | undefined): Promise<KeyLookup> {
    const hash = secret === undefined ? undefined : hashOf(secret);
    if (!this.#cache) return this.#read(hash);
    const tag = await this.#cache.tag();
    const cached = this.#cache.find(tag, hash);
    if (cached) return cached;
    const found = await this.#read(hash);
    this.#cache.remember(tag, hash, found);
    return found;
  }

  /** Both answers of `lookup` in one statement. */
  async #read(hash: string | undefined): Promise<KeyLookup> {
    const row = await this.db
      .selectNoFrom((eb) => [
        eb
          .selectFrom('api_keys')
          .select('project_id')
          .where('hash', '=', hash ?? null)
          .where('revoked_at', 'is', null)
          .as('project_id'),
        eb.exists(eb.selectFrom('api_keys').select('id').where('revoked_at', 'is', null)).as('any_active'),
      ])
      .executeTakeFirstOrThrow();
    return { projectId: row.project_id ?? undefined, anyActive: Boolean(row.any_active) };
  }

  async anyActive(): Promise<boolean> {
    const row = await this.db.selectFrom('api_keys').select('id').where('revoked_at', 'is', null).limit(1).executeTakeFirst();
    return row !== undefined;
  }
}
