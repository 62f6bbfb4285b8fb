import type { FastifyRequest } from 'fastify';
import { invalidRequest } from '../errors.js';
import { specSchemas } from '../spec/openapi.js';
import { checkMetadata } from '../services/validation.js';
import type { MetadataMatch, Page, PageQuery } from '../store/collection.js';

/** Every object belongs to a project; while no API key exists, all requests share this one. */
export const DEFAULT_PROJECT = 'proj_default';

declare module 'fastify' {
  interface FastifyRequest {
    /** Set by the authentication hook from the request's API key. */
    projectId: string;
  }
}

export function projectOf(request: FastifyRequest): string {
  return request.projectId;
}

/** The request body, checked against the named request schema of the spec. */
export function bodyAs<T>(request: FastifyRequest, schemaName: string): T {
  const body = request.body ?? {};
  if (typeof body !== 'object' || Array.isArray(body)) throw invalidRequest('The request body must be a JSON object.');
  const violation = specSchemas().violation(schemaName, body);
  if (violation) throw invalidRequest(violation.message, violation.param, violation.param === null ? null : 'invalid_value');
  return body as T;
}

type Query = Record<string, string | string[] | undefined>;

function single(query: Query, name: string): string | undefined {
  const value = query[name];
  if (Array.isArray(value)) throw invalidRequest(`Invalid '${name}': expected a single value.`, name);
  return value;
}

export function optionalQuery(request: FastifyRequest, name: string): string | undefined {
  return single(request.query as Query, name);
}

export interface PageRules {
  defaultLimit: number;
  maxLimit: number;
  /** GET /files has no `before`. */
  before: boolean;
}

const CURSOR_LIST: PageRules = { defaultLimit: 20, maxLimit: 100, before: true };

export function pageQuery(request: FastifyRequest, rules: PageRules = CURSOR_LIST): PageQuery {
  const query = request.query as Query;
  const rawLimit = single(query, 'limit');
  const limit = rawLimit === undefined ? rules.defaultLimit : /^\d{1,6}$/.test(rawLimit) ? Number(rawLimit) : NaN;
  if (!(limit >= 1 && limit <= rules.maxLimit)) {
    throw invalidRequest(`Invalid 'limit': integer below minimum value or above maximum value. Expected a value between 1 and ${rules.maxLimit}, but got ${rawLimit} instead.`, 'limit', 'integer_out_of_range');
  }
  const order = single(query, 'order') ?? 'desc';
  if (order !== 'asc' && order !== 'desc') {
    throw invalidRequest(`Invalid value for 'order': expected one of 'asc' or 'desc', got '${order}'.`, 'order', 'invalid_value');
  }
  return { limit, order, after: single(query, 'after'), before: rules.before ? single(query, 'before') : undefined };
}

const METADATA_PARAM = /^metadata\[(.+)\]$/;

/** `metadata[KEY]=VALUE` query parameters: pairs a listed object must all have in its metadata. */
export function metadataQuery(request: FastifyRequest): MetadataMatch {
  const query = request.query as Query;
  const pairs = Object.keys(query).flatMap((name) => {
    const key = METADATA_PARAM.exec(name)?.[1];
    return key === undefined ? [] : [[key, single(query, name) ?? '']];
  });
  const metadata = Object.fromEntries(pairs) as MetadataMatch;
  checkMetadata(metadata);
  return metadata;
}

const INCLUDABLE = ['step_details.tool_calls[*].file_search.results[*].content'];

/** Whether `include[]` asks for the passages of file_search results (the one value the spec lists). */
export function includesResultContent(request: FastifyRequest): boolean {
  const raw = (request.query as Query)['include[]'];
  const values = raw === undefined ? [] : Array.isArray(raw) ? raw : [raw];
  for (const value of values) {
    if (!INCLUDABLE.includes(value)) {
      throw invalidRequest(`Invalid value for 'include[]': '${value}'. Supported values are: '${INCLUDABLE.join("', '")}'.`, 'include[]', 'invalid_value');
    }
  }
  return values.length > 0;
}

export function listBody<T extends { id: string }>(page: Page<T>) {
  return {
    object: 'list' as const,
    data: page.data,
    first_id: page.data[0]?.id ?? null,
    last_id: page.data.at(-1)?.id ?? null,
    has_more: page.hasMore,
  };
}
