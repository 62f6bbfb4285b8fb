import type { FastifyInstance } from 'fastify';
import { newId } from '../../ids.js';
import type { CreateRunRequest, ModifyRunRequest, SubmitToolOutputsRequest } from '../../spec/wire.js';
import type { ApiDeps } from '../deps.js';
import { bodyAs, includesResultContent, listBody, pageQuery, projectOf } from '../request.js';

type ThreadParams = { Params: { thread_id: string } };
type RunParams = { Params: { thread_id: string; run_id: string } };
type StepParams = { Params: { thread_id: string; run_id: string; step_id: string } };

export function runRoutes(app: FastifyInstance, { services, streams }: ApiDeps): void {
  const { runs, steps } = services;
  app.get<ThreadParams>('/threads/:thread_id/runs', async (request) => listBody(await runs.list(projectOf(request), request.params.thread_id, pageQuery(request))));
  app.post<ThreadParams>('/threads/:thread_id/runs', async (request, reply) => {
    const includeContent = includesResultContent(request);
    const { stream, ...params } = bodyAs<CreateRunRequest>(request, 'CreateRunRequest');
    const { thread_id: threadId } = request.params;
    if (!stream) return runs.create(projectOf(request), threadId, params);
    const runId = newId('run');
    return streams.answer(reply, runId, () => runs.create(projectOf(request), threadId, params, runId), includeContent);
  });
  app.get<RunParams>('/threads/:thread_id/runs/:run_id', (request) => runs.retrieve(projectOf(request), request.params.thread_id, request.params.run_id));
  app.post<RunParams>('/threads/:thread_id/runs/:run_id', (request) =>
    runs.update(projectOf(request), request.params.thread_id, request.params.run_id, bodyAs<ModifyRunRequest>(request, 'ModifyRunRequest')),
  );
  app.post<RunParams>('/threads/:thread_id/runs/:run_id/cancel', (request) => runs.cancel(projectOf(request), request.params.thread_id, request.params.run_id));
  app.post<RunParams>('/threads/:thread_id/runs/:run_id/submit_tool_outputs', async (request, reply) => {
    const { stream, ...params } = bodyAs<SubmitToolOutputsRequest>(request, 'SubmitToolOutputsRunRequest');
    const { thread_id: threadId, run_id: runId } = request.params;
    if (!stream) return runs.submitToolOutputs(projectOf(request), threadId, runId, params);
    return streams.answer(reply, runId, () => runs.submitToolOutputs(projectOf(request), threadId, runId, params));
  });

  app.get<RunParams>('/threads/:thread_id/runs/:run_id/steps', async (request) =>
    listBody(await steps.list(projectOf(request), request.params.thread_id, request.params.run_id, pageQuery(request), includesResultContent(request))),
  );
  app.get<StepParams>('/threads/:thread_id/runs/:run_id/steps/:step_id', (request) =>
    steps.retrieve(projectOf(request), request.params.thread_id, request.params.run_id, request.params.step_id, includesResultContent(request)),
  );
}
