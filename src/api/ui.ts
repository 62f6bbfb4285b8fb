import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance } from 'fastify';
import { ApiError } from '../errors.js';

/** `vite build` writes the console here; the path is the same from `src/api` (tsx) and `dist/api` (built). */
export const UI_DIR = fileURLToPath(new URL('../../web/dist/', import.meta.url));

/**
 * The web console at `/ui/`: static files only, a client of `/v1` like any other, so it needs no
 * authentication of its own (the browser sends the API key with each API request).
 */
export async function uiRoutes(app: FastifyInstance): Promise<void> {
  app.get('/ui', (_request, reply) => reply.redirect('/ui/'));
  if (!existsSync(UI_DIR)) {
    app.get('/ui/*', () => {
      throw new ApiError(404, 'The web console is not built: run `npm run build`.', 'invalid_request_error', null, 'ui_not_built');
    });
    return;
  }
  await app.register(fastifyStatic, {
    root: UI_DIR,
    prefix: '/ui/',
    cacheControl: false,
    // Vite names assets by content hash; index.html names the current ones, so it is always revalidated.
    setHeaders: (response, path) => response.header('cache-control', path.includes('/assets/') ? 'public, max-age=31536000, immutable' : 'no-cache'),
  });
}
