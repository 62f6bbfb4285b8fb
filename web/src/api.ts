import OpenAI from 'openai';

const KEY_STORAGE = 'stepwise.apiKey';
/** Open mode (no keys on a loopback server) accepts any bearer token; the SDK insists on one. */
const OPEN_MODE_TOKEN = 'open-mode';

export function storedKey(): string {
  return localStorage.getItem(KEY_STORAGE) ?? '';
}

export function storeKey(key: string): void {
  if (key) localStorage.setItem(KEY_STORAGE, key);
  else localStorage.removeItem(KEY_STORAGE);
  cached = undefined;
  dispatchEvent(new Event(KEY_CHANGED));
}

/** Fired on `window` when the key changes, so every view loads again with it. */
export const KEY_CHANGED = 'stepwise:key-changed';

let cached: OpenAI | undefined;

/** The SDK pointed at this server's `/v1`, with the key from the browser's storage (never the URL). */
export function api(): OpenAI {
  cached ??= new OpenAI({
    baseURL: new URL('/v1', location.href).href,
    apiKey: storedKey() || OPEN_MODE_TOKEN,
    dangerouslyAllowBrowser: true,
    maxRetries: 1,
  });
  return cached;
}

export function isAuthError(error: unknown): boolean {
  return error instanceof OpenAI.APIError && error.status === 401;
}

/** What to show for a failure: the API's error message with its status and code, or the exception's text. */
export function describeError(error: unknown): string {
  if (error instanceof OpenAI.APIError) {
    const body = error.error as { message?: string; code?: string } | undefined;
    const message = body?.message ?? error.message;
    return [error.status && `${error.status}`, body?.code, message].filter(Boolean).join(' · ');
  }
  return error instanceof Error ? error.message : String(error);
}

export const FILE_SEARCH_CONTENT = 'step_details.tool_calls[*].file_search.results[*].content' as const;

/** Every item of a list, following the cursor. */
export async function listAll<T>(page: AsyncIterable<T>): Promise<T[]> {
  const items: T[] = [];
  for await (const item of page) items.push(item);
  return items;
}
