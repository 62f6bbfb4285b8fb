import { createHash, randomBytes } from 'node:crypto';
import rateLimit from '@fastify/rate-limit';
import Fastify, { type FastifyError, type FastifyInstance, type FastifyRequest } from 'fastify';
import { ApiError, invalidRequest } from '../errors.js';
import type { ApiDeps } from './deps.js';
import { assistantRoutes } from './routes/assistants.js';
import { fileRoutes } from './routes/files.js';
import { messageRoutes } from './routes/messages.js';
import { runRoutes } from './routes/runs.js';
import { threadRoutes } from './routes/threads.js';
import { vectorStoreRoutes } from './routes/vector-stores.js';

export interface AppOptions {
  bodyLimitBytes: number;
  logger: boolean;
  /** The `openai-poll-after-ms` the SDK's poll helpers wait between retrieves of runs and vector stores. */
  pollAfterMs: number;
  /** Requests per minute for one API key (in open mode: for everyone); 0 turns the limit off. */
  rateLimitPerMinute: number;
}

/** The rate-limit bucket of a request: its key, hashed so that no secret sits in memory as the map key. */
/** Responses the SDK's poll helpers read: runs (and their steps) and vector stores. */
function isPolled(url: string): boolean {
  return url.startsWith('/v1/vector_stores') || url.includes('/runs');
}

function rateLimitKey(request: FastifyRequest): string {
  return `${request.projectId} ${createHash('sha256').update(request.headers.authorization ?? '').digest('hex')}`;
}

const BETA_PREFIXES = ['/v1/assistants', '/v1/threads', '/v1/vector_stores'];

function isApiPath(url: string): boolean {
  return /^\/v1(?:[/?]|$)/.test(url);
}

function parseJson(_request: unknown, body: string, done: (error: Error | null, value?: unknown) => void): void {
  // The SDK posts cancel with an empty body; an empty body is no body.
  if (body.trim() === '') return done(null, undefined);
  try {
    done(null, JSON.parse(body));
  } catch {
    done(invalidRequest("We could not parse the JSON body of your request. (HINT: This likely means you aren't using your HTTP library correctly. The OpenAI API expects a JSON payload, but what was sent was not valid JSON.)"));
  }
}

/** Maps every failure to OpenAI's error object; unexpected ones are logged and hidden. */
function toApiError(error: FastifyError | ApiError, app: FastifyInstance): ApiError {
  if (error instanceof ApiError) return error;
  switch (error.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new ApiError(413, 'The request body is too large.', 'invalid_request_error', null, 'request_too_large');
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new ApiError(415, `Unsupported content type. Send 'application/json'.`, 'invalid_request_error', null, 'unsupported_media_type');
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return invalidRequest('The request body is malformed.');
    // @fastify/multipart's limits (POST /files, upload parts).
    case 'FST_REQ_FILE_TOO_LARGE':
      return new ApiError(413, 'The uploaded file is too large.', 'invalid_request_error', null, 'file_too_large');
    case 'FST_FILES_LIMIT':
    case 'FST_PARTS_LIMIT':
    case 'FST_FIELDS_LIMIT':
      return invalidRequest('The multipart form has too many parts. Send one file and its fields.');
  }
  if (error.statusCode && error.statusCode >= 400 && error.statusCode < 500) return invalidRequest(error.message);
  app.log.error(error);
  return new ApiError(500, 'The server had an error while processing your request. Sorry about that!', 'server_error');
}

export function createApp(deps: ApiDeps, options: AppOptions): FastifyInstance {
  const app = Fastify({
    logger: options.logger,
    bodyLimit: options.bodyLimitBytes,
    genReqId: () => `req_${randomBytes(16).toString('hex')}`,
  });
  // Fastify would hand text/plain bodies over as strings; the API speaks JSON only, so they get the 415.
  app.removeContentTypeParser(['application/json', 'text/plain']);
  app.addContentTypeParser('application/json', { parseAs: 'string' }, parseJson);

  app.decorateRequest('projectId', '');
  app.addHook('onRequest', async (request, reply) => {
    reply.header('x-request-id', request.id);
    if (isApiPath(request.url)) request.projectId = await deps.auth.projectFor(request.headers.authorization);
    const beta = request.headers['openai-beta'];
    if (beta !== undefined && BETA_PREFIXES.some((prefix) => request.url.startsWith(prefix))) {
      const values = String(beta).split(',').map((value) => value.trim());
      if (values.some((value) => value.startsWith('assistants=') && value !== 'assistants=v2')) {
        throw invalidRequest(`The requested API version '${values.join(', ')}' is not supported. This server implements 'assistants=v2'.`, null, 'invalid_beta');
      }
    }
  });

  if (options.rateLimitPerMinute > 0) {
    // After authentication (onRequest), so the bucket is the caller's key; it sets retry-after.
    void app.register(rateLimit, {
      max: options.rateLimitPerMinute,
      timeWindow: 60_000,
      hook: 'preHandler',
      keyGenerator: rateLimitKey,
      errorResponseBuilder: (_request, context) =>
        new ApiError(429, `Rate limit reached: ${context.max} requests per minute for this API key. Retry after ${context.after}.`, 'requests', null, 'rate_limit_exceeded'),
    });
  }

  app.addHook('onSend', async (request, reply) => {
    if (isPolled(request.url)) reply.header('openai-poll-after-ms', String(options.pollAfterMs));
  });

  app.setErrorHandler((error: FastifyError | ApiError, _request, reply) => {
    const apiError = toApiError(error, app);
    return reply.status(apiError.status).send(apiError.toBody());
  });
  app.setNotFoundHandler((request, reply) => {
    const error = new ApiError(404, `Invalid URL (${request.method} ${request.url})`, 'invalid_request_error');
    return reply.status(404).send(error.toBody());
  });

  void app.register(
    async (v1) => {
      assistantRoutes(v1, deps);
      threadRoutes(v1, deps);
      messageRoutes(v1, deps);
      runRoutes(v1, deps);
      await fileRoutes(v1, deps);
      vectorStoreRoutes(v1, deps);
    },
    { prefix: '/v1' },
  );
  return app;
}
