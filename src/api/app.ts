import { createHash, randomBytes } from 'node:crypto';
import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import rateLimit from '@fastify/rate-limit';
import Fastify, { type FastifyError, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { ApiError, invalidRequest } from '../errors.js';
import type { ApiDeps } from './deps.js';
import { assistantRoutes } from './routes/assistants.js';
import { fileRoutes } from './routes/files.js';
import { messageRoutes } from './routes/messages.js';
import { runRoutes } from './routes/runs.js';
import { threadRoutes } from './routes/threads.js';
import { vectorStoreRoutes } from './routes/vector-stores.js';
import { uiRoutes } from './ui.js';

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

/** Deeper than any request of the API needs, shallow enough that nothing recursive downstream can overflow the stack. */
const MAX_JSON_DEPTH = 100;

/** Whether arrays and objects in the JSON text nest deeper than `max`; brackets inside strings do not count. */
function nestsDeeperThan(text: string, max: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x5b || c === 0x7b) {
      if (++depth > max) return true;
    } else if (c === 0x5d || c === 0x7d) depth--;
  }
  return false;
}

function parseJson(_request: unknown, body: string, done: (error: Error | null, value?: unknown) => void): void {
  // The SDK posts cancel with an empty body; an empty body is no body.
  if (body.trim() === '') return done(null, undefined);
  if (nestsDeeperThan(body, MAX_JSON_DEPTH)) return done(invalidRequest(`The JSON body nests arrays and objects deeper than ${MAX_JSON_DEPTH} levels.`, null, 'json_too_deep'));
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

/**
 * Requests Node's HTTP parser refuses before Fastify sees them (headers or URL past Node's 16 KiB,
 * broken request lines) still get OpenAI's error object, written straight to the socket.
 */
function clientErrorHandler(error: Error & { code?: string }, socket: Socket): void {
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  const apiError =
    error.code === 'HPE_HEADER_OVERFLOW'
      ? new ApiError(431, 'The request line and headers are too large.', 'invalid_request_error', null, 'request_headers_too_large')
      : error.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? new ApiError(408, 'The request took too long to arrive.', 'invalid_request_error', null, 'request_timeout')
        : invalidRequest('The HTTP request is malformed.');
  const body = JSON.stringify(apiError.toBody());
  if (socket.writable) {
    socket.write(`HTTP/1.1 ${apiError.status} ${STATUS_CODES[apiError.status]}\r\nContent-Length: ${Buffer.byteLength(body)}\r\nContent-Type: application/json; charset=utf-8\r\nConnection: close\r\n\r\n${body}`);
  }
  socket.destroy(error);
}

/** A URL that cannot be decoded (`%ff`, `%zz`) fails before routing, where the error handler does not reach. */
function badUrl(error: FastifyError, request: FastifyRequest, reply: FastifyReply): void {
  void reply.status(400).header('x-request-id', request.id).send(invalidRequest(`Invalid URL (${request.method}): ${error.message}`).toBody());
}

export function createApp(deps: ApiDeps, options: AppOptions): FastifyInstance {
  const app = Fastify({
    logger: options.logger,
    bodyLimit: options.bodyLimitBytes,
    genReqId: () => `req_${randomBytes(16).toString('hex')}`,
    clientErrorHandler,
    frameworkErrors: badUrl,
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
  void app.register(uiRoutes);
  return app;
}
