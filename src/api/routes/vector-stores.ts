import type { FastifyInstance } from 'fastify';
import type { ApiDeps } from '../deps.js';

/** Vector stores, their files and file batches, and search. */
export function vectorStoreRoutes(_app: FastifyInstance, _deps: ApiDeps): void {}
