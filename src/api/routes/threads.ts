import type { FastifyInstance } from 'fastify';
import { newId } from '../../ids.js';
import type { CreateThreadAndRunRequest, CreateThreadRequest, ModifyThreadRequest } from '../../spec/wire.js';
import type { ApiDeps } from '../deps.js';
import { bodyAs, listBody, metadataQuery, pageQuery, projectOf } from '../request.js';

type ThreadParams = { Params: { thread_id: string } };

export function threadRoutes(app: FastifyInstance, { services, streams }: ApiDeps): void {
  const { threads, runs } = services;
  // An extension: the spec has no thread list (the hosted API kept it for its dashboard).
  app.get('/threads', async (request) => listBody(await threads.list(projectOf(request), pageQuery(request), metadataQuery(request))));
  app.post('/threads', (request) => threads.create(projectOf(request), bodyAs<CreateThreadRequest>(request, 'CreateThreadRequest')));
  app.get<ThreadParams>('/threads/:thread_id', (request) => threads.retrieve(projectOf(request), request.params.thread_id));
  app.post<ThreadParams>('/threads/:thread_id', (request) =>
    threads.update(projectOf(request), request.params.thread_id, bodyAs<ModifyThreadRequest>(request, 'ModifyThreadRequest')),
  );
  app.delete<ThreadParams>('/threads/:thread_id', (request) => threads.delete(projectOf(request), request.params.thread_id));

  app.post('/threads/runs', async (request, reply) => {
    const params = bodyAs<CreateThreadAndRunRequest>(request, 'CreateThreadAndRunRequest');
    const { stream, ...rest } = params;
    if (!stream) return (await runs.createThreadAndRun(projectOf(request), rest)).run;
    const runId = newId('run');
    return streams.answer(reply, runId, () => runs.createThreadAndRun(projectOf(request), rest, runId));
  });
}
