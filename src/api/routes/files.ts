import type { FastifyInstance } from 'fastify';
import type { ApiDeps } from '../deps.js';

/** Files and uploads (multipart bodies). */
export async function fileRoutes(_app: FastifyInstance, _deps: ApiDeps): Promise<void> {}
