import { ApiError } from '../errors.js';
import type { ApiKeys } from '../services/api-keys.js';
import { DEFAULT_PROJECT } from './request.js';

const LOOPBACK_HOSTS = new Set(['127.0.0.1', '::1', 'localhost']);

export function isLoopback(host: string): boolean {
  return LOOPBACK_HOSTS.has(host);
}

function invalidApiKey(message: string): ApiError {
  return new ApiError(401, message, 'invalid_request_error', null, 'invalid_api_key');
}

/** Shows only the ends of a wrong key, as OpenAI does, so logs of the error do not leak it. */
function masked(secret: string): string {
  return secret.length < 12 ? '****' : `${secret.slice(0, 4)}****${secret.slice(-4)}`;
}

/**
 * Which project a request acts for. Once any key is active (or when keys are always required),
 * every request needs a valid one; until then the server is open and everything is in one project.
 */
export class Authenticator {
  constructor(
    private readonly keys: ApiKeys,
    private readonly alwaysRequired: boolean,
  ) {}

  async required(): Promise<boolean> {
    return this.alwaysRequired || (await this.keys.anyActive());
  }

  async projectFor(authorization: string | undefined): Promise<string> {
    const secret = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? '')?.[1];
    const { projectId, anyActive } = await this.keys.lookup(secret);
    if (projectId !== undefined) return projectId;
    if (!this.alwaysRequired && !anyActive) return DEFAULT_PROJECT;
    if (secret === undefined) {
      throw invalidApiKey("You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).");
    }
    throw invalidApiKey(`Incorrect API key provided: ${masked(secret)}. Create a key with \`stepwise keys create --project <id>\`.`);
  }
}
